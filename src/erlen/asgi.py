"""The ASGI adapter (ASGI 3.0): scope in, messages out.

This is the only module that knows the ASGI ``http`` and ``lifespan``
scopes (:mod:`erlen.websockets` handles ``websocket``). :func:`make_request`
maps a scope onto the sans-I/O :class:`~erlen.wrappers.Request`, with a body
stream fed by ``receive``; :func:`send_response` turns a
:class:`~erlen.wrappers.Response` into ``http.response.*`` messages. Between
the two, :func:`handle_http` runs the one dispatch path of
:mod:`erlen.dispatch`, choosing its driver per request:

- A request whose view is a plain ``def`` is served by the sync driver on
  one worker thread of the app's pool (``ASGI_MAX_THREADS``, 40 by
  default): URL value preprocessors, ``before_request``, the view,
  ``after_request``, error handlers, templates, the session, teardown
  functions, the steps of a streamed body and its ``close`` all run on that
  thread, as under a threaded WSGI server. ``async def`` hooks it meets run
  on the server's loop while the thread waits.
- A request whose view is an ``async def`` is served by the async driver on
  the event loop: async hooks are awaited and plain ``def`` hooks are called
  there too (keep them short, or make them ``async``). Its body is read into
  memory first, with ``MAX_CONTENT_LENGTH`` checked as it arrives (413 as
  soon as it is passed, with or without Content-Length); a sync view streams
  it from its thread instead.
- A request no view answers (404, 405, redirects, automatic OPTIONS) runs
  on the loop when the app has no request hooks, else on a thread.
- An app whose class overrides a dispatch method (``full_dispatch_request``,
  ``handle_exception``, ...) has every request served by the sync driver,
  so the override runs under ASGI exactly as under WSGI.
- An app whose ``wsgi_app`` was replaced on the app object (WSGI middleware
  such as ``ProxyFix``) has each ``http`` request served through that
  callable by :func:`serve_wsgi`, on one worker thread, so the middleware
  applies under ASGI too; WebSockets and ``lifespan`` stay native.

``asyncio`` is imported only when the first ASGI call arrives.
"""

from __future__ import annotations

import threading
import typing as t
import weakref
from contextvars import copy_context

from . import background as _background
from . import dispatch as _dispatch
from . import signals as _signals
from . import wsgi as _wsgi
from ._utils import cached_property
from .concurrency import (
    RequestThread,
    acall,
    run_beside_loop,
    run_sync,
    server_loop,
    shutdown_pool,
    wait_on_loop,
)
from .ctx import _request_context
from .datastructures import Headers
from .exceptions import ClientDisconnected, RequestEntityTooLarge
from .globals import _cv
from .wrappers.request import Request as _Request
from .wrappers.response import _LENGTH_PAIRS

# PERF: bound once; CPython 3.11 builds a bound method for `_cv.get` (a
# module global's attribute) on every call.
_cv_get = _cv.get
_cv_set = _cv.set
_cv_reset = _cv.reset
_new_object = object.__new__
# Request's own max_content_length (read from the config unless set).
_LIMIT = _Request.__dict__["max_content_length"]

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response

__all__ = [
    "make_request",
    "send_response",
    "handle_http",
    "asgi_app",
    "serve_wsgi",
    "run_sync",
    "run_beside_loop",
    "server_loop",
]

Scope = dict[str, t.Any]
Message = dict[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]

# Status codes whose responses never have a body (RFC 9110 section 6.4.1).
_NO_BODY = frozenset((204, 304))
_CHUNK = 65536

# -- the request ---------------------------------------------------------------


class _ASGIInput:
    """The request body: ``http.request`` messages, read as a blocking stream.

    :meth:`preload`, :meth:`received` and :meth:`fill` read the whole body
    on the loop (before async code runs, which cannot block); :meth:`read`
    serves a buffered body, or, in a worker thread, pulls the next message
    from the server's loop, so a plain view can stream a large upload
    without holding it in memory.
    """

    __slots__ = ("_receive", "_buffer", "more", "disconnected", "_limit")

    def __init__(self, receive: Receive) -> None:
        # NOTE: make_request sets these same fields itself (PERF).
        self._receive = receive
        self._buffer = b""
        #: Whether more ``http.request`` messages are to come.
        self.more = True
        #: Whether the client went away (``http.disconnect`` arrived).
        self.disconnected = False

    async def next_chunk(self) -> bytes:
        """Receive the next body chunk; raise :class:`ClientDisconnected` on disconnect."""
        if not self.more:
            return b""
        message = await self._receive()
        if message["type"] == "http.request":
            self.more = bool(message.get("more_body", False))
            body: bytes = message.get("body", b"")
            return body
        self.more = False
        self.disconnected = True
        raise ClientDisconnected("The client closed the connection before sending the whole body.")

    async def fill(self, request: Request) -> None:
        """Read the rest of the body into memory, for ``request.get_data()``.

        :raises RequestEntityTooLarge: More bytes than the limit arrived
            (stops reading at once, whatever the declared length).
        """
        limit = self._limit
        parts = [self._buffer]
        size = len(self._buffer)
        while self.more:
            chunk = await self.next_chunk()
            size += len(chunk)
            if limit is not None and size > limit:
                raise RequestEntityTooLarge(
                    f"The request body is larger than the limit of {limit} bytes."
                )
            parts.append(chunk)
        request._cached_data = self._buffer = b"".join(parts)

    def preload(self, request: Request) -> t.Awaitable[Message | None] | None:
        """Start reading the body into memory, with the size limit, before code on the loop runs.

        Code on the event loop must not block on the body, so the async
        driver calls this before any hook or view, and gives what its
        awaitable returns to :meth:`received`. Nothing is read for a
        request that declares no body, or whose body is in memory already.

        :return: ``None`` when there is nothing to read, else the awaitable
            that reads the first part: the server's ``receive()`` itself
            (PERF: no coroutine of Erlen's own for a body that comes in one
            message, none at all for a request without a body).
        :raises RequestEntityTooLarge: Early, from the declared length.
        """
        if not self.more:
            return None
        # Whether a body may come, from one scan of the raw headers. When it
        # may, the two values a JSON or form body needs are put in the
        # request's cache from the same scan (what ``content_length`` and
        # ``mimetype`` would compute), so reading the body may never build
        # the Headers object. PERF: one scan for both, in this method (a
        # call fewer).
        scope: Scope = request.scope  # type: ignore[attr-defined]
        length = False  # a Content-Length header seen
        body = chunked = False
        declared: int | None = None
        mimetype: bytes | None = None
        for name, value in scope["headers"]:
            if name not in _BODY_HEADERS:
                # PERF: one set lookup for the other headers, not three comparisons.
                continue
            if name == b"content-length":
                length = True
                if declared is None and value.isdigit():
                    declared = int(value)
                    if declared:
                        body = True
                elif value.strip() != b"0":
                    body = True  # a bad value: reading the length answers 400
            elif name == b"content-type":
                if mimetype is None:
                    mimetype = value
            else:  # transfer-encoding, the last of _BODY_HEADERS
                # The server de-chunked the body: the transfer coding wins over
                # a Content-Length, before or after it (RFC 9112 section 6.3).
                body = chunked = True
                break
        else:
            if not body and (
                # NOTE: HTTP/2 and HTTP/3 may send a body without either header.
                length or scope.get("http_version", "1.1") in ("1.0", "1.1")
            ):
                self.more = False
                return None
        if request._plain_preload:  # type: ignore[attr-defined]
            # PERF: what Request's mimetype and content_length compute (from
            # the headers, the same values), set from this scan so reading
            # the body never builds the Headers object; set as attributes,
            # not through the instance __dict__, which reading would
            # materialize: CPython 3.11 then specializes no attribute access
            # on the request (about 3 k instructions on a JSON POST). And
            # what the max_content_length descriptor returns, without calling it.
            if mimetype is not None:
                found = _MIMETYPES.get(mimetype)
                if found is None:
                    found = mimetype.partition(b";")[0].strip().lower().decode("latin-1")
                    if len(_MIMETYPES) < 64:
                        _MIMETYPES[mimetype] = found
                request.mimetype = found
            if chunked:
                request.content_length = None
            elif declared is not None:
                request.content_length = declared
            limit = request._max_content_length
            if limit is None:
                ctx = _cv_get(None)
                limit = _LIMIT.default if ctx is None else ctx.app.config.get("MAX_CONTENT_LENGTH")
        else:
            limit = request.max_content_length
        if limit is not None:
            size = request.content_length  # a bad Content-Length raises 400 here
            if size is not None and size > limit:
                raise RequestEntityTooLarge(
                    f"The request body ({size} bytes) is larger than the limit of {limit} bytes."
                )
        self._limit = limit
        if self._buffer:
            # Part of the body was read already (through ``stream``, in a
            # hook on a thread): the rest in a coroutine; received() takes None.
            return self.fill(request)
        # PERF: read, then called: a call through a slot's value is not
        # specialized by CPython 3.11 (the read alone is).
        receive = self._receive
        return receive()

    def received(self, request: Request, message: Message | None) -> t.Awaitable[None] | None:
        """Take the first body message (what :meth:`preload`'s awaitable returned).

        :return: ``None`` once the whole body is in memory (then
            ``request.get_data()`` returns it), else the awaitable that
            reads the rest.
        :raises RequestEntityTooLarge: The message passes the limit.
        :raises ClientDisconnected: The client went away instead.
        """
        if message is None:
            return None  # fill() read it all
        if message["type"] != "http.request":
            self.more = False
            self.disconnected = True
            raise ClientDisconnected(
                "The client closed the connection before sending the whole body."
            )
        chunk: bytes = message.get("body", b"")
        limit = self._limit
        if limit is not None and len(chunk) > limit:
            self.more = bool(message.get("more_body", False))
            raise RequestEntityTooLarge(
                f"The request body is larger than the limit of {limit} bytes."
            )
        self._buffer = chunk
        if message.get("more_body", False):
            return self.fill(request)
        self.more = False
        # PERF: the whole body is in memory: get_data() returns it as is,
        # while `stream` still reads it from the start.
        request._cached_data = chunk
        return None

    def _pull(self) -> bytes:
        loop = server_loop()
        if loop is None:
            # NOTE: only a worker thread may wait for the loop; the loop's
            # own thread would deadlock.
            raise RuntimeError(
                "The request body was not read before code on the event loop asked for it."
                " Erlen reads it before async views and hooks run; a plain 'def' view"
                " may stream it."
            )
        return t.cast(bytes, wait_on_loop(loop, self.next_chunk()))

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative); ``b""`` at the end."""
        if size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while self.more:
                parts.append(self._pull())
            return b"".join(parts)
        while not self._buffer and self.more:
            self._buffer = self._pull()
        data = self._buffer
        if len(data) <= size:
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]


_TITLES: dict[bytes, str] = {}


class _ASGIFields:
    """The request's raw values, read from the ASGI scope on first use.

    Mixed in front of the app's request class, like ``wsgi._WSGIFields``.
    """

    scope: Scope

    @cached_property
    def headers(self) -> Headers:
        h = Headers()
        # NOTE: ASGI gives lower-case names; title case matches what the
        # WSGI side shows (``Content-Type``). Lookups ignore case anyway.
        titles = _TITLES
        items = []
        for k, v in self.scope["headers"]:
            name = titles.get(k)
            if name is None:
                name = k.decode("latin-1").title()
                if len(titles) < 512:  # PERF: bounded, as clients choose names
                    titles[k] = name
            items.append((name, v.decode("latin-1")))
        h._list = items
        return h

    @cached_property
    def query_string(self) -> bytes:
        rv: bytes = self.scope.get("query_string", b"")
        return rv

    @cached_property
    def scheme(self) -> str:
        rv: str = self.scope.get("scheme") or (
            "ws" if self.scope["type"] == "websocket" else "http"
        )
        return rv

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        server = self.scope.get("server")
        if not server:
            return None
        return server[0], server[1]

    @cached_property
    def remote_addr(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    @cached_property
    def input_terminated(self) -> bool:
        # The server marks the end of the body (``more_body``), so a body
        # without Content-Length can be read safely.
        return True

    def _transfer_coded(self) -> bool:
        # PERF: the raw header names, without building Headers (the input is
        # always terminated under ASGI).
        for name, _ in self.scope["headers"]:
            if name == b"transfer-encoding":
                return True
        return False

    @cached_property
    def environ(self) -> dict[str, t.Any]:
        # A WSGI-like view for extensions that read ``request.environ``;
        # ``asgi.scope`` is the real source.
        scope = self.scope
        req = t.cast("Request", self)
        server = self.server or ("", None)
        environ: dict[str, t.Any] = {
            "REQUEST_METHOD": req.method,
            "SCRIPT_NAME": req.root_path,
            "PATH_INFO": req.path,
            "QUERY_STRING": self.query_string.decode("latin-1"),
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1] or ""),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": self.remote_addr,
            "wsgi.url_scheme": "https" if self.scheme in ("https", "wss") else "http",
            "asgi.scope": scope,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        if _wsgi.set_werkzeug_request:
            environ["werkzeug.request"] = req
        return environ


_asgi_classes: dict[type, type] = {}


def make_request(cls: type[Request], scope: Scope, receive: Receive | None = None) -> Request:
    """Build a request of class ``cls`` (a subclass of it) from an ASGI scope.

    The path is the scope's ``path`` with ``root_path`` taken off the front
    (servers include it, as the ASGI spec now says); the other values are
    read from the scope when first used.

    :param cls: The app's request class.
    :param scope: An ``http`` or ``websocket`` scope.
    :param receive: The ASGI ``receive`` callable, for the body.

    .. versionadded:: 0.1
    """
    combined = _asgi_classes.get(cls)
    if combined is None:
        combined = _asgi_classes[cls] = type(
            cls.__name__,
            (_ASGIFields, cls),
            {"__module__": cls.__module__, "_plain_preload": _plain_preload(cls)},
        )
    # PERF: annotations instead of t.cast (a call) on the request path.
    req: Request = _new_object(combined)
    req.scope = scope  # type: ignore[attr-defined]
    req.method = scope.get("method", "GET")
    # PERF: values every request reads before anything sets them; read from
    # the instance they are looked up faster than as the class's defaults.
    req.url_rule = req.routing_exception = req._files = None
    path: str = scope.get("path") or ""
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        path = path[len(root) :]
    if not path:
        # The app's root without its slash (``/app`` for an app at
        # ``/app``): routed as the empty path, as over WSGI (see _EmptyPath).
        from .exceptions import _EmptyPath

        req.routing_exception = _EmptyPath()
        path = "/"
    elif path[0] != "/":
        path = "/" + path
    req.path = path
    req.root_path = root.rstrip("/") if root else root
    if receive is not None:
        # PERF: _ASGIInput(receive) without calling the class (type.__call__
        # and an __init__ frame: about 1.5 k instructions); the same fields.
        body = req._input = _new_object(_ASGIInput)
        body._receive = receive
        body._buffer = b""
        body.more = True
        body.disconnected = False
    else:
        req._input = None
    return req


#: The headers preload looks at.
_BODY_HEADERS = frozenset((b"content-length", b"content-type", b"transfer-encoding"))
#: Content-Type header values → their mimetype (bounded: clients choose them).
_MIMETYPES: dict[bytes, str] = {}


def _plain_preload(cls: type[Request]) -> bool:
    """Whether ``cls`` keeps Request's own ``max_content_length`` (the
    config's, unless set), ``mimetype`` and ``content_length``: then
    :meth:`_ASGIInput.preload` sets and reads them itself."""
    return (
        cls.max_content_length is _LIMIT
        and cls.mimetype is _Request.mimetype
        and cls.content_length is _Request.content_length
    )


# -- the response ----------------------------------------------------------------


_NAMES: dict[str, bytes] = {}

#: Header pairs → their ASGI form: every small ``Content-Length`` (the
#: response's own table of them), and ``Content-Type`` pairs as responses
#: use them (bounded: a view may echo a client's value).
_PAIRS: dict[tuple[str, str], tuple[bytes, bytes]] = {
    pair: (b"content-length", pair[1].encode()) for pair in _LENGTH_PAIRS
}
_MAX_PAIRS = len(_PAIRS) + 256
# PERF: bound once (CPython 3.11 builds a bound method for `.get` of a
# global dict on every call).
_pairs_get = _PAIRS.get


def _encode_headers(response: Response) -> list[tuple[bytes, bytes]]:
    # PERF: a JSON or text response's two headers are two lookups, without
    # lower-casing and encoding their names and values per response.
    out = []
    for pair in response._hlist:
        encoded = _pairs_get(pair)
        out.append(_encode_pair(pair) if encoded is None else encoded)
    return out


def _encode_pair(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    # ASGI wants lower-case names (HTTP/2 requires them).
    k, v = pair
    name = _NAMES.get(k)
    if name is None:
        name = k.lower().encode("latin-1")
        if len(_NAMES) < 512:  # PERF: names repeat; bounded, as clients never choose them
            _NAMES[k] = name
    encoded = (name, v.encode("latin-1"))
    if name == b"content-type" and len(_PAIRS) < _MAX_PAIRS:
        _PAIRS[pair] = encoded
    return encoded


_join = _wsgi.join_body


def _pathsend_path(body: t.Any, response: Response) -> str | None:
    """The file's path when ``http.response.pathsend`` can send the whole body."""
    import io
    import os

    if type(body) is not io.BufferedReader or not isinstance(body.name, str):
        return None
    try:
        if body.tell() != 0 or response.content_length != os.fstat(body.fileno()).st_size:
            return None
    except (OSError, ValueError):
        return None
    return os.path.abspath(body.name)


async def send_response(
    response: Response,
    scope: Scope,
    send: Send,
    app: Erlen,
    body_input: _ASGIInput | None = None,
    thread: RequestThread | None = None,
) -> None:
    """Send a response as ``http.response.start`` and ``http.response.body`` messages.

    A list body goes in one message. A file goes with
    ``http.response.pathsend`` when the server offers it, else in blocks
    read on a worker thread; a sync iterator is advanced on a worker thread,
    an async iterator on the loop. While a streamed body is sent, a
    disconnect from the client stops it (and closes it). HEAD requests and
    1xx/204/304 statuses get no body.

    :param response: The response to send.
    :param scope: The ``http`` scope.
    :param send: The ASGI ``send`` callable.
    :param app: The app (its thread pool reads files and sync iterators).
    :param body_input: The request body, watched for a disconnect while streaming.
    :param thread: The request's worker thread, which then runs the body's
        blocking steps (one is taken from the pool when needed otherwise).

    .. versionadded:: 0.1
    """
    code = response._status_code
    body = response.response
    headers = _encode_headers(response)
    if code in _NO_BODY or code < 200:
        # No content, so no Content-Type or Length (as wsgi._bodiless_headers).
        headers = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
    start = {"type": "http.response.start", "status": code, "headers": headers}
    own_thread = thread is None
    worker = RequestThread(app) if thread is None else thread
    try:
        if scope.get("method") == "HEAD" or code in _NO_BODY or code < 200:
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        # PERF: a list of bytes (the common case) is one message.
        if type(body) is list:
            data = _join(body, response.charset)
            await send(start)
            await send({"type": "http.response.body", "body": data})
            return
        if hasattr(body, "read") and not isinstance(body, (bytes, str)):
            path = (
                _pathsend_path(body, response)
                if "http.response.pathsend" in scope.get("extensions", ())
                else None
            )
            if path is not None:
                await send(start)
                await send({"type": "http.response.pathsend", "path": path})
                return
        await _send_streamed(response, body, start, send, worker, body_input)
    finally:
        try:
            if (type(body) is not list and hasattr(body, "close")) or response._on_close:
                # NOTE: closing runs user callbacks and may close a generator
                # that pushed a context: on the request's thread, after any
                # step still running there.
                await worker.call(response.close)
        finally:
            if own_thread:
                worker.release()


async def _send_streamed(
    response: Response,
    body: t.Any,
    start: Message,
    send: Send,
    worker: RequestThread,
    body_input: _ASGIInput | None,
) -> None:
    import asyncio

    charset = response.charset

    async def stream() -> None:
        await send(start)
        if hasattr(body, "__aiter__"):
            try:
                async for item in body:
                    if isinstance(item, str):
                        item = item.encode(charset)
                    if item:
                        await send(
                            {"type": "http.response.body", "body": bytes(item), "more_body": True}
                        )
            finally:
                # NOTE: a disconnect cancels this task while the body waits at
                # a yield; without aclose() an async generator's finally (a
                # subscription's exit) would wait for the garbage collector.
                aclose = getattr(body, "aclose", None)
                if aclose is not None:
                    await aclose()
        else:
            if hasattr(body, "read") and not isinstance(body, (bytes, str)):
                next_chunk: t.Callable[[], t.Any] = lambda: body.read(_CHUNK)  # noqa: E731
            else:
                it = iter(body)
                next_chunk = lambda: next(it, None)  # noqa: E731
            while True:
                item = await worker.call(next_chunk)
                if item is None or (isinstance(item, bytes) and not item and hasattr(body, "read")):
                    break
                if isinstance(item, str):
                    item = item.encode(charset)
                if item:
                    await send(
                        {"type": "http.response.body", "body": bytes(item), "more_body": True}
                    )
        await send({"type": "http.response.body", "body": b""})

    if body_input is None:
        await stream()
        return
    streamer = asyncio.ensure_future(stream())
    watcher = asyncio.ensure_future(_wait_disconnect(body_input))
    try:
        done, _ = await asyncio.wait((streamer, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (streamer, watcher):
            if not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: S110
                    pass
    if streamer in done:
        streamer.result()


async def _wait_disconnect(body_input: _ASGIInput) -> None:
    """Return once the client has gone away; request body left unread is dropped."""
    if body_input.disconnected:
        return
    while True:
        try:
            while body_input.more:
                await body_input.next_chunk()
            message = await body_input._receive()
        except ClientDisconnected:
            return
        if message["type"] == "http.disconnect":
            body_input.disconnected = True
            return


# -- dispatch ----------------------------------------------------------------------


def _has_more_steps(response: Response) -> bool:
    """Whether sending ``response`` runs blocking code (a streamed body, ``close`` callbacks)."""
    return type(response.response) is not list or bool(response._on_close)


async def handle_http(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``http`` request with ``app``.

    The request is matched on the loop, then served by the async driver
    there or by the sync driver on a worker thread kept for the request
    (see :func:`erlen.dispatch.choose_driver`); the response is sent from
    the loop.

    .. versionadded:: 0.1
    """
    request = make_request(app.request_class, scope, receive)
    ctx = _request_context(app, request)
    # Match first, to choose the driver, with the context set so converters
    # see the app as usual.
    outer = _cv_get(None)
    token = _cv_set(ctx)
    try:
        _dispatch.match(app, request)
        view, on_loop = _dispatch.choose_driver(app, request)
    except BaseException:
        _cv_reset(token)
        raise
    if on_loop and outer is None and not _signals.appcontext_pushed.receivers:
        # PERF: what push() would do here; the context stays set for arun.
        ctx._tokens.append(token)
    else:
        _cv_reset(token)
    extensions = scope.get("extensions")
    # The test client's hook that keeps the context (``with client:``).
    preserve = extensions.get("erlen.preserve_context") if extensions else None
    thread: RequestThread | None = None
    try:
        if on_loop:
            response = await _dispatch.arun(app, ctx, view, preserve)
        else:
            thread = RequestThread(app)
            response = await thread.start(_dispatch.run, app, ctx, preserve, stay=_has_more_steps)
        try:
            body = response.response
            code = response._status_code
            # PERF: send_response's common case, inlined.
            if (
                type(body) is list
                and not response._on_close
                and code >= 200
                and code not in _NO_BODY
                and scope["method"] != "HEAD"
            ):
                # PERF: _encode_headers inlined (a call fewer).
                headers = []
                for pair in response._hlist:
                    encoded = _pairs_get(pair)
                    headers.append(_encode_pair(pair) if encoded is None else encoded)
                await send({"type": "http.response.start", "status": code, "headers": headers})
                # PERF: join_body's common case (one bytes item) without a call.
                if len(body) != 1 or (data := body[0]).__class__ is not bytes:
                    data = _join(body, response.charset)
                await send({"type": "http.response.body", "body": data})
            else:
                await send_response(response, scope, send, app, request._input, thread)
        except OSError:
            # NOTE: the client went away while we answered; nothing to tell it.
            pass
        if ctx._after_response is not None:
            await _background.arun_after_response(app, ctx, thread)
    finally:
        if thread is not None:
            thread.release()


async def _lifespan(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    from .ctx import AppContext

    while True:
        message = await receive()
        kind = message["type"]
        if kind == "lifespan.startup":
            funcs, done = app.before_serving_funcs, "lifespan.startup"
        elif kind == "lifespan.shutdown":
            funcs, done = app.after_serving_funcs, "lifespan.shutdown"
        else:  # pragma: no cover - the spec has no other lifespan message
            continue
        try:
            for func in funcs:
                with AppContext(app):
                    await acall(func)
        except Exception as e:
            app.logger.exception(f"An error stopped the {done[9:]} of the app")
            await send({"type": f"{done}.failed", "message": f"{type(e).__name__}: {e}"})
            return
        await send({"type": f"{done}.complete"})
        if kind == "lifespan.shutdown":
            shutdown_pool(app)
            return


async def asgi_app(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI connection (``http``, ``websocket`` or ``lifespan``) with ``app``.

    ``Erlen.asgi_app`` calls this; ``Erlen.__call__`` forwards ASGI calls
    to ``Erlen.asgi_app``, so middleware can wrap that method.

    :raises ValueError: The scope type is unknown.

    .. versionadded:: 0.1
    """
    kind = scope["type"]
    if kind == "http":
        await handle_http(app, scope, receive, send)
    elif kind == "websocket":
        from .websockets import handle_websocket

        await handle_websocket(app, scope, receive, send)
    elif kind == "lifespan":
        await _lifespan(app, scope, receive, send)
    else:
        raise ValueError(f"Erlen cannot serve the ASGI scope type {kind!r}.")


# -- a wrapped wsgi_app ----------------------------------------------------------


def _wsgi_environ(app: Erlen, scope: Scope, body: bytes) -> dict[str, t.Any]:
    """A PEP 3333 environ for an ``http`` scope, with ``body`` as ``wsgi.input``."""
    import io
    import sys

    # The same mapping as ``request.environ`` under ASGI, made a real WSGI
    # environ: paths as latin-1 code points of their UTF-8 bytes, a body.
    environ = dict(make_request(app.request_class, scope).environ)
    environ.pop("werkzeug.request", None)
    if environ["REMOTE_ADDR"] is None:
        del environ["REMOTE_ADDR"]
    root = scope.get("root_path", "")
    path: str = scope.get("path") or ""
    if root and path.startswith(root):
        path = path[len(root) :]
    environ["SCRIPT_NAME"] = root.rstrip("/").encode("utf-8").decode("latin-1")
    environ["PATH_INFO"] = path.encode("utf-8").decode("latin-1")
    environ["wsgi.version"] = (1, 0)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    environ["wsgi.multithread"] = True
    environ["wsgi.multiprocess"] = False
    environ["wsgi.run_once"] = False
    environ["wsgi.input_terminated"] = True
    extensions = scope.get("extensions")
    if extensions and "erlen.preserve_context" in extensions:
        # The test client's ``with client:``, in its WSGI spelling.
        environ["erlen._preserve_context"] = extensions["erlen.preserve_context"]
    return environ


async def serve_wsgi(
    app: Erlen, wsgi_app: t.Callable[..., t.Any], scope: Scope, receive: Receive, send: Send
) -> None:
    """Serve one ASGI ``http`` request through a WSGI callable, on a worker thread.

    ``Erlen.asgi_app`` uses this when ``app.wsgi_app`` was replaced on the
    app (``app.wsgi_app = ProxyFix(app.wsgi_app)``), so WSGI middleware
    applies under an ASGI server too; the dev server's debugger uses it
    as well. The body is read first, up to ``MAX_CONTENT_LENGTH`` (past it
    reading stops and the app answers 413 as under WSGI, when the body is
    used); then ``wsgi_app`` runs on one thread of the app's pool and its
    body streams chunk by chunk as it yields it.

    .. versionadded:: 0.1
    """
    import asyncio

    from .concurrency import pool

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
    environ = _wsgi_environ(app, scope, b"".join(parts))
    loop = asyncio.get_running_loop()
    gone = threading.Event()

    def emit(message: Message) -> None:
        # Backpressure: the worker thread waits until the loop has sent the
        # message, so at most one chunk is ever held.
        if gone.is_set():
            raise _ClientGone
        try:
            # ASGI servers' send is a coroutine function.
            sent = t.cast("t.Coroutine[t.Any, t.Any, None]", send(message))
            asyncio.run_coroutine_threadsafe(sent, loop).result()
        except Exception:
            gone.set()
            raise _ClientGone from None

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch_disconnect())
    # The worker runs in a copy of this context, as run_sync's do: a request
    # made inside an outer request context (a test's, as pytest-flask keeps
    # one) then shares its app context and g, as it does natively.
    context = copy_context()
    try:
        await pool(app).call(
            context.run, _stream_wsgi, wsgi_app, environ, emit, gone, scope["method"] == "HEAD"
        )
    finally:
        # A cancelled request (the server stopping) stops the stream too.
        gone.set()
        watcher.cancel()


class _ClientGone(Exception):
    """The client left while a WSGI response streamed to it (see :func:`_stream_wsgi`)."""


def _stream_wsgi(
    wsgi_app: t.Callable[..., t.Any],
    environ: dict[str, t.Any],
    emit: t.Callable[[Message], None],
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

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Callable[[bytes], None]:
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


class _AsyncEntry:
    """What ``app.__call__`` looks like to servers that inspect it.

    uvicorn (``interface="auto"``) and hypercorn check whether
    ``app.__call__`` is a coroutine function to pick ASGI 3 over ASGI 2 or
    WSGI. ``Erlen.__call__`` must stay a plain function so WSGI calls cost
    nothing extra, so each app gets this instance attribute: it carries an
    ``async def``'s code object (what ``inspect`` reads) and forwards calls
    to the real ``__call__``, which serves WSGI with two arguments and
    returns a coroutine with three.

    It holds the app weakly: the app holds it, and a cycle would leave an
    app its last user drops to the garbage collector. Calling ``app(...)``
    never comes here (Python looks ``__call__`` up on the class), only an
    explicit ``app.__call__(...)``.
    """

    def __init__(self, app: Erlen) -> None:
        self._app = weakref.ref(app)
        self.__name__ = "__call__"
        self.__qualname__ = f"{type(app).__name__}.__call__"
        self.__code__ = _async_signature.__code__
        self.__defaults__ = None
        self.__kwdefaults__ = None
        self.__annotations__: dict[str, t.Any] = {}
        self.__doc__ = type(app).__call__.__doc__

    def __call__(self, *args: t.Any) -> t.Any:
        app = self._app()
        if app is None:
            raise ReferenceError("this app.__call__ belongs to an app that no longer exists")
        return type(app).__call__(app, *args)


async def _async_signature(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    """Only its code object is used (see :class:`_AsyncEntry`)."""
