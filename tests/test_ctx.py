"""Application and request contexts, and the proxies that read them."""

from __future__ import annotations

import threading
import typing as t

import pytest

import erlen
from erlen import current_app, g, request
from erlen.ctx import has_app_context, has_request_context


def test_outside_context_messages():
    with pytest.raises(RuntimeError, match="outside of application context"):
        current_app.name
    with pytest.raises(RuntimeError, match="outside of request context"):
        request.path
    with pytest.raises(RuntimeError, match="outside of application context"):
        g.x = 1
    assert not has_app_context()
    assert not has_request_context()
    assert not bool(request)
    assert "unbound" in repr(request)


def test_request_outside_request_but_inside_app_context(app):
    with app.app_context():
        with pytest.raises(RuntimeError, match="outside of request context"):
            request.path
        assert not bool(request)


def test_app_context(app):
    with app.app_context() as ctx:
        assert current_app._get_current_object() is app
        assert has_app_context() and not has_request_context()
        g.value = 3
        assert g.get("value") == 3
        assert "value" in g
        assert list(g) == ["value"]
        assert g.setdefault("other", 4) == 4
        assert g.pop("other") == 4
        assert g.pop("nothing", None) is None
        with pytest.raises(KeyError):
            g.pop("nothing")
        assert "erlen.g of" in repr(g._get_current_object())
        assert ctx.app is app
    assert not has_app_context()


def test_request_context_shares_g_with_outer_app_context(app):
    with app.app_context():
        g.shared = "yes"
        with app.test_request_context("/x"):
            assert g.shared == "yes"
            assert request.path == "/x"
        assert g.shared == "yes"


def test_app_context_inside_request_keeps_request(app):
    with app.test_request_context("/y"):
        g.outer = 1
        with app.app_context():
            assert request.path == "/y"
            assert "outer" not in g


def test_proxies_behave_like_objects(app):
    with app.test_request_context("/?a=1"):
        assert isinstance(request, erlen.Request)
        assert request.args["a"] == "1"
        assert current_app.config["TESTING"] is True
        assert current_app == app
        assert current_app != object()
        assert hash(current_app) == hash(app)
        assert "config" in dir(current_app)
        assert str(current_app).startswith("<Erlen")
        g.items = [1, 2]
        g.items.append(3)
        assert g.items == [1, 2, 3]
        del g.items
        assert "items" not in g


def test_teardown_appcontext_runs_once_per_request(app, client):
    calls = []
    app.teardown_appcontext(lambda exc: calls.append(exc))

    @app.route("/")
    def index():
        return "x"

    client.get("/")
    assert calls == [None]


def test_pop_wrong_context(app):
    outer = app.app_context()
    inner = app.app_context()
    outer.push()
    inner.push()
    with pytest.raises(AssertionError, match="wrong context"):
        outer.pop()
    # Nothing changed: the right order still works.
    inner.pop()
    outer.pop()
    with pytest.raises(RuntimeError, match="not pushed"):
        inner.pop()


def test_nested_push_same_context(app):
    ctx = app.app_context()
    calls = []
    app.teardown_appcontext(lambda exc: calls.append(exc))
    ctx.push()
    ctx.push()
    ctx.pop()
    assert calls == []  # teardown only on the last pop
    ctx.pop()
    assert calls == [None]


def test_copy_current_request_context(app, client):
    results = []

    @app.route("/")
    def index():
        @erlen.copy_current_request_context
        def work():
            results.append(request.args["v"])

        t = threading.Thread(target=work)
        t.start()
        t.join()
        return "ok"

    client.get("/?v=thread")
    assert results == ["thread"]
    with pytest.raises(RuntimeError):
        erlen.copy_current_request_context(lambda: None)


def test_stream_with_context(app, client):
    @app.route("/")
    def index():
        def gen():
            yield request.args["a"]
            yield "|"
            yield request.args["b"]

        return erlen.stream_with_context(gen())

    @app.route("/decorated")
    def decorated():
        @erlen.stream_with_context
        def gen():
            yield request.path

        return gen()

    assert client.get("/?a=1&b=2").data == b"1|2"
    assert client.get("/decorated").data == b"/decorated"
    with pytest.raises(RuntimeError):
        erlen.stream_with_context(iter([]))


def test_client_preserves_context(app):
    @app.route("/")
    def index():
        g.seen = "value"
        return "x"

    client = app.test_client()
    with client:
        client.get("/?q=1")
        assert request.args["q"] == "1"
        assert g.seen == "value"
        client.get("/?q=2")
        assert request.args["q"] == "2"
    assert not has_request_context()
    with client:
        with pytest.raises(RuntimeError, match="nest"):
            client.__enter__()


def test_app_context_popped_under_the_kept_request_context(app):
    # As in Flask: a request made inside `with app.app_context()` in the
    # client's `with` block shares that app context, and its kept context is
    # still active when the app context's block ends. Leaving the block pops
    # the app context (running its teardown) and the request context stays
    # until the client's block ends (Flask-DebugToolbar's tests do this).
    torn = []

    @app.teardown_appcontext
    def down(exc):
        torn.append(exc)

    @app.route("/")
    def index():
        g.seen = request.args["q"]
        return "x"

    popped = []

    def on_popped(sender, **kw):
        popped.append(sender)

    erlen.signals.appcontext_popped.connect(on_popped, app)
    client = app.test_client()
    with client:
        with app.app_context() as outer:
            g.outer = "kept"
            assert client.get("/?q=1").data == b"x"
            assert request.args["q"] == "1"
            assert (g.seen, g.outer) == ("1", "kept")  # one g, the app context's
            assert torn == []  # the request shared it: its end tore nothing down
        assert torn == [None]
        assert popped == [app]
        assert request.args["q"] == "1"
        assert current_app._get_current_object() is app
        assert outer._tokens == []
    assert not has_request_context()
    assert not has_app_context()
    assert popped == [app]  # the request context shared it: no second signal
    erlen.signals.appcontext_popped.disconnect(on_popped, app)
    # The next block starts clean.
    with client:
        client.get("/?q=2")
        assert request.args["q"] == "2"
    assert not has_app_context()


def test_app_context_pushed_twice_popped_under_a_request_context(app):
    ctx = app.app_context()
    ctx.push()
    ctx.push()
    inner = app.test_request_context("/inner")
    inner.push()
    ctx.pop()
    assert ctx._tokens  # still pushed once: nothing torn down yet
    ctx.pop()
    assert request.path == "/inner"
    inner.pop()
    assert not has_app_context()


def test_popping_under_is_refused_for_another_app_or_a_request_context(app):
    other = erlen.Erlen("other")
    with app.app_context() as ctx:
        inner = other.test_request_context("/")
        inner.push()
        with pytest.raises(AssertionError, match="Popped the wrong context"):
            ctx.pop()
        inner.pop()
    # As in Flask, a request context is not popped under another one.
    with app.test_request_context("/outer") as outer:
        inner = app.test_request_context("/inner")
        inner.push()
        with pytest.raises(AssertionError, match="Popped the wrong context"):
            outer.pop()
        inner.pop()
    assert not has_app_context()


def test_signals_sent_only_with_receivers(app, client):
    from erlen import signals

    events = []

    def started(sender, **kw):
        events.append(("started", sender))

    def finished(sender, response, **kw):
        events.append(("finished", response.status_code))

    def tearing(sender, exc=None, **kw):
        events.append(("tearing", exc))

    def pushed(sender, **kw):
        events.append("pushed")

    def popped(sender, **kw):
        events.append("popped")

    def app_tearing(sender, exc=None, **kw):
        events.append("app_tearing")

    @app.route("/")
    def index():
        return "x"

    with (
        signals.request_started.connected_to(started, app),
        signals.request_finished.connected_to(finished, app),
        signals.request_tearing_down.connected_to(tearing, app),
        signals.appcontext_pushed.connected_to(pushed, app),
        signals.appcontext_popped.connected_to(popped, app),
        signals.appcontext_tearing_down.connected_to(app_tearing, app),
    ):
        client.get("/")
    assert events == [
        "pushed",
        ("started", app),
        ("finished", 200),
        ("tearing", None),
        "app_tearing",
        "popped",
    ]


def test_got_request_exception_signal(app, client):
    from erlen import signals

    seen = []
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True

    @app.route("/")
    def boom():
        raise RuntimeError("x")

    with signals.got_request_exception.connected_to(
        lambda sender, exception, **kw: seen.append(exception), app
    ):
        assert client.get("/").status_code == 500
    assert isinstance(seen[0], RuntimeError)


def test_proxy_class_and_current_object(app):
    from erlen.globals import LocalProxy

    assert isinstance(request, LocalProxy)
    assert request.__class__ is not erlen.Request  # unbound: the proxy's own class
    with app.test_request_context("/p"):
        assert request.__class__.__name__ == "Request"
        real = request._get_current_object()
        assert real.path == "/p"
        assert request.__wrapped__ is real
    with pytest.raises(RuntimeError):
        del g.missing


def test_unbound_proxies_wrap_nothing(app):
    # Outside a context a proxy has no __wrapped__ (an AttributeError, not
    # the RuntimeError), so hasattr() and inspect.unwrap() work on it: pytest's
    # --doctest-modules scans a module that imported current_app with them
    # (Flask-Sitemap's suite does).
    import doctest
    import inspect
    import types

    for proxy in (erlen.current_app, request, g, erlen.session):
        assert not hasattr(proxy, "__wrapped__")
        assert inspect.unwrap(proxy) is proxy
    module = types.ModuleType("uses_proxies")
    source = 'from erlen import current_app, request\ndef documented():\n    """>>> 1 + 1\n    2\n    """\n'
    exec(compile(source, "uses_proxies.py", "exec"), module.__dict__)
    found = doctest.DocTestFinder().find(module)
    assert [test.name for test in found if test.examples] == ["uses_proxies.documented"]
    with app.app_context():
        assert erlen.current_app.__wrapped__ is app


def test_nested_app_context_shares_session(app, client):
    @app.route("/")
    def index():
        with app.app_context():
            erlen.session["inner"] = "kept"
        return "x"

    @app.route("/read")
    def read():
        return erlen.session.get("inner", "lost")

    client.get("/")
    assert client.get("/read").data == b"kept"


def test_max_cookie_size_from_config(app):
    app.config["MAX_COOKIE_SIZE"] = 10
    with app.app_context():
        r = erlen.Response()
        with pytest.warns(UserWarning):
            r.set_cookie("big", "x" * 50)
    assert erlen.Response().max_cookie_size == 4093


def test_context_proxies_are_context_managers(app: t.Any, client: t.Any) -> None:
    # `with app_ctx:` enters the current context again (as Werkzeug's proxy
    # forwards the protocol); the teardown functions still run once.
    from erlen.globals import app_ctx, request_ctx

    called = []
    app.teardown_request(lambda error=None: called.append("request"))
    app.teardown_appcontext(lambda error=None: called.append("app"))

    @app.route("/")
    def index() -> str:
        with app_ctx as entered:
            with request_ctx:
                assert entered is app_ctx._get_current_object()
        return request.path

    assert client.get("/").text == "/"
    assert called == ["request", "app"]


def test_context_proxy_async_context_manager() -> None:
    import asyncio

    from erlen.globals import LocalProxy

    class Manager:
        async def __aenter__(self) -> str:
            return "in"

        async def __aexit__(self, *exc: t.Any) -> None:
            return None

    proxy = LocalProxy(Manager)

    async def use() -> str:
        async with proxy as value:  # type: ignore[attr-defined]
            return t.cast(str, value)

    assert asyncio.run(use()) == "in"


def test_request_inside_an_outer_app_context_uses_it(app: t.Any, client: t.Any) -> None:
    # As Flask: the request runs in the outer app context (same object, same
    # g), so state an extension keys on the context's identity carries over,
    # and the outer context's teardown waits for its own end.
    from erlen.globals import app_ctx, request_ctx

    torn_down = []
    app.teardown_appcontext(lambda exc: torn_down.append(exc))
    seen = {}

    @app.route("/")
    def index() -> str:
        seen["app_ctx"] = app_ctx._get_current_object()
        seen["request_ctx"] = request_ctx._get_current_object()
        seen["user"] = g.get("user")
        return ""

    with app.app_context() as outer:
        g.user = "cached"
        client.get("/")
        assert seen["app_ctx"] is outer
        assert seen["request_ctx"] is not outer and seen["request_ctx"].request is not None
        assert seen["user"] == "cached"
        assert torn_down == []
    assert torn_down == [None]
    client.get("/")
    assert seen["app_ctx"] is seen["request_ctx"]  # no outer: the request's own


def test_request_inside_an_outer_request_context_shares_its_g(app: t.Any, client: t.Any) -> None:
    # As Flask: a request pushes no app context while one of the same app is
    # active, also when that one came with a test request context (as
    # pytest-flask keeps one pushed for each test): the test then reads
    # what its requests stored on g, and the outer teardown runs at its end.
    from erlen.globals import app_ctx

    torn_down = []
    app.teardown_appcontext(lambda exc: torn_down.append(exc))
    seen = {}

    @app.route("/inner")
    def inner() -> str:
        g.project = "raclette"
        seen["app_ctx"] = app_ctx._get_current_object()
        return request.path

    with app.test_request_context("/outer") as outer:
        assert client.get("/inner").text == "/inner"
        assert g.project == "raclette"
        assert seen["app_ctx"] is outer
        assert request.path == "/outer"
        assert torn_down == []
    assert torn_down == [None]
    client.get("/inner")
    assert seen["app_ctx"] is not outer


def test_request_inside_another_apps_request_context_has_its_own_g(app: t.Any) -> None:
    other = erlen.Erlen("other_app")

    @other.route("/")
    def index() -> str:
        return str(g.get("project"))

    with app.test_request_context("/"):
        g.project = "outer app's"
        assert other.test_client().get("/").text == "None"
