"""The debugger middleware: error pages with a console per frame, for debug mode only.

:class:`DebuggedApplication` wraps a WSGI app. A request to anything but
the reserved URL :data:`DEBUGGER_PATH` goes straight to the app; if the app
raises (in debug mode Erlen lets unhandled exceptions propagate), the
middleware answers 500 with the traceback page instead, or with plain text
for clients that don't ask for HTML.

The reserved URL serves the page's JavaScript and CSS and the console:

- ``GET  /__debugger__?cmd=resource&f=debugger.js`` (or ``style.css``);
- ``POST /__debugger__?cmd=pinauth&s=SECRET`` with form field ``pin``;
- ``POST /__debugger__?cmd=exec&frm=FRAME&s=SECRET`` with form field
  ``code``, one line of Python run in that frame's namespace;
- ``POST /__debugger__?cmd=locals&tb=TRACEBACK&s=SECRET``: the local
  variables of every frame of a traceback, as JSON.

The error page holds no local variable unless the browser entered the PIN
(or PIN security is off): a view's locals may hold secrets (the app's secret
key, a user's data), and they reach the page after unlock through ``locals``.
The page itself is served only to a trusted ``Host``; any other gets a bare
500 and the traceback goes to the log.

The console commands (``pinauth``, ``exec``, ``locals``) need a trusted ``Host`` (see :func:`.host_is_trusted`),
the per-process secret ``s`` from the page, and, unless PIN security is
off, the auth cookie a correct PIN sets. Both commands are POST: the PIN
and the code then stay out of URLs and access logs.
"""

from __future__ import annotations

import collections
import collections.abc
import hmac
import html
import json
import os
import secrets
import sys
import threading
import typing as t
from importlib import resources
from urllib.parse import quote

from ..http import parse_cookie, url_decode
from .auth import TRUSTED_HOSTS_ENV, PinGuard, get_pin_and_cookie_name, host_is_trusted
from .tbtools import MAX_LOCALS, Frame, Traceback, render_html

__all__ = ["DEBUGGER_PATH", "DebuggedApplication"]

#: The path (below the app's root) that the debugger reserves for itself.
DEBUGGER_PATH = "/__debugger__"
#: The largest console request body accepted, in bytes.
MAX_BODY = 1024 * 1024

_RESOURCES = {
    "debugger.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_JSON = "application/json"
# The page has no inline script or style, so a strict policy costs nothing and
# makes an escaping slip harmless; frame-ancestors keeps other sites from
# framing the console (clickjacking).
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_TEXT = "text/plain; charset=utf-8"
_UNTRUSTED_BODY = (
    b"Internal Server Error\n\nThe debugger shows tracebacks only to localhost, 127.0.0.1, [::1],"
    b" *.localhost and the hosts in DEBUGGER_TRUSTED_HOSTS or ERLEN_DEBUGGER_TRUSTED_HOSTS;"
    b" the traceback is in the server's log.\n"
)

StartResponse = t.Callable[..., t.Any]


class _Refused(Exception):
    """A debugger request refused with a status and a message for the client."""

    def __init__(
        self, status: str, message: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


def _trusted_hosts_from(app: t.Any) -> list[str]:
    """Extra trusted hosts from ``ERLEN_DEBUGGER_TRUSTED_HOSTS`` and the app's ``DEBUGGER_TRUSTED_HOSTS``."""
    hosts = [
        host.strip() for host in os.environ.get(TRUSTED_HOSTS_ENV, "").split(",") if host.strip()
    ]
    owner = getattr(app, "__self__", app)  # a bound ``app.wsgi_app`` names its app
    config = getattr(owner, "config", None)
    configured = (
        config.get("DEBUGGER_TRUSTED_HOSTS")
        if isinstance(config, collections.abc.Mapping)
        else None
    )
    if isinstance(configured, str):
        configured = configured.split(",")
    hosts.extend(str(host).strip() for host in configured or ())
    return hosts


class DebuggedApplication:
    """Wrap a WSGI app to show an interactive traceback page when it raises.

    Only for development: anyone who can reach the console and knows the
    PIN can run code in the server. ``erlen run --debug`` and
    ``app.run(debug=True)`` wrap the app with it; to wrap by hand, wrap
    ``app.wsgi_app`` and turn debug mode on (otherwise the app turns
    exceptions into a plain 500 itself and the middleware never sees them)::

        app.debug = True
        app.wsgi_app = DebuggedApplication(app.wsgi_app)

    :param app: The WSGI app to wrap.
    :param evalex: Offer the per-frame console (off: pages only).
    :param trusted_hosts: Hosts the console answers to besides the local
        names; ``None`` reads the comma-separated ``ERLEN_DEBUGGER_TRUSTED_HOSTS``
        environment variable and the app's ``DEBUGGER_TRUSTED_HOSTS`` config
        (a list, or a comma-separated string). An entry starting with a dot
        matches every name under it.
    :param pin_security: Require the PIN for the console. ``False``, or the
        environment variable ``ERLEN_DEBUG_PIN=off``, turns it off.
    :param pin_failure_delay: Seconds each wrong PIN waits once the first
        few typos are spent.
    :param max_tracebacks: How many tracebacks (and their frames' consoles)
        are remembered; the oldest is dropped first.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: t.Callable[[dict[str, t.Any], StartResponse], t.Iterable[bytes]],
        evalex: bool = True,
        trusted_hosts: t.Iterable[str] | None = None,
        pin_security: bool = True,
        pin_failure_delay: float = 0.5,
        max_tracebacks: int = 20,
    ) -> None:
        self.app = app
        self.evalex = evalex
        self.trusted_hosts = (
            list(trusted_hosts) if trusted_hosts is not None else _trusted_hosts_from(app)
        )
        pin, cookie_name = get_pin_and_cookie_name(app)
        #: Checks PINs and auth cookies.
        self.guard = PinGuard(
            pin if pin_security else None, cookie_name, failure_delay=pin_failure_delay
        )
        #: The per-process secret every console request must carry.
        self.secret = secrets.token_hex(16)
        self.max_tracebacks = max_tracebacks
        self._tracebacks: collections.OrderedDict[str, Traceback] = collections.OrderedDict()
        self._frames: dict[str, Frame] = {}
        self._lock = threading.Lock()
        self._lockout_logged = False

    @property
    def pin(self) -> str | None:
        """The PIN, or ``None`` when PIN security is off."""
        return self.guard.pin

    def announce(self, file: t.TextIO | None = None) -> None:
        """Print that the debugger is active, and its PIN, to the terminal."""
        out = file or sys.stdout
        print(" * Debugger is active!", file=out, flush=True)
        if self.pin is None:
            print(" * Debugger PIN disabled. DEBUGGER UNSECURED!", file=out, flush=True)
        else:
            print(f" * Debugger PIN: {self.pin}", file=out, flush=True)

    # -- the WSGI side ---------------------------------------------------------

    def __call__(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Serve a request: the debugger's own URL, or the app with errors caught."""
        # PERF: all a normal request pays is this lookup and comparison (a
        # try block costs nothing until something raises).
        if environ.get("PATH_INFO") == DEBUGGER_PATH:
            return self._serve_debugger(environ, start_response)
        try:
            app_iter = self.app(environ, start_response)
        except Exception:
            return self._error_response(environ, start_response)
        # PERF: a list body (Erlen's usual) can't fail while being sent, so it
        # needs no guarding generator.
        if type(app_iter) is list:
            return app_iter
        return self._guard_iteration(app_iter, environ, start_response)

    def _guard_iteration(
        self, app_iter: t.Iterable[bytes], environ: dict[str, t.Any], start_response: StartResponse
    ) -> t.Iterator[bytes]:
        """Send a streamed body, showing the debugger if producing it fails."""
        try:
            try:
                yield from app_iter
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except Exception:
            yield from self._error_response(environ, start_response)

    def _error_response(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> list[bytes]:
        """Answer with the traceback of the exception being handled (call from ``except``)."""
        exc = sys.exc_info()[1]
        assert exc is not None
        tb = Traceback(exc, skip_modules=(__name__,))
        if not host_is_trusted(environ.get("HTTP_HOST"), self.trusted_hosts):
            # NOTE: a page a DNS-rebinding site loads under its own name
            # must not read the traceback (source, paths, messages), so a
            # foreign Host gets a bare 500; the traceback goes to the log.
            body, content_type = _UNTRUSTED_BODY, _TEXT
        elif _wants_text(environ):
            if self.evalex:
                self._remember(tb)
            body, content_type = tb.text.encode("utf-8", "replace"), _TEXT
        else:
            if self.evalex:
                self._remember(tb)
            script_name = environ.get("SCRIPT_NAME", "").encode("latin-1", "replace")
            authenticated = self._authenticated(environ)
            page = render_html(
                tb,
                debugger_url=quote(script_name) + DEBUGGER_PATH,
                secret=self.secret,
                evalex=self.evalex,
                pin_required=self.guard.pin is not None,
                authenticated=authenticated,
                host_trusted=True,
                # The locals (a view's secret key, a user's data) only for a
                # browser past the PIN, or when the PIN is off by choice.
                show_locals=authenticated,
            )
            body, content_type = page.encode("utf-8"), "text/html; charset=utf-8"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", _PAGE_CSP),
        ]
        errors = _errors_stream(environ)
        try:
            # PEP 3333: with exc_info, start_response replaces headers not
            # yet sent, and re-raises if they were.
            start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info())
        except Exception:
            errors.write(
                "The debugger caught an exception after the response started (its headers"
                " were sent), so it can't show a page; the response was cut short.\n"
            )
            body = b""
        errors.write(tb.text)
        return [body] if body else []

    def _remember(self, tb: Traceback) -> None:
        with self._lock:
            self._tracebacks[tb.id] = tb
            for frame in tb.frames:
                self._frames[frame.id] = frame
            while len(self._tracebacks) > self.max_tracebacks:
                _, dropped = self._tracebacks.popitem(last=False)
                for frame in dropped.frames:
                    self._frames.pop(frame.id, None)

    def _authenticated(self, environ: dict[str, t.Any]) -> bool:
        cookie = parse_cookie(environ.get("HTTP_COOKIE")).get(self.guard.cookie_name)
        return self.guard.is_authenticated(cookie)

    # -- the reserved URL ----------------------------------------------------------

    def _serve_debugger(
        self, environ: dict[str, t.Any], start_response: StartResponse
    ) -> list[bytes]:
        try:
            status, headers, body = self._dispatch(environ)
        except _Refused as e:
            status, headers, body = (
                e.status,
                [("Content-Type", _TEXT), *e.headers],
                e.message.encode("utf-8") + b"\n",
            )
        headers += [
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response(status, headers)
        return [body]

    def _dispatch(self, environ: dict[str, t.Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        params = _decode(environ.get("QUERY_STRING", "").encode("latin-1", "replace"))
        cmd = params.get("cmd", "")
        if cmd == "resource":
            return self._resource(params.get("f", ""))
        if cmd not in ("pinauth", "exec", "locals"):
            raise _Refused(
                "400 BAD REQUEST",
                f"Unknown debugger command {cmd!r}: expected resource, pinauth, exec or locals.",
            )
        if not self.evalex:
            raise _Refused("404 NOT FOUND", "The debugger's console is disabled (evalex=False).")
        host = environ.get("HTTP_HOST")
        if not host_is_trusted(host, self.trusted_hosts):
            raise _Refused(
                "400 BAD REQUEST",
                f"The debugger's console doesn't answer to host {host!r}. It accepts localhost,"
                " 127.0.0.1, [::1] and *.localhost, plus the hosts listed in the app's"
                " DEBUGGER_TRUSTED_HOSTS config or the ERLEN_DEBUGGER_TRUSTED_HOSTS environment variable.",
            )
        if not hmac.compare_digest(params.get("s", "").encode(), self.secret.encode()):
            raise _Refused(
                "403 FORBIDDEN",
                "Missing or wrong debugger secret: reload the error page (the server may have restarted).",
            )
        if environ.get("REQUEST_METHOD") != "POST":
            raise _Refused(
                "405 METHOD NOT ALLOWED",
                f"Send the {cmd!r} command with POST.",
                [("Allow", "POST")],
            )
        form = _read_form(environ)
        if cmd == "pinauth":
            return self._pin_auth(form.get("pin", ""), environ)
        if cmd == "locals":
            return self._locals(params.get("tb", ""), environ)
        return self._exec(params.get("frm", ""), form.get("code", ""), environ)

    def _resource(self, name: str) -> tuple[str, list[tuple[str, str]], bytes]:
        content_type = _RESOURCES.get(name)
        if content_type is None:
            raise _Refused("404 NOT FOUND", f"The debugger has no resource {name!r}.")
        body = (resources.files(__package__) / "shared" / name).read_bytes()
        return "200 OK", [("Content-Type", content_type)], body

    def _pin_auth(
        self, pin: str, environ: dict[str, t.Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        outcome = self.guard.check(pin)
        if outcome == "ok":
            headers = [("Content-Type", _JSON)]
            if self.guard.pin is not None:
                headers.append(("Set-Cookie", self.guard.set_cookie_header()))
            return "200 OK", headers, _json({"auth": True})
        if outcome == "exhausted":
            if not self._lockout_logged:
                self._lockout_logged = True
                _errors_stream(environ).write(
                    " * The debugger's console is locked after too many wrong PINs; restart the server to unlock it.\n"
                )
            data = {
                "auth": False,
                "exhausted": True,
                "error": "Too many wrong PINs: the console is locked until the server restarts.",
            }
        else:
            remaining = self.guard.remaining
            data = {
                "auth": False,
                "exhausted": False,
                "error": f"Wrong PIN ({remaining} more tries).",
                "remaining": remaining,
            }
        return "403 FORBIDDEN", [("Content-Type", _JSON)], _json(data)

    def _locals(
        self, tb_id: str, environ: dict[str, t.Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """Every frame's locals of a remembered traceback, for the page after unlock."""
        if not self._authenticated(environ):
            data = {
                "error": "Enter the debugger PIN first (it is printed in the server's terminal).",
                "auth_required": True,
            }
            return "403 FORBIDDEN", [("Content-Type", _JSON)], _json(data)
        with self._lock:
            tb = self._tracebacks.get(tb_id)
        if tb is None:
            data = {
                "error": "This traceback is gone (the server restarted or forgot old errors): reload the page."
            }
            return "404 NOT FOUND", [("Content-Type", _JSON)], _json(data)
        # Plain text: the page puts it in with textContent, never as HTML.
        frames = {
            frame.id: {
                "locals": frame.local_reprs(),
                "more": max(len(frame.locals) - MAX_LOCALS, 0),
            }
            for frame in tb.frames
        }
        return "200 OK", [("Content-Type", _JSON)], _json({"frames": frames})

    def _exec(
        self, frame_id: str, code: str, environ: dict[str, t.Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        if not self._authenticated(environ):
            data = {
                "error": "Enter the debugger PIN first (it is printed in the server's terminal).",
                "auth_required": True,
            }
            return "403 FORBIDDEN", [("Content-Type", _JSON)], _json(data)
        with self._lock:
            frame = self._frames.get(frame_id)
        if frame is None:
            data = {
                "error": "This frame is gone (the server restarted or forgot old errors): reload the page."
            }
            return "404 NOT FOUND", [("Content-Type", _JSON)], _json(data)
        console = frame.console
        output, more = console.push(code)
        data = {"output": html.escape(output), "more": more, "prompt": console.prompt}
        return "200 OK", [("Content-Type", _JSON)], _json(data)


def _errors_stream(environ: dict[str, t.Any]) -> t.TextIO:
    """Where to log: the server's error stream (the terminal, for the dev server)."""
    return t.cast(t.TextIO, environ.get("wsgi.errors") or sys.stderr)


def _json(data: dict[str, t.Any]) -> bytes:
    return json.dumps(data).encode("utf-8")


def _decode(data: bytes) -> t.Mapping[str, str]:
    try:
        return url_decode(data)
    except UnicodeDecodeError:
        raise _Refused("400 BAD REQUEST", "The debugger's parameters must be UTF-8.") from None


def _read_form(environ: dict[str, t.Any]) -> t.Mapping[str, str]:
    """The request's urlencoded form body, bounded in size."""
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isdigit():
        raise _Refused("400 BAD REQUEST", "Content-Length must be a non-negative integer.")
    size = int(length)
    if size > MAX_BODY:
        raise _Refused(
            "413 CONTENT TOO LARGE", f"A debugger request body is limited to {MAX_BODY:,} bytes."
        )
    if size and not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        raise _Refused(
            "415 UNSUPPORTED MEDIA TYPE", "Send the form as application/x-www-form-urlencoded."
        )
    return _decode(environ["wsgi.input"].read(size) if size else b"")


def _wants_text(environ: dict[str, t.Any]) -> bool:
    """Whether the client asked for a plain-text traceback rather than the HTML page."""
    if environ.get("HTTP_X_REQUESTED_WITH", "").lower() == "xmlhttprequest":
        return True
    accept = environ.get("HTTP_ACCEPT", "")
    return "text/html" not in accept and "text/plain" in accept
