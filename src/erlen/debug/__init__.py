"""Erlen's interactive debugger, for debug mode only.

:class:`DebuggedApplication` wraps a WSGI app: when the app raises, the
browser gets a traceback page with each frame's source and locals and a
Python console per frame, protected by a PIN printed to the terminal.
``erlen run --debug`` and ``app.run(debug=True)`` turn it on.

The package holds one concept a module: :mod:`.middleware` (the WSGI
side and the reserved URL), :mod:`.tbtools` (capturing and rendering
tracebacks), :mod:`.console` (running code in a frame) and :mod:`.auth`
(PIN, cookie and host checks); ``shared/`` holds the page's JS and CSS.
"""

from __future__ import annotations

from .auth import get_pin_and_cookie_name, host_is_trusted
from .middleware import DEBUGGER_PATH, DebuggedApplication

__all__ = ["DEBUGGER_PATH", "DebuggedApplication", "get_pin_and_cookie_name", "host_is_trusted"]
