"""``werkzeug.debug`` on Erlen's debugger (:mod:`erlen.debug`).

:class:`DebuggedApplication` takes Werkzeug's arguments (``evalex`` off by
default, as there) and is Erlen's debugger: the same traceback page,
per-frame console, PIN and trusted hosts as ``erlen run --debug``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import sys
import typing as t

from ..debug import DebuggedApplication as _DebuggedApplication
from ..debug.auth import PIN_TIME, _machine_id, get_pin_and_cookie_name

__all__ = ["PIN_TIME", "DebuggedApplication", "get_machine_id", "get_pin_and_cookie_name"]


def get_machine_id() -> str | None:
    """This machine's id (from ``/etc/machine-id`` and the like), ``None`` if it has none."""
    return _machine_id() or None


class DebuggedApplication(_DebuggedApplication):
    """Erlen's debugger with ``werkzeug.debug.DebuggedApplication``'s signature.

    :param app: The WSGI app to wrap.
    :param evalex: Offer the per-frame console (off by default, as in Werkzeug).
    :param request_key: Accepted for Werkzeug's signature; Erlen's debugger
        does not put a request in the environ.
    :param console_path: Accepted for Werkzeug's signature; Erlen serves the
        console per frame of a traceback, not a standalone console page.
    :param console_init_func: Accepted for Werkzeug's signature (see ``console_path``).
    :param show_hidden_frames: Accepted for Werkzeug's signature; every frame is shown.
    :param pin_security: Require the PIN for the console.
    :param pin_logging: Print that the debugger is on, and the PIN, to stderr
        when the console is offered.
    """

    def __init__(
        self,
        app: t.Callable[..., t.Iterable[bytes]],
        evalex: bool = False,
        request_key: str = "werkzeug.request",
        console_path: str = "/console",
        console_init_func: t.Callable[[], dict[str, t.Any]] | None = None,
        show_hidden_frames: bool = False,
        pin_security: bool = True,
        pin_logging: bool = True,
    ) -> None:
        super().__init__(app, evalex=evalex, pin_security=pin_security)
        self.request_key = request_key
        self.console_path = console_path
        self.console_init_func = console_init_func
        self.show_hidden_frames = show_hidden_frames
        if evalex and pin_logging:
            self.announce(sys.stderr)
