"""WebSockets over ASGI: the ``websocket`` global and dispatch.

A handler registered with ``@app.websocket("/ws/<room>")`` runs on the
server's event loop with a request context whose ``request`` describes the
handshake (path, args, headers, cookies, session) and whose
:data:`websocket` is the connection::

    @app.websocket("/ws/<room>")
    async def chat(room):
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"{room}: {message}")

A handshake from another site's page is refused (403) before any hook or
handler runs: its ``Origin`` must be the app's own (the ``Host``), a host
in ``TRUSTED_HOSTS`` or one listed in ``WEBSOCKET_ALLOWED_ORIGINS``
(``"*"``: any); a handshake without ``Origin`` (not a browser) is allowed.

Before ``accept()`` the handshake can still be refused with an HTTP answer:
an :class:`~erlen.exceptions.HTTPException` (``abort(403)``), a response
returned by the handler or by a ``before_request`` function. The server
sends it as is when it offers the ``websocket.http.response`` extension,
else it refuses the handshake with 403. After ``accept()``, an unhandled
error closes the connection with 1011, and a message larger than
``WEBSOCKET_MAX_MESSAGE_SIZE`` (1 MiB by default) closes it with 1009.

Tests connect through the test client (``client.websocket_connect(path)``):
its :class:`~erlen.testing.WebSocketTestSession` is the client side.
"""

from __future__ import annotations

import sys
import typing as t

from . import dispatch as _dispatch
from .asgi import Receive, Scope, Send, make_request
from .concurrency import run_sync
from .exceptions import Forbidden
from .globals import LocalProxy, _cv
from .http.urls import host_is_trusted

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response

__all__ = ["WebSocket", "WebSocketDisconnect", "websocket"]

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

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, max_message_size: int | None = 1024 * 1024
    ) -> None:
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
            raise RuntimeError(
                "The WebSocket was already accepted or closed; accept() can be called once, first."
            )
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(
                f"The client did not offer the subprotocol {subprotocol!r} (it offered {self.subprotocols})."
            )
        message: dict[str, t.Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            items = headers.items() if hasattr(headers, "items") else headers
            message["headers"] = [
                (str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items
            ]
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
            size = (
                len(data)
                if isinstance(data, bytes) or data.isascii()
                else len(data.encode("utf-8"))
            )
            if size > limit:
                await self.close(1009, "message too big")
                raise WebSocketDisconnect(
                    1009, f"A message of {size} bytes is over the limit of {limit} bytes."
                )
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
            raise TypeError(
                f"A WebSocket message is str or bytes, not {type(data).__name__}; use send_json for other values."
            )
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
            await self._send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status_code,
                    "headers": _encode_headers(response),
                }
            )
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


_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``host[:port]``, the port defaulting by ``scheme``; ``None`` if malformed."""
    if netloc.startswith("["):  # an IPv6 literal
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if end == -1 or (rest and rest[0] != ":"):
            return None
        port = rest[1:]
    else:
        host, _, port = netloc.partition(":")
    if not host:
        return None
    if not port:
        default = _DEFAULT_PORTS.get(scheme)
        return (host.lower(), default) if default is not None else None
    if not (port.isascii() and port.isdigit()):
        return None
    return host.lower(), int(port)


def _parse_origin(value: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an origin ``scheme://host[:port]``; ``None`` for ``null`` or a malformed one."""
    scheme, sep, netloc = value.strip().rstrip("/").partition("://")
    if not sep or "/" in netloc or "@" in netloc:
        return None
    scheme = scheme.lower()
    hostport = _host_port(netloc, scheme)
    return None if hostport is None else (scheme, *hostport)


def _origin_allowed(app: Erlen, request: Request) -> bool:
    """Whether the handshake's ``Origin`` may open a socket (``WEBSOCKET_ALLOWED_ORIGINS``).

    Allowed: no ``Origin`` (not a browser: browsers always send one), the
    app's own origin (host and port of the ``Host``; the scheme is not
    compared, as a TLS proxy in front makes it ``ws``), a host in
    ``TRUSTED_HOSTS``, an origin listed exactly, anything with ``"*"``.
    """
    value = request.headers.get("Origin")
    if value is None:
        return True
    allowed = app.config.get("WEBSOCKET_ALLOWED_ORIGINS")
    if isinstance(allowed, str):
        allowed = [allowed]
    allowed = allowed or ()
    if "*" in allowed:
        return True
    origin = _parse_origin(value)
    if origin is None:
        return False  # "null" (sandboxed frames, file: pages) or not an origin
    scheme, host, port = origin
    if (host, port) == _host_port(request.host, scheme):
        return True
    trusted = app.config["TRUSTED_HOSTS"]
    if trusted is not None and host_is_trusted(host, trusted):
        return True
    return any(origin == _parse_origin(entry) for entry in allowed)


async def _dispatch_websocket(app: Erlen, request: Request) -> t.Any:
    if not app._got_first_request:
        app._got_first_request = True
    # Cross-site WebSocket hijacking: refuse another site's page before any
    # hook or handler runs (the error handlers may answer the 403).
    if not _origin_allowed(app, request):
        raise Forbidden(
            "The origin of this WebSocket handshake is not allowed (see WEBSOCKET_ALLOWED_ORIGINS)."
        )
    # The app's own matching: the same TRUSTED_HOSTS and SERVER_NAME checks
    # as over HTTP (the hooks still run before a refusal is raised).
    _dispatch.match_request(app, request, websocket=True)
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
