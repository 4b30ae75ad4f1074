"""Edge cases of the app, contexts, proxies and adapters that the feature tests don't reach."""

from __future__ import annotations

import io
import logging
import sys
import types

import click
import pytest

import erlen
from erlen import Erlen, g, request, url_for
from erlen.ctx import AppContext, RequestContext
from erlen.exceptions import BadRequestKeyError
from erlen.testing import EnvironBuilder


def test_main_module_without_file(monkeypatch):
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    assert Erlen("__main__", static_folder=None).name == "__main__"


def test_test_cli_runner_invokes_a_command(app):
    @click.command()
    def hello():
        click.echo("hi from cli")

    result = app.test_cli_runner().invoke(hello)
    assert result.output == "hi from cli\n"


def test_should_ignore_error_hides_it_from_teardown(client):
    class Quiet(Erlen):
        def should_ignore_error(self, error):
            return True

    app = Quiet("quiet", static_folder=None)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    seen = []
    app.teardown_request(seen.append)

    @app.route("/")
    def boom():
        raise ValueError

    assert app.test_client().get("/").status_code == 500
    assert seen == [None]


def test_create_url_adapter(app):
    @app.route("/x")
    def x():
        return ""

    assert app.create_url_adapter(None) is None
    with app.test_request_context("/x?a=1"):
        adapter = app.create_url_adapter(request._get_current_object())
        assert adapter.build("x") == "/x"
    app.config["SERVER_NAME"] = "example.test"
    adapter = app.create_url_adapter(None)
    assert adapter.build("x", force_external=True) == "http://example.test/x"


def test_overridden_dispatch_request_is_used():
    class Custom(Erlen):
        def dispatch_request(self):
            rv = super().dispatch_request()
            return "custom:" + rv if isinstance(rv, str) else rv

    app = Custom("custom", static_folder=None)

    @app.route("/")
    def index():
        return "view"

    @app.route("/async")
    async def av():
        return "async"

    client = app.test_client()
    assert client.get("/").data == b"custom:view"
    assert client.get("/async").data == b"custom:async"
    assert client.options("/").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_after_request_error_becomes_500(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True

    @app.after_request
    def broken(response):
        raise RuntimeError("after")

    @app.route("/")
    def index():
        return "x"

    assert client.get("/").status_code == 500


def test_wsgi_app_return_is_closed(app, client):
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    @app.route("/")
    def index():
        def inner(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return Body([b"a", b"b"])

        return inner

    assert client.get("/").data == b"ab"
    assert closed == [True]


def test_wsgi_app_returned_by_a_view_may_not_write(app, client):
    # write() bytes used to be dropped without a word: now it is a clear error.
    @app.route("/")
    def index():
        def inner(environ, start_response):
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"would be lost")
            return []

        return inner

    with pytest.raises(RuntimeError, match="write"):
        client.get("/")


def test_bad_request_key_error_trapped_in_debug(app, client):
    app.testing = False
    app.debug = True

    @app.route("/", methods=["POST"])
    def index():
        return request.form["missing"]

    with pytest.raises(BadRequestKeyError):
        client.post("/", data={"a": "b"})


def test_handle_exception_outside_except(app):
    with app.test_request_context():
        with pytest.raises(ValueError):
            app.handle_exception(ValueError("direct"))


def test_no_session_interface(app, client):
    app.session_interface = None

    @app.route("/")
    def index():
        return str(erlen.session.get("x"))

    with pytest.raises(RuntimeError, match="No session interface"):
        client.get("/")


def test_url_defaults_for_dotted_endpoint(app):
    seen = []
    app.url_defaults(lambda endpoint, values: seen.append(endpoint))
    app.url_default_functions["admin"].append(lambda endpoint, values: values.setdefault("page", 1))
    app.add_url_rule("/admin/<int:page>", "admin.index", lambda page: "")
    with app.test_request_context():
        assert url_for("admin.index") == "/admin/1"
    assert seen == ["admin.index"]


def test_url_build_error_handler_returning_none(app):
    app.url_build_error_handlers.append(lambda error, endpoint, values: None)
    with app.test_request_context():
        with pytest.raises(erlen.exceptions.BuildError):
            url_for("missing")


def test_relative_endpoint_without_blueprint(app):
    @app.route("/")
    def index():
        return ""

    with app.test_request_context():
        assert url_for(".index") == "/"


def test_url_for_across_hosts():
    app = Erlen("hosts", host_matching=True, static_host="static.test")

    @app.route("/", host="a.test")
    def a():
        return ""

    @app.route("/", host="b.test")
    def b():
        return ""

    with app.test_request_context(base_url="http://a.test/"):
        assert url_for("a") == "/"
        assert url_for("b") == "http://b.test/"


def test_url_for_from_subdomain_to_main():
    app = Erlen("subs", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/")
    def index():
        return ""

    @app.route("/", subdomain="api")
    def api():
        return ""

    with app.test_request_context(base_url="http://api.example.test/"):
        assert url_for("api") == "/"
        assert url_for("index") == "http://example.test/"


def test_send_static_file_without_folder():
    app = Erlen("nostatic", static_folder=None)
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="static_folder"):
            app.send_static_file("x")


def test_run_uses_dev_server(app, monkeypatch):
    calls = []
    import erlen.serving

    monkeypatch.setattr(
        erlen.serving,
        "run_simple",
        lambda host, port, application, **kw: calls.append((host, port, application, kw)),
    )
    app.run(debug=True)
    assert calls[-1][:3] == ("127.0.0.1", 5000, app)
    assert app.debug is True
    app.config["SERVER_NAME"] = "localhost:8123"
    app.run()
    assert calls[-1][:2] == ("localhost", 8123)
    app.run(host="0.0.0.0", port=9000)
    assert calls[-1][:2] == ("0.0.0.0", 9000)


def test_dev_server_serves_over_a_socket(app):
    import threading
    import urllib.request

    from erlen.serving import make_server

    @app.route("/")
    def index():
        return "over http"

    server = make_server("127.0.0.1", 0, app)
    port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.read() == b"over http"
    finally:
        server.shutdown()
        server.server_close()


def test_run_simple_prints_url_and_stops(monkeypatch, capsys, app):
    import erlen.serving

    class FakeServer:
        server_address = ("127.0.0.1", 4321)

        def serve_forever(self):
            raise KeyboardInterrupt

        def server_close(self):
            self.closed = True

    monkeypatch.setattr(erlen.serving, "make_server", lambda *a, **k: FakeServer())
    erlen.serving.run_simple("127.0.0.1", 0, app)
    out = capsys.readouterr().out
    assert (
        "http://127.0.0.1:4321/" in out and "development server" in out and "Shutting down" in out
    )


# -- contexts and proxies ----------------------------------------------------


def test_g_repr_and_setter(app):
    with app.app_context() as ctx:
        new_g = app.app_ctx_globals_class()
        ctx.g = new_g
        assert g._get_current_object() is new_g
    assert "object at" in repr(app.app_ctx_globals_class())


def test_session_needs_request(app):
    ctx = AppContext(app)
    with pytest.raises(RuntimeError, match="outside a request"):
        ctx.session
    ctx.session = {"set": True}
    assert ctx.session == {"set": True}


def test_appcontext_pushed_signal_for_app_context(app):
    from erlen import signals

    seen = []
    with signals.appcontext_pushed.connected_to(lambda sender, **kw: seen.append(sender), app):
        with app.app_context():
            pass
    assert seen == [app]


def test_request_context_from_environ_and_match(app):
    @app.route("/m/<int:n>")
    def m(n):
        return ""

    ctx = RequestContext(app, EnvironBuilder(app, "/m/3").get_environ(), session={"s": 1})
    with ctx:
        ctx.match_request()
        assert request.view_args == {"n": 3}
        assert ctx.session == {"s": 1}
    ctx = RequestContext(app)
    assert ctx.request.path == "/"


def test_after_this_request_twice(app, client):
    @app.route("/")
    def index():
        erlen.after_this_request(lambda r: (r.headers.add("X-N", "1"), r)[1])
        erlen.after_this_request(lambda r: (r.headers.add("X-N", "2"), r)[1])
        return "x"

    assert client.get("/").headers.getlist("X-N") == ["1", "2"]


def test_proxy_item_protocol_and_call(app):
    with app.test_request_context():
        g.d = {}
        proxy = erlen.globals.LocalProxy(lambda: g.d)
        proxy["a"] = 1
        assert proxy["a"] == 1 and "a" in proxy and len(proxy) == 1 and list(proxy) == ["a"]
        del proxy["a"]
        assert not proxy
        caller = erlen.globals.LocalProxy(lambda: lambda x: x * 2)
        assert caller(3) == 6
    assert dir(erlen.request) == []
    with pytest.raises(RuntimeError, match="application context"):
        erlen.globals.app_ctx.app


# -- adapters, bodies and small helpers ---------------------------------------


def test_body_stream_readline_and_iter(app):
    with app.test_request_context(method="POST", data=b"line1\nline2\n"):
        stream = request.stream
        assert stream.readline() == b"line1\n"
        assert stream.readline(3) == b"lin"
        assert b"".join(stream) == b"e2\n"
        assert stream.read() == b""
    with app.test_request_context():
        assert request.stream.read() == b""
        assert request.stream.readline() == b""
        assert list(request.stream) == []


def test_request_misc_headers(app):
    with app.test_request_context(
        headers={"Content-Encoding": "gzip", "Accept-Encoding": "br, gzip;q=0.5"}
    ):
        assert request.content_encoding == "gzip"
        assert request.accept_encodings.best == "br"
    with app.test_request_context(
        method="POST", data=b"a=%FF", content_type="application/x-www-form-urlencoded"
    ):
        with pytest.raises(erlen.exceptions.BadRequest, match="UTF-8"):
            request.form


def test_request_repr_with_bad_host():
    from erlen.wrappers import Request

    class Broken(Request):
        @property
        def url(self):
            raise ValueError("bad host")

    assert "/x" in repr(Broken("GET", "/x"))
    assert Request("GET", "/").host == ""
    assert Request("GET", "/", server=("h", 8080)).host == "h:8080"


def test_response_status_from_bytes_and_objects():
    r = erlen.Response()
    r.status = b"201 Made"
    assert r.status == "201 Made"

    class Status:
        value = 202

    r.status = Status()
    assert r.status_code == 202

    class Teapot(erlen.Response):
        default_status = 418

    assert Teapot().status == "418 I'm a teapot"


def test_response_headers_setter_and_empty_with_headers():
    r = erlen.Response(headers=[("X-A", "1")])
    assert r.headers["Content-Length"] == "0"
    r.headers = [("X-B", "2")]
    assert r.headers["X-B"] == "2" and "X-A" not in r.headers
    r = erlen.Response(b"bytes", headers={"X-C": "3"})
    assert r.data == b"bytes"
    r = erlen.Response(iter([b"x"]), headers={"X-D": "4"})
    assert r.get_data() == b"x"
    r.content_type = "text/plain"
    assert r.content_type == "text/plain"
    r.headers["Content-Length"] = "nope"
    assert r.content_length is None


def test_response_get_json_raises_without_silent():
    r = erlen.Response("{bad", mimetype="application/json")
    with pytest.raises(ValueError):
        r.get_json()


def test_response_memoryview_body():
    assert erlen.Response([memoryview(b"mv")]).get_data() == b"mv"


def test_many_content_types_cache_bounded():
    for i in range(300):
        erlen.Response("", mimetype=f"application/x-test-{i}")
    from erlen.wrappers import _CONTENT_TYPES

    assert len(_CONTENT_TYPES) <= 256


def test_wsgi_latin1_script_name_and_fields():
    from erlen.wsgi import make_request

    env = EnvironBuilder().get_environ()
    env["SCRIPT_NAME"] = "/caf\xc3\xa9"
    env["PATH_INFO"] = "relative"
    req = make_request(erlen.Request, env)
    assert req.root_path == "/café" and req.path == "/relative"
    env["SCRIPT_NAME"] = "/\xff"
    assert make_request(erlen.Request, env).root_path == "/\ufffd"
    del env["SERVER_NAME"]
    assert make_request(erlen.Request, env).server is None


def test_streamed_body_closed_on_head(app):
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"x"])

        def close(self):
            closed.append(True)

    @app.route("/")
    def index():
        return erlen.Response(Body())

    assert app.test_client().head("/").data == b""
    assert closed == [True]


def test_file_body_with_callback_and_no_wrapper(app, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    called = []

    @app.route("/")
    def index():
        r = erlen.Response(open(path, "rb"), direct_passthrough=True)
        r.call_on_close(lambda: called.append(True))
        return r

    assert app.test_client().get("/").data == b"abc"
    assert called == [True]


@pytest.mark.wsgi_only(
    reason="wsgi.errors is a WSGI environ stream; an ASGI scope has none (the handler writes to stderr)"
)
def test_logger_default_handler_writes_to_wsgi_errors(monkeypatch):
    import erlen.logging as elog

    # pytest puts handlers on the root logger; pretend nothing handles it.
    monkeypatch.setattr(elog, "has_level_handler", lambda logger: False)
    app = Erlen("logger_app_for_test", static_folder=None)
    errors = io.StringIO()

    @app.route("/")
    def boom():
        raise ZeroDivisionError

    logger = app.logger
    assert elog.default_handler in logger.handlers
    monkeypatch.setattr(logger, "propagate", False)
    try:
        rv = app.test_client().get("/", environ_overrides={"wsgi.errors": errors})
        assert rv.status_code == 500
        assert "Exception on / [GET]" in errors.getvalue()
        assert "ZeroDivisionError" in errors.getvalue()
    finally:
        logger.removeHandler(elog.default_handler)
    elog.wsgi_errors_stream.write("")  # outside a request: stderr
    elog.wsgi_errors_stream.flush()


def test_has_level_handler():
    from erlen.logging import has_level_handler

    parent = logging.getLogger("erlen_lvl_parent")
    child = logging.getLogger("erlen_lvl_parent.child")
    handler = logging.NullHandler()
    parent.addHandler(handler)
    try:
        assert has_level_handler(child)
        parent.propagate = False
        child.propagate = False
        assert not has_level_handler(child)
    finally:
        parent.removeHandler(handler)
        parent.propagate = child.propagate = True


def test_logger_debug_level():
    app = Erlen("debug_logger_app", static_folder=None)
    app.debug = True
    assert app.logger.level == logging.DEBUG


def test_import_string():
    from erlen._utils import import_string

    assert import_string("os.path:join") is __import__("os").path.join
    assert import_string("os.path") is __import__("os").path
    assert import_string("nope_missing_mod", silent=True) is None
    with pytest.raises(ImportError):
        import_string("os.nothing_here")
    with pytest.raises(ImportError):
        import_string("nope_missing_mod")


def test_cached_property_on_class():
    from erlen._utils import cached_property

    class A:
        @cached_property
        def value(self):
            return 1

    assert isinstance(A.value, cached_property)
    assert A().value == 1


def test_send_file_max_age_from_config(tmp_path):
    import datetime as dt

    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.txt").write_text("a")
    app = Erlen("maxage", root_path=str(tmp_path))
    client = app.test_client()
    assert client.get("/static/a.txt").headers["Cache-Control"] == "no-cache"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = dt.timedelta(hours=1)
    assert app.get_send_file_max_age("a.txt") == 3600
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    assert "max-age=60" in client.get("/static/a.txt").headers["Cache-Control"]


def test_filestorage_reexported():
    from erlen import datastructures
    from erlen.formparser import FileStorage

    assert datastructures.FileStorage is FileStorage
    with pytest.raises(AttributeError):
        datastructures.NoSuchThing


def test_import_erlen_stays_light():
    # Erlen never imports Flask or Werkzeug, and leaves Jinja, itsdangerous,
    # asyncio and python-multipart until a feature needs them.
    import subprocess

    code = (
        "import sys, erlen\n"
        "heavy = [m for m in ('flask', 'werkzeug', 'jinja2', 'itsdangerous', 'asyncio', 'python_multipart') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_run_ignored_under_the_cli(app, monkeypatch, capsys):
    import erlen.serving

    calls = []
    monkeypatch.setattr(erlen.serving, "run_simple", lambda *a, **k: calls.append(a))
    monkeypatch.setenv("ERLEN_RUN_FROM_CLI", "true")
    app.run()
    assert calls == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().err


def test_run_port_zero_and_reloader_default(app, monkeypatch):
    import erlen.serving

    calls = []
    monkeypatch.setattr(
        erlen.serving, "run_simple", lambda host, port, application, **kw: calls.append((port, kw))
    )
    app.run(port=0)
    assert calls[-1][0] == 0 and calls[-1][1]["use_reloader"] is False
    app.run(debug=True)
    assert calls[-1][1]["use_reloader"] is True


def test_python_dash_m_erlen():
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "erlen", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "routes" in out.stdout


# -- the app's root without its slash (an empty path below the mount point) -----


def test_empty_path_redirects_to_the_roots_slash(app, client):
    # As Flask/Werkzeug: an app mounted at /app asked for /app (PATH_INFO ""
    # over WSGI, path == root_path over ASGI) is sent to /app/, so relative
    # links on the page resolve below the mount point. The query is kept.
    @app.route("/")
    def index():
        return f"index {request.path}"

    rv = client.get("")
    assert rv.status_code == 308
    assert rv.headers["Location"] == "/"
    rv = client.get("", base_url="http://localhost/app", query_string={"q": "1"})
    assert rv.status_code == 308
    assert rv.headers["Location"] == "/app/?q=1"
    rv = client.get("/", base_url="http://localhost/app")
    assert rv.status_code == 200 and rv.text == "index /"


def test_empty_path_matches_a_root_without_strict_slashes(app, client):
    # A root rule that takes either form answers the empty path itself,
    # and the view sees the path "/".
    @app.route("/", strict_slashes=False)
    def index():
        return f"index {request.path} {request.routing_exception}"

    rv = client.get("", base_url="http://localhost/app")
    assert rv.status_code == 200 and rv.text == "index / None"


def test_empty_path_without_a_root_rule_is_404(app, client):
    @app.route("/other")
    def other():
        return "other"

    assert client.get("", base_url="http://localhost/app").status_code == 404


def test_empty_path_with_host_matching(client):
    app = Erlen(__name__, host_matching=True, static_host="static.test")

    @app.route("/", host="a.test")
    def index():
        return "index"

    rv = app.test_client().get("", base_url="http://a.test/app")
    assert rv.status_code == 308 and rv.headers["Location"] == "/app/"
    assert app.test_client().get("/", base_url="http://a.test/app").text == "index"


def test_empty_path_in_a_test_request_context():
    # As Flask's request context: the empty path is matched when the
    # context is made, to the root's redirect (or a 404 without a root rule),
    # while request.path is "/".
    from erlen.exceptions import NotFound, RequestRedirect

    app = Erlen(__name__)
    with app.test_request_context("", base_url="http://localhost/app"):
        assert request.path == "/"
        assert isinstance(request.routing_exception, NotFound)
    app.add_url_rule("/", "index", lambda: "index")
    with app.test_request_context("", base_url="http://localhost/app"):
        assert request.path == "/" and request.script_root == "/app"
        assert isinstance(request.routing_exception, RequestRedirect)
        assert request.routing_exception.new_url == "/"
    # The marker behind it is no status code's class: abort(308) is not it.
    assert erlen.exceptions.default_exceptions.get(308) is not erlen.exceptions._EmptyPath


def test_a_list_body_of_str_is_sent_encoded(app, client):
    # Regression: over WSGI a list given to Response went to the server as
    # is, str items and all (PEP 3333 allows bytes only); Werkzeug encodes
    # them, and Erlen's ASGI side already did.
    @app.get("/parts")
    def parts():
        return erlen.Response(["ab", "\u00e9", b"!"], mimetype="text/plain")

    rv = client.get("/parts")
    assert rv.status_code == 200
    assert rv.data == "ab\u00e9!".encode()


def test_unhashable_callable_objects_are_views(app, client):
    # The drivers ask once per view whether it is a coroutine function,
    # keeping the answer by view: a view that can't be a key is asked each time.
    class Answer:
        __hash__ = None  # type: ignore[assignment]

        def __init__(self, text):
            self.text = text

        def __call__(self):
            return self.text

    class AsyncAnswer(Answer):
        async def __call__(self):
            return self.text

    app.add_url_rule("/sync", "sync", Answer("plain"))
    app.add_url_rule("/async", "async", AsyncAnswer("awaited"))
    for _ in range(2):
        assert client.get("/sync").data == b"plain"
        assert client.get("/async").data == b"awaited"


def test_a_view_replaced_after_serving_is_asked_anew(app, client):
    # What the drivers keep per view (whether it is async) never stands for
    # another view: a view replaced in view_functions is the one called.
    @app.route("/")
    def index():
        return "def"

    assert client.get("/").data == b"def"

    async def replacement():
        return "async"

    app.view_functions["index"] = replacement
    assert client.get("/").data == b"async"
    app.view_functions["index"] = index
    assert client.get("/").data == b"def"
