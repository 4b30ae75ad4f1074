"""The WSGI adapter (PEP 3333): environ in, status, headers and body out.

This is the only module that knows the WSGI environ. :func:`make_request`
maps an environ onto the sans-I/O :class:`~erlen.wrappers.Request`;
:func:`send_response` turns a :class:`~erlen.wrappers.Response` into a
``start_response`` call and a body iterable. ``Erlen.wsgi_app`` runs the
app's dispatch between the two.
"""

from __future__ import annotations

import typing as t

from ._utils import cached_property
from .datastructures import EnvironHeaders
from .http import url_decode
from .wrappers import Request
from .wrappers.request import _EMPTY_MULTIDICT, _content_length

if t.TYPE_CHECKING:
    from .datastructures import MultiDict
    from .wrappers import Response

__all__ = ["make_request", "send_response", "ClosingIterator"]

#: Headers a response without content must not carry (see _bodiless_headers).
_CONTENT_HEADERS = frozenset(("content-type", "content-length"))


def _bodiless_headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The header pairs to send for a 1xx, 204 or 304 response.

    Without ``Content-Type`` and ``Content-Length``: such a response has no
    content (RFC 9110 8.6 and 15.4.5; a 304's length would have to be the
    full representation's, not the empty body's), and ``wsgiref.validate``
    rejects them. ``Response.headers`` keeps them; the ASGI adapter drops the same two.
    """
    return [(k, v) for k, v in pairs if k.lower() not in _CONTENT_HEADERS]


def _decode_wsgi_str(value: str) -> str | None:
    """Undo PEP 3333's latin-1 wrapping of a byte string; ``None`` if not UTF-8."""
    # PERF: ASCII paths (the usual case) need no round trip.
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


class _WSGIFields:
    """The request's raw values, read from the environ on first use.

    Mixed in front of the app's request class (see :func:`make_request`), so
    a request that never looks at its headers or query string never pays
    for them, while the request class itself stays free of WSGI knowledge.
    """

    environ: dict[str, t.Any]

    @cached_property
    def headers(self) -> EnvironHeaders:
        return EnvironHeaders(self.environ)

    @property
    def _cookie_header(self) -> str | None:
        value: str | None = self.environ.get("HTTP_COOKIE")
        return value

    @cached_property
    def query_string(self) -> bytes:
        value: str = self.environ.get("QUERY_STRING", "")
        return value.encode("latin-1", "replace")

    @cached_property
    def scheme(self) -> str:
        value: str = self.environ.get("wsgi.url_scheme", "http")
        return value

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        environ = self.environ
        if "SERVER_NAME" not in environ:
            return None
        port = environ.get("SERVER_PORT")
        return environ["SERVER_NAME"], int(port) if port and port.isdigit() else None

    @cached_property
    def root_path(self) -> str:
        root: str = self.environ.get("SCRIPT_NAME", "")
        if not root:
            return ""
        decoded = _decode_wsgi_str(root)
        if decoded is None:
            return root.encode("latin-1", "replace").decode("utf-8", "replace")
        return decoded

    @cached_property
    def remote_addr(self) -> str | None:
        return self.environ.get("REMOTE_ADDR")

    @cached_property
    def _input(self) -> t.Any:
        return self.environ.get("wsgi.input")

    @cached_property
    def input_terminated(self) -> bool:
        return bool(self.environ.get("wsgi.input_terminated"))


class _WSGIShortcuts:
    """The body's media type and declared length, read from the environ
    without building the ``headers`` view, and ``args`` parsed from the
    environ's text: what :class:`Request` computes, at less cost.

    Each is added to the combined class (see :func:`_wsgi_class`) only when
    the request class keeps :class:`Request`'s own property of that name,
    so an override is always honoured.
    """

    environ: dict[str, t.Any]
    parameter_storage_class: type[MultiDict[str, t.Any]]
    if t.TYPE_CHECKING:

        def _transfer_coded(self) -> bool: ...

    @cached_property
    def mimetype(self) -> str:
        # Content-Type is CONTENT_TYPE in the environ; empty means not sent.
        value: str = self.environ.get("CONTENT_TYPE") or ""
        return value.partition(";")[0].strip().lower()

    @cached_property
    def content_length(self) -> int | None:
        # Content-Length is CONTENT_LENGTH; empty means not sent.
        environ = self.environ
        value: str | None = environ.get("CONTENT_LENGTH")
        if not value:
            return None
        # PERF: without wsgi.input_terminated (nor a value set on the
        # request) the body is not transfer-coded: _transfer_coded's answer
        # without its call. And plain ASCII digits are what _content_length
        # accepts as they are.
        if (
            environ.get("wsgi.input_terminated") or "input_terminated" in self.__dict__
        ) and self._transfer_coded():
            return None
        if value.isdigit() and value.isascii():
            return int(value)
        return _content_length(value)

    @cached_property
    def args(self) -> MultiDict[str, str]:
        # PERF: QUERY_STRING is the query's bytes as latin-1 text (PEP 3333);
        # ASCII text (the usual case) is already the text to parse: no
        # query_string bytes made, no encode and decode round trip.
        value: str = self.environ.get("QUERY_STRING", "")
        if value.isascii() and "query_string" not in self.__dict__:
            if not value:
                return _EMPTY_MULTIDICT
            try:
                return url_decode(value, self.parameter_storage_class)
            except UnicodeDecodeError:
                pass  # Request.args answers with its 400
        return Request.args.func(self)


_SHORTCUTS = ("mimetype", "content_length", "args")

_wsgi_classes: dict[type[Request], type[Request]] = {}
# PERF: bound once: CPython 3.11 loads `.get` of a global dict unspecialized,
# building a bound method on every call.
_wsgi_classes_get = _wsgi_classes.get

#: Store each request in its environ as ``environ["werkzeug.request"]``, as
#: Werkzeug's request does; the compat layer turns it on for Flask code that
#: reads it. Off otherwise: the environ and the request would then hold each
#: other, so every request would wait for the garbage collector to be freed.
set_werkzeug_request = False


#: Request classes with a ``__new__`` of their own → their combined class
#: (see :func:`_new_wsgi_request`).
_wsgi_classes_with_new: dict[type[Request], type[Request]] = {}

_new_object = object.__new__


def _wsgi_class(cls: type[Request]) -> type[Request]:
    # PERF: one combined class per request class, made on first use.
    combined = _wsgi_classes.get(cls) or _wsgi_classes_with_new.get(cls)
    if combined is None:
        namespace: dict[str, t.Any] = {"__module__": cls.__module__}
        for name in _SHORTCUTS:
            if getattr(cls, name) is getattr(Request, name):
                namespace[name] = _WSGIShortcuts.__dict__[name]
        combined = t.cast("type[Request]", type(cls.__name__, (_WSGIFields, cls), namespace))
        if cls.__new__ is _new_object:
            _wsgi_classes[cls] = combined
        else:
            _wsgi_classes_with_new[cls] = combined
    return combined


def _new_wsgi_request(cls: type[Request]) -> Request:
    """A new, empty request of ``cls``'s combined class: the slow path of
    :func:`make_request`, for a class seen for the first time or one with
    its own ``__new__`` (which is called, as ``cls.__new__(cls)`` would)."""
    combined = _wsgi_class(cls)
    return combined.__new__(combined)


def make_request(cls: type[Request], environ: dict[str, t.Any]) -> Request:
    """Build a request of class ``cls`` (a subclass of it) from a WSGI environ.

    Only the method and path are read now; the other values are read from
    the environ when first used. A path that is not valid UTF-8 cannot be
    routed: the request's ``routing_exception`` is set to a 400, so the app
    answers with a clear error instead of a 404 or 500. (``SCRIPT_NAME``
    comes from the server's configuration; undecodable bytes there are
    replaced.)
    """
    # PERF: object.__new__ bound once, not combined.__new__ looked up on the
    # class (about 0.2 k instructions a request); the dict holds only the
    # classes that keep object's __new__, the others take the slow path.
    combined = _wsgi_classes_get(cls)
    req = _new_object(combined) if combined is not None else _new_wsgi_request(cls)
    req.environ = environ
    # PERF: subscripts in a try (free in CPython 3.11 until it catches), not
    # environ.get (a method call, about 0.1 k instructions more each).
    try:
        req.method = environ["REQUEST_METHOD"]
    except KeyError:
        req.method = "GET"
    # PERF: values every request reads before anything sets them; read from
    # the instance they are looked up faster than as the class's defaults.
    req.url_rule = req.routing_exception = req._files = None
    try:
        path = environ["PATH_INFO"]
    except KeyError:
        path = ""
    if not path:
        # The root of a mounted app without its slash: routed as the empty
        # path, which redirects to the slash (see _EmptyPath).
        from .exceptions import _EmptyPath

        req.routing_exception = _EmptyPath()
        path = "/"
    # PERF: ASCII paths (the usual case) need no latin-1/UTF-8 round trip.
    if not path.isascii():
        decoded = _decode_wsgi_str(path)
        if decoded is None:
            from .exceptions import BadRequest

            req.routing_exception = BadRequest("The request URL is not valid UTF-8.")
            decoded = path.encode("latin-1", "replace").decode("utf-8", "replace")
        path = decoded
    if path[0] != "/":
        path = "/" + path
    req.path = path
    if set_werkzeug_request:
        environ["werkzeug.request"] = req
    return req


class ClosingIterator:
    """Wrap a body iterable so ``close()`` also runs extra callbacks.

    PEP 3333 has the server call ``close()`` on the iterable when it is done;
    this forwards that to the original iterable and to the response's
    ``call_on_close`` functions, in that order.
    """

    __slots__ = ("_iterator", "_callbacks")

    def __init__(self, iterable: t.Iterable[bytes], callbacks: list[t.Callable[[], t.Any]]) -> None:
        self._iterator = iterable
        self._callbacks = callbacks

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self._iterator)

    def close(self) -> None:
        try:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()
        finally:
            for cb in self._callbacks:
                cb()


def join_body(body: list[t.Any], charset: str) -> bytes:
    """A list body as one ``bytes``: its ``str`` items encoded with ``charset``."""
    if len(body) == 1 and type(body[0]) is bytes:
        return body[0]
    return b"".join(x.encode(charset) if isinstance(x, str) else bytes(x) for x in body)


class _EncodedStream:
    """Iterate a streamed body as bytes, closing it even if never started.

    A generator wrapper would skip its ``finally`` when the server closes it
    before the first item, leaking the app's own iterable; a class does not.
    """

    __slots__ = ("_body", "_it", "_charset")

    def __init__(self, body: t.Iterable[t.Any], charset: str) -> None:
        self._body = body
        self._it = iter(body)
        self._charset = charset

    def __iter__(self) -> _EncodedStream:
        return self

    def __next__(self) -> bytes:
        while True:
            item = next(self._it)
            if isinstance(item, str):
                item = item.encode(self._charset)
            elif not isinstance(item, bytes):
                item = bytes(item)
            if item:
                return item

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


class _FileChunks:
    """Read a file-like body in blocks when the server has no ``wsgi.file_wrapper``."""

    __slots__ = ("_file", "_size")

    def __init__(self, f: t.Any, size: int = 8192) -> None:
        self._file = f
        self._size = size

    def __iter__(self) -> _FileChunks:
        return self

    def __next__(self) -> bytes:
        chunk = self._file.read(self._size)
        if not chunk:
            raise StopIteration
        return chunk  # type: ignore[no-any-return]

    def close(self) -> None:
        self._file.close()


def _without_body(response: Response, body: t.Any) -> list[bytes]:
    """The empty body sent instead of ``body``, which is closed (with the response's callbacks)."""
    if hasattr(body, "close") or response._on_close:
        response.close()
    return []


def send_response(
    response: Response, environ: dict[str, t.Any], start_response: t.Any
) -> t.Iterable[bytes]:
    """Start the WSGI response and return its body iterable.

    HEAD requests and 1xx/204/304 statuses get an empty body (the headers,
    ``Content-Length`` included, are kept as they are for HEAD). A file-like
    body uses the server's ``wsgi.file_wrapper`` when there is one.
    """
    code = response._status_code
    body = response.response
    # PERF: each condition tested once, with integer comparisons.
    if code < 200 or code == 204 or code == 304:  # never a body (RFC 9110 section 6.4.1)
        start_response(response._status, _bodiless_headers(response._hlist))
        return _without_body(response, body)
    start_response(response._status, response._hlist)
    # PERF: a subscript in a try, not environ.get (as in make_request).
    try:
        head = environ["REQUEST_METHOD"] == "HEAD"
    except KeyError:
        head = False
    if head:
        return _without_body(response, body)
    on_close = response._on_close
    # PERF: a list of bytes (the common case) is returned as is.
    if type(body) is list:
        if len(body) != 1 or type(body[0]) is not bytes:
            # A list given to Response may hold str (Werkzeug encodes them
            # too); WSGI servers take bytes only.
            body = [join_body(body, response.charset)]
        if on_close:
            return ClosingIterator(body, on_close)
        return body
    if hasattr(body, "read") and not isinstance(body, (bytes, str)):
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            body = wrapper(body, 8192)
        else:
            body = _FileChunks(body)
    else:
        body = _EncodedStream(body, response.charset)
    if on_close:
        return ClosingIterator(body, on_close)
    return body  # type: ignore[no-any-return]
