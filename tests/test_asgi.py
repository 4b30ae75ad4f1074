"""The ASGI adapter: one app object for WSGI and ASGI servers, async dispatch,
bodies and limits, streaming, files, lifespan, and a real uvicorn server."""

from __future__ import annotations

import asyncio
import http.client
import inspect
import logging
import os
import threading
import time
import typing as t

import pytest
from live_servers import ServerProcess, UvicornLiveServer, free_port, http_scope

from erlen import (
    Erlen,
    Response,
    abort,
    current_app,
    g,
    request,
    send_file,
    stream_with_context,
    url_for,
)

Message = dict[str, t.Any]


class Result:
    """What the app sent for one ASGI http request."""

    def __init__(self, messages: list[Message], received: int) -> None:
        self.messages = messages
        self.received = received  # how many times the app called receive()
        start = next(
            (m for m in messages if m["type"] == "http.response.start"),
            {"status": 0, "headers": []},
        )
        self.status: int = start["status"]  # 0: nothing was sent
        self.headers = {k.decode(): v.decode() for k, v in start["headers"]}
        self.body = b"".join(
            m.get("body", b"") for m in messages if m["type"] == "http.response.body"
        )


def run_asgi(
    app: t.Any,
    path: str = "/",
    method: str = "GET",
    body: list[bytes] | bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    query: bytes = b"",
    root_path: str = "",
    extensions: dict[str, t.Any] | None = None,
    disconnect: bool = False,
    send_hook: t.Callable[[Message], t.Awaitable[None]] | None = None,
) -> Result:
    """Drive one http scope through ``app`` in process, bounded to 10 seconds."""
    # As a server does: at least one http.request message, empty without a body.
    chunks = [body] if isinstance(body, bytes) else list(body or [b""])
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers or []]
    if isinstance(body, bytes) and not any(k == b"content-length" for k, _ in raw_headers):
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = http_scope(path, method)
    scope.update(
        query_string=query,
        root_path=root_path,
        headers=[(b"host", b"testserver"), *raw_headers],
        server=("testserver", 80),
        extensions=extensions or {},
    )
    messages: list[Message] = []
    received = 0
    gone: asyncio.Event | None = None  # made inside the loop below

    async def main() -> None:
        nonlocal gone
        gone = asyncio.Event()

        async def receive() -> Message:
            nonlocal received
            received += 1
            if chunks:
                chunk = chunks.pop(0)
                return {
                    "type": "http.request",
                    "body": chunk,
                    "more_body": bool(chunks) or disconnect,
                }
            if disconnect:
                return {"type": "http.disconnect"}
            assert gone is not None
            await gone.wait()  # the client stays until the response is complete
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            messages.append(message)
            if send_hook is not None:
                await send_hook(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                assert gone is not None
                gone.set()

        await asyncio.wait_for(app(scope, receive, send), 10)

    asyncio.run(main())
    return Result(messages, received)


@pytest.fixture
def app() -> Erlen:
    app = Erlen("erlen_asgi_test", root_path=os.path.dirname(__file__))
    app.config.update(SECRET_KEY="test key")
    return app


# -- one object, two interfaces ------------------------------------------------------


def test_servers_detect_asgi_while_wsgi_calls_stay_plain(app: Erlen) -> None:
    # uvicorn (interface="auto") and hypercorn inspect app.__call__.
    assert asyncio.iscoroutinefunction(app.__call__)
    assert inspect.iscoroutinefunction(app.__call__)
    import uvicorn
    from hypercorn.utils import is_asgi

    config = uvicorn.Config(app)
    config.load()
    assert config.interface == "asgi3"
    assert is_asgi(app)
    # The class's __call__ (what app(...) runs) is a plain function: WSGI as before.
    assert not inspect.iscoroutinefunction(type(app).__call__)

    @app.route("/")
    def index() -> str:
        return "hi"

    assert app.test_client().get("/").data == b"hi"
    assert app.__call__.__name__ == "__call__"
    # Calling the inspected attribute serves WSGI too.
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    seen = []
    body = app.__call__(environ, lambda status, headers: seen.append(status))
    assert b"".join(body) == b"hi" and seen == ["200 OK"]


def test_app_is_freed_when_its_last_reference_goes() -> None:
    # Regression: the app.__call__ entry and the static view held the app, so
    # an app dropped by its user waited for the garbage collector (a test
    # suite making an app per test kept them all until a collection).
    import gc
    import weakref

    gc.disable()
    try:
        app = Erlen("freed", root_path=os.path.dirname(__file__))
        assert app.has_static_folder and app.view_functions["static"]
        assert inspect.iscoroutinefunction(app.__call__)
        ref = weakref.ref(app)
        del app
        assert ref() is None
    finally:
        gc.enable()


def test_a_kept_call_entry_outliving_its_app_says_so() -> None:
    import gc

    app = Erlen("short")
    entry = app.__call__
    del app
    gc.collect()
    with pytest.raises(ReferenceError, match="no longer exists"):
        entry({}, lambda status, headers: None)


def test_static_view_serves_through_its_weak_reference(app: Erlen) -> None:
    response = app.test_client().get("/static/does-not-exist.txt")
    assert response.status_code == 404
    with open(__file__, "rb") as f:
        source = f.read()
    app.static_folder = os.path.dirname(__file__)
    served = app.test_client().get(f"/static/{os.path.basename(__file__)}")
    assert served.status_code == 200 and served.data == source
    served.close()


def test_asgi2_call_returns_an_instance(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return "two"

    class ASGI2:
        def __init__(self, inner: t.Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Message, receive: t.Any, send: t.Any) -> None:
            instance = self.inner(scope)
            await instance(receive, send)

    assert run_asgi(ASGI2(app)).body == b"two"


def test_asgi_app_is_the_middleware_seam(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return "inner"

    inner = app.asgi_app

    async def middleware(scope: Message, receive: t.Any, send: t.Any) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-mw", b"1"))
            await send(message)

        await inner(scope, receive, tagged)

    app.asgi_app = middleware  # type: ignore[method-assign]
    result = run_asgi(app)
    assert result.headers["x-mw"] == "1" and result.body == b"inner"


def test_unknown_scope_type_is_an_error(app: Erlen) -> None:
    async def nothing(*args: t.Any) -> None:
        raise AssertionError("not called")

    async def main() -> None:
        await app({"type": "unknown"}, nothing, nothing)

    with pytest.raises(ValueError, match="unknown"):
        asyncio.run(main())


# -- where code runs -------------------------------------------------------------------


def test_async_view_runs_on_the_loop_and_sync_view_in_a_thread(app: Erlen) -> None:
    threads: dict[str, int] = {}

    @app.route("/async")
    async def on_loop() -> str:
        threads["async"] = threading.get_ident()
        threads["loop"] = id(asyncio.get_running_loop())
        return request.args["x"]

    @app.route("/sync")
    def in_thread() -> str:
        threads["sync"] = threading.get_ident()
        g.seen = request.args["x"]
        return f"{request.path} {g.seen} {threading.current_thread().name.split('_')[0]}"

    assert run_asgi(app, "/async", query=b"x=1").body == b"1"
    assert run_asgi(app, "/sync", query=b"x=2").body == b"/sync 2 erlen-asgi"
    assert threads["sync"] != threads["async"]


def test_sync_view_runs_coroutines_on_the_server_loop(app: Erlen) -> None:
    loops = []

    async def fetch() -> str:
        loops.append(asyncio.get_running_loop())
        return request.args["q"]

    @app.route("/")
    def index() -> str:
        loops.append(threading.get_ident())
        return current_app.ensure_sync(fetch)()

    result = run_asgi(app, query=b"q=found")
    assert result.body == b"found"
    assert loops[1] is not None and isinstance(loops[1], asyncio.AbstractEventLoop)


def test_thread_pool_is_bounded_by_config(app: Erlen) -> None:
    app.config["ASGI_MAX_THREADS"] = 1
    names = set()

    @app.route("/")
    def index() -> str:
        names.add(threading.current_thread().name)
        return "ok"

    for _ in range(3):
        run_asgi(app)
    assert len(names) == 1
    assert app._asgi_pool.size == 1  # type: ignore[attr-defined]


def test_async_and_sync_hooks_and_handlers(app: Erlen) -> None:
    calls: list[str] = []

    @app.before_request
    async def before_async() -> None:
        calls.append("before-async")
        g.user = "ann"

    @app.before_request
    def before_sync() -> None:
        calls.append("before-sync")

    @app.url_value_preprocessor
    async def pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        calls.append(f"pre-{endpoint}")

    @app.after_request
    async def after_async(response: Response) -> Response:
        response.headers["X-After"] = g.user
        return response

    @app.after_request
    def after_sync(response: Response) -> Response:
        calls.append("after-sync")
        return response

    @app.teardown_request
    async def teardown_async(exc: BaseException | None) -> None:
        calls.append(f"teardown-async-{request.path}")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        calls.append("teardown-app")

    @app.errorhandler(418)
    async def teapot(e: Exception) -> tuple[str, int]:
        return "short and stout", 418

    @app.route("/")
    async def index() -> str:
        from erlen import after_this_request

        @after_this_request
        async def once(response: Response) -> Response:
            response.headers["X-Once"] = "1"
            return response

        return g.user

    @app.route("/tea")
    def tea() -> str:
        abort(418)

    result = run_asgi(app)
    assert (result.status, result.body, result.headers["x-after"], result.headers["x-once"]) == (
        200,
        b"ann",
        "ann",
        "1",
    )
    assert calls == [
        "pre-index",
        "before-async",
        "before-sync",
        "after-sync",
        "teardown-async-/",
        "teardown-app",
    ]
    calls.clear()
    result = run_asgi(app, "/tea")
    assert (result.status, result.body) == (418, b"short and stout")
    assert calls[-2:] == ["teardown-async-/tea", "teardown-app"]


def test_before_request_response_skips_the_view(app: Erlen) -> None:
    @app.before_request
    async def gate() -> t.Any:
        if request.args.get("deny"):
            return "denied", 403
        return None

    @app.route("/")
    async def index() -> str:
        return "view"

    assert run_asgi(app, query=b"deny=1").status == 403
    assert run_asgi(app).body == b"view"


def test_blueprint_handlers_and_sync_teardown(app: Erlen) -> None:
    from erlen import Blueprint

    bp = Blueprint("bp", __name__, url_prefix="/bp")
    torn: list[str] = []

    @bp.errorhandler(KeyError)
    async def missing(e: KeyError) -> tuple[str, int]:
        return f"bp missing {e.args[0]}", 404

    @bp.route("/<name>")
    async def show(name: str) -> str:
        raise KeyError(name)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append(request.path)

    app.register_blueprint(bp)
    result = run_asgi(app, "/bp/x")
    assert (result.status, result.body) == (404, b"bp missing x")
    assert torn == ["/bp/x"]


def test_routing_errors_and_options(app: Erlen) -> None:
    @app.route("/items/", methods=["GET", "POST"])
    async def items() -> str:
        return "items"

    assert run_asgi(app, "/nope").status == 404
    assert run_asgi(app, "/items/", method="DELETE").status == 405
    redirect = run_asgi(app, "/items", query=b"a=1")
    assert redirect.status == 308 and redirect.headers["location"].endswith("/items/?a=1")
    options = run_asgi(app, "/items/", method="OPTIONS")
    assert options.status == 200 and set(options.headers["allow"].split(", ")) >= {
        "GET",
        "POST",
        "OPTIONS",
    }


def test_subclass_overrides_still_apply(app: Erlen) -> None:
    class Custom(Erlen):
        def dispatch_request(self) -> t.Any:
            return "custom dispatch " + request.path

        def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
            response = super().finalize_request(rv, from_error_handler)
            response.headers["X-Custom"] = "yes"
            return response

        def handle_user_exception(self, e: Exception) -> t.Any:
            return "custom handled", 409

    custom = Custom("custom")
    result = run_asgi(custom, "/anything")
    assert (result.body, result.headers["x-custom"]) == (b"custom dispatch /anything", "yes")

    class Failing(Custom):
        def dispatch_request(self) -> t.Any:
            raise RuntimeError("boom")

        def handle_exception(self, e: Exception) -> Response:
            return Response("custom 500", status=500)

    failing = Failing("failing")
    assert (run_asgi(failing).status, run_asgi(failing).body) == (409, b"custom handled")


def test_wsgi_async_views_see_their_own_request(app: Erlen) -> None:
    # The WSGI side keeps one event loop per thread; each request must still
    # see its own context, not the one the loop was created in.
    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return request.args["n"]

    client = app.test_client()
    assert [client.get(f"/?n={n}").data for n in range(3)] == [b"0", b"1", b"2"]


# -- request values ------------------------------------------------------------------------


def test_request_values_from_the_scope(app: Erlen) -> None:
    @app.route("/info")
    async def info() -> dict[str, t.Any]:
        return {
            "path": request.path,
            "root": request.script_root,
            "url": request.url,
            "args": request.args.to_dict(),
            "agent": request.headers["User-Agent"],
            "addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "environ": [
                request.environ["PATH_INFO"],
                request.environ["HTTP_USER_AGENT"],
                request.environ["SCRIPT_NAME"],
            ],
            "link": url_for("info", page=2),
        }

    result = run_asgi(
        app, "/mount/info", query=b"a=1", root_path="/mount", headers=[("User-Agent", "ua/1")]
    )
    assert result.status == 200
    data = __import__("json").loads(result.body)
    assert data == {
        "path": "/info",
        "root": "/mount",
        "url": "http://testserver/mount/info?a=1",
        "args": {"a": "1"},
        "agent": "ua/1",
        "addr": "127.0.0.1",
        "scheme": "http",
        "host": "testserver",
        "environ": ["/info", "ua/1", "/mount"],
        "link": "/mount/info?page=2",
    }


def test_request_without_server_or_client(app: Erlen) -> None:
    from erlen.asgi import make_request

    req = make_request(
        app.request_class,
        {
            "type": "http",
            "path": "x",
            "headers": [(b"x-a", b"1"), (b"x-a", b"2"), (b"content-type", b"text/plain")],
        },
    )
    assert (req.path, req.server, req.remote_addr, req.scheme, req.method) == (
        "/x",
        None,
        None,
        "http",
        "GET",
    )
    assert req.environ["HTTP_X_A"] == "1,2" and req.environ["CONTENT_TYPE"] == "text/plain"
    ws = make_request(app.request_class, {"type": "websocket", "path": "/", "headers": []})
    assert ws.scheme == "ws" and ws.stream.read() == b""


# -- bodies and limits -----------------------------------------------------------------------


def test_json_body_in_chunks_for_an_async_view(app: Erlen) -> None:
    @app.post("/echo")
    async def echo() -> t.Any:
        return {"got": request.get_json()}

    result = run_asgi(
        app,
        "/echo",
        "POST",
        [b'{"a": ', b"[1, 2]}"],
        headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
    )
    assert result.status == 200 and result.body == b'{"got":{"a":[1,2]}}\n'


def test_sync_view_streams_the_body_from_the_loop(app: Erlen) -> None:
    sizes: list[int] = []

    @app.post("/upload")
    def upload() -> str:
        total = 0
        while True:
            chunk = request.stream.read(4)
            if not chunk:
                break
            sizes.append(len(chunk))
            total += len(chunk)
        return str(total)

    result = run_asgi(
        app,
        "/upload",
        "POST",
        [b"abcdef", b"ghij", b""],
        headers=[("Transfer-Encoding", "chunked")],
    )
    assert result.body == b"10"
    assert sizes == [4, 2, 4]


def test_form_body(app: Erlen) -> None:
    @app.post("/form")
    async def form() -> str:
        return request.form["name"]

    result = run_asgi(
        app,
        "/form",
        "POST",
        b"name=ann",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
    )
    assert result.body == b"ann"


def test_declared_length_over_limit_is_413_without_reading(app: Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    async def index() -> str:
        return request.get_data(as_text=True)

    result = run_asgi(app, "/", "POST", [b"x" * 100], headers=[("Content-Length", "100")])
    assert result.status == 413 and result.received == 0


def test_undeclared_length_over_limit_is_413_early(app: Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    chunks = [b"x" * 6] * 50

    @app.post("/async")
    async def on_loop() -> str:
        return request.get_data(as_text=True)

    @app.post("/sync")
    def in_thread() -> str:
        return request.get_data(as_text=True)

    for path in ("/async", "/sync"):
        result = run_asgi(
            app, path, "POST", list(chunks), headers=[("Transfer-Encoding", "chunked")]
        )
        assert result.status == 413
        assert result.received < 5  # stopped reading right after the limit
    assert run_asgi(app, "/async", "POST", b"small").body == b"small"


# issue 15, finding 9: with both Transfer-Encoding and Content-Length, the
# transfer coding wins (RFC 9112 section 6.3). The server de-chunks the body
# and marks its end (more_body), so the app reads what the server delivers:
# neither a cut at the declared length nor a wait for bytes that never come.
@pytest.mark.parametrize(
    "declared", ["3", "100", "0"], ids=["declared-shorter", "declared-longer", "declared-zero"]
)
@pytest.mark.parametrize("path", ["/sync", "/async", "/sync-stream", "/async-stream"])
@pytest.mark.parametrize("te_first", [False, True], ids=["cl-first", "te-first"])
def test_transfer_encoding_wins_over_content_length(
    app: Erlen, declared: str, path: str, te_first: bool
) -> None:
    # issue 15, finding 9
    @app.post("/sync")
    def in_thread() -> t.Any:
        return {"length": request.content_length, "body": request.get_data(as_text=True)}

    @app.post("/async")
    async def on_loop() -> t.Any:
        return {"length": request.content_length, "body": request.get_data(as_text=True)}

    @app.post("/sync-stream")
    def stream_in_thread() -> t.Any:
        return {"length": request.content_length, "body": request.stream.read().decode()}

    @app.post("/async-stream")
    async def stream_on_loop() -> t.Any:
        return {"length": request.content_length, "body": request.stream.read().decode()}

    headers = [("Content-Length", declared), ("Transfer-Encoding", "chunked")]
    if te_first:
        headers.reverse()
    result = run_asgi(app, path, "POST", [b"abcdef", b"ghij"], headers=headers)
    assert (result.status, result.body) == (200, b'{"body":"abcdefghij","length":null}\n')


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_transfer_encoding_with_content_length_keeps_the_size_limit(app: Erlen, path: str) -> None:
    # issue 15, finding 9: the declared length neither lifts MAX_CONTENT_LENGTH
    # (a small Content-Length before a large chunked body) nor trips it early
    # (a large Content-Length before a small one).
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/sync")
    def in_thread() -> str:
        return request.get_data(as_text=True)

    @app.post("/async")
    async def on_loop() -> str:
        return request.get_data(as_text=True)

    chunked = ("Transfer-Encoding", "chunked")
    result = run_asgi(
        app, path, "POST", [b"x" * 6] * 50, headers=[("Content-Length", "3"), chunked]
    )
    assert result.status == 413
    assert result.received < 5  # stopped reading right after the limit
    result = run_asgi(app, path, "POST", [b"small"], headers=[("Content-Length", "1000"), chunked])
    assert (result.status, result.body) == (200, b"small")


def test_bad_content_length_is_400(app: Erlen) -> None:
    @app.post("/")
    async def index() -> str:
        return request.get_data(as_text=True)

    assert run_asgi(app, "/", "POST", [b"abc"], headers=[("Content-Length", "abc")]).status == 400


def test_disconnect_mid_body_then_the_app_keeps_serving(app: Erlen) -> None:
    @app.post("/async")
    async def on_loop() -> str:
        return request.get_data(as_text=True)

    @app.post("/sync")
    def in_thread() -> str:
        return request.get_data(as_text=True)

    for path in ("/async", "/sync"):
        result = run_asgi(
            app, path, "POST", [b"part"], headers=[("Content-Length", "100")], disconnect=True
        )
        assert result.status == 400
    assert run_asgi(app, "/async", "POST", b"whole").body == b"whole"


def test_body_read_on_the_loop_without_prefetch_is_a_clear_error(app: Erlen) -> None:
    from erlen.asgi import _ASGIInput

    async def main() -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"x"}

        body = _ASGIInput(receive)
        with pytest.raises(RuntimeError, match="not read before"):
            body.read(1)

    asyncio.run(main())


def test_get_without_body_never_waits_for_one(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return repr(request.get_data())

    result = run_asgi(app)
    assert result.body == b"b''" and result.received == 0


def test_http2_body_without_length_is_read(app: Erlen) -> None:
    @app.post("/")
    async def index() -> str:
        return request.get_data(as_text=True)

    async def main() -> bytes:
        messages: list[Message] = []
        parts = [
            {"type": "http.request", "body": b"h2 ", "more_body": True},
            {"type": "http.request", "body": b"body"},
        ]

        async def receive() -> Message:
            return parts.pop(0)

        async def send(message: Message) -> None:
            messages.append(message)

        scope = {"type": "http", "http_version": "2", "method": "POST", "path": "/", "headers": []}
        await app(scope, receive, send)
        return t.cast(bytes, messages[-1]["body"])

    assert asyncio.run(main()) == b"h2 body"


def test_body_headers_read_from_the_raw_scope(app: Erlen) -> None:
    # The values a body needs come from one scan of the raw headers: the
    # first Content-Type counts (as in Headers.get), a Transfer-Encoding wins
    # over a Content-Length before or after it, a zero length means no body.
    @app.post("/")
    async def index() -> str:
        return f"{request.mimetype} {request.content_length} {request.get_data()!r}"

    two_types = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Type", "text/plain"),
    ]
    assert run_asgi(app, method="POST", body=b"{}", headers=two_types).body == (
        b"application/json 2 b'{}'"
    )
    for headers in (
        [("Content-Length", "0"), ("Transfer-Encoding", "chunked")],
        [("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
    ):
        result = run_asgi(app, method="POST", body=[b"ab", b"c"], headers=headers)
        assert result.body == b" None b'abc'", headers
    result = run_asgi(app, method="POST", body=[b""], headers=[("Content-Length", "0")])
    assert (result.body, result.received) == (b" 0 b''", 0)
    # Matching with TRUSTED_HOSTS reads the Host header: the Headers object
    # exists before the body is read, and the values come from it.
    app.config["TRUSTED_HOSTS"] = ["testserver"]
    assert run_asgi(app, method="POST", body=b"{}", headers=two_types).body == (
        b"application/json 2 b'{}'"
    )


# -- errors ------------------------------------------------------------------------------------


def test_exception_in_async_view_is_500_and_the_app_keeps_serving(
    app: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    @app.route("/boom")
    async def boom() -> str:
        raise RuntimeError("async boom")

    @app.route("/")
    async def index() -> str:
        return "fine"

    with caplog.at_level(logging.ERROR):
        result = run_asgi(app, "/boom")
    assert result.status == 500
    assert "async boom" in caplog.text and "Exception on /boom [GET]" in caplog.text
    assert run_asgi(app).body == b"fine"


def test_500_handler_may_be_async(app: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    @app.errorhandler(500)
    async def oops(e: t.Any) -> tuple[str, int]:
        return f"handled {type(e.original_exception).__name__}", 500

    @app.route("/")
    def index() -> str:
        raise ValueError("x")

    with caplog.at_level(logging.CRITICAL):
        result = run_asgi(app)
    assert (result.status, result.body) == (500, b"handled ValueError")


def test_exceptions_propagate_in_testing(app: Erlen) -> None:
    app.testing = True

    @app.route("/")
    async def index() -> str:
        raise LookupError("propagated")

    with pytest.raises(LookupError, match="propagated"):
        run_asgi(app)


def test_unhandled_error_without_handler_and_http_error_handler(app: Erlen) -> None:
    @app.errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return "custom 404", 404

    assert run_asgi(app, "/missing").body == b"custom 404"


def test_invalid_return_value_is_500(app: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    @app.route("/")
    async def index() -> None:
        return None

    with caplog.at_level(logging.CRITICAL):
        assert run_asgi(app).status == 500


# -- responses -----------------------------------------------------------------------------------


def test_head_and_no_body_statuses(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return "body"

    @app.route("/empty")
    async def empty() -> tuple[str, int]:
        return "", 204

    head = run_asgi(app, method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "4"
    assert run_asgi(app, "/empty").body == b""


def test_list_body_of_several_parts(app: Erlen) -> None:
    @app.route("/")
    async def index() -> Response:
        return Response([b"a", "b", bytearray(b"c")])

    assert run_asgi(app).body == b"abc"


def test_streamed_sync_generator_with_context(app: Erlen) -> None:
    @app.route("/")
    def index() -> t.Any:
        @stream_with_context
        def generate() -> t.Iterator[str]:
            yield request.args["a"]
            yield ""
            yield b"-".decode()
            yield request.args["b"]

        return generate()

    result = run_asgi(app, query=b"a=1&b=2")
    assert result.body == b"1-2"
    assert [m.get("more_body", False) for m in result.messages[1:]] == [True, True, True, False]


def test_streamed_async_generator(app: Erlen) -> None:
    @app.route("/")
    async def index() -> t.Any:
        async def generate() -> t.AsyncIterator[t.Any]:
            for part in ("a", b"b", "", "c"):
                await asyncio.sleep(0)
                yield part

        return generate(), {"Content-Type": "text/plain"}

    result = run_asgi(app)
    assert (result.body, result.headers["content-type"]) == (b"abc", "text/plain")


def test_disconnect_mid_stream_stops_and_closes_the_body(app: Erlen) -> None:
    state = {"sent": 0, "closed": False}

    @app.route("/")
    def index() -> t.Any:
        def forever() -> t.Iterator[bytes]:
            try:
                while True:
                    state["sent"] += 1
                    yield b"tick "
            finally:
                state["closed"] = True

        return forever()

    async def disconnect_after_three(message: Message) -> None:
        if state["sent"] >= 3:
            raise OSError("client went away")

    @app.route("/async")
    async def async_stream() -> t.Any:
        async def forever() -> t.AsyncIterator[bytes]:
            try:
                while True:
                    await asyncio.sleep(0.01)
                    yield b"tick "
            finally:
                state["async_closed"] = True

        return forever()

    result = run_asgi(app, send_hook=disconnect_after_three)
    assert result.status == 200 and state["closed"] and state["sent"] < 10
    result = run_asgi(app, "/async", disconnect=True)
    assert result.status == 200 and state.get("async_closed")


def test_send_file_uses_pathsend_when_offered(app: Erlen, tmp_path: t.Any) -> None:
    target = tmp_path / "data.txt"
    target.write_bytes(b"0123456789" * 1000)

    @app.route("/file")
    def file() -> Response:
        return send_file(str(target))

    offered = run_asgi(app, "/file", extensions={"http.response.pathsend": {}})
    assert offered.messages[-1] == {"type": "http.response.pathsend", "path": str(target)}
    plain = run_asgi(app, "/file")
    assert plain.body == target.read_bytes() and plain.headers["content-length"] == "10000"
    ranged = run_asgi(
        app, "/file", headers=[("Range", "bytes=5-14")], extensions={"http.response.pathsend": {}}
    )
    assert ranged.status == 206 and ranged.body == b"5678901234"


def test_pathsend_only_for_whole_real_files(app: Erlen, tmp_path: t.Any) -> None:
    import io

    from erlen.asgi import _pathsend_path

    target = tmp_path / "f.bin"
    target.write_bytes(b"abc")
    with open(target, "rb") as f:
        assert _pathsend_path(f, Response(f, headers={"Content-Length": "3"})) == str(target)
        assert _pathsend_path(f, Response(f, headers={"Content-Length": "2"})) is None
        f.read(1)
        assert _pathsend_path(f, Response(f, headers={"Content-Length": "3"})) is None
    assert _pathsend_path(f, Response(f, headers={"Content-Length": "3"})) is None  # closed
    assert _pathsend_path(io.BytesIO(b"x"), Response()) is None


def test_response_call_on_close_runs(app: Erlen) -> None:
    closed: list[str] = []

    @app.route("/")
    async def index() -> Response:
        response = Response("x")
        response.call_on_close(lambda: closed.append("closed"))
        return response

    assert run_asgi(app).body == b"x"
    assert closed == ["closed"]


def test_send_failure_after_the_client_left_is_quiet(app: Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        return "x"

    async def broken(message: Message) -> None:
        raise OSError("gone")

    result = run_asgi(app, send_hook=broken)
    assert result.status == 200  # the start was attempted; nothing raised


# -- lifespan ------------------------------------------------------------------------------------------


def _lifespan(app: Erlen, fail: bool = False) -> list[Message]:
    sent: list[Message] = []

    async def main() -> None:
        incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

        async def receive() -> Message:
            return incoming.pop(0)

        async def send(message: Message) -> None:
            sent.append(message)

        await asyncio.wait_for(
            app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send), 5
        )

    asyncio.run(main())
    return sent


def test_lifespan_runs_serving_hooks_in_an_app_context(app: Erlen) -> None:
    events: list[str] = []

    @app.before_serving
    async def open_pool() -> None:
        events.append(f"start {current_app.name}")

    @app.before_serving
    def warm() -> None:
        g.warm = True
        events.append("warm")

    @app.after_serving
    async def close_pool() -> None:
        events.append("stop")

    sent = _lifespan(app)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["start erlen_asgi_test", "warm", "stop"]


def test_lifespan_startup_failure_is_reported(app: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    @app.before_serving
    def broken() -> None:
        raise ConnectionError("no database")

    with caplog.at_level(logging.CRITICAL):
        sent = _lifespan(app)
    assert sent == [{"type": "lifespan.startup.failed", "message": "ConnectionError: no database"}]


def test_lifespan_shutdown_closes_the_pool(app: Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    run_asgi(app)
    assert "_asgi_pool" in app.__dict__
    _lifespan(app)
    assert "_asgi_pool" not in app.__dict__


# -- a real server ---------------------------------------------------------------------------------------


def test_real_uvicorn_http_websocket_and_lifespan(
    app: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    from websockets.sync.client import connect

    from erlen import websocket

    events: list[str] = []

    @app.before_serving
    async def started() -> None:
        events.append("started")

    @app.after_serving
    async def stopped() -> None:
        events.append("stopped")

    @app.route("/")
    def index() -> str:
        return f"hello {request.args.get('name', 'world')}"

    @app.post("/json")
    async def json_post() -> dict[str, t.Any]:
        return {"sum": sum(request.get_json())}

    @app.route("/boom")
    async def boom() -> str:
        raise RuntimeError("boom under uvicorn")

    @app.route("/stream")
    def stream() -> t.Any:
        return (f"{i}\n" for i in range(5))

    @app.websocket("/ws/<room>")
    async def ws(room: str) -> None:
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"{room}:{message}")

    with caplog.at_level(logging.CRITICAL), UvicornLiveServer(app, lifetime=30) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/?name=uv")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"hello uv")
        conn.request(
            "POST", "/json", body=b"[1, 2, 3]", headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert response.read() == b'{"sum":6}\n'
        conn.request("GET", "/boom")
        response = conn.getresponse()
        assert response.status == 500
        response.read()
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.read() == b"0\n1\n2\n3\n4\n"
        conn.request("GET", "/")  # the same connection still serves after the 500
        assert conn.getresponse().read() == b"hello world"
        conn.close()
        with connect(
            f"ws://127.0.0.1:{server.port}/ws/lobby", open_timeout=5, close_timeout=5
        ) as client:
            client.send("hi")
            assert client.recv(timeout=5) == "lobby:hi"
        from websockets.exceptions import InvalidStatus

        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{server.port}/nowhere", open_timeout=5)
        assert refused.value.response.status_code == 404
        # issue 15, finding 3: another site's page is refused (403) before
        # the handler runs; a page of the app's own origin is served.
        with pytest.raises(InvalidStatus) as refused:
            connect(
                f"ws://127.0.0.1:{server.port}/ws/lobby", origin="http://evil.test", open_timeout=5
            )  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        with connect(
            f"ws://127.0.0.1:{server.port}/ws/own",
            origin=f"http://127.0.0.1:{server.port}",
            open_timeout=5,
            close_timeout=5,
        ) as client:  # type: ignore[arg-type]
            client.send("hi")
            assert client.recv(timeout=5) == "own:hi"
    assert events == ["started", "stopped"]


def test_real_hypercorn_detects_asgi(app: Erlen) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    @app.route("/")
    async def index() -> str:
        return "hyper"

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    body: list[bytes] = []

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]

        def fetch() -> None:
            for _ in range(100):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    try:
                        conn.request("GET", "/")
                        body.append(conn.getresponse().read())
                        return
                    finally:
                        conn.close()
                except ConnectionRefusedError:
                    time.sleep(0.05)

        try:
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, fetch), 15)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert body == [b"hyper"]


# -- the development server ------------------------------------------------------------------


def test_dev_app_without_debugger_is_the_app(app: Erlen) -> None:
    from erlen.serving import dev_app

    assert dev_app(app) is app


def test_dev_app_sends_http_through_the_debugger_and_websockets_to_the_app(app: Erlen) -> None:
    from erlen import websocket
    from erlen.serving import dev_app

    seen: list[dict[str, t.Any]] = []

    def debugged(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        seen.append(environ)
        start_response(
            "500 INTERNAL SERVER ERROR", [("Content-Type", "text/html"), ("X-Debugger", "yes")]
        )
        return [b"debugger page for ", environ["wsgi.input"].read()]

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send("from the app")

    served = dev_app(app, debugged)
    result = run_asgi(
        served,
        "/mount/boom",
        "POST",
        [b"bo", b"dy"],
        headers=[("X-A", "1"), ("X-A", "2"), ("Content-Type", "text/plain")],
        query=b"q=1",
        root_path="/mount",
    )
    assert (result.status, result.headers["x-debugger"], result.body) == (
        500,
        "yes",
        b"debugger page for body",
    )
    environ = seen[0]
    assert (environ["PATH_INFO"], environ["SCRIPT_NAME"], environ["QUERY_STRING"]) == (
        "/boom",
        "/mount",
        "q=1",
    )
    assert environ["HTTP_X_A"] == "1,2" and environ["CONTENT_TYPE"] == "text/plain"
    assert run_asgi(served, "/x", "HEAD").body == b""
    assert run_asgi(served, "/x", "POST", [b"part"], disconnect=True).messages == []

    out: list[dict[str, t.Any]] = []

    async def main() -> None:
        incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

        async def receive() -> dict[str, t.Any]:
            return incoming.pop(0)

        async def send(message: dict[str, t.Any]) -> None:
            out.append(message)

        await served({"type": "websocket", "path": "/ws", "headers": []}, receive, send)

    asyncio.run(main())
    assert out[1] == {"type": "websocket.send", "text": "from the app"}


def test_run_simple_chooses_the_asgi_side(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    import erlen.serving as serving

    assert serving._use_asgi(app, None) is True
    assert serving._use_asgi(app, False) is False
    assert serving._use_asgi(lambda e, s: [], None) is False
    served: list[t.Any] = []
    monkeypatch.setattr(
        serving,
        "_serve_uvicorn",
        lambda server, application, debugged, *a: served.append((application, debugged)),
    )
    serving.run_simple("127.0.0.1", 0, app, asgi=None)
    assert served == [(app, None)]
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)
    assert serving._use_asgi(app, None) is False
    with pytest.raises(RuntimeError, match="uvicorn"):
        serving._use_asgi(app, True)


def test_erlen_run_serves_websockets_with_the_debugger_on(tmp_path: t.Any) -> None:
    import sys

    from websockets.sync.client import connect

    (tmp_path / "devapp.py").write_text(
        "from erlen import Erlen, websocket\n"
        "app = Erlen(__name__)\n"
        "@app.route('/boom')\n"
        "def boom():\n"
        "    raise RuntimeError('dev boom')\n"
        "@app.websocket('/ws')\n"
        "async def ws():\n"
        "    await websocket.send('dev ws')\n"
    )
    erlen_cmd = os.path.join(os.path.dirname(sys.executable), "erlen")
    with ServerProcess(
        [erlen_cmd, "--app", "devapp", "run", "--debug", "--no-reload", "--port", "{port}"],
        tmp_path,
    ) as server:
        port = server.port
        with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5) as ws:
            assert ws.recv(timeout=5) == "dev ws"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/boom")
        response = conn.getresponse()
        assert response.status == 500 and b"Erlen debugger" in response.read()
        conn.close()


def test_the_same_module_app_under_gunicorn_and_uvicorn(tmp_path: t.Any) -> None:
    # `gunicorn module:app` and `uvicorn module:app`: one object, no wrapper.
    import sys

    (tmp_path / "both.py").write_text(
        "from erlen import Erlen, request\n"
        "app = Erlen(__name__)\n"
        "@app.route('/')\n"
        "async def index():\n"
        "    return 'served by ' + request.environ.get('SERVER_SOFTWARE', 'an ASGI server').split('/')[0]\n"
    )
    bindir = os.path.dirname(sys.executable)
    for command, expected in (
        (
            [
                os.path.join(bindir, "gunicorn"),
                "--bind",
                "127.0.0.1:{port}",
                "--workers",
                "1",
                "both:app",
            ],
            b"served by gunicorn",
        ),
        (
            [
                os.path.join(bindir, "uvicorn"),
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "both:app",
            ],
            b"served by an ASGI server",
        ),
    ):
        with ServerProcess(command, tmp_path) as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, expected), server.output()
            conn.close()


# -- corners ----------------------------------------------------------------------------------


def test_partial_and_class_based_views(app: Erlen) -> None:
    import functools

    from erlen.views import View

    async def greet(greeting: str) -> str:
        return f"{greeting} {request.path}"

    app.add_url_rule("/partial", "partial", functools.partial(greet, "hi"))

    class Hello(View):
        async def dispatch_request(self) -> str:
            return "class " + request.method

    app.add_url_rule("/class", view_func=Hello.as_view("hello"))

    @app.route("/coro")
    def returns_a_coroutine() -> t.Any:
        return greet("late")

    assert run_asgi(app, "/partial").body == b"hi /partial"
    assert run_asgi(app, "/class").body == b"class GET"
    assert run_asgi(app, "/coro").body == b"late /coro"


def test_run_sync_outside_a_request(app: Erlen) -> None:
    from erlen.asgi import run_sync

    async def main() -> t.Any:
        return await run_sync(app, lambda x: x * 2, 21)

    assert asyncio.run(main()) == 42


def test_body_input_reads() -> None:
    from erlen.asgi import _ASGIInput
    from erlen.exceptions import ClientDisconnected
    from erlen.wrappers import Request

    parts = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": True},
        {"type": "http.request", "body": b"ef"},
    ]

    async def receive() -> Message:
        return parts.pop(0)

    def filling(limit: int | None) -> tuple[_ASGIInput, Request]:
        # fill() reads the rest with the limit preload() worked out.
        body = _ASGIInput(receive)
        body._limit = limit
        return body, Request()

    async def main() -> None:
        body, req = filling(None)
        await body.fill(req)
        assert req.get_data() == b"abcdef"
        assert body.read(3) == b"abc" and body.read() == b"def" and body.read(1) == b""
        assert await body.next_chunk() == b""
        parts[:] = [{"type": "http.request", "body": b"12345"}]
        small, req = filling(4)
        with pytest.raises(RequestEntityTooLargeError):
            await small.fill(req)
        parts[:] = [{"type": "http.disconnect"}]
        gone, req = filling(None)
        with pytest.raises(ClientDisconnected):
            await gone.fill(req)
        assert gone.disconnected

    from erlen.exceptions import RequestEntityTooLarge as RequestEntityTooLargeError

    asyncio.run(main())


def test_sync_view_reads_the_rest_of_the_body(app: Erlen) -> None:
    @app.post("/")
    def index() -> str:
        first = request.stream.read(2)
        return first.decode() + "|" + request._input.read().decode()  # type: ignore[attr-defined]

    result = run_asgi(
        app, "/", "POST", [b"abc", b"def"], headers=[("Transfer-Encoding", "chunked")]
    )
    assert result.body == b"ab|cdef"


def test_hooks_and_stream_reading_before_async_views(app: Erlen) -> None:
    @app.before_request
    def peek() -> None:
        if request.args.get("stream"):
            g.first = request.stream.read(3)

    @app.route("/", methods=["GET", "POST"])
    async def index() -> str:
        return repr(g.get("first")) + " " + request.method

    assert run_asgi(app).body == b"None GET"
    assert run_asgi(app, "/", "POST", b"abcdef", query=b"stream=1").body == b"b'abc' POST"


def test_async_view_after_a_stream_read_in_a_hook_keeps_the_stream(app: Erlen) -> None:
    seen = []

    @app.before_request
    def open_stream() -> None:
        seen.append(request.stream)

    @app.post("/")
    async def index() -> str:
        return request.get_data(as_text=True)

    assert run_asgi(app, "/", "POST", b"kept").body == b"kept"


def test_host_matching_and_custom_response_class(app: Erlen) -> None:
    class Custom(Response):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Custom"] = "1"

    hosted = Erlen("hosted", host_matching=True, static_folder=None)
    hosted.response_class = Custom

    @hosted.route("/", host="testserver")
    async def index() -> str:
        return "on the host"

    result = run_asgi(hosted)
    assert (result.body, result.headers["x-custom"]) == (b"on the host", "1")


def test_signals_session_and_nested_context(app: Erlen) -> None:
    from erlen import session, signals

    events: list[str] = []

    def started(sender: t.Any, **extra: t.Any) -> None:
        events.append("started")

    def finished(sender: t.Any, response: Response, **extra: t.Any) -> None:
        events.append(f"finished {response.status_code}")

    def got(sender: t.Any, exception: Exception, **extra: t.Any) -> None:
        events.append(f"exception {exception}")

    @app.route("/")
    async def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/fail")
    async def fail() -> str:
        raise ValueError("signalled")

    with (
        signals.request_started.connected_to(started),
        signals.request_finished.connected_to(finished),
        signals.got_request_exception.connected_to(got),
    ):
        result = run_asgi(app)
        with app.app_context():  # an outer context of the same app
            assert run_asgi(app, "/fail").status == 500
    assert result.body == b"1" and "session=" in result.headers["set-cookie"]
    assert events[:2] == ["started", "finished 200"] and "exception signalled" in events


def test_debug_mode_bad_key_and_failing_after_request_in_error_path(
    app: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.debug = True

    @app.route("/")
    async def index() -> str:
        return request.args["missing"]

    @app.route("/fail")
    async def fail() -> str:
        raise RuntimeError("first")

    @app.after_request
    def broken(response: Response) -> Response:
        if response.status_code == 500:
            raise RuntimeError("second")
        return response

    with caplog.at_level(logging.CRITICAL):
        # Debug mode traps a missing key (Flask's rule): an error, not a 400.
        assert run_asgi(app).status == 500
        assert run_asgi(app, "/fail").status == 500
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    result = run_asgi(app)
    assert result.status == 400 and b"missing" in result.body


def test_after_request_error_propagates_in_testing(app: Erlen) -> None:
    app.testing = True

    @app.route("/")
    async def index() -> str:
        return "x"

    @app.after_request
    async def broken(response: Response) -> Response:
        raise KeyError("after")

    with pytest.raises(KeyError):
        run_asgi(app)


def test_send_response_directly_and_without_a_body_input(app: Erlen) -> None:
    from erlen.asgi import send_response

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await send_response(
            Response(iter([b"a", "b"])), {"type": "http", "method": "GET"}, send, app
        )
        await send_response(
            Response(["list"], headers={"X": "1"}), {"type": "http", "method": "GET"}, send, app
        )

    asyncio.run(main())
    assert b"".join(m.get("body", b"") for m in sent) == b"ablist"


def test_slow_sync_stream_stops_at_disconnect(app: Erlen) -> None:
    state: dict[str, t.Any] = {"steps": 0}

    @app.route("/")
    def index() -> t.Any:
        def slow() -> t.Iterator[bytes]:
            try:
                while True:
                    state["steps"] += 1
                    time.sleep(0.05)
                    yield b"."
            finally:
                state["closed"] = True

        return slow()

    result = run_asgi(app, disconnect=True)
    assert result.status == 200 and state.get("closed") and state["steps"] < 50


def test_disconnect_watcher_drops_unread_body(app: Erlen) -> None:
    @app.post("/")
    def index() -> t.Any:
        return (str(i) for i in range(3))  # never reads the body

    result = run_asgi(
        app, "/", "POST", [b"unread", b"body"], headers=[("Transfer-Encoding", "chunked")]
    )
    assert result.body == b"012"

    from erlen.asgi import _ASGIInput, _wait_disconnect

    async def main() -> None:
        async def receive() -> Message:
            return {"type": "http.disconnect"}

        body = _ASGIInput(receive)
        body.disconnected = True
        await _wait_disconnect(body)  # returns at once
        fresh = _ASGIInput(receive)
        await _wait_disconnect(fresh)
        assert fresh.disconnected

    asyncio.run(main())


def test_asgi_app_function_serves_http(app: Erlen) -> None:
    from erlen.asgi import asgi_app

    @app.route("/")
    async def index() -> str:
        return "via asgi_app"

    async def wrapped(scope: Message, receive: t.Any, send: t.Any) -> None:
        await asgi_app(app, scope, receive, send)

    assert run_asgi(wrapped).body == b"via asgi_app"


def test_full_dispatch_request_in_a_context(app: Erlen) -> None:
    from erlen.asgi import make_request
    from erlen.ctx import RequestContext
    from erlen.dispatch import arun, choose_driver, match

    @app.route("/")
    async def index() -> str:
        return "direct"

    async def main() -> bytes:
        req = make_request(
            app.request_class, {"type": "http", "method": "GET", "path": "/", "headers": []}
        )
        ctx = RequestContext(app, None, req)
        match(app, req)
        response = await arun(app, ctx, choose_driver(app, req)[0])
        return t.cast(bytes, response.get_data())

    assert asyncio.run(main()) == b"direct"


def test_dev_bridge_closes_the_wsgi_result(app: Erlen) -> None:
    from erlen.serving import dev_app

    closed = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def debugged(environ: dict[str, t.Any], start_response: t.Any) -> Body:
        start_response("200 OK", [])
        return Body([b"closed body"])

    assert run_asgi(dev_app(app, debugged)).body == b"closed body"
    assert closed == [True]


def test_async_view_may_read_the_prefetched_body_as_a_stream(app: Erlen) -> None:
    @app.post("/")
    async def index() -> str:
        streamed = request.stream.read()
        return f"{streamed.decode()}|{request.get_data(as_text=True)}|{request.content_length}"

    result = run_asgi(app, "/", "POST", [b"one ", b"two"], headers=[("Content-Length", "7")])
    assert result.body == b"one two|one two|7"


def test_async_view_renders_with_an_async_context_processor(app: Erlen) -> None:
    from erlen import render_template_string

    @app.context_processor
    async def user() -> dict[str, str]:
        await asyncio.sleep(0)
        return {"user": request.args.get("u", "nobody")}

    @app.route("/async")
    async def on_loop() -> str:
        return render_template_string("hi {{ user }}")

    @app.route("/sync")
    def in_thread() -> str:
        return render_template_string("hi {{ user }}")

    assert run_asgi(app, "/async", query=b"u=ann").body == b"hi ann"
    assert run_asgi(app, "/sync", query=b"u=bob").body == b"hi bob"
    assert app.test_client().get("/async?u=cy").data == b"hi cy"


def test_run_beside_loop_reraises() -> None:
    from erlen.asgi import run_beside_loop

    async def fails() -> None:
        raise ValueError("beside")

    with pytest.raises(ValueError, match="beside"):
        run_beside_loop(fails())


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_status_sends_no_content_headers(app: Erlen, status: int) -> None:
    # Regression: `return "", 204` sent Content-Type and Content-Length: 0.
    @app.route(f"/s{status}")
    async def bodiless() -> t.Any:
        return "", status, {"ETag": '"x"'}

    result = run_asgi(app, f"/s{status}")
    assert result.status == status
    assert "content-type" not in result.headers and "content-length" not in result.headers
    assert result.headers["etag"] == '"x"'
    assert result.body == b""


def test_trusted_hosts_under_asgi(app: Erlen) -> None:
    # run_asgi's requests name the host "testserver".
    app.config["TRUSTED_HOSTS"] = ["example.com"]
    rv = run_asgi(app, "/")
    assert rv.status == 400 and b"not trusted" in rv.body
    app.config["TRUSTED_HOSTS"] = [".testserver"]
    assert run_asgi(app, "/").status != 400


# -- one thread per sync request -------------------------------------------------------


def test_streamed_body_of_a_sync_view_runs_on_the_request_thread(app: Erlen) -> None:
    # The view, the body's steps and the close callback share one thread, so a
    # thread-bound object made in the view can be used while streaming.
    seen: dict[str, t.Any] = {}

    @app.route("/")
    def index() -> Response:
        seen["view"] = threading.get_ident()

        def body() -> t.Iterator[str]:
            for _ in range(3):
                yield f"{threading.get_ident()},"

        response = Response(body())
        response.call_on_close(lambda: seen.setdefault("close", threading.get_ident()))
        return response

    result = run_asgi(app)
    steps = {int(x) for x in result.body.decode().rstrip(",").split(",")}
    assert steps == {seen["view"]} and seen["close"] == seen["view"]
    assert seen["view"] != threading.get_ident()  # not the loop's thread


def test_the_request_thread_is_free_while_a_list_response_is_sent(app: Erlen) -> None:
    # With one worker thread, a second request is served while the first one's
    # response waits on a slow client: the thread is not held for sending.
    app.config["ASGI_MAX_THREADS"] = 1

    @app.route("/<name>")
    def index(name: str) -> str:
        return name

    async def main() -> list[bytes]:
        second_done = asyncio.Event()
        bodies: list[bytes] = []

        async def call(path: str, slow: bool) -> None:
            async def receive() -> Message:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: Message) -> None:
                if message["type"] == "http.response.body":
                    if slow:
                        await second_done.wait()  # a client that reads late
                    bodies.append(message["body"])

            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "headers": [(b"host", b"x")],
                "query_string": b"",
            }
            await app(scope, receive, send)
            if not slow:
                second_done.set()

        first = asyncio.ensure_future(call("/first", True))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(first, call("/second", False)), 5)
        return bodies

    assert asyncio.run(main()) == [b"second", b"first"]


def test_a_hook_error_handler_and_teardown_share_the_view_thread(app: Erlen) -> None:
    idents: dict[str, int] = {}

    @app.before_request
    def before() -> None:
        idents["before"] = threading.get_ident()

    @app.errorhandler(ValueError)
    def handler(e: ValueError) -> tuple[str, int]:
        idents["handler"] = threading.get_ident()
        return "handled", 400

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        idents["teardown"] = threading.get_ident()

    @app.route("/")
    def index() -> str:
        idents["view"] = threading.get_ident()
        raise ValueError()

    result = run_asgi(app)
    assert (result.status, result.body) == (400, b"handled")
    assert len(set(idents.values())) == 1 and len(idents) == 4


def _drive_dev_app(
    served: t.Any, path: str, leave_after: int | None = None, timeout: float = 10.0
) -> list[tuple[float, Message]]:
    """One GET through ``served`` in process: each sent message with the time it arrived.

    :param leave_after: The client disconnects once this many body chunks arrived.
    """
    scope = http_scope(path)
    received: list[tuple[float, Message]] = []

    async def main() -> None:
        left = asyncio.Event()
        body_sent = False
        start = time.monotonic()

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            received.append((time.monotonic() - start, message))
            chunks = sum(
                1 for _, m in received if m["type"] == "http.response.body" and m.get("body")
            )
            if not message.get("more_body", True) or (
                leave_after is not None and chunks >= leave_after
            ):
                left.set()

        await asyncio.wait_for(served(scope, receive, send), timeout)

    asyncio.run(main())
    return received


def test_dev_app_streams_the_debugged_response_as_it_is_produced(app: Erlen) -> None:
    # issue 15, finding 5: under uvicorn in debug mode, a streamed response
    # went through the debugger with its body joined first: four chunks
    # 0.25 s apart arrived together after 1 s, and an endless stream (SSE)
    # grew memory without end. Each chunk is now sent as it is yielded, the
    # stream stops and is closed when the client leaves, and an error raised
    # before the first chunk still gets the debugger's error page.
    from erlen.debug import DebuggedApplication
    from erlen.serving import dev_app

    stop = threading.Event()
    state = {"ticks": 0, "closed": False}

    @app.route("/slow")
    def slow() -> t.Any:
        def generate() -> t.Iterator[bytes]:
            for n in range(4):
                if n:
                    time.sleep(0.25)
                yield f"chunk {n}\n".encode()

        return generate()

    @app.route("/endless")
    def endless() -> t.Any:
        def generate() -> t.Iterator[bytes]:
            try:
                while not stop.is_set():  # bounded by the test's finally, whatever happens
                    state["ticks"] += 1
                    yield b"data: tick\n\n"
                    time.sleep(0.01)
            finally:
                state["closed"] = True

        return generate()

    @app.route("/early-error")
    def early_error() -> t.Any:
        def generate() -> t.Iterator[bytes]:
            raise RuntimeError("before the first chunk")
            yield b"never"  # pragma: no cover

        return generate()

    served = dev_app(app, DebuggedApplication(app, evalex=False))
    try:
        messages = _drive_dev_app(served, "/slow")
        chunks = [
            (at, m["body"]) for at, m in messages if m["type"] == "http.response.body" and m["body"]
        ]
        assert [body for _, body in chunks] == [f"chunk {n}\n".encode() for n in range(4)]
        assert chunks[0][0] < 0.2, chunks  # the first chunk did not wait for the last
        assert chunks[-1][0] - chunks[0][0] > 0.6, chunks  # each arrived as it was yielded

        messages = _drive_dev_app(served, "/endless", leave_after=3, timeout=5)
        deadline = time.monotonic() + 5
        while not state["closed"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert state["closed"] and state["ticks"] < 50, state

        messages = _drive_dev_app(served, "/early-error")
        start = next(m for _, m in messages if m["type"] == "http.response.start")
        body = b"".join(
            m.get("body", b"") for _, m in messages if m["type"] == "http.response.body"
        )
        assert start["status"] == 500 and b"before the first chunk" in body
    finally:
        stop.set()


# -- the async driver's less common paths ----------------------------------------------


def test_async_view_unhandled_error_goes_to_the_500_handler(app: Erlen) -> None:
    app.testing = False

    @app.errorhandler(500)
    async def server_error(e: Exception) -> tuple[str, int]:
        return f"handled {type(e.original_exception).__name__}", 500  # type: ignore[attr-defined]

    @app.route("/")
    async def index() -> str:
        raise KeyError("boom")

    result = run_asgi(app)
    assert (result.status, result.body) == (500, b"handled KeyError")


def test_async_teardown_functions_signals_and_errors_on_the_loop(app: Erlen) -> None:
    from erlen import signals

    seen: list[str] = []
    app.testing = False

    @app.teardown_request
    async def first(exc: BaseException | None) -> None:
        seen.append("request-async")
        raise RuntimeError("teardown failed")

    @app.teardown_request
    def second(exc: BaseException | None) -> None:
        seen.append("request-sync")  # still runs after the other one failed

    @app.teardown_appcontext
    async def app_teardown(exc: BaseException | None) -> None:
        seen.append(f"app:{type(exc).__name__ if exc else None}")

    def on_request(sender: t.Any, **kw: t.Any) -> None:
        seen.append("signal-request")

    def on_app(sender: t.Any, **kw: t.Any) -> None:
        seen.append("signal-app")

    @app.route("/", methods=["POST"])
    async def index() -> str:
        return request.files["f"].read().decode()

    body = b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nfile body\r\n--b--\r\n'
    with (
        signals.request_tearing_down.connected_to(on_request, app),
        signals.appcontext_tearing_down.connected_to(on_app, app),
    ):
        with pytest.raises(RuntimeError, match="teardown failed"):
            run_asgi(
                app,
                method="POST",
                body=body,
                headers=[("Content-Type", "multipart/form-data; boundary=b")],
            )
    # As under WSGI: the failed request teardown skips its signal, the app
    # context's teardown still runs.
    assert seen == ["request-sync", "request-async", "app:None", "signal-app"]

    seen.clear()
    app.teardown_request_funcs[None].remove(first)
    with signals.request_tearing_down.connected_to(on_request, app):
        assert (
            run_asgi(
                app,
                method="POST",
                body=body,
                headers=[("Content-Type", "multipart/form-data; boundary=b")],
            ).body
            == b"file body"
        )
    assert seen == ["request-sync", "signal-request", "app:None"]


def test_a_base_exception_from_an_async_view_reaches_teardown_and_the_server(app: Erlen) -> None:
    class Stop(BaseException):
        pass

    seen: list[t.Any] = []

    @app.teardown_request
    async def td(exc: BaseException | None) -> None:
        seen.append(type(exc).__name__)

    @app.route("/")
    async def index() -> str:
        raise Stop()

    with pytest.raises(Stop):
        run_asgi(app)
    assert seen == ["Stop"]


def test_routing_error_already_set_is_kept_with_trusted_hosts(app: Erlen) -> None:
    from erlen.dispatch import match_request
    from erlen.exceptions import BadRequest

    app.config["TRUSTED_HOSTS"] = ["evil.example"]
    req = app.test_request_context("/").request
    req.routing_exception = BadRequest("kept")
    match_request(app, req)
    assert str(req.routing_exception.description) == "kept"  # type: ignore[union-attr]


# -- the quick paths of a body read before async code, and of the header list -----


def _drive(app: Erlen, scope: dict[str, t.Any], messages: list[Message]) -> Result:
    """Drive one scope with ``messages`` as the client's, then a disconnect."""
    sent: list[Message] = []
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await asyncio.wait_for(app(scope, receive, send), 10)

    asyncio.run(main())
    return Result(sent, received)


def test_async_body_in_one_message_and_in_several(app: Erlen) -> None:
    @app.post("/")
    async def echo() -> str:
        return f"{request.get_data(as_text=True)}|{request.stream.read()!r}"

    assert run_asgi(app, "/", "POST", b"whole").body == b"whole|b'whole'"
    parts = [b"ab", b"", b"cd"]
    result = run_asgi(app, "/", "POST", parts, headers=[("Content-Length", "4")])
    assert result.body == b"abcd|b'abcd'" and result.received == 3
    # An empty first message with more to come is read on as well.
    result = run_asgi(app, "/", "POST", [b"", b"xy"], headers=[("Content-Length", "2")])
    assert result.body == b"xy|b'xy'"


def test_async_body_one_message_over_limit_without_length_is_413(app: Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    seen: list[str] = []

    @app.post("/")
    async def echo() -> str:
        seen.append("view")
        return request.get_data(as_text=True)

    scope = http_scope("/", "POST")
    scope.update(http_version="2", headers=[(b"host", b"testserver")])
    body = {"type": "http.request", "body": b"x" * 11, "more_body": False}
    result = _drive(app, scope, [body])
    assert result.status == 413 and seen == []
    body = {"type": "http.request", "body": b"x" * 10, "more_body": False}
    assert _drive(app, dict(scope), [body]).body == b"x" * 10


def test_async_body_client_gone_before_any_byte(app: Erlen) -> None:
    seen: list[str] = []

    @app.post("/")
    async def echo() -> str:
        seen.append("view")
        return request.get_data(as_text=True)

    scope = http_scope("/", "POST")
    scope.update(headers=[(b"host", b"testserver"), (b"content-length", b"5")])
    result = _drive(app, scope, [{"type": "http.disconnect"}])
    assert seen == [] and result.received == 1
    assert result.status in (0, 400)  # nobody is listening any more


def _body_request(length: int, parts: list[Message]) -> tuple[t.Any, t.Any]:
    """A POST request declaring ``length`` bytes, its body given as ``parts``; and its body input."""
    from erlen.asgi import _ASGIInput, make_request
    from erlen.wrappers import Request

    async def receive() -> Message:
        return parts.pop(0)

    scope = http_scope("/", "POST")
    scope["headers"].append((b"content-length", str(length).encode()))
    req = make_request(Request, scope, receive)
    assert isinstance(req._input, _ASGIInput)
    return req, req._input


def test_preload_after_part_was_buffered() -> None:
    # The rest of a body part of which was read already (``stream``) comes
    # from a coroutine, and received() then has nothing left to take.
    parts: list[Message] = [
        {"type": "http.request", "body": b"c", "more_body": True},
        {"type": "http.request", "body": b"d"},
    ]

    async def main() -> bytes:
        req, body = _body_request(4, parts)
        body._buffer = b"ab"
        waiting = body.preload(req)
        assert waiting is not None
        assert body.received(req, await waiting) is None
        assert not body.more and parts == []
        return t.cast(bytes, req.get_data())

    assert asyncio.run(main()) == b"abcd"


def test_preload_of_a_body_read_already_reads_nothing() -> None:
    # Once the whole body is in, preload asks the server for nothing more
    # (a server would wait for a message that never comes).
    parts: list[Message] = [{"type": "http.request", "body": b"ab"}]

    async def main() -> bytes:
        req, body = _body_request(2, parts)
        waiting = body.preload(req)
        assert waiting is not None
        assert body.received(req, await waiting) is None
        assert body.preload(req) is None
        return t.cast(bytes, req.get_data())

    assert asyncio.run(main()) == b"ab"


def test_encoded_headers_lower_case_any_pair(app: Erlen) -> None:
    from erlen import asgi

    @app.route("/<int:n>")
    async def sized(n: int) -> Response:
        rv = Response("x" * n, mimetype="text/x-erlen-test")
        rv.headers["X-Custom-Name"] = "Value"
        return rv

    for n in (0, 5, 1023, 1024, 5000):
        result = run_asgi(app, f"/{n}")
        assert result.status == 200 and len(result.body) == n
        assert result.headers == {
            "content-type": "text/x-erlen-test; charset=utf-8",
            "content-length": str(n),
            "x-custom-name": "Value",
        }
    pair = ("Content-Type", "text/x-erlen-test; charset=utf-8")
    assert asgi._PAIRS[pair] == (b"content-type", b"text/x-erlen-test; charset=utf-8")
    assert ("X-Custom-Name", "Value") not in asgi._PAIRS  # only types are kept


def test_encoded_header_pairs_are_bounded(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen import asgi

    monkeypatch.setattr(asgi, "_MAX_PAIRS", len(asgi._PAIRS))

    @app.route("/")
    async def index() -> Response:
        return Response("hi", mimetype="text/x-erlen-unbounded")

    result = run_asgi(app)
    assert result.headers["content-type"] == "text/x-erlen-unbounded; charset=utf-8"
    assert ("Content-Type", "text/x-erlen-unbounded; charset=utf-8") not in asgi._PAIRS


def test_async_body_limit_of_a_request_class_with_its_own(app: Erlen) -> None:
    from erlen import Request

    class Small(Request):
        max_content_length = 5

    class FromProperty(Request):
        @property
        def max_content_length(self) -> int | None:  # type: ignore[override]
            return 3

    @app.post("/")
    async def echo() -> str:
        return request.get_data(as_text=True)

    app.config["MAX_CONTENT_LENGTH"] = 100
    assert run_asgi(app, "/", "POST", b"x" * 10).status == 200
    app.request_class = Small
    assert run_asgi(app, "/", "POST", b"x" * 10).status == 413
    assert run_asgi(app, "/", "POST", b"x" * 5).body == b"xxxxx"
    app.request_class = FromProperty
    assert run_asgi(app, "/", "POST", b"x" * 4).status == 413
    assert run_asgi(app, "/", "POST", b"x" * 3).body == b"xxx"


def test_async_body_of_a_request_class_with_its_own_mimetype_and_length(app: Erlen) -> None:
    # The body read before an async view sets Request's own mimetype and
    # content_length from the raw headers; a class with its own keeps them.
    from erlen import Request

    class OwnMimetype(Request):
        @property
        def mimetype(self) -> str:  # type: ignore[override]
            return "text/x-own"

    class OwnLength(Request):
        @property
        def content_length(self) -> int | None:  # type: ignore[override]
            return 2

    @app.post("/")
    async def echo() -> str:
        return f"{request.mimetype} {request.content_length} {request.get_data(as_text=True)}"

    headers = [("Content-Type", "application/json; charset=utf-8")]
    assert run_asgi(app, "/", "POST", b"[1]", headers=headers).body == b"application/json 3 [1]"
    app.request_class = OwnMimetype
    assert run_asgi(app, "/", "POST", b"[1]", headers=headers).body == b"text/x-own 3 [1]"
    app.request_class = OwnLength
    assert run_asgi(app, "/", "POST", b"[1]", headers=headers).body == b"application/json 2 [1]"
