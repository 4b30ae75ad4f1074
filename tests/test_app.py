"""The app object: routing through the app, views' return values, errors, hooks."""

from __future__ import annotations

import logging
import os
import typing as t
import uuid

import pytest

import erlen
from erlen import Erlen, abort, g, request
from erlen.exceptions import BadRequest, Forbidden, HTTPException, InternalServerError, NotFound


def test_hello(app, client):
    @app.route("/")
    def index():
        return "Hello, World!"

    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.status == "200 OK"
    assert rv.data == b"Hello, World!"
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
    assert rv.headers["Content-Length"] == "13"


def test_config_defaults(app):
    for key in (
        "DEBUG",
        "TESTING",
        "SECRET_KEY",
        "MAX_CONTENT_LENGTH",
        "PROPAGATE_EXCEPTIONS",
        "TRAP_HTTP_EXCEPTIONS",
        "TRAP_BAD_REQUEST_ERRORS",
        "SERVER_NAME",
        "APPLICATION_ROOT",
        "PREFERRED_URL_SCHEME",
        "MAX_FORM_MEMORY_SIZE",
        "MAX_FORM_PARTS",
    ):
        assert key in app.config
    assert app.config["APPLICATION_ROOT"] == "/"
    assert app.config["PREFERRED_URL_SCHEME"] == "http"
    assert app.testing is True
    app.testing = False
    assert app.config["TESTING"] is False
    app.secret_key = "abc"
    assert app.config["SECRET_KEY"] == "abc"
    app.debug = True
    assert app.debug and app.config["DEBUG"] is True
    assert app.name == "erlen_test_app"


def test_name_for_main():
    assert Erlen("__main__").name not in ("", None)


def test_method_shortcuts(app, client):
    @app.get("/r")
    def r_get():
        return "get"

    @app.post("/r")
    def r_post():
        return "post"

    @app.put("/r")
    def r_put():
        return "put"

    @app.patch("/r")
    def r_patch():
        return "patch"

    @app.delete("/r")
    def r_delete():
        return "delete"

    with pytest.raises(TypeError):
        app.get("/x", methods=["POST"])
    for method in ("get", "post", "put", "patch", "delete"):
        assert getattr(client, method)("/r").data == method.encode()


def test_methods_405_and_allow(app, client):
    @app.route("/only-post", methods=["POST"])
    def only_post():
        return "ok"

    rv = client.get("/only-post")
    assert rv.status_code == 405
    assert set(rv.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert client.post("/only-post").data == b"ok"


def test_methods_must_be_a_list(app):
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/x", "x", lambda: "x", methods="POST")


def test_automatic_head_and_options(app, client):
    @app.route("/", methods=["GET", "POST"])
    def index():
        return "body"

    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Content-Length"] == "4"
    rv = client.options("/")
    assert rv.status_code == 200
    assert sorted(rv.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert rv.data == b""


def test_options_handled_by_view(app, client):
    @app.route("/", methods=["OPTIONS"])
    def index():
        return "mine"

    assert client.options("/").data == b"mine"


def test_provide_automatic_options_off(app, client):
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.route("/")
    def index():
        return "x"

    assert client.options("/").status_code == 405


def test_odd_method_is_405(app, client):
    @app.route("/")
    def index():
        return "x"

    client.validate = False  # wsgiref.validate warns on unknown methods
    rv = client.open("/", method="BREW")
    assert rv.status_code == 405


def test_endpoint_decorator_and_overwrite(app, client):
    app.add_url_rule("/e", "ep")

    @app.endpoint("ep")
    def ep():
        return "ep"

    @app.route("/a")
    def same():
        return "a"

    with pytest.raises(AssertionError, match="overwriting"):
        app.add_url_rule("/b", "same", lambda: "b")
    assert client.get("/e").data == b"ep"


def test_setup_after_first_request_fails(app, client):
    @app.route("/")
    def index():
        return "x"

    client.get("/")
    with pytest.raises(AssertionError, match="setup method 'route'"):
        app.route("/late")(lambda: "late")


def test_converters_through_app(app, client):
    @app.route("/user/<int:uid>")
    def user(uid):
        return f"{uid!r}"

    @app.route("/f/<float:x>")
    def f(x):
        return repr(x)

    @app.route("/u/<uuid:u>")
    def u(u):
        return type(u).__name__

    @app.route("/p/<path:rest>")
    def p(rest):
        return rest

    assert client.get("/user/42").data == b"42"
    assert client.get("/user/x").status_code == 404
    # Python's int() accepts Arabic-Indic digits; a URL must not.
    assert client.get("/user/\u0664\u0662").status_code == 404
    assert client.get("/f/1.5").data == b"1.5"
    assert client.get(f"/u/{uuid.uuid4()}").data == b"UUID"
    assert client.get("/p/a/b/c").data == b"a/b/c"


def test_unicode_path(app, client):
    @app.route("/grüße/<name>")
    def hi(name):
        return f"hallo {name}"

    rv = client.get("/gr%C3%BC%C3%9Fe/J%C3%BCrgen")
    assert rv.status_code == 200
    assert rv.text == "hallo Jürgen"


def test_strict_slashes_redirect(app, client):
    @app.route("/folder/")
    def folder():
        return "folder"

    @app.route("/file")
    def file():
        return "file"

    rv = client.get("/folder?x=1")
    assert rv.status_code == 308
    assert rv.headers["Location"] == "/folder/?x=1"
    assert client.get("/folder", follow_redirects=True).data == b"folder"
    assert client.get("/file/").status_code == 404


def test_redirect_to_rule(app, client):
    app.add_url_rule("/old/<int:n>", "old", redirect_to="/new/<n>")

    @app.route("/new/<int:n>")
    def new(n):
        return str(n)

    rv = client.get("/old/3")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/new/3")


def test_subdomain_matching():
    app = Erlen("sub", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="<user>")
    def user_home(user):
        return f"home of {user}"

    @app.route("/")
    def index():
        return "main"

    client = app.test_client()
    assert client.get("/", base_url="http://ada.example.test/").data == b"home of ada"
    assert client.get("/", base_url="http://example.test/").data == b"main"
    # As Werkzeug: a host outside SERVER_NAME is matched as the subdomain
    # "<invalid>" (with a warning), which only a variable subdomain takes.
    with pytest.warns(UserWarning, match="Current server name 'other.test' is neither"):
        assert client.get("/", base_url="http://other.test/").data == b"home of <invalid>"
    with app.test_request_context(base_url="http://example.test/"):
        assert erlen.url_for("user_home", user="bob") == "http://bob.example.test/"
        assert erlen.url_for("index") == "/"


def test_host_matching():
    app = Erlen("hosts", host_matching=True, static_host="static.test")

    @app.route("/", host="<name>.test")
    def index(name):
        return name

    client = app.test_client()
    assert client.get("/", base_url="http://alpha.test/").data == b"alpha"
    assert client.get("/", base_url="http://alpha.other/").status_code == 404


# -- return values ---------------------------------------------------------


def test_return_types(app, client, client_interface):
    @app.route("/bytes")
    def b():
        return b"raw"

    @app.route("/dict")
    def d():
        return {"a": 1}

    @app.route("/list")
    def li():
        return [1, 2]

    @app.route("/tuple-status")
    def ts():
        return "created", 201

    @app.route("/tuple-headers")
    def th():
        return "h", {"X-A": "1"}

    @app.route("/tuple-3")
    def t3():
        return "x", "418 Teapot Time", [("X-B", "2")]

    @app.route("/gen")
    def gen():
        def stream():
            yield "a"
            yield b"b"

        return stream()

    @app.route("/response")
    def resp():
        return erlen.Response("r", status=202, mimetype="text/plain")

    @app.route("/exc")
    def exc():
        return Forbidden()

    @app.route("/wsgi")
    def wsgi():
        def inner(environ, start_response):
            start_response("203 Non-Authoritative Information", [("Content-Type", "text/plain")])
            return [b"from wsgi"]

        return inner

    assert client.get("/bytes").data == b"raw"
    rv = client.get("/dict")
    assert rv.json == {"a": 1} and rv.mimetype == "application/json"
    assert client.get("/list").json == [1, 2]
    rv = client.get("/tuple-status")
    assert rv.status_code == 201 and rv.data == b"created"
    assert client.get("/tuple-headers").headers["X-A"] == "1"
    rv = client.get("/tuple-3")
    assert rv.status_code == 418 and rv.headers["X-B"] == "2"
    if client_interface == "wsgi":  # an ASGI response carries no reason phrase
        assert rv.status == "418 Teapot Time"
    rv = client.get("/gen")
    assert rv.data == b"ab"
    assert "Content-Length" not in rv.headers
    rv = client.get("/response")
    assert rv.status_code == 202 and rv.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/exc").status_code == 403
    rv = client.get("/wsgi")
    assert rv.status_code == 203 and rv.data == b"from wsgi"


def test_dict_with_status_and_headers(app, client):
    @app.route("/")
    def index():
        return {"ok": False}, 400, {"X-Why": "because"}

    rv = client.get("/")
    assert rv.status_code == 400
    assert rv.json == {"ok": False}
    assert rv.headers["X-Why"] == "because"


def test_none_return_is_type_error(app, client):
    @app.route("/")
    def nothing():
        pass

    with pytest.raises(
        TypeError, match=r"view function for 'nothing' did not return a valid response"
    ):
        client.get("/")


def test_bad_return_type_names_the_view(app, client):
    @app.route("/")
    def weird():
        return 42

    with pytest.raises(TypeError, match=r"'weird'.*int"):
        client.get("/")


def test_bad_tuple(app, client):
    @app.route("/")
    def index():
        return ("a", 200, {}, "extra")

    with pytest.raises(TypeError, match="tuple"):
        client.get("/")


# -- errors ----------------------------------------------------------------


def test_abort_and_default_error_pages(app, client):
    @app.route("/forbidden")
    def forbidden():
        abort(403)

    @app.route("/custom")
    def custom():
        abort(400, "custom <b>message</b>")

    rv = client.get("/forbidden")
    assert rv.status_code == 403
    assert b"Forbidden" in rv.data
    rv = client.get("/custom")
    assert rv.status_code == 400
    assert b"custom &lt;b&gt;message&lt;/b&gt;" in rv.data
    rv = client.get("/missing")
    assert rv.status_code == 404 and b"Not Found" in rv.data


def test_abort_with_response(app, client):
    @app.route("/")
    def index():
        abort(erlen.Response("teapot", status=418))

    rv = client.get("/")
    assert rv.status_code == 418 and rv.data == b"teapot"


def test_errorhandler_by_code_and_class(app, client):
    @app.errorhandler(404)
    def nf(e):
        return f"nothing at {request.path}", 404

    @app.errorhandler(KeyError)
    def key_error(e):
        return "key error handled", 409

    @app.route("/key")
    def key():
        raise KeyError("x")

    assert client.get("/nope").data == b"nothing at /nope"
    rv = client.get("/key")
    assert rv.status_code == 409 and rv.data == b"key error handled"


def test_errorhandler_mro_closest_wins(app, client):
    class Base(Exception):
        pass

    class Child(Base):
        pass

    @app.errorhandler(Base)
    def base(e):
        return "base", 500

    @app.errorhandler(Child)
    def child(e):
        return "child", 500

    @app.route("/base")
    def rb():
        raise Base()

    @app.route("/child")
    def rc():
        raise Child()

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/base").data == b"base"
    assert client.get("/child").data == b"child"


def test_code_handler_beats_class_handler(app, client):
    @app.errorhandler(HTTPException)
    def any_http(e):
        return "generic", e.code

    @app.errorhandler(NotFound)
    def not_found(e):
        return "specific", 404

    @app.route("/forbidden")
    def f():
        abort(403)

    assert client.get("/nope").data == b"specific"
    assert client.get("/forbidden").data == b"generic"


def test_register_error_handler_validation(app):
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "x")
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(KeyError(), lambda e: "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(int, lambda e: "x")  # type: ignore[arg-type]


def test_unhandled_exception_propagates_in_testing(app, client):
    @app.route("/")
    def boom():
        raise ZeroDivisionError()

    with pytest.raises(ZeroDivisionError):
        client.get("/")


def test_unhandled_exception_is_500_and_logged(app, client, caplog):
    app.testing = False

    @app.route("/")
    def boom():
        raise ZeroDivisionError("oops")

    with caplog.at_level(logging.ERROR, logger=app.name):
        rv = client.get("/")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data
    assert b"ZeroDivisionError" not in rv.data  # no traceback for the client
    assert "Exception on / [GET]" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_500_handler_gets_original_exception(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = []

    @app.errorhandler(500)
    def handler(e):
        seen.append(e)
        return "sorry", 500

    @app.route("/")
    def boom():
        raise ValueError("inner")

    app.logger.disabled = True
    rv = client.get("/")
    assert rv.data == b"sorry"
    assert isinstance(seen[0], InternalServerError)
    assert isinstance(seen[0].original_exception, ValueError)


def test_error_in_error_handler_path_after_request(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True

    @app.after_request
    def broken(response):
        raise RuntimeError("after failed")

    @app.route("/")
    def boom():
        raise ValueError()

    # The 500 path logs and ignores a failing after_request instead of failing again.
    assert client.get("/").status_code == 500


def test_bad_request_key_error(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return request.form["missing"]

    rv = client.post("/", data={"other": "x"})
    assert rv.status_code == 400
    assert b"missing" not in rv.data
    app.debug = True
    app.testing = False
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    rv = client.post("/", data={"other": "x"})
    assert rv.status_code == 400
    assert b"missing" in rv.data


def test_trap_bad_request_errors(app, client):
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True

    @app.route("/")
    def index():
        raise BadRequest()

    with pytest.raises(BadRequest):
        client.get("/")


def test_trap_http_exceptions(app, client):
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index():
        abort(404)

    with pytest.raises(NotFound):
        client.get("/")


def test_custom_aborter_code(app, client):
    class Teapot(HTTPException):
        code = 418
        description = "short and stout"

    app.aborter.mapping[418] = Teapot

    @app.route("/")
    def index():
        abort(418)

    rv = client.get("/")
    assert rv.status_code == 418 and b"short and stout" in rv.data


# -- hooks -----------------------------------------------------------------


def test_hook_order(app, client):
    calls = []

    @app.before_request
    def b1():
        calls.append("before1")

    @app.before_request
    def b2():
        calls.append("before2")

    @app.after_request
    def a1(response):
        calls.append("after1")
        return response

    @app.after_request
    def a2(response):
        calls.append("after2")
        response.headers["X-After"] = "yes"
        return response

    @app.teardown_request
    def td(exc):
        calls.append(("teardown", exc))

    @app.teardown_appcontext
    def tda(exc):
        calls.append(("teardown_app", exc))

    @app.route("/")
    def index():
        calls.append("view")
        return "x"

    rv = client.get("/")
    assert rv.headers["X-After"] == "yes"
    assert calls == [
        "before1",
        "before2",
        "view",
        "after2",
        "after1",
        ("teardown", None),
        ("teardown_app", None),
    ]


def test_before_request_short_circuits(app, client):
    @app.before_request
    def stop():
        if request.path == "/blocked":
            return "blocked", 403
        return None

    @app.route("/blocked")
    def blocked():  # pragma: no cover - must not run
        raise AssertionError("view ran")

    rv = client.get("/blocked")
    assert rv.status_code == 403 and rv.data == b"blocked"


def test_teardown_gets_exception(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    seen = []

    @app.teardown_request
    def td(exc):
        seen.append(exc)

    @app.route("/")
    def boom():
        raise KeyError("k")

    client.get("/")
    assert isinstance(seen[0], KeyError)


def test_teardown_errors_all_run_then_raise(app):
    calls = []

    @app.teardown_request
    def first(exc):
        calls.append("first")
        raise ValueError("first")

    @app.teardown_request
    def second(exc):
        calls.append("second")

    ctx = app.test_request_context()
    ctx.push()
    with pytest.raises(ValueError):
        ctx.pop()
    assert calls == ["second", "first"]


def test_url_value_preprocessor_and_defaults(app, client):
    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        g.lang = values.pop("lang", None)

    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang" in app.url_map._rules_by_endpoint and False:  # pragma: no cover
            pass
        values.setdefault("lang", getattr(g, "lang", "en"))

    @app.route("/<lang>/page")
    def page():
        return f"{g.lang} {erlen.url_for('page')}"

    assert client.get("/de/page").data == b"de /de/page"


def test_after_this_request(app, client):
    @app.route("/")
    def index():
        @erlen.after_this_request
        def add_header(response):
            response.headers["X-Once"] = "1"
            return response

        return "x"

    assert client.get("/").headers["X-Once"] == "1"
    with pytest.raises(RuntimeError, match="request context"):
        erlen.after_this_request(lambda r: r)


def test_async_view_and_hook(app, client):
    @app.before_request
    async def before():
        g.before = "async-before"

    @app.route("/")
    async def index():
        return f"async view, {g.before}"

    assert client.get("/").data == b"async view, async-before"
    assert client.get("/").data == b"async view, async-before"


def test_no_hook_structures_touched_on_plain_request(app, client):
    @app.route("/")
    def index():
        return "x"

    client.get("/")
    # defaultdicts stay empty: the hook loops never ran for a hook-free app.
    assert not app.before_request_funcs
    assert not app.after_request_funcs
    assert not app.teardown_request_funcs


def test_wsgi_app_middleware(app, client):
    @app.route("/")
    def index():
        return "x"

    inner = app.wsgi_app

    def middleware(environ, start_response):
        def sr(status, headers, exc_info=None):
            return start_response(status, headers + [("X-MW", "on")], exc_info)

        return inner(environ, sr)

    app.wsgi_app = middleware
    assert client.get("/").headers["X-MW"] == "on"


def test_template_registration_points(app):
    @app.template_filter()
    def shout(s):
        return s.upper()

    @app.template_global("answer")
    def answer():
        return 42

    @app.template_test()
    def even(n):
        return n % 2 == 0

    @app.context_processor
    def inject():
        return {"x": 1}

    @app.shell_context_processor
    def shell():
        return {"y": 2}

    assert app.template_filters["shout"] is shout
    assert app.template_globals["answer"] is answer
    assert app.template_tests["even"] is even
    assert inject in app.template_context_processors[None]
    assert shell in app.shell_context_processors


def test_instance_path_and_resources(tmp_path):
    (tmp_path / "data.txt").write_text("hello")
    app = Erlen("res", root_path=str(tmp_path), instance_path=str(tmp_path / "inst"))
    with app.open_resource("data.txt") as f:
        assert f.read() == b"hello"
    with app.open_resource("data.txt", "r") as f:
        assert f.read() == "hello"
    with pytest.raises(ValueError):
        app.open_resource("data.txt", "w")
    (tmp_path / "inst").mkdir()
    with app.open_instance_resource("x.txt", "w") as f:
        f.write("inst")
    with app.open_instance_resource("x.txt") as f:
        assert f.read() == b"inst"
    with pytest.raises(ValueError, match="absolute"):
        Erlen("res", instance_path="relative")
    assert Erlen("res", root_path=str(tmp_path)).instance_path == str(tmp_path / "instance")


def test_root_path_of_unimported_module():
    # Regression: finding the root of a module not yet imported must not crash.
    app = Erlen("not_a_real_module_name_xyz")
    assert app.root_path
    import json as stdlib_json

    assert Erlen("json").root_path == os.path.dirname(stdlib_json.__file__)


@pytest.mark.parametrize(
    ("files", "import_name", "expected"),
    [
        # A module: beside it. A package: beside the package, not inside it
        # (Flask's rule); a module inside a package: beside the top package.
        ({"solo_mod_ix.py": ""}, "solo_mod_ix", "instance"),
        ({"pkg_ix/__init__.py": ""}, "pkg_ix", "instance"),
        ({"pkg_ix2/__init__.py": "", "pkg_ix2/views.py": ""}, "pkg_ix2.views", "instance"),
        # Installed: <prefix>/var/<name>-instance, the prefix being the
        # folder that holds site-packages (or lib/pythonX.Y/site-packages).
        ({"site-packages/inst_pkg_ix/__init__.py": ""}, "inst_pkg_ix", "var/inst_pkg_ix-instance"),
        (
            {"lib/python3.11/site-packages/inst_pkg_ix3/__init__.py": ""},
            "inst_pkg_ix3",
            "var/inst_pkg_ix3-instance",
        ),
    ],
)
def test_default_instance_path_like_flask(
    tmp_path: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    import_name: str,
    expected: str | None,
) -> None:
    import sys

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    site = [name.rpartition("site-packages")[0] for name in files if "site-packages" in name]
    monkeypatch.syspath_prepend(
        str(tmp_path / f"{site[0]}site-packages") if site else str(tmp_path)
    )
    top = import_name.partition(".")[0]
    for imported in (False, True):
        if imported:
            __import__(import_name)
        try:
            found = Erlen(import_name).instance_path
        finally:
            if imported:
                for mod in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                    del sys.modules[mod]
        assert found == str(tmp_path / expected)


def test_instance_path_of_a_package_under_sys_prefix(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    (tmp_path / "path" / "under_prefix_ix").mkdir(parents=True)
    (tmp_path / "path" / "under_prefix_ix" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "path"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert Erlen("under_prefix_ix").instance_path == str(
        tmp_path / "var" / "under_prefix_ix-instance"
    )


def test_instance_path_of_a_namespace_package(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The namespace is in two projects: the instance folder is the one beside
    # the project that holds the app's package.
    import sys

    for name in ("pkg_a", "pkg_b"):
        (tmp_path / f"project-{name}" / "ns_ix" / name).mkdir(parents=True)
        (tmp_path / f"project-{name}" / "ns_ix" / name / "__init__.py").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path / f"project-{name}"))
    monkeypatch.delitem(sys.modules, "ns_ix", raising=False)
    assert Erlen("ns_ix.pkg_a").instance_path == str(tmp_path / "project-pkg_a" / "instance")
    assert Erlen("ns_ix.pkg_b").instance_path == str(tmp_path / "project-pkg_b" / "instance")
    for mod in [m for m in sys.modules if m == "ns_ix" or m.startswith("ns_ix.")]:
        del sys.modules[mod]


def test_trusted_hosts(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return request.host

    assert client.get("/", headers={"Host": "anything.test"}).text == "anything.test"
    app.config["TRUSTED_HOSTS"] = ["example.com", ".example.org"]
    for good in ("example.com", "example.com:8080", "www.example.org", "example.org"):
        assert client.get("/", headers={"Host": good}).status_code == 200, good
    rv = client.get("/", headers={"Host": "evil.test"})
    assert rv.status_code == 400
    assert "not trusted" in rv.text
    # The app keeps serving trusted hosts, and a 404 stays a 404 for them.
    assert client.get("/", headers={"Host": "example.com"}).text == "example.com"
    assert client.get("/missing", headers={"Host": "example.com"}).status_code == 404
    assert client.get("/missing", headers={"Host": "evil.test"}).status_code == 400


def test_debug_mode_refuses_a_redirect_that_drops_the_form(
    app: Erlen, client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from erlen.debughelpers import FormDataRoutingRedirect
    from erlen.exceptions import RequestRedirect

    app.debug = True

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return request.form["status"]

    # The routing default, 308, keeps the body.
    assert client.post("/user", data={"status": "ok"}, follow_redirects=True).text == "ok"
    monkeypatch.setattr(RequestRedirect, "code", 301)
    with pytest.raises(FormDataRoutingRedirect, match="canonical URL 'http://localhost/user/'"):
        client.post("/user", data={"status": "lost"})
    assert client.get("/user").status_code == 301  # a GET has nothing to lose
    app.debug = False
    assert client.post("/user", data={"status": "lost"}).status_code == 301


def test_debug_mode_explains_a_file_sent_without_multipart(app: Erlen, client: t.Any) -> None:
    from erlen.wrappers.request import DebugFilesKeyError

    @app.post("/upload")
    def upload() -> str:
        return t.cast(str, request.files["doc"].filename)

    app.debug = True
    with pytest.raises(DebugFilesKeyError) as info:
        client.post("/upload", data={"doc": "report.txt"})
    assert "no file contents were transmitted" in str(info.value)
    assert "This was submitted: 'report.txt'" in str(info.value)
    assert isinstance(info.value, KeyError)
    app.debug = False
    assert client.post("/upload", data={"doc": "report.txt"}).status_code == 400


def test_wsgi_errors_stream_is_the_requests(app: Erlen) -> None:
    import io
    import sys

    from erlen.logging import wsgi_errors_stream

    stream = io.StringIO()
    assert wsgi_errors_stream._get_current_object() is sys.stderr
    with app.test_request_context(errors_stream=stream):
        assert wsgi_errors_stream._get_current_object() is stream
        wsgi_errors_stream.write("to the request's stream")
    assert stream.getvalue() == "to the request's stream"


# -- scaffold helpers: static URL path, instance folder locations ---------------------


def test_static_url_path_without_a_static_folder() -> None:
    from erlen import Blueprint

    bp = Blueprint("plain", __name__)
    assert not bp.has_static_folder
    assert bp.static_url_path is None


def test_namespace_location_falls_back_to_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from erlen.scaffold import _namespace_location

    # find_spec raises ValueError for a module whose __spec__ is None.
    odd = types.ModuleType("erlen_test_specless")
    odd.__spec__ = None
    monkeypatch.setitem(sys.modules, "erlen_test_specless", odd)
    assert _namespace_location("erlen_test_specless", ["/a", "/b"]) == "/a"
    # A package found, but under none of the locations.
    assert _namespace_location("erlen", ["/nowhere/one", "/nowhere/two"]) == "/nowhere/one"
    # A package under the second location.
    here = os.path.dirname(os.path.dirname(erlen.__file__))
    assert _namespace_location("erlen", ["/nowhere", here]) == here


@pytest.mark.parametrize(
    ("folder", "prefix"),
    [
        (os.path.join("/opt", "py", "Lib", "site-packages"), os.path.join("/opt", "py")),
        (
            os.path.join("/opt", "py", "lib", "python3.11", "site-packages"),
            os.path.join("/opt", "py"),
        ),
        (os.path.join("/opt", "py", "site-packages"), os.path.join("/opt", "py")),
        (os.path.join("/home", "me", "project"), None),
    ],
)
def test_install_prefix_of_site_packages_layouts(folder: str, prefix: str | None) -> None:
    from erlen.scaffold import _install_prefix

    assert _install_prefix(folder) == prefix


def test_install_prefix_inside_sys_prefix() -> None:
    import sys

    from erlen.scaffold import _install_prefix

    prefix = os.path.abspath(sys.prefix)
    assert _install_prefix(prefix) == prefix
    assert _install_prefix(os.path.join(prefix, "lib", "x")) == prefix


def test_an_http_exception_whose_get_response_needs_the_environ(app, client):
    # Flask serves an HTTP error as a WSGI app, which calls
    # get_response(environ): subclasses written for Werkzeug override it with
    # the environ as a required argument (ihatemoney's Redirect303).
    from erlen.exceptions import HTTPException, RoutingException

    class Redirect303(HTTPException, RoutingException):
        code = 303

        def __init__(self, new_url):
            RoutingException.__init__(self, new_url)
            self.new_url = new_url

        def get_response(self, environ):
            assert environ["PATH_INFO"] == "/old"
            return erlen.redirect(self.new_url, 303)

    @app.route("/old")
    def old():
        raise Redirect303("/new")

    @app.errorhandler(Redirect303)
    def not_used(e):  # a routing exception is its own response, as in Flask
        return "handled", 500

    r = client.get("/old")
    assert r.status_code == 303
    assert r.headers["Location"] == "/new"
