"""``werkzeug.middleware.lint``: warn when an app or server breaks WSGI or HTTP rules.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from warnings import warn

from ..datastructures import Headers

__all__ = [
    "ErrorStream",
    "GuardedIterator",
    "GuardedWrite",
    "HTTPWarning",
    "InputStream",
    "LintMiddleware",
    "WSGIWarning",
    "check_type",
]

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]

_REQUIRED_ENVIRON = (
    "REQUEST_METHOD",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.version",
    "wsgi.input",
    "wsgi.errors",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
)
# What a 304 may carry (RFC 9110 section 15.4.5), besides what any response may.
_NOT_MODIFIED_HEADERS = frozenset(
    ("cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified")
)


class WSGIWarning(Warning):
    """The app or the server broke a rule of WSGI (PEP 3333)."""


class HTTPWarning(Warning):
    """The response breaks a rule of HTTP."""


def check_type(context: str, obj: object, need: type = str) -> None:
    """Warn (:class:`WSGIWarning`) unless ``obj`` is exactly of type ``need``."""
    if type(obj) is not need:
        warn(
            f"{context} must be {need.__name__!r}, got {type(obj).__name__!r}.",
            WSGIWarning,
            stacklevel=3,
        )


class InputStream:
    """``wsgi.input``, watched: reads that may never return are warned about."""

    def __init__(self, stream: t.IO[bytes]) -> None:
        self._stream = stream

    def read(self, *args: t.Any) -> bytes:
        if not args:
            warn(
                "wsgi.input.read() without a size may wait forever: WSGI does not promise"
                " an end-of-file after the body. Read CONTENT_LENGTH bytes.",
                WSGIWarning,
                stacklevel=2,
            )
        elif len(args) != 1:
            warn("wsgi.input.read() takes one argument.", WSGIWarning, stacklevel=2)
        return self._stream.read(*args)

    def readline(self, *args: t.Any) -> bytes:
        if len(args) > 1:
            warn("wsgi.input.readline() takes at most one argument.", WSGIWarning, stacklevel=2)
        return self._stream.readline(*args)

    def readlines(self, *args: t.Any) -> list[bytes]:
        return self._stream.readlines(*args)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        warn("The app closed wsgi.input; the server owns it.", WSGIWarning, stacklevel=2)
        self._stream.close()


class ErrorStream:
    """``wsgi.errors``, watched: it takes text."""

    def __init__(self, stream: t.TextIO) -> None:
        self._stream = stream

    def write(self, s: str) -> None:
        check_type("wsgi.errors.write()'s argument", s, str)
        self._stream.write(s)

    def flush(self) -> None:
        self._stream.flush()

    def writelines(self, seq: Iterable[str]) -> None:
        for line in seq:
            self.write(line)

    def close(self) -> None:
        warn("The app closed wsgi.errors; the server owns it.", WSGIWarning, stacklevel=2)
        self._stream.close()


class GuardedWrite:
    """The ``write`` callable ``start_response`` returns, watched: it takes bytes."""

    def __init__(self, write: Callable[[bytes], object], chunks: list[int]) -> None:
        self._write = write
        self._chunks = chunks

    def __call__(self, s: bytes) -> None:
        check_type("write()'s argument", s, bytes)
        self._write(s)
        self._chunks.append(len(s))


class GuardedIterator:
    """The app's body, watched: bytes items, after ``start_response``, closed, the right length."""

    def __init__(
        self,
        iterator: Iterable[bytes],
        headers_set: list[t.Any],
        chunks: list[int],
    ) -> None:
        self._iterable = iterator
        self._next = iter(iterator).__next__
        self.closed = False
        self.headers_set = headers_set
        self.chunks = chunks

    def __iter__(self) -> GuardedIterator:
        return self

    def __next__(self) -> bytes:
        if self.closed:
            warn("The body was iterated after it was closed.", WSGIWarning, stacklevel=2)
        item = self._next()
        if not self.headers_set:
            warn(
                "The app yielded body data before calling start_response.",
                WSGIWarning,
                stacklevel=2,
            )
        check_type("Each item of the app's body", item, bytes)
        self.chunks.append(len(item))
        return item

    def close(self) -> None:
        self.closed = True
        close = getattr(self._iterable, "close", None)
        if close is not None:
            close()
        if not self.headers_set:
            return
        status, headers = self.headers_set
        sent = sum(self.chunks)
        length = headers.get("content-length", type=int)
        if status == 304:
            for key, _ in headers:
                if key.lower() not in _NOT_MODIFIED_HEADERS:
                    warn(f"A 304 response should not send {key!r}.", HTTPWarning, stacklevel=2)
            if sent:
                warn("A 304 response must not have a body.", HTTPWarning, stacklevel=2)
        elif 100 <= status < 200 or status == 204:
            if length:
                warn(
                    f"A {status} response must not send Content-Length.", HTTPWarning, stacklevel=2
                )
            if sent:
                warn(f"A {status} response must not have a body.", HTTPWarning, stacklevel=2)
        elif length is not None and length != sent:
            warn(
                f"Content-Length says {length} bytes but the body has {sent}.",
                WSGIWarning,
                stacklevel=2,
            )

    def __del__(self) -> None:
        if not self.closed:
            try:
                warn("The server did not close the app's body.", WSGIWarning, stacklevel=2)
            except Exception:  # noqa: BLE001 - at interpreter exit warnings may be gone
                pass


class LintMiddleware:
    """Check that the app and the server around it follow WSGI (and some of HTTP).

    For tests and development: every problem found is a :class:`WSGIWarning`
    or :class:`HTTPWarning` (with ``warnings`` set to ``error``, a failure).
    It checks the environ, ``start_response``'s arguments and headers, the
    ``write`` callable, and the body: bytes items, only after
    ``start_response``, closed by the server, as long as ``Content-Length``
    says, and none on 1xx, 204 and 304 responses.

    :param app: The WSGI app to check.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def check_environ(self, environ: object) -> None:
        """Warn about an environ that is not a dict, lacks keys or has bad paths."""
        if type(environ) is not dict:
            warn("The environ is not a dict.", WSGIWarning, stacklevel=3)
            return
        missing = [key for key in _REQUIRED_ENVIRON if key not in environ]
        if missing:
            warn(f"The environ lacks {', '.join(missing)}.", WSGIWarning, stacklevel=3)
        if environ.get("wsgi.version") != (1, 0):
            warn("The environ's wsgi.version is not (1, 0).", WSGIWarning, stacklevel=3)
        script_name = environ.get("SCRIPT_NAME", "")
        path_info = environ.get("PATH_INFO", "")
        if script_name and script_name[0] != "/":
            warn(f"SCRIPT_NAME {script_name!r} does not start with '/'.", WSGIWarning, stacklevel=3)
        if script_name.endswith("/"):
            warn(f"SCRIPT_NAME {script_name!r} ends with '/'.", WSGIWarning, stacklevel=3)
        if path_info and path_info[0] != "/":
            warn(f"PATH_INFO {path_info!r} does not start with '/'.", WSGIWarning, stacklevel=3)

    def check_start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: tuple[type[BaseException], BaseException, TracebackType] | None,
    ) -> tuple[int, Headers]:
        """Check ``start_response``'s arguments; returns the status code and the headers."""
        check_type("The status", status, str)
        code_text, _, reason = str(status).partition(" ")
        if len(code_text) != 3 or not code_text.isdigit():
            warn(
                f"The status {status!r} does not start with a 3-digit code.",
                WSGIWarning,
                stacklevel=3,
            )
            code = 0
        else:
            code = int(code_text)
            if code < 100:
                warn(f"The status code {code} is below 100.", WSGIWarning, stacklevel=3)
        if not reason:
            warn(f"The status {status!r} has no reason phrase.", WSGIWarning, stacklevel=3)
        if type(headers) is not list:
            warn("The headers are not a list.", WSGIWarning, stacklevel=3)
        # Only well-formed pairs go on to the HTTP checks: Headers refuses a
        # line break with ValueError, and lint's job is to warn, not to fail.
        valid: list[tuple[str, str]] = []
        for item in headers:
            if type(item) is not tuple or len(item) != 2:
                warn(
                    f"The header {item!r} is not a (name, value) tuple.", WSGIWarning, stacklevel=3
                )
                continue
            name, value = item
            if type(name) is not str or type(value) is not str:
                warn(f"The header {item!r} is not two 'str'.", WSGIWarning, stacklevel=3)
                continue
            if name.lower() == "status":
                warn("A 'Status' header is not allowed in WSGI.", WSGIWarning, stacklevel=3)
            if "\n" in value or "\r" in value:
                warn(
                    f"The header {name!r} has a line break in its value.", WSGIWarning, stacklevel=3
                )
                continue
            valid.append(item)
        if exc_info is not None and not isinstance(exc_info, tuple):
            warn("exc_info is not a tuple.", WSGIWarning, stacklevel=3)
        header_obj = Headers(valid)
        self.check_headers(header_obj)
        return code, header_obj

    def check_headers(self, headers: Headers) -> None:
        """Warn about header values that break HTTP's syntax (``ETag``)."""
        etag = headers.get("etag")
        if etag is not None:
            value = etag[2:] if etag.startswith(("W/", "w/")) else etag
            if etag.startswith("w/"):
                warn("A weak ETag starts with 'W/', upper case.", HTTPWarning, stacklevel=4)
            if not (len(value) >= 2 and value[0] == value[-1] == '"'):
                warn("The ETag is not quoted.", HTTPWarning, stacklevel=4)

    def check_iterator(self, app_iter: Iterable[bytes]) -> None:
        """Warn about a body that is one ``bytes``/``str`` (sent a byte at a time)."""
        if isinstance(app_iter, (bytes, str)):
            warn(
                "The app returned a bytes or str object as its body; it is sent one item"
                " (byte) at a time. Return a list of bytes.",
                WSGIWarning,
                stacklevel=3,
            )

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> Iterable[bytes]:
        if len(args) != 2:
            warn("A WSGI app takes two arguments.", WSGIWarning, stacklevel=2)
        if kwargs:
            warn("A WSGI app is called with positional arguments only.", WSGIWarning, stacklevel=2)
        environ, start_response = args[0], args[1]
        self.check_environ(environ)
        environ["wsgi.input"] = InputStream(environ["wsgi.input"])
        environ["wsgi.errors"] = ErrorStream(environ["wsgi.errors"])
        headers_set: list[t.Any] = []
        chunks: list[int] = []

        def checking_start_response(*args: t.Any, **kwargs: t.Any) -> GuardedWrite:
            if len(args) not in (2, 3):
                warn("start_response takes two or three arguments.", WSGIWarning, stacklevel=2)
            if kwargs:
                warn("start_response takes no keyword arguments.", WSGIWarning, stacklevel=2)
            status, headers = args[0], args[1]
            exc_info = args[2] if len(args) > 2 else None
            headers_set[:] = self.check_start_response(status, headers, exc_info)
            return GuardedWrite(start_response(*args), chunks)

        app_iter = self.app(environ, checking_start_response)
        self.check_iterator(app_iter)
        return GuardedIterator(app_iter, headers_set, chunks)
