"""WebSockets: the websocket global, handshake refusal, limits, hooks, the test session."""

from __future__ import annotations

import asyncio
import logging
import typing as t

import pytest

from erlen import (
    Blueprint,
    Erlen,
    Response,
    WebSocketDisconnect,
    abort,
    g,
    request,
    session,
    websocket,
)
from erlen.testing import WebSocketRejected, WebSocketTestSession
from erlen.websockets import WebSocket


@pytest.fixture
def app() -> Erlen:
    app = Erlen("erlen_ws_test", root_path="/nonexistent-erlen-root")
    app.config.update(SECRET_KEY="test key")
    return app


def test_echo_room_with_iteration(app: Erlen) -> None:
    @app.websocket("/ws/<room>")
    async def chat(room: str) -> None:
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"{room}: {message}")

    with app.test_client().websocket_connect("/ws/lobby") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "lobby: hi"
        ws.send_text("again")
        assert ws.receive_text() == "lobby: again"


def test_bytes_and_json(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        data = await websocket.receive()
        assert isinstance(data, bytes)
        await websocket.send(data[::-1])
        obj = await websocket.receive_json()
        await websocket.send_json({"got": obj, "n": len(obj)})
        await websocket.close(4000, "done")

    with app.test_client().websocket_connect("/ws") as ws:
        ws.send_bytes(b"abc")
        assert ws.receive_bytes() == b"cba"
        ws.send_json([1, 2])
        assert ws.receive_json() == {"got": [1, 2], "n": 2}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "done")


def test_accept_with_subprotocol_and_headers(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        assert websocket.subprotocols == ["v2", "v1"]
        await websocket.accept(subprotocol="v1", headers={"X-Room": "lobby"})
        assert websocket.accepted
        with pytest.raises(RuntimeError, match="accept"):
            await websocket.accept()
        await websocket.send("ok")

    with app.test_client().websocket_connect("/ws", subprotocols=["v2", "v1"]) as ws:
        assert ws.accepted_subprotocol == "v1"
        assert ws.accepted_headers == [("x-room", "lobby")]
        assert ws.receive_text() == "ok"


def test_unknown_subprotocol_is_refused(app: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept(subprotocol="nope")

    with caplog.at_level(logging.CRITICAL), pytest.raises(WebSocketRejected) as refused:
        with app.test_client().websocket_connect("/ws", subprotocols=["v1"]):
            pass
    assert refused.value.status_code == 500


def test_send_and_receive_accept_implicitly(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send("first")
        assert await websocket.receive() == "reply"

    with app.test_client().websocket_connect("/ws") as ws:
        assert ws.receive_text() == "first"
        ws.send_text("reply")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()  # the handler returned: closed normally
        assert closed.value.code == 1000


def test_oversized_message_closes_1009_and_the_app_keeps_serving(app: Erlen) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 16
    seen: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            async for message in websocket:
                await websocket.send(t.cast(str, message))
        finally:
            seen.append(f"ended {websocket.close_code}")

    client = app.test_client()
    with client.websocket_connect("/ws") as ws:
        ws.send_text("small")
        assert ws.receive_text() == "small"
        ws.send_text("é" * 10)  # 20 bytes in UTF-8, 10 characters
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1009
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"x" * 17)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
        assert closed.value.code == 1009
    with client.websocket_connect("/ws") as ws:
        ws.send_text("still serving")
        assert ws.receive_text() == "still serving"
    assert seen[:2] == ["ended 1009", "ended 1009"]


def test_default_limit_is_one_mebibyte(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send(str(len(t.cast(str, await websocket.receive()))))
        await websocket.receive()

    with app.test_client().websocket_connect("/ws") as ws:
        ws.send_text("x" * (1024 * 1024))
        assert ws.receive_text() == str(1024 * 1024)
        ws.send_text("x" * (1024 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert closed.value.code == 1009


def test_malformed_json_closes_1007(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.receive_json()

    client = app.test_client()
    for bad in ("{not json", "[" * 100_000):
        with client.websocket_connect("/ws") as ws:
            ws.send_text(bad)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == 1007


def test_refusal_with_http_status_before_accept(app: Erlen) -> None:
    @app.websocket("/private/<name>")
    async def private(name: str) -> t.Any:
        if name == "denied":
            abort(403)
        if name == "teapot":
            return "no socket for you", 418, {"X-Why": "tea"}
        await websocket.accept()
        return None

    client = app.test_client()
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/private/denied").__enter__()
    assert refused.value.status_code == 403 and b"Forbidden" in refused.value.body
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/private/teapot").__enter__()
    assert (refused.value.status_code, refused.value.body) == (418, b"no socket for you")
    assert ("x-why", "tea") in refused.value.headers
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/nowhere").__enter__()
    assert refused.value.status_code == 404


def test_refusal_without_the_extension_is_a_close(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        abort(401)

    session_ = WebSocketTestSession(app, "/ws", http_response_extension=False)
    with pytest.raises(WebSocketRejected) as refused:
        session_.__enter__()
    assert refused.value.status_code == 403


def test_handler_that_never_accepts_is_refused(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        return None

    with pytest.raises(WebSocketRejected) as refused:
        app.test_client().websocket_connect("/ws").__enter__()
    assert refused.value.status_code == 403


def test_before_request_can_refuse_and_hooks_run(app: Erlen) -> None:
    calls: list[str] = []

    @app.before_request
    async def auth() -> t.Any:
        calls.append(f"before {request.path}")
        if request.args.get("token") != "ok":
            return Response("no token", status=401)
        g.user = "ann"
        return None

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        calls.append(f"teardown {type(exc).__name__ if exc else None}")

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await websocket.send(g.user)

    client = app.test_client()
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/ws").__enter__()
    assert (refused.value.status_code, refused.value.body) == (401, b"no token")
    with client.websocket_connect("/ws?token=ok") as ws:
        assert ws.receive_text() == "ann"
    assert calls == ["before /ws", "teardown None", "before /ws", "teardown None"]


def test_error_after_accept_closes_1011_and_the_app_keeps_serving(
    app: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        message = await websocket.receive()
        if message == "crash":
            raise RuntimeError("handler crashed")
        await websocket.send("fine")

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        with client.websocket_connect("/ws") as ws:
            ws.send_text("crash")
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == 1011
    assert "handler crashed" in caplog.text
    with client.websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "fine"


def test_error_after_accept_propagates_in_testing(app: Erlen) -> None:
    app.testing = True

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        raise LookupError("visible in tests")

    ws = app.test_client().websocket_connect("/ws")
    ws.__enter__()
    # The close (1011) arrives, and the handler's error is raised right there.
    with pytest.raises(LookupError, match="visible in tests"):
        ws.receive()
    assert ws.close_code == 1011
    ws.close()  # nothing left to raise


def test_error_handler_may_refuse(app: Erlen) -> None:
    @app.errorhandler(KeyError)
    async def missing(e: KeyError) -> tuple[str, int]:
        return "no such room", 404

    @app.websocket("/ws/<room>")
    async def handler(room: str) -> None:
        raise KeyError(room)

    with pytest.raises(WebSocketRejected) as refused:
        app.test_client().websocket_connect("/ws/x").__enter__()
    assert (refused.value.status_code, refused.value.body) == (404, b"no such room")


def test_client_disconnect_ends_the_handler(app: Erlen) -> None:
    codes: list[int | None] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive()
        except WebSocketDisconnect as e:
            codes.append(e.code)
            with pytest.raises(WebSocketDisconnect):
                await websocket.send("too late")
            with pytest.raises(WebSocketDisconnect):
                await websocket.receive()
            raise

    with app.test_client().websocket_connect("/ws") as ws:
        ws.close(1001)
    assert codes == [1001]


def test_send_rejects_other_types(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        with pytest.raises(TypeError, match="send_json"):
            await websocket.send(123)  # type: ignore[arg-type]
        await websocket.send(bytearray(b"ok"))
        await websocket.send("text")
        await websocket.receive()

    with app.test_client().websocket_connect("/ws") as ws:
        with pytest.raises(TypeError, match="binary"):
            ws.receive_text()
        with pytest.raises(TypeError, match="text"):
            ws.receive_bytes()


def test_blueprint_websocket_with_prefix_request_and_session(app: Erlen) -> None:
    bp = Blueprint("chat", __name__, url_prefix="/chat")

    @bp.websocket("/<room>")
    async def room(room: str) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "room": room,
                "endpoint": request.endpoint,
                "user": session.get("user"),
                "agent": request.headers.get("X-Agent"),
            }
        )

    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    app.register_blueprint(bp)
    client = app.test_client()
    client.get("/login")
    with client.websocket_connect("/chat/red", headers={"X-Agent": "test"}) as ws:
        assert ws.receive_json() == {
            "room": "red",
            "endpoint": "chat.room",
            "user": "ann",
            "agent": "test",
        }


def test_sync_handler_is_a_registration_error(app: Erlen) -> None:
    with pytest.raises(TypeError, match="async def"):

        @app.websocket("/ws")
        def handler() -> None:
            pass


def test_websocket_global_outside_a_handler() -> None:
    with pytest.raises(RuntimeError, match="outside of a WebSocket"):
        websocket.send  # noqa: B018
    with pytest.raises(RuntimeError, match="outside of a WebSocket"):
        websocket.__aiter__()


def test_http_request_to_a_websocket_route_is_not_found(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

    assert app.test_client().get("/ws").status_code == 404


def test_client_leaving_before_the_handshake(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        raise AssertionError("not reached")

    sent: list[dict[str, t.Any]] = []

    async def main() -> None:
        async def receive() -> dict[str, t.Any]:
            return {"type": "websocket.disconnect", "code": 1006}

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)

        await app({"type": "websocket", "path": "/ws", "headers": []}, receive, send)

    asyncio.run(main())
    assert sent == []


def test_websocket_object_without_an_app_context() -> None:
    # receive_json/send_json fall back to the standard library outside an app.
    out: list[dict[str, t.Any]] = []
    incoming = [{"type": "websocket.receive", "text": '{"a": 1}'}]

    async def receive() -> dict[str, t.Any]:
        return incoming.pop(0)

    async def send(message: dict[str, t.Any]) -> None:
        out.append(message)

    async def main() -> None:
        ws = WebSocket({"type": "websocket"}, receive, send, max_message_size=None)
        assert ws.subprotocols == [] and not ws.closed
        assert await ws.receive_json() == {"a": 1}
        await ws.send_json({"b": 2})
        await ws.close()
        await ws.close()  # twice is fine
        assert ws.closed

    asyncio.run(main())
    assert [m["type"] for m in out] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert out[1]["text"] == '{"b": 2}'


def test_send_failure_marks_the_socket_closed() -> None:
    async def receive() -> dict[str, t.Any]:
        raise AssertionError("not called")

    async def send(message: dict[str, t.Any]) -> None:
        if message["type"] != "websocket.accept":
            raise OSError("gone")

    async def main() -> None:
        ws = WebSocket({"type": "websocket"}, receive, send)
        with pytest.raises(WebSocketDisconnect) as gone:
            await ws.send("x")
        assert gone.value.code == 1006 and ws.closed
        await ws.close()  # no error: already closed

    asyncio.run(main())


def test_test_session_times_out_instead_of_hanging(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await websocket.receive()

    with app.test_client().websocket_connect("/ws", timeout=0.2) as ws:
        with pytest.raises(TimeoutError):
            ws.receive()


def test_streamed_rejection_body(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> t.Any:
        return Response(iter([b"streamed ", b"refusal"]), status=409)

    with pytest.raises(WebSocketRejected) as refused:
        app.test_client().websocket_connect("/ws").__enter__()
    assert (refused.value.status_code, refused.value.body) == (409, b"streamed refusal")


def test_close_after_the_client_left_is_quiet() -> None:
    async def receive() -> dict[str, t.Any]:
        raise AssertionError("not called")

    async def send(message: dict[str, t.Any]) -> None:
        if message["type"] == "websocket.close":
            raise OSError("gone")

    async def main() -> None:
        ws = WebSocket({"type": "websocket"}, receive, send)
        await ws.accept()
        await ws.close(1001)
        assert ws.closed and ws.close_code == 1001

    asyncio.run(main())


def test_subdomain_outside_server_name_is_not_found() -> None:
    app = Erlen("subs", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"

    @app.websocket("/ws", subdomain="chat")
    async def handler() -> None:
        await websocket.accept()

    session_ = WebSocketTestSession(app, "/ws", headers={"Host": "elsewhere.test"})
    with pytest.raises(WebSocketRejected) as refused, pytest.warns(UserWarning, match="<invalid>"):
        session_.__enter__()
    assert refused.value.status_code == 404


def test_untrusted_host_is_refused_with_400(app: Erlen) -> None:
    # Regression: TRUSTED_HOSTS was enforced for HTTP requests only.
    app.config["TRUSTED_HOSTS"] = ["good.test"]
    ran: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        ran.append(request.host)
        await websocket.accept()
        await websocket.send("hi")

    with pytest.raises(WebSocketRejected) as refused:
        WebSocketTestSession(app, "/ws", headers={"Host": "evil.test"}).__enter__()
    assert refused.value.status_code == 400 and b"not trusted" in refused.value.body
    assert ran == []
    with WebSocketTestSession(app, "/ws", headers={"Host": "good.test"}) as ws:
        assert ws.receive_text() == "hi"
    assert ran == ["good.test"]


def test_handler_finishing_without_close_is_reported(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

    with app.test_client().websocket_connect("/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert closed.value.code == 1000
        # After the end, further reads report it too instead of waiting.
        with pytest.raises(WebSocketDisconnect):
            ws.receive()
        ws.send_text("nobody listens")  # dropped quietly


# -- the Origin check (issue 15, finding 3) -------------------------------------------------------
#
# Cross-site WebSocket hijacking: a page on another site opens a socket to
# the app and the browser sends the user's cookies with the handshake. The
# Origin header says which site's page asks; by default only the app's own
# origin (the Host) and the TRUSTED_HOSTS may open one.


def _origin_app(app: Erlen) -> list[str]:
    ran: list[str] = []

    @app.before_request
    def hook() -> None:
        ran.append("before_request")

    @app.websocket("/ws")
    async def handler() -> None:
        ran.append("handler")
        await websocket.accept()
        await websocket.send(session.get("user", "anonymous"))

    return ran


def _connect(
    app: Erlen, origin: str | None, host: str = "localhost", extension: bool = True
) -> str:
    headers = {"Host": host}
    if origin is not None:
        headers["Origin"] = origin
    with WebSocketTestSession(app, "/ws", headers=headers, http_response_extension=extension) as ws:
        return ws.receive_text()


def _refused(
    app: Erlen, origin: str | None, host: str = "localhost", extension: bool = True
) -> WebSocketRejected:
    with pytest.raises(WebSocketRejected) as refused:
        _connect(app, origin, host, extension)
    return refused.value


@pytest.mark.parametrize("extension", [True, False], ids=["http-response", "close"])
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.test",
        "http://localhost.evil.test",
        "http://localhost:8000",
        "null",
        "evil",
        "",
    ],
)
def test_cross_origin_handshake_is_refused_before_any_code_runs(
    app: Erlen, origin: str, extension: bool
) -> None:
    # issue 15, finding 3: another site's page (or a sandboxed one: "null")
    # gets a 403, and neither the hooks nor the handler run.
    ran = _origin_app(app)
    refused = _refused(app, origin, extension=extension)
    assert refused.status_code == 403
    if extension:
        assert b"origin" in refused.body
    assert ran == []


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost", "localhost"),
        ("https://LocalHost", "localhost"),  # the scheme is not compared (a TLS proxy in front)
        ("http://example.test:8000", "example.test:8000"),
        ("https://example.test", "example.test:443"),
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_same_origin_handshake_is_allowed(app: Erlen, origin: str, host: str) -> None:
    # issue 15, finding 3
    ran = _origin_app(app)
    assert _connect(app, origin, host) == "anonymous"
    assert ran == ["before_request", "handler"]


def test_handshake_without_origin_is_allowed(app: Erlen) -> None:
    # issue 15, finding 3: browsers always send Origin with a WebSocket
    # handshake; a client without one (a script, a server) is no browser,
    # so no user's cookies ride along uninvited.
    _origin_app(app)
    assert _connect(app, None) == "anonymous"
    assert app.test_client().websocket_connect("/ws").__enter__().receive_text() == "anonymous"


def test_trusted_hosts_are_allowed_origins(app: Erlen) -> None:
    # issue 15, finding 3
    app.config["TRUSTED_HOSTS"] = [".example.test", "localhost"]
    _origin_app(app)
    assert _connect(app, "https://www.example.test", host="api.example.test") == "anonymous"
    assert _connect(app, "http://example.test:3000") == "anonymous"
    assert _refused(app, "https://example.test.evil").status_code == 403


def test_allowed_origins_setting(app: Erlen) -> None:
    # issue 15, finding 3: listed origins match exactly (scheme, host, port),
    # besides the app's own origin.
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = [
        "https://app.example.test",
        "http://localhost:3000",
        "https://other.test:443/",
    ]
    ran = _origin_app(app)
    assert _connect(app, "https://app.example.test") == "anonymous"
    assert _connect(app, "http://localhost:3000") == "anonymous"
    assert _connect(app, "https://other.test") == "anonymous"  # a default port is the same origin
    assert _connect(app, "http://localhost") == "anonymous"  # same origin
    assert _connect(app, None) == "anonymous"
    ran.clear()
    for origin in (
        "http://app.example.test",
        "https://app.example.test:8443",
        "https://sub.app.example.test",
        "null",
    ):
        assert _refused(app, origin).status_code == 403, origin
    assert ran == []


def test_allowed_origins_star_allows_any(app: Erlen) -> None:
    # issue 15, finding 3
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = "*"
    _origin_app(app)
    for origin in ("https://evil.test", "null", "evil"):
        assert _connect(app, origin) == "anonymous"
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = ["*"]
    assert _connect(app, "https://evil.test") == "anonymous"


def test_cross_origin_refusal_uses_the_apps_403_handler(app: Erlen) -> None:
    # issue 15, finding 3: the refusal is an ordinary 403 (Forbidden).
    _origin_app(app)

    @app.errorhandler(403)
    def forbidden(e: Exception) -> t.Any:
        return "go away", 403

    refused = _refused(app, "https://evil.test")
    assert (refused.status_code, refused.body) == (403, b"go away")


def test_close_from_a_background_task_is_answered_with_a_disconnect(app: Erlen) -> None:
    # Regression: the handler waits in receive() while a task it started
    # closes the socket. A real client answers the close frame and the server
    # (uvicorn) then ends that receive() with websocket.disconnect; the test
    # session did not, so leaving the block waited out its timeout.
    codes: list[int] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

        async def close_soon() -> None:
            await websocket.close(4000, "done")

        task = asyncio.create_task(close_soon())
        try:
            await websocket.receive()
        except WebSocketDisconnect as e:
            codes.append(e.code)
        await task

    with app.test_client().websocket_connect("/ws", timeout=2) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "done")
    assert codes == [4000]
