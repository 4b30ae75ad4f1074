"""Test helpers: build WSGI environs and send requests to an app without a server.

:class:`ErlenClient` (``app.test_client()``) keeps cookies between requests,
follows redirects on request and can keep the last request's context active
(``with client: ...``). Every request goes through one of the app's real
server interfaces, chosen by :attr:`ErlenClient.interface`: ``"wsgi"`` (the
default) or ``"asgi"``.

The modules, one concept each (every name is importable from here):

:mod:`erlen.testing.environ`
    :class:`EnvironBuilder`: a made-up request as a WSGI environ, with form,
    multipart and JSON bodies (Werkzeug's ``test.py``).
:mod:`erlen.testing.client`
    :class:`ErlenClient`, its cookie jar, :class:`TestResponse` and
    :class:`ClientRedirectError`.
:mod:`erlen.testing.asgi`
    the client's ASGI transport: :func:`environ_to_scope`, one exchange
    over ``receive``/``send``, :class:`ASGIValidationError`.
:mod:`erlen.testing.websocket`
    :class:`WebSocketTestSession` (``client.websocket_connect``) and
    :class:`WebSocketRejected`.
:mod:`erlen.testing.cli`
    :class:`ErlenCliRunner` (``app.test_cli_runner()``).
"""

from __future__ import annotations

from .asgi import PRESERVE_CONTEXT_EXTENSION as PRESERVE_CONTEXT_EXTENSION
from .asgi import ASGIValidationError, environ_to_scope
from .cli import ErlenCliRunner
from .client import INTERFACES as INTERFACES
from .client import Client, ClientRedirectError, ErlenClient, TestResponse
from .client import FlaskClient as FlaskClient
from .environ import EnvironBuilder
from .websocket import WebSocketRejected, WebSocketTestSession

__all__ = [
    "EnvironBuilder",
    "ErlenClient",
    "Client",
    "TestResponse",
    "ClientRedirectError",
    "ErlenCliRunner",
    "ASGIValidationError",
    "environ_to_scope",
    "WebSocketTestSession",
    "WebSocketRejected",
]
