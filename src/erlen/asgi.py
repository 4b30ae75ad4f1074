"""The ASGI adapter (ASGI 3.0): scope in, messages out.

This is the only module that knows the ASGI ``http`` and ``lifespan``
scopes (:mod:`erlen.websockets` handles ``websocket``). :func:`make_request`
maps a scope onto the sans-I/O :class:`~erlen.wrappers.Request`, with a body
stream fed by ``receive``; :func:`send_response` turns a
:class:`~erlen.wrappers.Response` into ``http.response.*`` messages. Between
the two run the app's own dispatch steps: routing, the view's return value
and error-handler lookup are the same functions the WSGI path uses.

Where code runs:

- ``async def`` views, hooks and error handlers are awaited on the server's
  event loop.
- A plain ``def`` view runs in a bounded thread pool (``ASGI_MAX_THREADS``,
  40 by default), in a copy of the request's context, so ``request``, ``g``
  and ``session`` work inside it. A coroutine it calls through
  ``ensure_sync`` runs on the server's loop, not a loop of its own.
- Plain ``def`` hooks and error handlers are called on the loop: keep them
  short, or make them ``async``.

The body: before async code that may read it runs, a body the request
declares is read into memory, with ``MAX_CONTENT_LENGTH`` checked as it
arrives (413 as soon as it is passed, with or without Content-Length); a
plain view that runs alone streams it from its thread instead.

One exception: sync code on the loop that calls a coroutine function
through ``ensure_sync`` (an ``async def`` view rendering a template with an
async context processor) cannot wait on the loop it blocks; the coroutine
runs on a helper thread's loop (:func:`run_beside_loop`) and the server's
loop waits for it.

``asyncio`` is imported only when the first ASGI call arrives.
"""

from __future__ import annotations

import sys
import threading
import typing as t
from types import CoroutineType, FunctionType

from . import signals as _signals
from ._utils import cached_property
from .ctx import RequestContext as _RequestContext
from .datastructures import Headers
from .exceptions import (
    BadRequestKeyError,
    ClientDisconnected,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    RoutingException,
)
from .globals import _cv
from .wrappers import Response as _Response

_RESPONSE_INIT = _Response.__init__

if t.TYPE_CHECKING:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from .app import Erlen
    from .ctx import RequestContext
    from .routing import Rule
    from .wrappers import Request, Response

__all__ = ["make_request", "send_response", "asgi_app", "run_sync"]

Scope = dict[str, t.Any]
Message = dict[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]

# Status codes whose responses never have a body (RFC 9110 section 6.4.1).
_NO_BODY = frozenset((204, 304))
# inspect.CO_COROUTINE, without importing inspect.
_CO_COROUTINE = 0x80
_CHUNK = 65536


def _is_async(func: t.Callable[..., t.Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (cheap for plain functions)."""
    if type(func) is FunctionType:
        return bool(func.__code__.co_flags & _CO_COROUTINE)
    import inspect

    return inspect.iscoroutinefunction(func)


async def _call(func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
    """Call a hook or handler; await it when it is a coroutine function."""
    rv = func(*args)
    if rv.__class__ is CoroutineType:
        rv = await rv
    return rv


# -- threads -----------------------------------------------------------------

_thread_state = threading.local()


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop when called from an ASGI worker thread, else ``None``.

    ``Erlen``'s ``_run_coroutine`` uses it to run a coroutine on the
    server's loop instead of a loop of the worker thread's own.
    """
    return getattr(_thread_state, "loop", None)


def _in_thread(loop: asyncio.AbstractEventLoop, context: t.Any, func: t.Callable[..., t.Any], args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
    _thread_state.loop = loop
    try:
        return context.run(func, *args, **kwargs)
    finally:
        _thread_state.loop = None


def _pool(app: Erlen) -> ThreadPoolExecutor:
    pool = app.__dict__.get("_asgi_pool")
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        with _pool_lock:
            pool = app.__dict__.get("_asgi_pool")
            if pool is None:
                size = int(app.config.get("ASGI_MAX_THREADS") or 40)
                pool = app.__dict__["_asgi_pool"] = ThreadPoolExecutor(size, thread_name_prefix="erlen-asgi")
    return t.cast("ThreadPoolExecutor", pool)


_pool_lock = threading.Lock()


def run_beside_loop(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run a coroutine to its end on a helper thread's event loop, and wait.

    For sync code that runs on an event loop's own thread and must call a
    coroutine function (``ensure_sync``): that loop cannot run it while
    waiting, so a helper thread does, in a copy of the current context.
    The loop is blocked meanwhile; making the caller ``async`` avoids that.

    .. versionadded:: 0.1
    """
    import asyncio
    import contextvars

    context = contextvars.copy_context()
    result: list[t.Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(context.run(asyncio.run, coro))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            failure.append(e)

    thread = threading.Thread(target=run, name="erlen-beside-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def run_sync(app: Erlen, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Run a blocking function in the app's thread pool, in a copy of the current context.

    The copy carries the active request context, so ``request``, ``g``
    and ``session`` work in ``func``; a coroutine it runs through
    :meth:`~erlen.Erlen.ensure_sync` is run on this event loop.

    :param app: The application whose pool (``ASGI_MAX_THREADS`` threads) to use.
    :param func: The function to call.
    :return: What ``func`` returned.

    .. versionadded:: 0.1
    """
    return await _run_in(app, _sync_context(), func, *args, **kwargs)


def _sync_context() -> t.Any:
    """The context that blocking code of the current request runs in.

    NOTE: one per request, made on first use: the view, the steps of a
    streamed body and its ``close`` share it, so a context pushed in one
    (``stream_with_context`` in the view) can be popped in another.
    """
    import contextvars

    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        return contextvars.copy_context()
    context = ctx.__dict__.get("_sync_context")
    if context is None:
        context = ctx.__dict__["_sync_context"] = contextvars.copy_context()
    return context


async def _run_in(app: Erlen, context: t.Any, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    import asyncio

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(app), _in_thread, loop, context, func, args, kwargs)


# -- the request ---------------------------------------------------------------


class _ASGIInput:
    """The request body: ``http.request`` messages, read as a blocking stream.

    :meth:`fill` reads the whole body on the loop (used before async code
    runs, which cannot block); :meth:`read` serves a buffered body, or, in
    a worker thread, pulls the next message from the server's loop, so a
    plain view can stream a large upload without holding it in memory.
    """

    __slots__ = ("_receive", "_buffer", "more", "disconnected")

    def __init__(self, receive: Receive) -> None:
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

    async def fill(self, limit: int | None) -> None:
        """Read the rest of the body into memory.

        :raises RequestEntityTooLarge: More than ``limit`` bytes arrived
            (stops reading at once, whatever the declared length).
        """
        if not self._buffer:
            # PERF: most bodies come in one message.
            chunk = await self.next_chunk()
            if limit is not None and len(chunk) > limit:
                raise RequestEntityTooLarge(f"The request body is larger than the limit of {limit} bytes.")
            self._buffer = chunk
            if not self.more:
                return
        parts = [self._buffer]
        size = len(self._buffer)
        while self.more:
            chunk = await self.next_chunk()
            size += len(chunk)
            if limit is not None and size > limit:
                raise RequestEntityTooLarge(f"The request body is larger than the limit of {limit} bytes.")
            parts.append(chunk)
        self._buffer = b"".join(parts)

    def _pull(self) -> bytes:
        loop = server_loop()
        if loop is None:
            # NOTE: only a worker thread may wait for the loop; the loop's
            # own thread would deadlock.
            raise RuntimeError(
                "The request body was not read before code on the event loop asked for it."
                " Read it in the view (Erlen reads it before async views and hooks run),"
                " or use a plain 'def' view, which may stream it."
            )
        import asyncio

        return asyncio.run_coroutine_threadsafe(self.next_chunk(), loop).result()

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
        return t.cast(bytes, self.scope.get("query_string", b""))

    @cached_property
    def scheme(self) -> str:
        return t.cast(str, self.scope.get("scheme") or ("ws" if self.scope["type"] == "websocket" else "http"))

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
        combined = _asgi_classes[cls] = type(cls.__name__, (_ASGIFields, cls), {"__module__": cls.__module__})
    # PERF: annotations instead of t.cast (a call) on the request path.
    req: Request = object.__new__(combined)
    req.scope = scope  # type: ignore[attr-defined]
    req.method = scope.get("method", "GET")
    path: str = scope.get("path") or "/"
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        path = path[len(root) :] or "/"
    if path[0] != "/":
        path = "/" + path
    req.path = path
    req.root_path = root.rstrip("/")
    req._input = _ASGIInput(receive) if receive is not None else None
    return req


def _needs_body(scope: Scope) -> bool:
    """Whether a request may carry a body that has to be read before async code runs."""
    # PERF: a scan of the raw headers; the Headers object may never be needed.
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.strip() != b"0")
        if name == b"transfer-encoding":
            chunked = True
    if chunked:
        return True
    # NOTE: HTTP/2 and HTTP/3 may send a body without either header.
    return scope.get("http_version", "1.1") not in ("1.0", "1.1")


async def _read_body(request: Request) -> None:
    """Read the body into memory before async code runs, with the size limit.

    :raises RequestEntityTooLarge: Early, from the declared length, or as
        soon as the bytes received pass the limit.
    """
    body = request._input
    if not isinstance(body, _ASGIInput) or not body.more or "stream" in request.__dict__:
        return
    if not _needs_body(request.scope):  # type: ignore[attr-defined]
        body.more = False
        return
    await _fill_body(request, body)


async def _fill_body(request: Request, body: _ASGIInput) -> None:
    cache = request.__dict__
    if "headers" not in cache:
        # PERF: the two values a JSON or form body needs, from the raw
        # headers, so reading the body may never build the Headers object.
        # They are what `content_length` and `mimetype` would compute.
        for name, value in request.scope["headers"]:  # type: ignore[attr-defined]
            if name == b"content-length":
                if "content_length" not in cache and value.isdigit():
                    cache["content_length"] = int(value)
            elif name == b"content-type" and "mimetype" not in cache:
                cache["mimetype"] = value.partition(b";")[0].strip().lower().decode("latin-1")
    limit = request.max_content_length
    if limit is not None:
        length = request.content_length  # a bad Content-Length raises 400 here
        if length is not None and length > limit:
            raise RequestEntityTooLarge(f"The request body ({length} bytes) is larger than the limit of {limit} bytes.")
    await body.fill(limit)
    # PERF: the whole body is in memory: get_data() returns it as is, while
    # `stream` still reads it from the start.
    request._cached_data = body._buffer


# -- the response ----------------------------------------------------------------


_NAMES: dict[str, bytes] = {}


def _encode_headers(response: Response) -> list[tuple[bytes, bytes]]:
    # ASGI wants lower-case names (HTTP/2 requires them).
    names = _NAMES
    out = []
    for k, v in response._hlist:
        name = names.get(k)
        if name is None:
            name = k.lower().encode("latin-1")
            if len(names) < 512:  # PERF: names repeat; bounded, as clients never choose them
                names[k] = name
        out.append((name, v.encode("latin-1")))
    return out


def _join(body: list[t.Any], charset: str) -> bytes:
    if len(body) == 1 and type(body[0]) is bytes:
        return body[0]
    return b"".join(x.encode(charset) if isinstance(x, str) else bytes(x) for x in body)


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


async def send_response(response: Response, scope: Scope, send: Send, app: Erlen, body_input: _ASGIInput | None = None) -> None:
    """Send a response as ``http.response.start`` and ``http.response.body`` messages.

    A list body goes in one message. A file goes with
    ``http.response.pathsend`` when the server offers it, else in blocks
    read in the thread pool; a sync iterator is advanced in the thread pool,
    an async iterator on the loop. While a streamed body is sent, a
    disconnect from the client stops it (and closes it). HEAD requests and
    1xx/204/304 statuses get no body.

    :param response: The response to send.
    :param scope: The ``http`` scope.
    :param send: The ASGI ``send`` callable.
    :param app: The app (its thread pool reads files and sync iterators).
    :param body_input: The request body, watched for a disconnect while streaming.

    .. versionadded:: 0.1
    """
    code = response._status_code
    body = response.response
    headers = _encode_headers(response)
    if code in _NO_BODY or code < 200:
        # No content, so no Content-Type or Length (as wsgi._bodiless_headers).
        headers = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
    start = {"type": "http.response.start", "status": code, "headers": headers}
    pending: list[t.Any] = []
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
            path = _pathsend_path(body, response) if "http.response.pathsend" in scope.get("extensions", ()) else None
            if path is not None:
                await send(start)
                await send({"type": "http.response.pathsend", "path": path})
                return
        await _send_streamed(response, body, start, send, app, body_input, pending)
    finally:
        for step in pending:
            # A step still running in a thread (the stream was cancelled)
            # must end before the body is closed.
            try:
                await step
            except Exception:  # noqa: S110 - its error no longer matters
                pass
        if (type(body) is not list and hasattr(body, "close")) or response._on_close:
            # NOTE: closing runs user callbacks and may close a generator
            # that pushed a context: off the loop, in the request's context.
            await run_sync(app, response.close)


async def _send_streamed(
    response: Response, body: t.Any, start: Message, send: Send, app: Erlen, body_input: _ASGIInput | None, pending: list[t.Any]
) -> None:
    import asyncio

    context = _sync_context()

    charset = response.charset

    async def stream() -> None:
        await send(start)
        if hasattr(body, "__aiter__"):
            async for item in body:
                if isinstance(item, str):
                    item = item.encode(charset)
                if item:
                    await send({"type": "http.response.body", "body": bytes(item), "more_body": True})
        else:
            if hasattr(body, "read") and not isinstance(body, (bytes, str)):
                next_chunk: t.Callable[[], t.Any] = lambda: body.read(_CHUNK)  # noqa: E731
            else:
                it = iter(body)
                next_chunk = lambda: next(it, None)  # noqa: E731
            while True:
                step = asyncio.ensure_future(_run_in(app, context, next_chunk))
                pending[:] = [step]
                item = await asyncio.shield(step)
                pending.clear()
                if item is None or (isinstance(item, bytes) and not item and hasattr(body, "read")):
                    break
                if isinstance(item, str):
                    item = item.encode(charset)
                if item:
                    await send({"type": "http.response.body", "body": bytes(item), "more_body": True})
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


async def _preprocess(app: Erlen, request: Request) -> t.Any:
    names = (None, *reversed(request.blueprints))
    for name in names:
        for url_func in app.url_value_preprocessors.get(name, ()):
            await _call(url_func, request.endpoint, request.view_args)
    for name in names:
        for before_func in app.before_request_funcs.get(name, ()):
            rv = await _call(before_func)
            if rv is not None:
                return rv
    return None


async def _handle_user_exception(app: Erlen, e: Exception) -> t.Any:
    if type(app).handle_user_exception is not _erlen_class().handle_user_exception:
        return await run_sync(app, app.handle_user_exception, e)
    if isinstance(e, BadRequestKeyError) and (app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]):
        e.show_exception = True
    request = _cv.get().request
    blueprints = request.blueprints if request is not None else []
    if isinstance(e, HTTPException) and not app.trap_http_exception(e):
        if e.code is None or isinstance(e, RoutingException) or not app.error_handler_spec:
            return e
        handler = app._find_error_handler(e, blueprints)
        return e if handler is None else await _call(handler, e)
    handler = app._find_error_handler(e, blueprints)
    if handler is None:
        raise e
    return await _call(handler, e)


async def handle_exception(app: Erlen, e: Exception) -> Response:
    """The ASGI side of :meth:`Erlen.handle_exception`: log, then 500 (or propagate)."""
    if type(app).handle_exception is not _erlen_class().handle_exception:
        return t.cast("Response", await run_sync(app, app.handle_exception, e))
    if _signals.got_request_exception.receivers:
        _signals.got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = app.testing or app.debug
    if propagate:
        raise e
    app.log_exception((type(e), e, e.__traceback__))
    server_error: t.Any = InternalServerError(original_exception=e)
    request = _cv.get().request
    handler = app._find_error_handler(server_error, request.blueprints if request is not None else [])
    if handler is not None:
        server_error = await _call(handler, server_error)
    return await _finalize(app, server_error, from_error_handler=True)


async def _finalize(app: Erlen, rv: t.Any, from_error_handler: bool = False) -> Response:
    if not app._plain_finalize:
        return t.cast("Response", await run_sync(app, app.finalize_request, rv, from_error_handler))
    response = app.make_response(rv)
    try:
        ctx = _cv.get()
        if ctx._after_request_functions:
            for func in ctx._after_request_functions:
                response = await _call(func, response)
        if app.after_request_funcs:
            request = t.cast("Request", ctx.request)
            for name in (*request.blueprints, None):
                for func in reversed(app.after_request_funcs.get(name, ())):
                    response = await _call(func, response)
        session = ctx._session
        if session is not None:
            si = app.session_interface
            if not si.is_null_session(session):
                si.save_session(app, session, response)
        if _signals.request_finished.receivers:
            _signals.request_finished.send(app, _async_wrapper=app.ensure_sync, response=response)
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception("Request finalizing failed with an error while handling an error")
    return response


async def full_dispatch_request(app: Erlen, request: Request) -> Response:
    """The ASGI side of :meth:`Erlen.full_dispatch_request`.

    Matching, the return-value conversion and handler lookup are the app's
    own; hooks, the view and handlers are awaited when they are coroutine
    functions, and a plain view runs in the thread pool. The body is read
    (with the size limit) before any async code that might read it.

    .. versionadded:: 0.1
    """
    return await _full_dispatch(app, request, t.cast("RequestContext", _cv.get()))


async def _full_dispatch(app: Erlen, request: Request, ctx: RequestContext) -> Response:
    if not app._got_first_request:
        app._got_first_request = True
    try:
        if _signals.request_started.receivers:
            _signals.request_started.send(app, _async_wrapper=app.ensure_sync)
        # PERF: the common case of _match_request, inlined (as on the WSGI
        # side; an ASGI path is text already, so nothing failed before).
        url_map = app.url_map
        if url_map.host_matching or app.subdomain_matching or app.config["TRUSTED_HOSTS"] is not None:
            app._match_request(request)
        else:
            try:
                request.url_rule, request.view_args = url_map.match(request.path, request.method, url_map.default_subdomain)
            except HTTPException as e:
                request.routing_exception = e
        rv = None
        if app.before_request_funcs or app.url_value_preprocessors:
            await _read_body(request)
            rv = await _preprocess(app, request)
        if rv is None:
            if not app._plain_dispatch:
                rv = await run_sync(app, app.dispatch_request)
                if rv.__class__ is CoroutineType:
                    rv = await rv
            elif request.routing_exception is None:
                rule: Rule = request.url_rule  # type: ignore[assignment]
                view = app.view_functions[rule.endpoint]  # type: ignore[index]
                if rule.provide_automatic_options and request.method == "OPTIONS":
                    rv = app.make_default_options_response()
                elif type(view) is FunctionType and view.__code__.co_flags & _CO_COROUTINE or _is_async(view):
                    body: _ASGIInput | None = request._input
                    if body is not None and body.more:
                        if "stream" in request.__dict__:
                            pass  # a hook read it as a stream already
                        elif _needs_body(request.scope):  # type: ignore[attr-defined]
                            await _fill_body(request, body)
                        else:
                            body.more = False
                    rv = await view(**request.view_args)  # type: ignore[arg-type]
                else:
                    rv = await run_sync(app, view, **request.view_args)  # type: ignore[arg-type]
                    if rv.__class__ is CoroutineType:
                        rv = await rv
            else:
                app.raise_routing_exception(request)
    except Exception as e:
        rv = await _handle_user_exception(app, e)
    # PERF: a str with nothing to run after it becomes the response directly.
    if (
        rv.__class__ is str
        and app._plain_finalize
        and ctx._session is None
        and ctx._after_request_functions is None
        and not app.after_request_funcs
        and not _signals.request_finished.receivers
    ):
        cls = app.response_class
        if cls.__init__ is _RESPONSE_INIT:
            return cls._from_text(rv)
        return cls(rv)
    return await _finalize(app, rv)


def _has_async_teardown(app: Erlen) -> bool:
    for funcs in app.teardown_request_funcs.values():
        for func in funcs:
            if _is_async(func):
                return True
    return any(_is_async(func) for func in app.teardown_appcontext_funcs)


async def _pop(app: Erlen, ctx: RequestContext, error: BaseException | None) -> None:
    if error is not None and app.should_ignore_error(error):
        error = None
    if len(ctx._tokens) == 1 and _cv.get(None) is ctx:
        # PERF: with no teardown work, popping is resetting the variable.
        if (
            not app.teardown_request_funcs
            and not app.teardown_appcontext_funcs
            and not ctx.request._files  # type: ignore[union-attr]
            and not _signals.request_tearing_down.receivers
            and not _signals.appcontext_tearing_down.receivers
            and not _signals.appcontext_popped.receivers
        ):
            _cv.reset(ctx._tokens.pop())
            return
        if _has_async_teardown(app):
            # NOTE: run the teardown (through ensure_sync) in a worker thread,
            # which runs the coroutine functions on this loop; the context
            # variable is reset here, where it was set.
            try:
                await run_sync(app, ctx._teardown, error)
            finally:
                _cv.reset(ctx._tokens.pop())
            return
    ctx.pop(error)


async def handle_http(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``http`` request with ``app``.

    .. versionadded:: 0.1
    """
    request = make_request(app.request_class, scope, receive)
    ctx = _RequestContext(app, None, request)
    # PERF: a fresh context with nothing outside it is one ContextVar.set.
    if _cv.get(None) is None and not _signals.appcontext_pushed.receivers:
        ctx._tokens.append(_cv.set(ctx))
    else:
        ctx.push()
    error: BaseException | None = None
    try:
        try:
            response = await _full_dispatch(app, request, ctx)
        except Exception as e:
            error = e
            response = await handle_exception(app, e)
        try:
            body = response.response
            code = response._status_code
            # PERF: send_response's common case, inlined.
            if type(body) is list and not response._on_close and code >= 200 and code not in _NO_BODY and scope["method"] != "HEAD":
                await send({"type": "http.response.start", "status": code, "headers": _encode_headers(response)})
                await send({"type": "http.response.body", "body": _join(body, response.charset)})
            else:
                await send_response(response, scope, send, app, t.cast(_ASGIInput, request._input))
        except OSError:
            # NOTE: the client went away while we answered; nothing to tell it.
            pass
    except BaseException:
        error = sys.exc_info()[1]
        raise
    finally:
        # PERF: with no teardown work, popping is resetting the variable.
        if (
            len(ctx._tokens) == 1
            and not app.teardown_request_funcs
            and not app.teardown_appcontext_funcs
            and not request._files
            and not _signals.request_tearing_down.receivers
            and not _signals.appcontext_tearing_down.receivers
            and not _signals.appcontext_popped.receivers
            and _cv.get(None) is ctx
        ):
            _cv.reset(ctx._tokens.pop())
        else:
            await _pop(app, ctx, error)


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
                    await _call(func)
        except Exception as e:
            app.logger.exception(f"An error stopped the {done[9:]} of the app")
            await send({"type": f"{done}.failed", "message": f"{type(e).__name__}: {e}"})
            return
        await send({"type": f"{done}.complete"})
        if kind == "lifespan.shutdown":
            pool = app.__dict__.pop("_asgi_pool", None)
            if pool is not None:
                pool.shutdown(wait=False)
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


class _AsyncEntry:
    """What ``app.__call__`` looks like to servers that inspect it.

    uvicorn (``interface="auto"``) and hypercorn check whether
    ``app.__call__`` is a coroutine function to pick ASGI 3 over ASGI 2 or
    WSGI. ``Erlen.__call__`` must stay a plain function so WSGI calls cost
    nothing extra, so each app gets this instance attribute: it carries an
    ``async def``'s code object (what ``inspect`` reads) and forwards calls
    to the real ``__call__``, which serves WSGI with two arguments and
    returns a coroutine with three.
    """

    def __init__(self, app: Erlen) -> None:
        self._app = app
        self.__name__ = "__call__"
        self.__qualname__ = f"{type(app).__name__}.__call__"
        self.__code__ = _async_signature.__code__
        self.__defaults__ = None
        self.__kwdefaults__ = None
        self.__annotations__: dict[str, t.Any] = {}
        self.__doc__ = type(app).__call__.__doc__

    def __call__(self, *args: t.Any) -> t.Any:
        return type(self._app).__call__(self._app, *args)


async def _async_signature(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    """Only its code object is used (see :class:`_AsyncEntry`)."""


def _erlen_class() -> type[Erlen]:
    # app.py imports this module, so Erlen is looked up when first needed.
    from .app import Erlen

    return Erlen


# -- the development server --------------------------------------------------------


def dev_app(app: Erlen, debugged: t.Callable[..., t.Any] | None = None) -> t.Callable[..., t.Any]:
    """The ASGI app the development server gives uvicorn.

    Without a debugger this is ``app`` itself. With one (``debugged``, the
    app wrapped in :class:`erlen.debug.DebuggedApplication`, a WSGI
    middleware), ``http`` requests go through it, run in a thread with the
    body read first and the response buffered, so an error page with its
    console still appears; WebSockets and ``lifespan`` go to the app's ASGI
    side as usual.

    .. versionadded:: 0.1
    """
    if debugged is None:
        return app

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app.asgi_app(scope, receive, send)
            return
        await _serve_wsgi(app, debugged, scope, receive, send)

    return serve


async def _serve_wsgi(app: Erlen, wsgi_app: t.Callable[..., t.Any], scope: Scope, receive: Receive, send: Send) -> None:
    import asyncio
    import io

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
    started: list[t.Any] = []

    def run() -> bytes:
        def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda data: None

        result = wsgi_app(environ, start_response)
        try:
            return b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    data = await asyncio.get_running_loop().run_in_executor(_pool(app), run)
    status, headers = started
    await send(
        {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else data})
