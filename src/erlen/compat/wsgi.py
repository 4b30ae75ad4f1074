"""``werkzeug.wsgi`` and ``werkzeug.sansio.utils`` helpers, for WSGI middleware.

Erlen's adapter (:mod:`erlen.wsgi`) reads the environ itself; plain WSGI
code written against Werkzeug (middleware, extensions that wrap
``app.wsgi_app``) calls these: the request's host and URL, its body length
and a stream bounded by it, ``PATH_INFO`` as text, file wrappers.

.. versionadded:: 0.1
"""

from __future__ import annotations

import io
import typing as t
from collections.abc import Callable, Iterable, Iterator

from ..exceptions import ClientDisconnected, RequestEntityTooLarge, SecurityError
from ..http import host_is_trusted
from ..wsgi import ClosingIterator as _ClosingIterator

__all__ = [
    "ClosingIterator",
    "FileWrapper",
    "LimitedStream",
    "get_content_length",
    "get_current_url",
    "get_host",
    "get_input_stream",
    "get_path_info",
    "host_is_trusted",
    "responder",
    "wrap_file",
    "sansio_get_content_length",
    "sansio_get_current_url",
    "sansio_get_host",
]

WSGIEnvironment = dict[str, t.Any]

_DEFAULT_PORTS = {"http": "80", "ws": "80", "https": "443", "wss": "443"}
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,/:;=@%")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")


def _quote(text: str, safe: frozenset[str]) -> str:
    # The URL is an IRI, as in Werkzeug: non-ASCII stays, ASCII that is not
    # allowed there is percent-encoded.
    return "".join(c if c in safe or ord(c) > 127 else f"%{ord(c):02X}" for c in text)


def sansio_get_host(
    scheme: str,
    host_header: str | None,
    server: tuple[str, int | None] | None = None,
    trusted_hosts: Iterable[str] | None = None,
) -> str:
    """The request's host (``name[:port]``, without the scheme's default port).

    From the ``Host`` header, else the server address.

    :raises SecurityError: ``trusted_hosts`` is given and the host is not in it.
    """
    host = ""
    if host_header is not None:
        host = host_header
    elif server is not None:
        address, port_number = server
        host = f"[{address}]" if ":" in address else address
        if port_number is not None:
            host = f"{host}:{port_number}"
    name, sep, port = host.rpartition(":")
    # (A bare IPv6 address such as "fe80::80" has no port to drop.)
    if sep and port == _DEFAULT_PORTS.get(scheme) and not name.endswith(":"):
        host = name
    if trusted_hosts is not None and not host_is_trusted(host, trusted_hosts):
        raise SecurityError(f"Host {host!r} is not trusted.")
    return host


def sansio_get_current_url(
    scheme: str,
    host: str,
    root_path: str | None = None,
    path: str | None = None,
    query_string: bytes | str | None = None,
) -> str:
    """The request's URL (an IRI) from its parts; stops at the host or root when those are ``None``."""
    url = f"{scheme}://{host}/"
    if root_path is None:
        return url
    url += _quote(root_path.strip("/"), _PATH_SAFE)
    if root_path.strip("/"):
        url += "/"
    if path is None:
        return url
    url += _quote(path.lstrip("/"), _PATH_SAFE)
    if query_string:
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        url += f"?{_quote(query_string, _QUERY_SAFE)}"
    return url


def sansio_get_content_length(
    http_content_length: str | None = None, http_transfer_encoding: str | None = None
) -> int | None:
    """The body length from ``Content-Length``; ``None`` when chunked or absent, ``0`` when invalid."""
    if http_transfer_encoding is not None and "chunked" in (
        coding.strip().lower() for coding in http_transfer_encoding.split(",")
    ):
        return None
    if http_content_length is None:
        return None
    value = http_content_length.strip()
    return int(value) if value.isascii() and value.isdigit() else 0


def get_host(environ: WSGIEnvironment, trusted_hosts: Iterable[str] | None = None) -> str:
    """The request's host from ``environ`` (see :func:`sansio_get_host`)."""
    server = environ.get("SERVER_NAME")
    port = environ.get("SERVER_PORT")
    return sansio_get_host(
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST"),
        None if server is None else (server, int(port) if port else None),
        trusted_hosts,
    )


def get_current_url(
    environ: WSGIEnvironment,
    root_only: bool = False,
    strip_querystring: bool = False,
    host_only: bool = False,
    trusted_hosts: Iterable[str] | None = None,
) -> str:
    """The request's full URL, or only up to its root or host."""
    parts: list[t.Any] = [environ["wsgi.url_scheme"], get_host(environ, trusted_hosts)]
    if not host_only:
        parts.append(_text(environ.get("SCRIPT_NAME", "")))
        if not root_only:
            parts.append(_text(environ.get("PATH_INFO", "")))
            if not strip_querystring:
                parts.append(environ.get("QUERY_STRING", "").encode("latin-1"))
    return sansio_get_current_url(*parts)


def _text(value: str) -> str:
    # WSGI strings are bytes as latin-1; the URL's text is their UTF-8.
    return value.encode("latin-1").decode("utf-8", "replace")


def get_path_info(environ: WSGIEnvironment) -> str:
    """``PATH_INFO`` as text (UTF-8, undecodable bytes replaced)."""
    return _text(environ.get("PATH_INFO", ""))


def get_content_length(environ: WSGIEnvironment) -> int | None:
    """The body length of the request in ``environ`` (see :func:`sansio_get_content_length`)."""
    return sansio_get_content_length(
        environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING")
    )


def get_input_stream(
    environ: WSGIEnvironment, safe_fallback: bool = True, max_content_length: int | None = None
) -> t.IO[bytes]:
    """``wsgi.input``, bounded so reading it never waits past the body.

    Bounded by ``Content-Length`` (then reading short raises
    ``ClientDisconnected``), else by ``max_content_length`` (more raises
    ``RequestEntityTooLarge``). A body of unknown length is empty when
    ``safe_fallback``, unless the server marks ``wsgi.input_terminated``.
    """
    stream = t.cast(t.IO[bytes], environ["wsgi.input"])
    length = get_content_length(environ)
    if length is not None and max_content_length is not None and length > max_content_length:
        raise RequestEntityTooLarge()
    if length is not None:
        return t.cast(t.IO[bytes], LimitedStream(stream, length))
    if environ.get("wsgi.input_terminated"):
        if max_content_length is not None:
            return t.cast(t.IO[bytes], LimitedStream(stream, max_content_length, is_max=True))
        return stream
    return io.BytesIO() if safe_fallback else stream


class LimitedStream(io.RawIOBase):
    """A read-only stream that gives at most ``limit`` bytes of ``stream``.

    :param is_max: ``limit`` is a maximum rather than the exact length: more
        data than that raises ``RequestEntityTooLarge``; otherwise the
        stream ending early raises ``ClientDisconnected``.
    """

    def __init__(self, stream: t.IO[bytes], limit: int, is_max: bool = False) -> None:
        self._stream = stream
        self._pos = 0
        self.limit = limit
        self._limit_is_max = is_max

    @property
    def is_exhausted(self) -> bool:
        """Whether the limit has been read."""
        return self._pos >= self.limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        view = memoryview(buffer)
        size = min(len(view), self.limit - self._pos)
        if size <= 0:
            if self._limit_is_max and len(view) and self._stream.read(1):
                raise RequestEntityTooLarge()
            return 0
        data = self._stream.read(size)
        if not data and size and not self._limit_is_max:
            raise ClientDisconnected()
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def exhaust(self) -> bytes:
        """Read and drop what is left up to the limit."""
        while self.read(64 * 1024):
            pass
        return b""

    def tell(self) -> int:
        return self._pos


class FileWrapper:
    """Iterate a file in blocks; the WSGI ``wsgi.file_wrapper`` fallback."""

    def __init__(self, file: t.IO[bytes], buffer_size: int = 8192) -> None:
        self.file = file
        self.buffer_size = buffer_size

    def close(self) -> None:
        """Close the file."""
        close = getattr(self.file, "close", None)
        if close is not None:
            close()

    def seekable(self) -> bool:
        """Whether the file can seek."""
        seekable = getattr(self.file, "seekable", None)
        return bool(seekable()) if seekable is not None else hasattr(self.file, "seek")

    def seek(self, *args: t.Any) -> None:
        """Seek the file."""
        self.file.seek(*args)

    def tell(self) -> int | None:
        """The file's position, or ``None`` if it has none."""
        tell = getattr(self.file, "tell", None)
        return tell() if tell is not None else None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        data = self.file.read(self.buffer_size)
        if data:
            return data
        raise StopIteration()


def wrap_file(environ: WSGIEnvironment, file: t.IO[bytes], buffer_size: int = 8192) -> t.Any:
    """The server's ``wsgi.file_wrapper`` over ``file``, else a :class:`FileWrapper`."""
    wrapper = environ.get("wsgi.file_wrapper", FileWrapper)
    return wrapper(file, buffer_size)


def responder(f: Callable[..., t.Any]) -> Callable[..., t.Any]:
    """Turn a function returning a WSGI app (a response) into a WSGI app."""

    def application(*args: t.Any) -> t.Any:
        return f(*args)(*args[-2:])

    application.__name__ = getattr(f, "__name__", "application")
    application.__doc__ = f.__doc__
    return application


class ClosingIterator(_ClosingIterator):
    """Erlen's :class:`~erlen.wsgi.ClosingIterator` with Werkzeug's signature.

    ``callbacks`` may be one callable, several, or none, and the object is
    its own iterator, as WSGI middleware written for Werkzeug expects.
    """

    __slots__ = ("_next",)

    def __init__(
        self,
        iterable: Iterable[bytes],
        callbacks: Callable[[], t.Any] | Iterable[Callable[[], t.Any]] | None = None,
    ) -> None:
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        super().__init__(iterable, list(callbacks))
        self._next = iter(iterable).__next__

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return self._next()
