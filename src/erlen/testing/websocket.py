"""A WebSocket client for tests: :class:`WebSocketTestSession` (``client.websocket_connect``).

The client side of :mod:`erlen.websockets`: the app's ASGI callable gets a
``websocket`` scope and runs on an event loop in a helper thread, while the
test sends and receives messages from its own thread.
"""

from __future__ import annotations

import typing as t

from ..websockets import WebSocketDisconnect

if t.TYPE_CHECKING:
    import asyncio
    import queue
    import threading

    from ..app import Erlen
    from ..asgi import Scope

__all__ = ["WebSocketRejected", "WebSocketTestSession"]


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
        raw = [
            (b"host", b"localhost"),
            (b"connection", b"upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
        ]
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
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="erlen-websocket-test", daemon=True
        )
        self._thread.start()
        if not ready.wait(self.timeout):  # pragma: no cover - the loop starts at once
            raise TimeoutError("The app's event loop did not start.")
        self._put({"type": "websocket.connect"})
        message = self._get()
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.accepted_headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers") or ()
            ]
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
            headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers") or ()
            ]
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
            raise TimeoutError(
                f"The WebSocket handler did not finish within {self.timeout} seconds after the close."
            )
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
            raise WebSocketDisconnect(
                self.close_code or 1006, "The handler finished without closing."
            )
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
            # Answer the close as a real client does (echoing its code): the
            # server then ends a receive() the handler may still be waiting in
            # (e.g. when a task of its own closed) with websocket.disconnect.
            self._put({"type": "websocket.disconnect", "code": self.close_code, "reason": ""})
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
