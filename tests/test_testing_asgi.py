"""The test client's ASGI transport: environ → scope, body messages, validation, contexts.

The rest of the suite runs every app-level test over both interfaces (see
``conftest.py``); this module tests the transport itself, so it picks the
interface explicitly.
"""

from __future__ import annotations

import asyncio
import io
import typing as t
from pathlib import Path

import pytest

from erlen import Erlen, g, request, send_file, stream_with_context
from erlen.testing import ASGIValidationError, EnvironBuilder, ErlenClient, environ_to_scope


@pytest.fixture
def app() -> Erlen:
    app = Erlen("asgi_transport_app", root_path="/nonexistent-erlen-root")
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


def _record(app: Erlen) -> list[t.Any]:
    """Wrap the app's ASGI side; return the list it fills with scopes and messages."""
    events: list[t.Any] = []
    inner = app.asgi_app

    async def recording(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        events.append(scope)

        async def noting_receive() -> dict[str, t.Any]:
            message = await receive()
            events.append(("receive", message))
            return t.cast(dict[str, t.Any], message)

        async def noting_send(message: dict[str, t.Any]) -> None:
            events.append(("send", message))
            await send(message)

        await inner(scope, noting_receive, noting_send)

    app.asgi_app = recording  # type: ignore[method-assign]
    return events


# -- choosing the interface ------------------------------------------------------------


def test_interface_kwarg_and_class_default(app: Erlen) -> None:
    assert ErlenClient.interface in ("wsgi", "asgi")
    assert app.test_client(interface="asgi").interface == "asgi"
    assert app.test_client(interface="wsgi").interface == "wsgi"
    with pytest.raises(ValueError, match="interface must be one of"):
        app.test_client(interface="cgi")


def test_each_interface_uses_its_own_side(app: Erlen) -> None:
    events = _record(app)

    @app.route("/")
    def index() -> str:
        return "ok"

    assert app.test_client(interface="wsgi").get("/").text == "ok"
    assert events == []
    assert app.test_client(interface="asgi").get("/").text == "ok"
    assert events[0]["type"] == "http"


# -- the scope ---------------------------------------------------------------------------


def test_environ_to_scope() -> None:
    environ = EnvironBuilder(
        path="/caf%C3%A9/a%2Fb",
        base_url="https://example.com:8443/root",
        query_string="q=1&r=%C3%A9",
        method="post",
        headers={"X-Thing": "1", "X-Thing-Two": "2"},
        data=b"body",
        content_type="text/plain",
        environ_base={"REMOTE_ADDR": "10.0.0.1", "REMOTE_PORT": "5555"},
    ).get_environ()
    environ["erlen._preserve_context"] = hook = lambda ctx: None
    scope = environ_to_scope(environ)
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    # The full path (root included), decoded; raw_path keeps the escapes.
    assert scope["path"] == "/root/café/a/b"
    assert scope["raw_path"] == b"/root/caf%C3%A9/a/b"
    assert scope["root_path"] == "/root"
    assert scope["query_string"] == b"q=1&r=%C3%A9"
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"example.com:8443"
    assert headers[b"content-type"] == b"text/plain"
    assert headers[b"content-length"] == b"4"
    assert headers[b"x-thing"] == b"1" and headers[b"x-thing-two"] == b"2"
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["client"] == ("10.0.0.1", 5555)
    assert scope["server"] == ("example.com", 8443)
    assert scope["extensions"]["http.response.pathsend"] == {}
    assert scope["extensions"]["erlen.preserve_context"] is hook


def test_request_values_match_over_both_interfaces(app: Erlen) -> None:
    @app.route("/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> dict[str, t.Any]:
        return {
            "rest": rest,
            "path": request.path,
            "script_root": request.script_root,
            "url": request.url,
            "args": request.args.to_dict(flat=False),
            "host": request.host,
            "scheme": request.scheme,
            "remote_addr": request.remote_addr,
            "headers": sorted((k.lower(), v) for k, v in request.headers.items()),
            "data": request.get_data(as_text=True),
        }

    kwargs: dict[str, t.Any] = {
        "base_url": "http://example.com/mount",
        "query_string": {"a": ["1", "2"], "é": "ü"},
        "headers": [("X-Twice", "1"), ("X-Twice", "2")],
        "data": "é" * 3000,
        "content_type": "text/plain; charset=utf-8",
    }
    over_wsgi = app.test_client(interface="wsgi").post("/caf%C3%A9/x", **kwargs).json
    over_asgi = app.test_client(interface="asgi").post("/caf%C3%A9/x", **kwargs).json
    assert over_asgi == over_wsgi
    assert over_asgi["rest"] == "café/x" and over_asgi["script_root"] == "/mount"


def test_path_that_is_not_utf8_is_replaced_as_servers_do() -> None:
    scope = environ_to_scope(EnvironBuilder(path="/a%FFb").get_environ())
    assert scope["path"] == "/a\ufffdb"
    assert scope["raw_path"] == b"/a%FFb"


# -- the body ------------------------------------------------------------------------------


def test_large_body_comes_in_several_messages_then_disconnect_after_the_response(
    app: Erlen,
) -> None:
    events = _record(app)

    @app.post("/")
    def upload() -> str:
        return str(len(request.get_data()))

    body = b"x" * 10_000
    assert app.test_client(interface="asgi").post("/", data=body).text == "10000"
    received = [m for kind, m in events[1:] if kind == "receive"]
    chunks = [m for m in received if m["type"] == "http.request"]
    assert len(chunks) > 1
    assert b"".join(m["body"] for m in chunks) == body
    assert [m["more_body"] for m in chunks] == [True] * (len(chunks) - 1) + [False]
    # Anything the app receives after the body is a disconnect, and only
    # once the response is complete.
    for i, (kind, message) in enumerate(events[1:]):
        if kind == "receive" and message["type"] == "http.disconnect":
            sent = [m for k, m in events[1 : i + 1] if k == "send"]
            assert (
                sent and sent[-1]["type"] == "http.response.body" and not sent[-1].get("more_body")
            )


def test_small_body_is_one_message(app: Erlen) -> None:
    events = _record(app)

    @app.post("/")
    async def upload() -> str:
        return request.get_data(as_text=True)

    assert app.test_client(interface="asgi").post("/", data="small").text == "small"
    assert [m for kind, m in events[1:] if kind == "receive"][0] == {
        "type": "http.request",
        "body": b"small",
        "more_body": False,
    }


def test_streamed_response_and_pathsend(app: Erlen, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_bytes(b"file contents")
    events = _record(app)

    @app.route("/stream")
    def stream() -> t.Any:
        @stream_with_context
        def generate() -> t.Iterator[str]:
            yield "a"
            yield request.args["x"]

        return generate()

    @app.route("/file")
    def file() -> t.Any:
        return send_file(target)

    client = app.test_client(interface="asgi")
    assert client.get("/stream?x=b").data == b"ab"
    rv = client.get("/file")
    assert rv.data == b"file contents" and rv.content_length == 13
    assert ("send", {"type": "http.response.pathsend", "path": str(target)}) in events


# -- exceptions and contexts -----------------------------------------------------------------


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_exception_reaches_the_test(app: Erlen, interface: str) -> None:
    @app.route("/")
    def boom() -> str:
        raise LookupError("from the view")

    with pytest.raises(LookupError, match="from the view") as raised:
        app.test_client(interface=interface).get("/")
    # Not chained to the client's own plumbing (a "no running event loop", say).
    assert raised.value.__context__ is None


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_outer_app_context_is_the_requests(app: Erlen, interface: str) -> None:
    @app.route("/")
    def index() -> str:
        return str(g.get("outer"))

    with app.app_context():
        g.outer = "set by the test"
        assert app.test_client(interface=interface).get("/").text == "set by the test"


def test_client_works_inside_a_running_loop(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return "from an async test"

    async def an_async_test() -> str:
        return t.cast(str, app.test_client(interface="asgi").get("/").text)

    assert asyncio.run(an_async_test()) == "from an async test"


def test_exception_inside_a_running_loop_reaches_the_test_unchained(app: Erlen) -> None:
    @app.route("/")
    def boom() -> str:
        raise LookupError("from the view")

    async def an_async_test() -> None:
        app.test_client(interface="asgi").get("/")

    with pytest.raises(LookupError, match="from the view") as raised:
        asyncio.run(an_async_test())
    assert raised.value.__context__ is None


# -- validation ---------------------------------------------------------------------------------


async def _start(send: t.Any, **extra: t.Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([{"type": "http.response.body", "body": b"x"}], "before http.response.start"),
        (
            [{"type": "http.response.start", "status": "200", "headers": []}],
            "status must be an int",
        ),
        (
            [{"type": "http.response.start", "status": 200, "headers": [(b"Content-Type", b"x")]}],
            "lower case",
        ),
        (
            [{"type": "http.response.start", "status": 200, "headers": [("content-type", "x")]}],
            "must be bytes",
        ),
        ([{"type": "http.response.start", "status": 200, "headers": [(b"x",)]}], "pair"),
        (
            [{"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\r\nb")]}],
            "line break",
        ),
        (["start", {"type": "http.response.start", "status": 200}], "sent twice"),
        (["start", {"type": "http.response.body", "body": "text"}], "must be bytes"),
        (
            ["start", {"type": "http.response.body", "body": b"", "more_body": 1}],
            "more_body must be a bool",
        ),
        (
            ["start", {"type": "http.response.body"}, {"type": "http.response.body"}],
            "after the response was complete",
        ),
        (["start", {"type": "http.response.pathsend", "path": "relative.txt"}], "absolute path"),
        (["start", {"type": "http.response.trailers"}], "unknown message type"),
        (
            ["start", {"type": "http.response.body", "body": b"x", "more_body": True}],
            "before completing the response",
        ),
        ([], "no http.response.start"),
        ([["http.response.start"]], "a message must be a dict, not list"),
        (
            [{"type": "http.response.start", "status": 200, "headers": {b"x": b"1"}}],
            "headers must be an iterable of pairs, not dict",
        ),
        (["start-trailers"], "trailers must be a bool"),
    ],
)
def test_validation_catches_protocol_slips(app: Erlen, messages: list[t.Any], problem: str) -> None:
    async def broken(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        for message in messages:
            if message == "start":
                await _start(send)
            elif message == "start-trailers":
                await _start(send, trailers="yes")
            else:
                await send(message)

    app.asgi_app = broken  # type: ignore[method-assign]
    client = app.test_client(interface="asgi")
    client.validate = True
    with pytest.raises(ASGIValidationError, match=problem):
        client.get("/")


def test_without_validation_a_sloppy_app_still_answers(app: Erlen) -> None:
    async def sloppy(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"X-Upper", b"1")]})
        await send({"type": "http.response.body", "body": b"made"})

    app.asgi_app = sloppy  # type: ignore[method-assign]
    client = app.test_client(interface="asgi")
    client.validate = False
    rv = client.get("/")
    assert rv.status == "201 Created" and rv.headers["X-Upper"] == "1" and rv.data == b"made"


# -- the WebSocket test session ----------------------------------------------------


class _RawASGI:
    """An object with just ``asgi_app``, what the WebSocket test session calls."""

    def __init__(self, asgi_app: t.Callable[..., t.Awaitable[None]]) -> None:
        self.asgi_app = asgi_app


def test_websocket_rejection_body_in_several_messages() -> None:
    from erlen.testing import WebSocketRejected, WebSocketTestSession

    async def app(scope: t.Any, receive: t.Any, send: t.Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send(
            {"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-a", b"1")]}
        )
        await send({"type": "websocket.http.response.body", "body": b"no ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"entry"})

    with pytest.raises(WebSocketRejected) as info:
        with WebSocketTestSession(t.cast(t.Any, _RawASGI(app)), "/ws", timeout=5):
            pass  # pragma: no cover - the connection is refused
    assert (info.value.status_code, info.value.headers, info.value.body) == (
        401,
        [("x-a", "1")],
        b"no entry",
    )


def test_websocket_raw_send_and_a_handler_that_never_finishes() -> None:
    from erlen.testing import WebSocketTestSession

    release = asyncio.Event()

    async def app(scope: t.Any, receive: t.Any, send: t.Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"].upper()})
        # Ignores the disconnect: the session's close can only wait so long.
        try:
            await asyncio.wait_for(release.wait(), 2.0)
        except TimeoutError:
            pass

    ws = WebSocketTestSession(t.cast(t.Any, _RawASGI(app)), "/ws", timeout=0.2).__enter__()
    ws.send({"type": "websocket.receive", "text": "hi"})
    assert ws.receive_text() == "HI"
    with pytest.raises(TimeoutError, match="did not finish within 0.2 seconds"):
        ws.close()
    assert ws._thread is not None
    ws._thread.join(5.0)  # the handler gives up by itself within 2 seconds
    assert not ws._thread.is_alive()


def test_websocket_connect_sends_only_live_cookies() -> None:
    from datetime import UTC, datetime, timedelta

    from erlen import websocket

    app = Erlen("ws_cookies", root_path="/nonexistent-erlen-root")

    @app.websocket("/ws")
    async def ws_view() -> None:
        await websocket.accept()
        await websocket.send(request.headers.get("Cookie", "-"))

    client = app.test_client()
    client.set_cookie("old", "1")
    client.get_cookie("old").expires = datetime.now(UTC) - timedelta(seconds=1)
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "-"
    client.set_cookie("live", "2")
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "live=2"


def test_without_validation_unknown_messages_are_ignored_and_no_start_fails(app: Erlen) -> None:
    async def sloppy(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        await _start(send)
        await send({"type": "http.response.trailers", "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def silent(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        pass

    client = app.test_client(interface="asgi")
    client.validate = False
    app.asgi_app = sloppy  # type: ignore[method-assign]
    assert client.get("/").data == b"ok"
    app.asgi_app = silent  # type: ignore[method-assign]
    with pytest.raises(ASGIValidationError, match="returned without sending"):
        client.get("/")


def test_request_body_without_an_input_stream() -> None:
    from erlen.testing.asgi import _request_body

    assert _request_body({"CONTENT_LENGTH": "3"}) == b""
    assert _request_body({"wsgi.input": io.BytesIO(b"abcdef"), "CONTENT_LENGTH": "3"}) == b"abc"
