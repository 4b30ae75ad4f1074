"""A small threaded development server (not for production), with a reloader.

It serves one app on one address with HTTP/1.1 keep-alive, one thread per
connection, and stops cleanly on Ctrl+C. Production deployments use a real
WSGI server (gunicorn, waitress, ...).

With ``use_reloader=True`` the process that calls :func:`run_simple` becomes
a *watcher*: it binds the listening socket, starts the same command line
again as a child process that serves on that socket, and restarts the child
whenever a watched source file changes. File changes come from the
operating system's notifications through :mod:`watchfiles`, not from
polling. Because the watcher holds the socket, the port stays bound across
restarts: there is no "address already in use" race, and requests made
while the child restarts wait in the listen queue instead of failing.

The watched files are the ``.py`` files in the folders of the modules
imported when :func:`run_simple` is called (the standard library and
installed packages left out), plus ``extra_files``. A module the app only
imports later, from a folder holding none of those, is not watched.
"""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import site
import socket
import socketserver
import subprocess
import sys
import sysconfig
import threading
import time
import traceback
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.util import FileWrapper

if t.TYPE_CHECKING:
    from types import ModuleType

    from .app import Erlen

__all__ = ["run_simple", "make_server", "is_running_from_reloader"]

#: Set to ``"true"`` in the environment of the child process the reloader
#: starts; that process serves, its parent watches.
RUN_MAIN_ENV = "ERLEN_RUN_MAIN"
#: The number of the listening socket's file descriptor the child inherits.
SERVER_FD_ENV = "ERLEN_SERVER_FD"
#: The port to bind where no descriptor can be passed (Windows).
SERVER_PORT_ENV = "ERLEN_SERVER_PORT"
#: The watcher's process id, so an orphaned child can notice and exit.
WATCHER_PID_ENV = "ERLEN_RELOADER_PID"

# Hidden dot-files are never modules (a module name can't start with a dot),
# but editors create them next to sources: Emacs's ``.#app.py`` lock links,
# for one.
_IGNORED_PREFIXES = (".",)


# -- the HTTP/1.1 request handler ------------------------------------------------------

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# RFC 9112 §3: method SP request-target SP HTTP-version; no control bytes.
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/([0-9])\.([0-9])")
# RFC 9112 §5: no whitespace before the colon, no obs-fold, and no control
# byte but HTAB in the value (NUL and a bare CR are the smuggling ones).
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?")
#: The longest request line or header line read, in bytes.
_MAX_LINE = 65536
#: The most header (or trailer) lines one request may have.
_MAX_HEADERS = 100
#: After the response, a request body the app left unread is read and
#: dropped up to this size so the connection can serve the next request;
#: a larger rest closes the connection instead.
_DRAIN_LIMIT = 1024 * 1024


def _strip_line_end(line: bytes) -> bytes | None:
    """The line without its CRLF (or bare LF); ``None`` if it has no line end."""
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith(b"\n"):
        return line[:-1]
    return None


class _FramingError(Exception):
    """The request's framing is malformed: answered with this status, then the connection closes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Input:
    """What both kinds of ``wsgi.input`` share: iteration by lines, as PEP 3333 asks."""

    def readline(self, size: int = -1) -> bytes:
        raise NotImplementedError

    def __iter__(self) -> t.Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class _LengthInput(_Input):
    """``wsgi.input`` for a body of a known length: never reads past it."""

    def __init__(self, rfile: t.Any, length: int) -> None:
        self._rfile = rfile
        self.remaining = length

    @property
    def done(self) -> bool:
        return self.remaining <= 0

    def read(self, size: int = -1) -> bytes:
        return self._take(self._rfile.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._take(self._rfile.readline, size)

    def _take(self, read: t.Callable[[int], bytes], size: int) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        # Bounded reads: a socket file allocates what it is asked for.
        data = read(min(size, 65536))
        self.remaining -= len(data)
        if not data:
            self.remaining = 0  # the client went away: an early end
        return data

    def drain(self) -> bool:
        """Read and drop the rest; whether the connection may go on."""
        if self.remaining > _DRAIN_LIMIT:
            return False
        while self.remaining > 0:
            if not self.read(65536):
                return False
        return True


class _ChunkedInput(_Input):
    """``wsgi.input`` for a chunked body (RFC 9112 §7.1), decoded.

    It ends after the last chunk (trailer fields are read and dropped), so
    the app reads it to its end (``wsgi.input_terminated``) and its
    ``MAX_CONTENT_LENGTH`` applies while it does. Malformed framing raises
    :class:`~erlen.exceptions.BadRequest`, and the connection is closed
    after the response.
    """

    def __init__(self, rfile: t.Any) -> None:
        self._rfile = rfile
        self._left = 0  # bytes left in the current chunk
        self.done = False
        self.broken = False

    def _fail(self, message: str) -> t.NoReturn:
        from .exceptions import BadRequest, ClientDisconnected

        self.broken = self.done = True
        if message.startswith("The client"):
            raise ClientDisconnected(message)
        raise BadRequest(f"The chunked request body is malformed: {message}")

    def _line(self) -> bytes:
        line = self._rfile.readline(_MAX_LINE + 1)
        if not line:
            self._fail("The client closed the connection before sending the whole body.")
        stripped = _strip_line_end(line)
        if stripped is None:
            self._fail("a line is too long or unterminated.")
        return stripped

    def _next_chunk(self) -> bool:
        match = _CHUNK_SIZE_LINE.fullmatch(self._line())
        if match is None:
            self._fail("bad chunk size line.")
        size = int(match[1], 16)
        if size:
            self._left = size
            return True
        for _ in range(_MAX_HEADERS + 1):  # the trailer section, ignored
            line = self._line()
            if not line:
                self.done = True
                return False
            if _HEADER_LINE.fullmatch(line) is None:
                self._fail("bad trailer field.")
        self._fail("too many trailer fields.")

    def read(self, size: int = -1) -> bytes:
        return self._take(size, False)

    def readline(self, size: int = -1) -> bytes:
        return self._take(size, True)

    def _take(self, size: int, line: bool) -> bytes:
        read = self._rfile.readline if line else self._rfile.read
        out = bytearray()
        while not self.done and (size < 0 or len(out) < size) and not (line and out.endswith(b"\n")):
            if not self._left and not self._next_chunk():
                break
            want = self._left if size < 0 else min(self._left, size - len(out))
            data = read(min(want, 65536))
            if not data:
                self._fail("The client closed the connection before sending the whole body.")
            out += data
            self._left -= len(data)
            if not self._left and self._line():
                self._fail("chunk data is longer than its size.")
        return bytes(out)

    def drain(self) -> bool:
        """Read and drop the rest; whether the connection may go on."""
        if self.broken:
            return False
        from .exceptions import BadRequest

        dropped = 0
        try:
            while not self.done:
                dropped += len(self.read(65536))
                if dropped > _DRAIN_LIMIT:
                    return False
        except BadRequest:
            return False
        return not self.broken


class _Handler(BaseHTTPRequestHandler):
    """One connection of the development server: HTTP/1.1, keep-alive when the framing allows it.

    Requests with malformed framing get a 400 and the connection closes:
    control bytes (NUL, a bare CR) in the request line or a header line,
    folded or malformed header lines, a second ``Host`` or none on
    HTTP/1.1, conflicting ``Content-Length`` values, both
    ``Transfer-Encoding`` and ``Content-Length`` (RFC 9112 §6.1). A chunked
    body is decoded.
    """

    protocol_version = "HTTP/1.1"
    # An error found before the version is parsed still gets a status line.
    default_request_version = "HTTP/1.0"
    server_version = "Erlen-dev"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: t.Any) -> None:
        sys.stderr.write(f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n")

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command = ""
        self.request_version = self.default_request_version
        self.requestline = ""
        try:
            line = self.rfile.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                line = self.rfile.readline(_MAX_LINE + 1)  # RFC 9112 §2.2: one empty line is ignored
            if not line:
                return
            self.raw_requestline = line
            if len(line) > _MAX_LINE:
                self.send_error(414)
                return
            try:
                environ, body = self._parse(line)
            except _FramingError as e:
                self.send_error(e.code, str(e))
                return
            keep = self._run_wsgi(environ, body)
            self.wfile.flush()
            self.close_connection = not (keep and body.drain())
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _parse(self, line: bytes) -> tuple[dict[str, t.Any], _LengthInput | _ChunkedInput]:
        stripped = _strip_line_end(line)
        match = _REQUEST_LINE.fullmatch(stripped) if stripped is not None else None
        self.requestline = (stripped if stripped is not None else line).decode("latin-1")
        if match is None:
            raise _FramingError(400, "Bad request line")
        method, target, major, minor = match.groups()
        self.command = method.decode("ascii")
        self.path = target.decode("latin-1")
        if major != b"1":
            raise _FramingError(505, "HTTP version not supported")
        self.request_version = "HTTP/1.0" if minor == b"0" else "HTTP/1.1"

        headers: list[tuple[str, str]] = []
        for _ in range(_MAX_HEADERS + 1):
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE:
                raise _FramingError(431, "Header line too long")
            if raw in (b"\r\n", b"\n"):
                break
            header = _strip_line_end(raw)
            found = _HEADER_LINE.fullmatch(header) if header is not None else None
            if found is None:
                raise _FramingError(400, "Malformed header line")
            headers.append((found[1].decode("ascii"), found[2].decode("latin-1")))
        else:
            raise _FramingError(431, "Too many header lines")

        by_name: dict[str, list[str]] = {}
        for name, value in headers:
            by_name.setdefault(name.lower(), []).append(value)
        hosts = by_name.get("host", [])
        if len(hosts) > 1:
            raise _FramingError(400, "More than one Host header")
        if not hosts and self.request_version == "HTTP/1.1":
            raise _FramingError(400, "Missing Host header")
        lengths = {part.strip() for value in by_name.get("content-length", ()) for part in value.split(",")}
        encodings = by_name.get("transfer-encoding")
        body: _LengthInput | _ChunkedInput
        length = None
        if encodings:
            if lengths:
                raise _FramingError(400, "Both Transfer-Encoding and Content-Length")
            if self.request_version == "HTTP/1.0":
                raise _FramingError(400, "Transfer-Encoding in an HTTP/1.0 request")
            codings = [part.strip().lower() for value in encodings for part in value.split(",")]
            if codings[-1] != "chunked":
                raise _FramingError(400, "The body's length can't be determined: chunked is not the final coding")
            if codings != ["chunked"]:
                raise _FramingError(501, "Only the chunked transfer coding is supported")
            body = _ChunkedInput(self.rfile)
        elif lengths:
            value = lengths.pop()
            if lengths or not (value.isascii() and value.isdigit()):
                raise _FramingError(400, "Bad or conflicting Content-Length")
            length = int(value)
            body = _LengthInput(self.rfile, length)
        else:
            body = _LengthInput(self.rfile, 0)
        connection = {part.strip().lower() for value in by_name.get("connection", ()) for part in value.split(",")}
        if self.request_version == "HTTP/1.1":
            self._client_keep_alive = "close" not in connection
        else:
            self._client_keep_alive = "keep-alive" in connection
        expect = by_name.get("expect", [])
        if expect and self.request_version == "HTTP/1.1" and expect[0].strip().lower() == "100-continue":
            if encodings or length:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()

        environ = self.server.base_environ.copy()  # type: ignore[attr-defined]
        environ.pop("CONTENT_LENGTH", None)
        path = self.path
        if path.startswith(("http://", "https://")):
            # The absolute form (RFC 9112 §3.2.2): the path and query are the target.
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        path, _, query = path.partition("?")
        environ.update(
            {
                "SERVER_PROTOCOL": self.request_version,
                "SERVER_SOFTWARE": self.server_version,
                "REQUEST_METHOD": self.command,
                "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
                "QUERY_STRING": query,
                "REQUEST_URI": self.path,
                "RAW_URI": self.path,
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_PORT": str(self.client_address[1]) if len(self.client_address) > 1 else "",
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": body,
                "wsgi.input_terminated": True,
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": isinstance(self.server, socketserver.ThreadingMixIn),
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "wsgi.file_wrapper": FileWrapper,
            }
        )
        if length is not None:
            environ["CONTENT_LENGTH"] = str(length)
        for name, value in headers:
            if "_" in name:
                continue  # as Werkzeug: it would pass for a header spelled with "-"
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            elif key == "CONTENT_LENGTH":
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ, body

    def _run_wsgi(self, environ: dict[str, t.Any], body: _LengthInput | _ChunkedInput) -> bool:
        """Run the app and send its response; whether the connection may serve another request."""
        started: list[t.Any] = []
        head = self.command == "HEAD"
        state: dict[str, t.Any] = {"sent": False, "chunked": False, "no_body": False, "declared": None, "written": 0}
        keep = self._client_keep_alive

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
            if exc_info is not None and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return write

        def send_headers(total: int | None) -> None:
            nonlocal keep
            status, headers = started
            code = int(status[:3])
            reason = status[4:]
            names = {name.lower() for name, _ in headers}
            out = []
            for name, value in headers:
                lower = name.lower()
                if lower == "connection":
                    # Hop-by-hop: the server decides; the app may ask to close.
                    if "close" in value.lower():
                        keep = False
                    continue
                if lower == "transfer-encoding":
                    keep = False  # framing the server does not know
                elif lower == "content-length" and value.isdigit():
                    state["declared"] = int(value)
                out.append((name, value))
            state["no_body"] = no_body = head or code < 200 or code in (204, 304)
            if "content-length" not in names and "transfer-encoding" not in names and not no_body:
                if total is not None:
                    out.append(("Content-Length", str(total)))
                    state["declared"] = total
                elif self.request_version == "HTTP/1.1":
                    out.append(("Transfer-Encoding", "chunked"))
                    state["chunked"] = True
                else:
                    keep = False  # the end of the body is the end of the connection
            self.log_request(code)
            self.send_response_only(code, reason)
            if "server" not in names:
                self.send_header("Server", self.version_string())
            if "date" not in names:
                self.send_header("Date", self.date_time_string())
            for name, value in out:
                self.send_header(name, value)
            if not keep:
                self.send_header("Connection", "close")
            elif self.request_version == "HTTP/1.0":
                self.send_header("Connection", "keep-alive")
            self.end_headers()
            state["sent"] = True

        def write(data: bytes) -> None:
            if not state["sent"]:
                if not data:
                    return
                send_headers(None)
            if not data or state["no_body"]:
                return
            state["written"] += len(data)
            if state["chunked"]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)

        try:
            result = self.server.get_app()(environ, start_response)  # type: ignore[attr-defined]
            try:
                total = sum(map(len, result)) if isinstance(result, (list, tuple)) else None
                for chunk in result:
                    write(chunk)
                if not state["sent"]:
                    send_headers(total if total is not None else 0)
                if state["chunked"]:
                    self.wfile.write(b"0\r\n\r\n")
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError):
            return False
        except Exception:
            self.log_error("Error on request %r:\n%s", self.requestline, traceback.format_exc())
            if not state["sent"]:
                self.send_error(500)
            return False
        declared = state["declared"]
        if declared is not None and not state["no_body"] and declared != state["written"]:
            return False  # the client can't know where this response ends
        return keep


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A WSGI server handling each connection in its own thread."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(host: str, port: int, app: t.Any, threaded: bool = True, fd: int | None = None) -> WSGIServer:
    """Create (but don't start) a development server for ``app``.

    :param fd: Serve on this already bound and listening socket instead of
        binding ``host`` and ``port`` (the reloader's child gets its socket
        this way).
    """
    cls = ThreadedWSGIServer if threaded else WSGIServer
    if fd is None:
        server = cls((host, port), _Handler)
    else:
        server = cls((host, port), _Handler, bind_and_activate=False)
        # The socket the constructor made was never bound; the inherited one
        # replaces it (its family and type are read from the descriptor).
        server.socket.close()
        server.socket = socket.socket(fileno=fd)
        server.server_address = server.socket.getsockname()
        # What WSGIServer.server_bind does after binding: the names the
        # WSGI environ reports.
        bound_host, bound_port = server.server_address[:2]
        server.server_name = socket.getfqdn(str(bound_host))
        server.server_port = bound_port
        server.setup_environ()
    server.set_app(app)
    return server


def is_running_from_reloader() -> bool:
    """Whether this process is the reloader's child, the one serving."""
    return os.environ.get(RUN_MAIN_ENV) == "true"


def run_simple(
    host: str,
    port: int,
    application: t.Any,
    use_reloader: bool = False,
    extra_files: t.Iterable[str] | None = None,
    exclude_patterns: t.Iterable[str] | None = None,
    threaded: bool = True,
    asgi: bool | None = False,
    **options: t.Any,
) -> None:
    """Serve ``application`` until interrupted.

    :param host: Interface to bind, e.g. ``127.0.0.1``.
    :param port: Port to bind (``0`` picks a free one).
    :param use_reloader: Restart the server when a source file changes: this
        process watches, a child process runs the same command line and
        serves (see the module documentation).
    :param extra_files: More files for the reloader to watch, besides the
        app's Python modules. A folder here means any file directly in it.
    :param exclude_patterns: :mod:`fnmatch` patterns of files the reloader
        ignores, matched against the full path and the file name.
    :param threaded: One thread per connection.
    :param asgi: Serve the app's ASGI side (WebSockets too) with uvicorn on
        the same socket; ``None`` does when the app has one and uvicorn is
        installed (``erlen run`` and ``app.run`` ask for that).
    :param options: ``use_debugger=True`` wraps the app in
        :class:`erlen.debug.DebuggedApplication` and prints its PIN
        (``use_evalex=False`` keeps its console off). Others are accepted
        for compatibility and ignored, e.g. ``reloader_interval`` (there is
        no polling interval: changes come from the operating system).
    """
    asgi = _use_asgi(application, asgi)
    if use_reloader and is_running_from_reloader():
        debugged = None
        if options.get("use_debugger"):
            debugged = _with_debugger(application, options.get("use_evalex", True))
        if asgi:
            _serve_in_child(host, port, application, threaded, asgi_debugged=debugged)
        else:
            _serve_in_child(host, port, debugged or application, threaded)
        return

    server = make_server(host, port, application, threaded=threaded)
    name = getattr(application, "name", "app")
    bound_port = server.server_address[1]
    print(f" * Serving Erlen app '{name}'", flush=True)
    print(" * This is a development server. Do not use it in production; use a WSGI server such as gunicorn.", flush=True)
    print(f" * Running on http://{host}:{bound_port}/ (Press CTRL+C to quit)", flush=True)

    if use_reloader:
        try:
            Reloader(server.socket, extra_files=extra_files, exclude_patterns=exclude_patterns).run()
        finally:
            server.server_close()
        return

    debugged = _with_debugger(application, options.get("use_evalex", True)) if options.get("use_debugger") else None
    if asgi:
        try:
            _serve_uvicorn(server, application, debugged)
        finally:
            server.server_close()
        return
    if debugged is not None:
        server.set_app(debugged)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(" * Shutting down", flush=True)
    finally:
        server.server_close()


def _use_asgi(application: t.Any, asgi: bool | None) -> bool:
    if asgi is False:
        return False
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        if asgi:
            raise RuntimeError("Serving the ASGI side needs uvicorn: pip install uvicorn") from None
        return False
    return asgi is True or hasattr(application, "asgi_app")


def _serve_uvicorn(server: WSGIServer, application: t.Any, debugged: t.Any, watcher_pid: int | None = None) -> None:
    """Serve the app's ASGI side with uvicorn on the socket ``server`` bound.

    WebSockets work; with the debugger, HTTP errors still show its page
    (see :func:`dev_app`).
    """
    import uvicorn

    config = uvicorn.Config(dev_app(application, debugged), lifespan="auto", log_level="info")
    uv = uvicorn.Server(config)

    class _Stopper:
        def shutdown(self) -> None:
            uv.should_exit = True

    if watcher_pid is not None and os.name == "posix":
        _stop_when_orphaned(watcher_pid, _Stopper())  # type: ignore[arg-type]
    print(" * Serving the ASGI side with uvicorn (WebSockets included)", flush=True)
    uv.run(sockets=[server.socket])


def _with_debugger(application: t.Any, evalex: bool) -> t.Any:
    """Wrap the app in the interactive debugger and print its PIN (in the serving process only)."""
    from .debug import DebuggedApplication  # only debug mode pays for it

    debugged = DebuggedApplication(application, evalex=evalex)
    debugged.announce()
    return debugged


def _serve_in_child(host: str, port: int, application: t.Any, threaded: bool, asgi_debugged: t.Any = False) -> None:
    """Serve as the reloader's child: on the inherited socket, until told to stop.

    :param asgi_debugged: Not ``False``: serve with uvicorn, with this
        debugger-wrapped app for HTTP (or ``None``, no debugger).
    """
    fd = os.environ.get(SERVER_FD_ENV)
    if fd is not None:
        server = make_server(host, port, application, threaded=threaded, fd=int(fd))
    else:
        # No descriptor passing (not POSIX): the watcher closed its socket
        # and named the port it got, so ``port=0`` keeps one port.
        port = int(os.environ.get(SERVER_PORT_ENV, port))
        server = make_server(host, port, application, threaded=threaded)
    watcher_pid = os.environ.get(WATCHER_PID_ENV)
    if asgi_debugged is not False:
        try:
            _serve_uvicorn(server, application, asgi_debugged, int(watcher_pid) if watcher_pid else None)
        finally:
            server.server_close()
        return
    if watcher_pid is not None and os.name == "posix":
        _stop_when_orphaned(int(watcher_pid), server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(" * Shutting down", flush=True)
    finally:
        server.server_close()


def _stop_when_orphaned(watcher_pid: int, server: WSGIServer) -> None:
    """Stop serving once the watcher is gone (killed with no chance to clean up).

    An orphaned child would keep the port, and the next ``run`` would find
    it taken by a server nobody reloads anymore.
    """

    def check() -> None:
        while os.getppid() == watcher_pid:
            time.sleep(0.5)
        print(" * The reloader is gone; shutting down", flush=True)
        # Not a simulated Ctrl+C: a process started in the background may
        # ignore SIGINT, and then nothing would happen.
        server.shutdown()

    threading.Thread(target=check, name="erlen-orphan-check", daemon=True).start()


# -- reloader ------------------------------------------------------------------


def _excluded_roots() -> list[str]:
    """Folders whose modules are not the app's: the standard library and installed packages."""
    roots: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            roots.add(paths[key])
    try:
        roots.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - old virtualenv's site module
        pass
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site:
        roots.add(user_site)
    if sys.prefix != sys.base_prefix:
        # A virtual environment holds only installed code, wherever it lives
        # (often inside the project folder).
        roots.add(sys.prefix)
    return sorted({os.path.realpath(root) for root in roots})


def _is_under(path: str, roots: t.Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _matches(path: str, patterns: t.Sequence[str]) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(name, pattern) for pattern in patterns)


def module_dirs(
    modules: t.Iterable[ModuleType | None] | None = None,
    exclude_patterns: t.Sequence[str] = (),
    excluded_roots: t.Sequence[str] | None = None,
) -> set[str]:
    """The folders holding the app's imported modules, which the reloader watches.

    Modules of the standard library, of site-packages and of the virtual
    environment are left out (they don't change while developing, and a
    venv inside the project must not be watched), as are modules without a
    file on disk and files matching ``exclude_patterns``.

    :param modules: The modules to look at (default: :data:`sys.modules`).
    :param excluded_roots: Folders to leave out (default: see above).
    """
    if modules is None:
        modules = list(sys.modules.values())
    roots = _excluded_roots() if excluded_roots is None else [os.path.realpath(root) for root in excluded_roots]
    dirs: set[str] = set()
    for module in modules:
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str):
            continue  # built-in, frozen without a file, namespace package
        path = os.path.realpath(filename)
        parts = path.split(os.sep)
        if _is_under(path, roots) or "site-packages" in parts or "dist-packages" in parts:
            continue  # installed code from some other environment
        if _matches(path, exclude_patterns):
            continue
        folder = os.path.dirname(path)
        # A module inside a zip file has no folder to watch.
        if os.path.isdir(folder):
            dirs.add(folder)
    return dirs


class WatchedPaths:
    """What the reloader watches, and which changes trigger a restart.

    The folders of the app's modules are watched, not recursively: a change
    to a ``.py`` file in one of them restarts. Each extra file is watched
    through its folder (editors often save by writing a new file and
    renaming it over the old one, which a watch on the file itself would
    lose); an extra folder restarts on any file directly in it. Files
    matching ``exclude_patterns`` never restart.

    An instance is a :func:`watchfiles.watch` filter: called with a change
    and a path, it says whether the change counts.

    :param extra_files: Files (or folders) to watch besides the modules.
    :param exclude_patterns: :mod:`fnmatch` patterns, matched against the
        full path and the file name.
    :param modules: Passed to :func:`module_dirs`.
    :param excluded_roots: Passed to :func:`module_dirs`.
    """

    def __init__(
        self,
        extra_files: t.Iterable[str] | None = None,
        exclude_patterns: t.Iterable[str] | None = None,
        modules: t.Iterable[ModuleType | None] | None = None,
        excluded_roots: t.Sequence[str] | None = None,
    ) -> None:
        # One string is one pattern (or file), not a sequence of characters.
        if isinstance(exclude_patterns, str):
            exclude_patterns = [exclude_patterns]
        if isinstance(extra_files, str):
            extra_files = [extra_files]
        self.exclude_patterns: tuple[str, ...] = tuple(exclude_patterns or ())
        self.module_dirs = module_dirs(modules, self.exclude_patterns, excluded_roots)
        self.extra_files: set[str] = set()
        self.extra_dirs: set[str] = set()
        for path in extra_files or ():
            path = os.path.realpath(path)
            if os.path.isdir(path):
                self.extra_dirs.add(path)
            else:
                self.extra_files.add(path)

    @property
    def roots(self) -> list[str]:
        """The folders to give the watcher, each watched without its subfolders."""
        folders = self.module_dirs | self.extra_dirs | {os.path.dirname(path) for path in self.extra_files}
        # A folder that doesn't exist (yet) can't be watched; the watcher
        # would refuse to start.
        return sorted(folder for folder in folders if os.path.isdir(folder))

    def __call__(self, change: t.Any, path: str) -> bool:
        """Whether a change to ``path`` should restart the server."""
        # Compare real paths, as the watched folders are real paths; some
        # systems report events under another spelling (macOS's /private/var).
        folder, name = os.path.split(path)
        path = os.path.join(os.path.realpath(folder), name)
        folder = os.path.dirname(path)
        if _matches(path, self.exclude_patterns):
            return False
        if path in self.extra_files or folder in self.extra_dirs:
            return True
        return name.endswith(".py") and not name.startswith(_IGNORED_PREFIXES) and folder in self.module_dirs


def _child_args() -> list[str]:
    """The command line that started this process, to start the server child with."""
    # sys.orig_argv keeps what sys.argv loses: ``-c CODE``, ``-m module`` and
    # interpreter options such as ``-X dev`` or ``-W error``.
    orig = getattr(sys, "orig_argv", None)
    if orig:
        return [sys.executable, *orig[1:]]
    main = sys.modules.get("__main__")  # pragma: no cover - Python < 3.10 only
    spec = getattr(main, "__spec__", None)  # pragma: no cover
    if spec is not None and spec.name:  # pragma: no cover
        name = spec.name.removesuffix(".__main__")
        return [sys.executable, "-m", name, *sys.argv[1:]]
    return [sys.executable, *sys.argv]  # pragma: no cover


class Reloader:
    """Run the server in a child process and restart it when a watched file changes.

    :param sock: The bound, listening socket the child serves on.
    :param extra_files: See :class:`WatchedPaths`.
    :param exclude_patterns: See :class:`WatchedPaths`.
    :param args: The child's command line (default: this process's own).
    """

    #: How long a child gets to stop before it is killed, in seconds.
    stop_timeout = 5.0

    def __init__(
        self,
        sock: socket.socket,
        extra_files: t.Iterable[str] | None = None,
        exclude_patterns: t.Iterable[str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.sock = sock
        self.paths = WatchedPaths(extra_files, exclude_patterns)
        self.args = args if args is not None else _child_args()
        self.child: subprocess.Popen[bytes] | None = None
        # Whether the current child's exit has been reported already.
        self._exit_reported = False
        self._port: int | None = None
        self._terminated = False

    def start_child(self) -> None:
        """Start the serving child process."""
        print(" * Restarting with watchfiles", flush=True)
        env = dict(os.environ, **{RUN_MAIN_ENV: "true", WATCHER_PID_ENV: str(os.getpid())})
        kwargs: dict[str, t.Any] = {}
        if os.name == "posix":
            fd = self.sock.fileno()
            env[SERVER_FD_ENV] = str(fd)
            # pass_fds makes the descriptor inheritable in the child only.
            kwargs["pass_fds"] = (fd,)
        else:  # pragma: no cover - needs Windows
            # No descriptor passing: the child binds the port again, so the
            # watcher lets go of it (and names the port, for ``port=0``).
            env[SERVER_PORT_ENV] = str(self._release_socket())
        self.child = subprocess.Popen(self.args, env=env, **kwargs)
        self._exit_reported = False

    def _release_socket(self) -> int:  # pragma: no cover - needs Windows
        if self._port is None:
            self._port = self.sock.getsockname()[1]
            self.sock.close()
        return self._port

    def stop_child(self) -> None:
        """Stop the child: ask, then kill it if it doesn't stop in :attr:`stop_timeout` seconds."""
        child, self.child = self.child, None
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def _report_exit(self) -> None:
        if self.child is None or self._exit_reported:
            return
        code = self.child.poll()
        if code is not None:
            self._exit_reported = True
            print(f" * The server exited with status {code}; restarting when a file changes.", flush=True)

    def run(self) -> None:
        """Watch and restart until interrupted (Ctrl+C, or SIGTERM on POSIX)."""
        import watchfiles  # PERF: only the reloader needs it

        roots = self.paths.roots
        previous = self._install_sigterm_handler()
        try:
            self.start_child()
            # rust_timeout with yield_on_timeout wakes the loop twice a
            # second, to notice a child that exited on its own (a syntax
            # error, say) and to say so.
            for changes in watchfiles.watch(
                *roots,
                watch_filter=self.paths,
                recursive=False,
                step=50,
                debounce=1000,
                rust_timeout=500,
                yield_on_timeout=True,
            ):
                if not changes:
                    self._report_exit()
                    continue
                path = sorted(path for _, path in changes)[0]
                print(f" * Detected change in {path!r}, reloading", flush=True)
                for _, changed in changes:
                    _drop_bytecode(changed)
                self.stop_child()
                self.start_child()
        except KeyboardInterrupt:
            pass
        finally:
            # On Ctrl+C in a terminal the child got the signal too and is
            # shutting down; give it the chance before terminating it.
            self._wait_or_stop_child()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def _wait_or_stop_child(self) -> None:
        child = self.child
        if child is None:
            return
        if not self._terminated:
            # Ctrl+C in a terminal reaches the whole process group: the
            # child is shutting down by itself. Let it finish (a second
            # signal would interrupt its cleanup), then make sure.
            try:
                child.wait(1.0)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                pass
        self.stop_child()

    def _install_sigterm_handler(self) -> t.Any:
        """Make SIGTERM stop the watcher like Ctrl+C, so the child is stopped too."""
        if os.name != "posix" or threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: t.Any) -> None:
            self._terminated = True
            # watchfiles turns an exception raised in a handler into
            # KeyboardInterrupt; elsewhere it is raised as is.
            raise KeyboardInterrupt

        return signal.signal(signal.SIGTERM, handler)


def _drop_bytecode(path: str) -> None:
    """Remove the cached bytecode of a changed module, if any.

    The cache is checked against the source's size and mtime in whole
    seconds, so an edit that keeps the size within the same second would
    otherwise load the old code in the restarted child.
    """
    if not path.endswith(".py"):
        return
    import importlib.util

    try:
        os.remove(importlib.util.cache_from_source(path))
    except (OSError, ValueError, NotImplementedError):
        pass


# -- the ASGI side of the development server -------------------------------------------


def dev_app(app: Erlen, debugged: t.Callable[..., t.Any] | None = None) -> t.Callable[..., t.Any]:
    """The ASGI app the development server gives uvicorn.

    Without a debugger this is ``app`` itself. With one (``debugged``, the
    app wrapped in :class:`erlen.debug.DebuggedApplication`, a WSGI
    middleware), ``http`` requests go through it, run in a worker thread
    with the body read first; the response streams chunk by chunk as the app
    yields it, and an error raised before the first chunk still shows the
    error page with its console; WebSockets and ``lifespan`` go to the app's ASGI
    side as usual.

    .. versionadded:: 0.1
    """
    if debugged is None:
        return app

    async def serve(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] != "http":
            await app.asgi_app(scope, receive, send)
            return
        await _serve_wsgi(app, debugged, scope, receive, send)

    return serve


async def _serve_wsgi(app: Erlen, wsgi_app: t.Callable[..., t.Any], scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
    import asyncio
    import io

    from .asgi import _ASGIInput
    from .concurrency import pool
    from .exceptions import ClientDisconnected

    limit = app.config.get("MAX_CONTENT_LENGTH")
    body = _ASGIInput(receive)
    parts = []
    size = 0
    try:
        while body.more and (limit is None or size <= limit):
            chunk = await body.next_chunk()
            parts.append(chunk)
            size += len(chunk)
    except ClientDisconnected:
        return
    server = scope.get("server") or ("127.0.0.1", 80)
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"][len(scope.get("root_path", "")) :].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": (scope.get("client") or ("127.0.0.1", 0))[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(b"".join(parts)),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    loop = asyncio.get_running_loop()
    gone = threading.Event()

    def emit(message: dict[str, t.Any]) -> None:
        # Backpressure: the worker thread waits until the loop has sent the
        # message, so at most one chunk is ever held.
        if gone.is_set():
            raise _ClientGone
        try:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()
        except Exception:
            gone.set()
            raise _ClientGone from None

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch_disconnect())
    try:
        await loop.run_in_executor(pool(app), _stream_wsgi, wsgi_app, environ, emit, gone, scope["method"] == "HEAD")
    finally:
        # A cancelled request (the server stopping) stops the stream too.
        gone.set()
        watcher.cancel()


class _ClientGone(Exception):
    """The client left while a WSGI response streamed to it (see :func:`_stream_wsgi`)."""


def _stream_wsgi(
    wsgi_app: t.Callable[..., t.Any],
    environ: dict[str, t.Any],
    emit: t.Callable[[dict[str, t.Any]], None],
    gone: threading.Event,
    head: bool,
) -> None:
    """Run a WSGI app on a worker thread and hand its response to ``emit`` as ASGI messages.

    Each chunk is sent as the body iterable yields it. As PEP 3333 asks,
    the headers go with the first non-empty chunk (or the end of an empty
    body), so an error raised before it can still replace them: the
    debugger's ``start_response`` with ``exc_info`` and its error page. The
    iterable stops, and is closed, once the client is gone (``gone`` set;
    ``emit`` then raises :class:`_ClientGone`).
    """
    started: list[t.Any] = []
    sent = False

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return write

    def send_start() -> None:
        nonlocal sent
        if not started:
            raise RuntimeError("The WSGI app did not call start_response.")
        status, headers = started
        emit(
            {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        sent = True

    def write(data: bytes) -> None:
        if not data:
            return
        if not sent:
            send_start()
        if not head:
            emit({"type": "http.response.body", "body": data, "more_body": True})

    result = wsgi_app(environ, start_response)
    try:
        for chunk in result:
            if gone.is_set():
                return
            write(chunk)
        if not sent:
            send_start()
        emit({"type": "http.response.body", "body": b"", "more_body": False})
    except _ClientGone:
        pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
