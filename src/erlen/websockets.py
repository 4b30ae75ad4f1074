"""WebSockets over ASGI: the ``websocket`` global, dispatch, and a test session.

A handler registered with ``@app.websocket("/ws/<room>")`` runs on the
server's event loop with a request context whose ``request`` describes the
handshake (path, args, headers, cookies, session) and whose
:data:`websocket` is the connection::

    @app.websocket("/ws/<room>")
    async def chat(room):
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"{room}: {message}")

Before ``accept()`` the handshake can still be refused with an HTTP answer:
an :class:`~erlen.exceptions.HTTPException` (``abort(403)``), a response
returned by the handler or by a ``before_request`` function. The server
sends it as is when it offers the ``websocket.http.response`` extension,
else it refuses the handshake with 403. After ``accept()``, an unhandled
error closes the connection with 1011, and a message larger than
``WEBSOCKET_MAX_MESSAGE_SIZE`` (1 MiB by default) closes it with 1009.
"""

from __future__ import annotations

import sys
import typing as t

from . import dispatch as _dispatch
from .asgi import Receive, Scope, Send, make_request
from .concurrency import run_sync
from .globals import LocalProxy, _cv

if t.TYPE_CHECKING:
    import asyncio
    import queue
    import threading

    from .app import Erlen
    from .wrappers import Request, Response

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketRejected", "WebSocketTestSession", "websocket"]

_CONNECTING, _OPEN, _CLOSED = 0, 1, 2


class WebSocketDisconnect(Exception):
    """The WebSocket connection is closed (by the client, or by the app for a bad message).

    :param code: The close code (RFC 6455 section 7.4), e.g. 1000, 1009.
    :param reason: The close reason, if any.

    .. versionadded:: 0.1
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocket:
    """One WebSocket connection, reached through the :data:`websocket` global.

    :param scope: The ASGI ``websocket`` scope.
    :param receive: The ASGI ``receive`` callable.
    :param send: The ASGI ``send`` callable.
    :param max_message_size: Largest message accepted, in bytes (``None``: no limit).

    .. versionadded:: 0.1
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send, max_message_size: int | None = 1024 * 1024) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.max_message_size = max_message_size
        self._state = _CONNECTING
        self._accepted = False
        #: The close code once the connection is closed.
        self.close_code: int | None = None

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols") or ())

    @property
    def accepted(self) -> bool:
        """Whether :meth:`accept` was called (the connection may be closed since)."""
        return self._accepted

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (or the handshake was refused)."""
        return self._state == _CLOSED

    async def accept(self, subprotocol: str | None = None, headers: t.Any = None) -> None:
        """Accept the handshake.

        :param subprotocol: The subprotocol chosen, one the client offered.
        :param headers: Extra response headers, a mapping or ``(name, value)`` pairs.
        :raises RuntimeError: Already accepted or closed.
        :raises ValueError: ``subprotocol`` is not one the client offered.
        """
        if self._state != _CONNECTING:
            raise RuntimeError("The WebSocket was already accepted or closed; accept() can be called once, first.")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"The client did not offer the subprotocol {subprotocol!r} (it offered {self.subprotocols}).")
        message: dict[str, t.Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            items = headers.items() if hasattr(headers, "items") else headers
            message["headers"] = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items]
        await self._send(message)
        self._state = _OPEN
        self._accepted = True

    async def receive(self) -> str | bytes:
        """Wait for the next message: ``str`` for text, ``bytes`` for binary.

        Accepts the handshake first if the handler has not.

        :raises WebSocketDisconnect: The client closed the connection, or the
            message was over :attr:`max_message_size` (then closed with 1009).
        """
        if self._state == _CONNECTING:
            await self.accept()
        if self._state == _CLOSED:
            raise WebSocketDisconnect(self.close_code or 1006)
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._state = _CLOSED
            self.close_code = int(message.get("code") or 1005)
            raise WebSocketDisconnect(self.close_code, message.get("reason") or "")
        text = message.get("text")
        data: str | bytes = text if text is not None else message.get("bytes") or b""
        limit = self.max_message_size
        if limit is not None:
            size = len(data) if isinstance(data, bytes) or data.isascii() else len(data.encode("utf-8"))
            if size > limit:
                await self.close(1009, "message too big")
                raise WebSocketDisconnect(1009, f"A message of {size} bytes is over the limit of {limit} bytes.")
        return data

    async def receive_json(self) -> t.Any:
        """Wait for the next message and parse it as JSON.

        :raises WebSocketDisconnect: The connection closed, or the message
            was not JSON (then closed with 1007, invalid payload data).
        """
        data = await self.receive()
        ctx = _cv.get(None)
        try:
            if ctx is not None:
                return ctx.app.json.loads(data)
            import json

            return json.loads(data)
        except (ValueError, RecursionError) as e:
            await self.close(1007, "invalid JSON")
            raise WebSocketDisconnect(1007, f"The message is not valid JSON: {e}") from None

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message.

        Accepts the handshake first if the handler has not.

        :raises WebSocketDisconnect: The connection is closed.
        :raises TypeError: ``data`` is neither text nor bytes.
        """
        if self._state == _CONNECTING:
            await self.accept()
        if self._state == _CLOSED:
            raise WebSocketDisconnect(self.close_code or 1006)
        if isinstance(data, str):
            message: dict[str, t.Any] = {"type": "websocket.send", "text": data}
        elif isinstance(data, (bytes, bytearray, memoryview)):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        else:
            raise TypeError(f"A WebSocket message is str or bytes, not {type(data).__name__}; use send_json for other values.")
        try:
            await self._send(message)
        except OSError:
            self._state = _CLOSED
            self.close_code = 1006
            raise WebSocketDisconnect(1006) from None

    async def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message (with the app's JSON provider)."""
        ctx = _cv.get(None)
        if ctx is not None:
            text = ctx.app.json.dumps(obj)
        else:
            import json

            text = json.dumps(obj)
        await self.send(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; before ``accept()`` this refuses the handshake (403).

        Closing twice does nothing.
        """
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        self.close_code = code
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            pass  # the client is gone already

    def __aiter__(self) -> t.AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> t.AsyncIterator[str | bytes]:
        # Iteration ends when the client closes the connection.
        while True:
            try:
                yield await self.receive()
            except WebSocketDisconnect:
                return

    async def _reject(self, response: Response, app: Erlen) -> None:
        """Refuse the handshake with an HTTP response (403 without the extension)."""
        self._state = _CLOSED
        self.close_code = 1008
        if "websocket.http.response" in (self.scope.get("extensions") or ()):
            from .asgi import _encode_headers, _join

            body = response.response
            if type(body) is list:
                data = _join(body, response.charset)
            else:
                data = t.cast(bytes, await run_sync(app, response.get_data))
            await self._send({"type": "websocket.http.response.start", "status": response.status_code, "headers": _encode_headers(response)})
            await self._send({"type": "websocket.http.response.body", "body": data})
        else:
            await self._send({"type": "websocket.close", "code": 1008, "reason": ""})


def _websocket() -> WebSocket:
    ctx = _cv.get(None)
    ws = getattr(ctx, "websocket", None) if ctx is not None else None
    if ws is None:
        raise RuntimeError(
            "Working outside of a WebSocket context.\n\nThe 'websocket' global is the"
            " connection of a handler registered with '@app.websocket(...)'; use it there."
        )
    return t.cast(WebSocket, ws)


class _WebSocketProxy(LocalProxy):
    """A proxy that also supports ``async for`` (special methods skip ``__getattribute__``)."""

    __slots__ = ()

    def __aiter__(self) -> t.AsyncIterator[str | bytes]:
        return t.cast(WebSocket, self._get_current_object()).__aiter__()


#: The current WebSocket connection, inside a ``@app.websocket`` handler.
websocket: WebSocket = _WebSocketProxy(_websocket)  # type: ignore[assignment]


async def _dispatch_websocket(app: Erlen, request: Request) -> t.Any:
    if not app._got_first_request:
        app._got_first_request = True
    # The app's own matching: the same TRUSTED_HOSTS and SERVER_NAME checks
    # as over HTTP (the hooks still run before a refusal is raised).
    app._match_request(request, websocket=True)
    if app.before_request_funcs or app.url_value_preprocessors:
        rv = await _dispatch.apreprocess_request(app, request)
        if rv is not None:
            return rv
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule = request.url_rule
    assert rule is not None
    return await app.view_functions[t.cast(str, rule.endpoint)](**(request.view_args or {}))


async def handle_websocket(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``websocket`` connection with ``app``.

    .. versionadded:: 0.1
    """

    first = await receive()
    if first["type"] != "websocket.connect":
        return  # the client left before the handshake
    request = make_request(app.request_class, scope, None)
    ws = WebSocket(scope, receive, send, app.config.get("WEBSOCKET_MAX_MESSAGE_SIZE"))
    from .ctx import RequestContext

    ctx = RequestContext(app, None, request)
    ctx.websocket = ws  # type: ignore[attr-defined]
    ctx.push()
    error: BaseException | None = None
    try:
        try:
            try:
                rv = await _dispatch_websocket(app, request)
            except WebSocketDisconnect:
                rv = None
            except Exception as e:
                if ws._state != _CONNECTING:
                    raise
                rv = await _dispatch.ahandle_user_exception(app, e)
            if rv is not None and ws._state == _CONNECTING:
                await ws._reject(await _dispatch.afinalize_request(app, rv), app)
        except Exception as e:
            error = e
            if ws._state == _CONNECTING:
                await ws._reject(await _dispatch.ahandle_exception(app, e), app)
            else:
                app.log_exception((type(e), e, e.__traceback__))
                await ws.close(1011, "internal error")
                propagate = app.config["PROPAGATE_EXCEPTIONS"]
                if propagate or (propagate is None and (app.testing or app.debug)):
                    raise
    except BaseException:
        error = error or sys.exc_info()[1]
        raise
    finally:
        if ws._state == _CONNECTING:
            await ws.close()  # the handler never accepted: refuse (403)
        elif ws._state == _OPEN:
            await ws.close(1000)
        await _dispatch.apop(app, ctx, _dispatch.before_pop(app, ctx, None, error))


class WebSocketRejected(Exception):
    """The app refused the test client's handshake with an HTTP answer.

    :param status_code: The status (403 when the app just closed).
    :param headers: The response headers, ``(name, value)`` strings.
    :param body: The response body.

    .. versionadded:: 0.1
    """

    def __init__(self, status_code: int, headers: list[tuple[str, str]], body: bytes) -> None:
        super().__init__(f"The WebSocket handshake was refused with status {status_code}.")
        self.status_code = status_code
        self.headers = headers
        self.body = body


class WebSocketTestSession:
    """A WebSocket connection to the app, in process, from ``client.websocket_connect(path)``.

    The app runs its ASGI side on an event loop in a helper thread; every
    wait is bounded by ``timeout`` seconds. Use it in a ``with`` block::

        with client.websocket_connect("/ws/room") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "room: hi"

    :raises WebSocketRejected: (on enter) the handshake was refused.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Erlen,
        path: str,
        subprotocols: t.Sequence[str] | None = None,
        headers: t.Any = None,
        timeout: float = 5.0,
        http_response_extension: bool = True,
    ) -> None:
        from urllib.parse import quote, unquote, urlsplit

        parts = urlsplit(path)
        raw = [(b"host", b"localhost"), (b"connection", b"upgrade"), (b"upgrade", b"websocket"), (b"sec-websocket-version", b"13")]
        if headers:
            items = headers.items() if hasattr(headers, "items") else headers
            extra = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items]
            # A header the caller gives (a Host, say) replaces the default one
            # rather than arriving twice.
            given = {k for k, _ in extra}
            raw = [(k, v) for k, v in raw if k not in given] + extra
        self.app = app
        self.timeout = timeout
        self.scope: Scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("localhost", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": unquote(parts.path or "/"),
            "raw_path": quote(parts.path or "/").encode("ascii"),
            "query_string": parts.query.encode("latin-1"),
            "headers": raw,
            "subprotocols": list(subprotocols or ()),
            "extensions": {"websocket.http.response": {}} if http_response_extension else {},
        }
        #: The subprotocol and headers the app accepted with.
        self.accepted_subprotocol: str | None = None
        self.accepted_headers: list[tuple[str, str]] = []
        #: The close code, once the app closed the connection.
        self.close_code: int | None = None
        self.close_reason = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._to_app: asyncio.Queue[dict[str, t.Any]] | None = None
        self._from_app: queue.Queue[dict[str, t.Any]] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self) -> WebSocketTestSession:
        import queue
        import threading

        self._from_app = queue.Queue()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="erlen-websocket-test", daemon=True)
        self._thread.start()
        if not ready.wait(self.timeout):  # pragma: no cover - the loop starts at once
            raise TimeoutError("The app's event loop did not start.")
        self._put({"type": "websocket.connect"})
        message = self._get()
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.accepted_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers") or ()]
            return self
        self._closed = True
        if kind == "websocket.http.response.start":
            body = b""
            while True:
                part = self._get()
                body += part.get("body", b"")
                if not part.get("more_body"):
                    break
            self._join()
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers") or ()]
            raise WebSocketRejected(message["status"], headers, body)
        self._join()
        raise WebSocketRejected(403, [], b"")

    def __exit__(self, *exc_info: t.Any) -> None:
        self.close()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client side and wait for the app to finish.

        :raises BaseException: What the app raised, if it failed.
        """
        if not self._closed:
            self._closed = True
            self._put({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._join()

    def _join(self) -> None:
        assert self._thread is not None
        self._thread.join(self.timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"The WebSocket handler did not finish within {self.timeout} seconds after the close.")
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._to_app = asyncio.Queue()
            ready.set()
            await self.app.asgi_app(self.scope, receive, send)

        async def receive() -> dict[str, t.Any]:
            assert self._to_app is not None
            return await self._to_app.get()

        async def send(message: dict[str, t.Any]) -> None:
            assert self._from_app is not None
            self._from_app.put(message)

        try:
            asyncio.run(main())
        except BaseException as e:
            self._error = e
        finally:
            assert self._from_app is not None
            self._from_app.put({"type": "erlen.finished"})

    def _put(self, message: dict[str, t.Any]) -> None:
        assert self._loop is not None and self._to_app is not None
        try:
            self._loop.call_soon_threadsafe(self._to_app.put_nowait, message)
        except RuntimeError:
            # The handler has finished and its loop is closed: nobody is
            # listening; the close it sent is next in line for receive().
            pass

    def _get(self) -> dict[str, t.Any]:
        import queue

        assert self._from_app is not None
        try:
            message = self._from_app.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"The app sent nothing within {self.timeout} seconds.") from None
        if message["type"] == "erlen.finished":
            self._from_app.put(message)  # later calls see the end too
            self._closed = True
            self._join()
            raise WebSocketDisconnect(self.close_code or 1006, "The handler finished without closing.")
        return message

    # -- messages ----------------------------------------------------------------

    def send(self, message: dict[str, t.Any]) -> None:
        """Send a raw ASGI message (``websocket.receive``) to the app."""
        self._put(message)

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self._put({"type": "websocket.receive", "bytes": data})

    def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message."""
        import json

        self.send_text(json.dumps(obj))

    def receive(self) -> dict[str, t.Any]:
        """The next raw ASGI message from the app.

        :raises WebSocketDisconnect: The app closed the connection.
        :raises TimeoutError: Nothing came within the timeout.
        """
        message = self._get()
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            self.close_reason = message.get("reason") or ""
            self._closed = True
            self._join()
            raise WebSocketDisconnect(t.cast(int, self.close_code), self.close_reason)
        return message

    def receive_text(self) -> str:
        """The next message, which must be text."""
        message = self.receive()
        if message.get("text") is None:
            raise TypeError("Expected a text message, got a binary one.")
        return t.cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        message = self.receive()
        if message.get("bytes") is None:
            raise TypeError("Expected a binary message, got a text one.")
        return t.cast(bytes, message["bytes"])

    def receive_json(self) -> t.Any:
        """The next text message, parsed as JSON."""
        import json

        return json.loads(self.receive_text())
