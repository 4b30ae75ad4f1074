"""Work after the response (erlen.background): call_after_response, under both interfaces.

The test-client tests run over WSGI and over ASGI (conftest's
BOTH_INTERFACES); the clients close the body as a server does, so the
functions have run when ``client.get`` returns. The live-server tests
check the point of the feature on real servers: the client has the whole
response while the function is still running.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import threading
import typing as t

import pytest
from live_servers import UvicornLiveServer

from erlen import (
    Erlen,
    abort,
    current_app,
    g,
    request,
    session,
    stream_with_context,
    websocket,
)
from erlen.background import call_after_response
from erlen.globals import _cv
from erlen.pytest_plugin import LiveServer

WAIT = 10.0  # seconds; every wait below is bounded


def test_runs_after_the_response_in_order_with_its_arguments(app: Erlen, client: t.Any) -> None:
    calls: list[t.Any] = []

    def record(*args: t.Any, **kwargs: t.Any) -> None:
        calls.append(("sync", args, kwargs))

    async def arecord(value: int) -> None:
        await asyncio.sleep(0)
        calls.append(("async", value))

    @app.get("/")
    def index() -> str:
        call_after_response(record, 1, 2, key="value")
        call_after_response(arecord, 3)
        call_after_response(record)
        calls.append("view")
        return "done"

    response = client.get("/")
    assert response.data == b"done"
    assert calls == ["view", ("sync", (1, 2), {"key": "value"}), ("async", 3), ("sync", (), {})]


def test_async_view(app: Erlen, client: t.Any) -> None:
    calls: list[t.Any] = []

    async def arecord(value: int) -> None:
        calls.append(("async", value, current_app.name))

    @app.get("/")
    async def index() -> str:
        call_after_response(lambda: calls.append(("sync", request.path)))
        call_after_response(arecord, 2)
        return "done"

    assert client.get("/").data == b"done"
    assert calls == [("sync", "/"), ("async", 2, app.name)]


def test_a_fresh_app_context_that_can_read_the_request(app: Erlen, client: t.Any) -> None:
    seen: dict[str, t.Any] = {}

    def work() -> None:
        seen["app"] = current_app._get_current_object()
        seen["g"] = g.get("from_view")
        seen["config"] = current_app.config["GREETING"]
        seen["arg"] = request.args["q"]
        seen["user"] = session.get("user")

    app.config["GREETING"] = "hello"

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    @app.get("/")
    def index() -> str:
        g.from_view = "view"
        call_after_response(work)
        return "ok"

    client.get("/login")
    client.get("/?q=search")
    # g is the function's own; request and session are the request's.
    assert seen == {"app": app, "g": None, "config": "hello", "arg": "search", "user": "ada"}


def test_teardown_appcontext_runs_after_each_function_not_teardown_request(
    app: Erlen, client: t.Any
) -> None:
    events: list[t.Any] = []

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        events.append("teardown_request")

    @app.teardown_appcontext
    def teardown_appcontext(exc: BaseException | None) -> None:
        events.append(("teardown_appcontext", type(exc).__name__ if exc else None))

    def fails() -> None:
        events.append("fails")
        raise ValueError("boom")

    @app.get("/")
    def index() -> str:
        call_after_response(events.append, "work")
        call_after_response(fails)
        return "ok"

    assert client.get("/").status_code == 200
    assert events == [
        "teardown_request",
        ("teardown_appcontext", None),  # the request's own
        "work",
        ("teardown_appcontext", None),
        "fails",
        ("teardown_appcontext", "ValueError"),
    ]


def test_async_teardown_appcontext_is_awaited(app: Erlen, client: t.Any) -> None:
    events: list[str] = []

    @app.teardown_appcontext
    async def close(exc: BaseException | None) -> None:
        await asyncio.sleep(0)
        events.append(f"close {g.get('opened')}")

    async def work() -> None:
        g.opened = "connection"
        events.append("work")

    @app.get("/")
    async def index() -> str:
        call_after_response(work)
        return "ok"

    client.get("/")
    assert events == ["close None", "work", "close connection"]


def test_an_error_is_logged_and_the_others_still_run(
    app: Erlen, client: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("the mail server is down")

    async def abroken() -> None:
        raise KeyError("gone")

    @app.get("/")
    def index() -> str:
        call_after_response(broken)
        call_after_response(abroken)
        call_after_response(calls.append, "after")
        return "sent"

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = client.get("/")
    assert (response.status_code, response.data) == (200, b"sent")
    assert calls == ["after"]
    failures = [r for r in caplog.records if r.name == app.logger.name]
    assert [str(r.exc_info[1]) for r in failures if r.exc_info] == [
        "the mail server is down",
        "'gone'",
    ]
    assert "broken" in failures[0].getMessage()
    assert "abroken" in failures[1].getMessage()


def test_dropped_when_the_view_raises_even_if_handled(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    @app.errorhandler(ValueError)
    def handle(e: ValueError) -> tuple[str, int]:
        call_after_response(calls.append, "from the handler")
        return "handled", 400

    @app.get("/raise")
    def raises() -> str:
        call_after_response(calls.append, "from the view")
        raise ValueError("no")

    @app.get("/abort")
    def aborts() -> str:
        call_after_response(calls.append, "before abort")
        abort(404)

    @app.get("/async-raise")
    async def araises() -> str:
        call_after_response(calls.append, "from the async view")
        raise ValueError("no")

    assert client.get("/raise").data == b"handled"
    assert client.get("/abort").status_code == 404
    assert client.get("/async-raise").data == b"handled"
    # A handler's own registration stands: it ran after the failure.
    assert calls == ["from the handler", "from the handler"]


def test_dropped_on_an_unhandled_error(app: Erlen, client: t.Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls: list[str] = []

    @app.get("/")
    def index() -> str:
        call_after_response(calls.append, "view")
        raise RuntimeError("unhandled")

    @app.get("/after-request-fails")
    def fine() -> str:
        call_after_response(calls.append, "fine")
        return "ok"

    @app.after_request
    def after(response: t.Any) -> t.Any:
        if request.path == "/after-request-fails":
            raise RuntimeError("after_request failed")
        return response

    assert client.get("/").status_code == 500
    assert client.get("/after-request-fails").status_code == 500
    assert calls == []


def test_kept_when_the_view_returns_an_error_response(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    @app.get("/")
    def index() -> tuple[str, int]:
        call_after_response(calls.append, "ran")
        return "bad input", 400

    assert client.get("/").status_code == 400
    assert calls == ["ran"]


def test_registered_from_hooks_and_nested_app_context(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    @app.before_request
    def before() -> None:
        call_after_response(calls.append, "before_request")

    @app.after_request
    def after(response: t.Any) -> t.Any:
        call_after_response(calls.append, "after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        call_after_response(calls.append, "teardown_request")

    @app.get("/")
    def index() -> str:
        with app.app_context():
            call_after_response(calls.append, "nested app context")
        return "ok"

    client.get("/")
    assert calls == ["before_request", "nested app context", "after_request", "teardown_request"]


def test_a_function_may_register_another(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        call_after_response(calls.append, "registered by first")

    @app.get("/")
    def index() -> str:
        call_after_response(first)
        call_after_response(calls.append, "second")
        return "ok"

    client.get("/")
    assert calls == ["first", "second", "registered by first"]


def test_decorator_use_returns_the_function(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    @app.get("/")
    def index() -> str:
        @call_after_response
        def work() -> None:
            calls.append("decorated")

        assert callable(work)
        return "ok"

    client.get("/")
    assert calls == ["decorated"]


@pytest.mark.parametrize("method, path", [("HEAD", "/"), ("GET", "/empty")])
def test_runs_for_responses_without_a_body(
    app: Erlen, client: t.Any, method: str, path: str
) -> None:
    calls: list[str] = []

    @app.get("/")
    def index() -> str:
        call_after_response(calls.append, "ran")
        return "body"

    @app.get("/empty")
    def empty() -> tuple[str, int]:
        call_after_response(calls.append, "ran")
        return "", 204

    response = client.open(path, method=method)
    assert response.status_code in (200, 204)
    assert response.data == b""
    assert calls == ["ran"]


def test_runs_after_a_streamed_body_is_closed(app: Erlen, client: t.Any) -> None:
    events: list[str] = []

    @app.get("/")
    def index() -> t.Any:
        call_after_response(events.append, "after response")

        @stream_with_context
        def generate() -> t.Iterator[str]:
            try:
                yield "a"
                events.append("streamed")
                yield "b"
            finally:
                events.append("generator closed")

        response = app.response_class(generate())
        response.call_on_close(lambda: events.append("call_on_close"))
        return response

    assert client.get("/").data == b"ab"
    assert events == ["streamed", "generator closed", "call_on_close", "after response"]


def test_where_the_functions_run(app: Erlen, client: t.Any, client_interface: str) -> None:
    where: dict[str, t.Any] = {}

    def sync_work(name: str) -> None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        where[name] = (threading.current_thread().name, on_loop)

    async def async_work() -> None:
        where["async"] = (threading.current_thread().name, True)

    @app.get("/sync")
    def sync_view() -> str:
        call_after_response(sync_work, "sync-view")
        call_after_response(async_work)
        return "ok"

    @app.get("/async")
    async def async_view() -> str:
        call_after_response(sync_work, "async-view")
        return "ok"

    client.get("/sync")
    client.get("/async")
    assert not where["sync-view"][1] and not where["async-view"][1]
    if client_interface == "asgi":
        # Plain functions on the app's worker threads, never on the loop.
        assert where["sync-view"][0].startswith("erlen-asgi")
        assert where["async-view"][0].startswith("erlen-asgi")
        assert not where["async"][0].startswith("erlen-asgi")
    else:
        # The server's thread (here the test's), as the request's own code.
        assert where["sync-view"][0] == threading.current_thread().name
        assert where["async-view"][0] == threading.current_thread().name


def test_outside_a_request_is_an_error(app: Erlen) -> None:
    with pytest.raises(RuntimeError, match="request context"):
        call_after_response(print)
    with app.app_context(), pytest.raises(RuntimeError, match="request context"):
        call_after_response(print)


def test_a_websocket_handler_is_refused(app: Erlen) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            call_after_response(print)
        except RuntimeError as e:
            await websocket.send(str(e))

    with app.test_client().websocket_connect("/ws") as ws:
        assert "cannot be used in a WebSocket handler" in ws.receive_text()


def test_nothing_kept_for_a_request_that_registers_nothing(app: Erlen, client: t.Any) -> None:
    @app.get("/")
    def index() -> str:
        return "plain"

    with client:
        client.get("/")
        ctx = _cv.get()
        # No list made: the context holds None (set up front, see RequestContext._for).
        assert ctx.__dict__.get("_after_response") is None
        assert ctx._after_response is None


# -- real servers: the client has the response while the function runs -----------


def _slow_app() -> tuple[Erlen, threading.Event, threading.Event, list[str]]:
    """An app whose after-response functions wait until the test has read the response."""
    app = Erlen("erlen_background_live")
    app.config["ENV_NAME"] = "live"
    release = threading.Event()  # set by the test once it has the whole response
    finished = threading.Event()  # set by the last function
    log: list[str] = []

    def wait_for_the_client(name: str) -> None:
        log.append(f"{name} started")
        if not release.wait(WAIT):
            log.append(f"{name} timed out")
        log.append(f"{name} done, config {current_app.config['ENV_NAME']}")

    def last() -> None:
        log.append("last done")
        finished.set()

    async def async_last() -> None:
        await asyncio.sleep(0)
        last()

    @app.get("/sync")
    def sync_view() -> str:
        call_after_response(wait_for_the_client, "sync")
        call_after_response(last)
        return "sync response"

    @app.get("/async")
    async def async_view() -> str:
        call_after_response(wait_for_the_client, "async")
        call_after_response(async_last)
        return "async response"

    return app, release, finished, log


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "server, path",
    [
        ("wsgi-threaded", "/sync"),
        ("wsgi-threaded", "/async"),
        ("uvicorn", "/sync"),
        ("uvicorn", "/async"),
    ],
)
def test_the_client_has_the_response_before_the_function_ends(server: str, path: str) -> None:
    app, release, finished, log = _slow_app()
    live: t.Any = LiveServer(app) if server == "wsgi-threaded" else UvicornLiveServer(app)
    with live:
        try:
            status, body = _get(live.port, path)
            # The functions are still waiting: the response came first.
            assert (status, body) == (200, f"{path[1:]} response".encode())
            assert not finished.is_set()
        finally:
            release.set()
        assert finished.wait(WAIT), log
    name = path[1:]
    assert log == [f"{name} started", f"{name} done, config live", "last done"]


@pytest.mark.parametrize("server", ["wsgi-threaded", "uvicorn"])
def test_runs_when_the_client_leaves_a_stream(server: str) -> None:
    app = Erlen("erlen_background_leave")
    finished = threading.Event()
    chunks_sent: list[int] = []

    @app.get("/stream")
    def stream() -> t.Any:
        call_after_response(finished.set)

        def generate() -> t.Iterator[bytes]:
            for i in range(200):  # at most ~10 s, should the client's leaving go unseen
                chunks_sent.append(i)
                yield b"x" * 1024
                threading.Event().wait(0.05)

        return app.response_class(generate())

    live: t.Any = LiveServer(app) if server == "wsgi-threaded" else UvicornLiveServer(app)
    with live:
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=WAIT)
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.read(1024) == b"x" * 1024
        conn.close()  # leaves in the middle of the body
        assert finished.wait(WAIT)
    assert len(chunks_sent) < 200


def test_a_plain_function_returning_a_coroutine(app: Erlen, client: t.Any) -> None:
    events: list[str] = []

    async def work(name: str) -> None:
        await asyncio.sleep(0)
        events.append(name)

    @app.get("/")
    def index() -> str:
        # Not an ``async def`` itself: its coroutine is still run to the end.
        call_after_response(lambda: work("lambda"))
        return "ok"

    client.get("/")
    assert events == ["lambda"]


def test_a_failing_teardown_is_logged_and_the_others_still_run(
    app: Erlen, client: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[str] = []

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        if g.get("fail"):
            raise RuntimeError(f"teardown after {g.fail}")

    def work() -> None:
        g.fail = "sync"
        events.append("sync")

    async def awork() -> None:
        g.fail = "async"
        events.append("async")

    @app.get("/")
    def index() -> str:
        call_after_response(work)
        call_after_response(awork)
        call_after_response(events.append, "last")
        return "ok"

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = client.get("/")
    assert response.status_code == 200
    assert events == ["sync", "async", "last"]
    failures = [r for r in caplog.records if r.name == app.logger.name]
    assert [str(r.exc_info[1]) for r in failures if r.exc_info] == [
        "teardown after sync",
        "teardown after async",
    ]
    assert all("teardown function" in r.getMessage() for r in failures)


def test_appcontext_tearing_down_is_sent_after_an_async_function(app: Erlen, client: t.Any) -> None:
    from erlen.signals import appcontext_tearing_down

    seen: list[tuple[str | None, BaseException | None]] = []

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        pass

    def receiver(sender: Erlen, exc: BaseException | None = None, **kw: t.Any) -> None:
        seen.append((g.get("name"), exc))

    async def awork() -> None:
        g.name = "awork"
        raise KeyError("boom")

    @app.get("/")
    def index() -> str:
        call_after_response(awork)
        return "ok"

    with appcontext_tearing_down.connected_to(receiver, app):
        client.get("/")
    assert seen[0] == (None, None)  # the request's own context
    assert seen[1][0] == "awork" and isinstance(seen[1][1], KeyError)
    assert len(seen) == 2
