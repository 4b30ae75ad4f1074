"""A small threaded development server (not for production), with a reloader.

It serves one app on one address with HTTP/1.1 keep-alive, one thread per
connection, and stops cleanly on Ctrl+C. Production deployments use a real
WSGI server (gunicorn, waitress, ...).

With ``use_reloader=True`` the process that calls :func:`run_simple` becomes
a watcher that restarts a serving child when a source file changes (see
:mod:`erlen.reloader`). Under uvicorn, :func:`dev_app` is what it serves.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.util import FileWrapper

from .reloader import RUN_MAIN_ENV, SERVER_FD_ENV, SERVER_PORT_ENV, WATCHER_PID_ENV, Reloader

if t.TYPE_CHECKING:
    import ssl

    from .app import Erlen

__all__ = [
    "run_simple",
    "make_server",
    "is_running_from_reloader",
    "load_ssl_context",
    "generate_adhoc_ssl_context",
]

#: What ``ssl_context`` may be: a context, a ``(cert_file, key_file)`` pair,
#: ``"adhoc"`` (a throwaway self-signed certificate), or ``None`` (plain HTTP).
SSLContextArg = t.Union["ssl.SSLContext", tuple[str, str], str, None]

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
        while (
            not self.done and (size < 0 or len(out) < size) and not (line and out.endswith(b"\n"))
        ):
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
        sys.stderr.write(
            f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n"
        )

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command = ""
        self.request_version = self.default_request_version
        self.requestline = ""
        try:
            line = self.rfile.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                line = self.rfile.readline(
                    _MAX_LINE + 1
                )  # RFC 9112 §2.2: one empty line is ignored
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
        lengths = {
            part.strip() for value in by_name.get("content-length", ()) for part in value.split(",")
        }
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
                raise _FramingError(
                    400, "The body's length can't be determined: chunked is not the final coding"
                )
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
        connection = {
            part.strip().lower()
            for value in by_name.get("connection", ())
            for part in value.split(",")
        }
        if self.request_version == "HTTP/1.1":
            self._client_keep_alive = "close" not in connection
        else:
            self._client_keep_alive = "keep-alive" in connection
        expect = by_name.get("expect", [])
        if (
            expect
            and self.request_version == "HTTP/1.1"
            and expect[0].strip().lower() == "100-continue"
        ):
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
        # total: the body's length when the app returned a list or tuple (known before the first write).
        state: dict[str, t.Any] = {
            "sent": False,
            "chunked": False,
            "no_body": False,
            "declared": None,
            "written": 0,
            "total": None,
        }
        keep = self._client_keep_alive

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Callable[[bytes], None]:
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
                send_headers(state["total"])
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
                if isinstance(result, (list, tuple)):
                    state["total"] = sum(map(len, result))
                for chunk in result:
                    write(chunk)
                if not state["sent"]:
                    send_headers(state["total"] or 0)
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


#: How long a client has to finish the TLS handshake, in seconds.
_HANDSHAKE_TIMEOUT = 10.0


class _TLSMixin:
    """Serve TLS: each accepted connection is wrapped, its handshake done in the connection's thread.

    The listening socket stays plain, so that the reloader can hand it to
    its child and uvicorn can take it with its own TLS setup. Wrapping on
    accept does no I/O; the handshake waits for the connection's own thread,
    so a client that stalls it holds up no other connection.
    """

    ssl_context: ssl.SSLContext

    def get_request(self) -> tuple[t.Any, t.Any]:
        sock, address = super().get_request()  # type: ignore[misc]
        wrapped = self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address

    def finish_request(self, request: t.Any, client_address: t.Any) -> None:
        request.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            request.do_handshake()
        except OSError:
            # Not TLS (plain HTTP to an https port), a refused certificate,
            # or a client gone: nothing to answer, the socket is closed.
            return
        request.settimeout(None)
        super().finish_request(request, client_address)  # type: ignore[misc]


class _TLSServer(_TLSMixin, WSGIServer):
    pass


class _ThreadedTLSServer(_TLSMixin, ThreadedWSGIServer):
    pass


def load_ssl_context(
    cert_file: str, pkey_file: str | None = None, protocol: int | None = None
) -> ssl.SSLContext:
    """A server-side TLS context for the certificate (chain) in ``cert_file`` and its key.

    :param pkey_file: The private key's file; ``None`` when ``cert_file``
        holds it too.
    :param protocol: An ``ssl.PROTOCOL_*`` constant; the default is
        ``ssl.PROTOCOL_TLS_SERVER``.
    """
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if protocol is None else protocol)
    context.load_cert_chain(cert_file, pkey_file)
    return context


def generate_adhoc_ssl_context() -> ssl.SSLContext:
    """A TLS context with a new self-signed certificate for ``localhost``, for trying HTTPS out.

    Browsers warn about it (nothing vouches for it), and it changes on every
    start. It needs the ``cryptography`` package.
    """
    import datetime
    import ipaddress
    import tempfile

    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        raise RuntimeError(
            "An ad-hoc certificate is made with the cryptography package: pip install cryptography"
        ) from None

    # An EC key: made in a millisecond, where RSA takes a noticeable while.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Erlen ad-hoc certificate")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # load_cert_chain reads files only; the file lives just long enough.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "adhoc.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return load_ssl_context(path)


def _ssl_context(value: SSLContextArg) -> ssl.SSLContext | None:
    """The context ``ssl_context`` asks for (``None``: plain HTTP)."""
    if value is None:
        return None
    if value == "adhoc":
        return generate_adhoc_ssl_context()
    if isinstance(value, tuple):
        return load_ssl_context(*value)
    if isinstance(value, str):
        raise ValueError(
            f"ssl_context={value!r}: give an ssl.SSLContext, a (cert_file, key_file) pair or 'adhoc'"
        )
    return value


def make_server(
    host: str,
    port: int,
    app: t.Any,
    threaded: bool = True,
    fd: int | None = None,
    ssl_context: SSLContextArg = None,
) -> WSGIServer:
    """Create (but don't start) a development server for ``app``.

    :param fd: Serve on this already bound and listening socket instead of
        binding ``host`` and ``port`` (the reloader's child gets its socket
        this way).
    :param ssl_context: Serve HTTPS: an :class:`ssl.SSLContext`, a
        ``(cert_file, key_file)`` pair, or ``"adhoc"`` (a new self-signed
        certificate, see :func:`generate_adhoc_ssl_context`).
    """
    context = _ssl_context(ssl_context)
    cls: type[WSGIServer]
    if context is None:
        cls = ThreadedWSGIServer if threaded else WSGIServer
    else:
        cls = _ThreadedTLSServer if threaded else _TLSServer
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
    # Set once here; each request's environ starts as a copy of this one.
    server.base_environ["wsgi.url_scheme"] = "http" if context is None else "https"
    if context is not None:
        server.ssl_context = context  # type: ignore[attr-defined]
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
    ssl_context: SSLContextArg = None,
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
    :param ssl_context: Serve HTTPS: an :class:`ssl.SSLContext`, a
        ``(cert_file, key_file)`` pair, or ``"adhoc"`` (a new self-signed
        certificate each start; needs the ``cryptography`` package).
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
            _serve_in_child(
                host, port, application, threaded, ssl_context=ssl_context, asgi_debugged=debugged
            )
        else:
            _serve_in_child(host, port, debugged or application, threaded, ssl_context=ssl_context)
        return

    try:
        # The reloader's watcher only holds the socket: its child, which
        # serves, loads the certificate.
        server = make_server(
            host,
            port,
            application,
            threaded=threaded,
            ssl_context=None if use_reloader else ssl_context,
        )
    except OSError as e:
        # One line the user can act on, not the socket module's traceback.
        raise SystemExit(_bind_error(host, port, e)) from None
    name = getattr(application, "name", "app")
    bound_port = server.server_address[1]
    print(f" * Serving Erlen app '{name}'", flush=True)
    print(
        " * This is a development server. Do not use it in production; use a WSGI server such as gunicorn.",
        flush=True,
    )
    scheme = "http" if ssl_context is None else "https"
    print(f" * Running on {scheme}://{host}:{bound_port}/ (Press CTRL+C to quit)", flush=True)

    if use_reloader:
        try:
            Reloader(
                server.socket, extra_files=extra_files, exclude_patterns=exclude_patterns
            ).run()
        finally:
            server.server_close()
        return

    debugged = (
        _with_debugger(application, options.get("use_evalex", True))
        if options.get("use_debugger")
        else None
    )
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


def _bind_error(host: str, port: int, error: OSError) -> str:
    """What to tell the user when the server can't listen on ``host`` and ``port``."""
    if error.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is in use by another program: stop it, or pick another"
            f" port with --port (e.g. 'erlen run --port {port + 1}', or app.run(port={port + 1}))."
        )
    if error.errno == errno.EACCES:
        return (
            f"Not allowed to listen on port {port} on {host} (ports below 1024 need"
            f" privileges): pick another port with --port, e.g. --port {5000 if port < 1024 else port + 1}."
        )
    reason = error.strerror or str(error)
    return f"Can't listen on {host} port {port}: {reason}. Check --host and --port."


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


def _serve_uvicorn(
    server: WSGIServer, application: t.Any, debugged: t.Any, watcher_pid: int | None = None
) -> None:
    """Serve the app's ASGI side with uvicorn on the socket ``server`` bound.

    WebSockets work; with the debugger, HTTP errors still show its page
    (see :func:`dev_app`).
    """
    import uvicorn

    config = uvicorn.Config(dev_app(application, debugged), lifespan="auto", log_level="info")
    context = getattr(server, "ssl_context", None)
    if context is not None:
        # uvicorn builds its context from file names only; the one
        # make_server has (an object, a pair or adhoc) goes in after load().
        config.load()
        config.ssl = context
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


def _serve_in_child(
    host: str,
    port: int,
    application: t.Any,
    threaded: bool,
    ssl_context: SSLContextArg = None,
    asgi_debugged: t.Any = False,
) -> None:
    """Serve as the reloader's child: on the inherited socket, until told to stop.

    :param asgi_debugged: Not ``False``: serve with uvicorn, with this
        debugger-wrapped app for HTTP (or ``None``, no debugger).
    """
    fd = os.environ.get(SERVER_FD_ENV)
    if fd is not None:
        server = make_server(
            host, port, application, threaded=threaded, fd=int(fd), ssl_context=ssl_context
        )
    else:
        # No descriptor passing (not POSIX): the watcher closed its socket
        # and named the port it got, so ``port=0`` keeps one port.
        port = int(os.environ.get(SERVER_PORT_ENV, port))
        server = make_server(host, port, application, threaded=threaded, ssl_context=ssl_context)
    watcher_pid = os.environ.get(WATCHER_PID_ENV)
    if asgi_debugged is not False:
        try:
            _serve_uvicorn(
                server, application, asgi_debugged, int(watcher_pid) if watcher_pid else None
            )
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
    from .asgi import serve_wsgi

    async def serve(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] != "http":
            await app.asgi_app(scope, receive, send)
            return
        await serve_wsgi(app, debugged, scope, receive, send)

    return serve
