"""Erlen: the Flask API you already know, on a fast sans-I/O core.

.. code-block:: python

    from erlen import Erlen

    app = Erlen(__name__)

    @app.route("/")
    def index():
        return "Hello, World!"
"""

from __future__ import annotations

import typing as t

from .app import Erlen
from .background import call_after_response
from .blueprints import Blueprint
from .config import Config
from .ctx import (
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
)
from .exceptions import abort
from .globals import current_app, g, request, session
from .helpers import (
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    safe_join,
    secure_filename,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
)
from .json import jsonify
from .websockets import WebSocketDisconnect, websocket
from .wrappers import Request, Response

# The one place the version is written: pyproject.toml reads it from here
# (setuptools' dynamic version), so the package and `erlen --version` agree.
__version__ = "0.1.0"

__all__ = [
    "Erlen",
    "Blueprint",
    "Config",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "call_after_response",
    "copy_current_request_context",
    "current_app",
    "flash",
    "get_flashed_messages",
    "g",
    "has_app_context",
    "has_request_context",
    "jsonify",
    "make_response",
    "redirect",
    "request",
    "safe_join",
    "secure_filename",
    "send_file",
    "send_from_directory",
    "session",
    "stream_with_context",
    "url_for",
    "websocket",
    "WebSocketDisconnect",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
    "get_template_attribute",
]

if t.TYPE_CHECKING:  # the real names, for type checkers; at run time see __getattr__
    from .templating import (
        get_template_attribute,
        render_template,
        render_template_string,
        stream_template,
        stream_template_string,
    )

_TEMPLATING = frozenset(
    (
        "render_template",
        "render_template_string",
        "stream_template",
        "stream_template_string",
        "get_template_attribute",
    )
)


def __getattr__(name: str) -> object:
    # PERF: Jinja is imported when templates are first used, not by `import erlen`.
    if name in _TEMPLATING:
        from . import templating

        return getattr(templating, name)
    raise AttributeError(f"module 'erlen' has no attribute {name!r}")
