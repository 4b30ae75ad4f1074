"""url_for, redirect, make_response, safe_join and friends."""

from __future__ import annotations

import pytest

import erlen
from erlen import Erlen, make_response, redirect, request, url_for
from erlen.exceptions import BuildError
from erlen.helpers import safe_join


def test_url_for_basics(app):
    @app.route("/")
    def index():
        return ""

    @app.route("/user/<int:uid>")
    def user(uid):
        return ""

    @app.route("/files/<path:p>")
    def files(p):
        return ""

    with app.test_request_context(base_url="http://example.com/app/"):
        assert url_for("index") == "/app/"
        assert url_for("user", uid=3) == "/app/user/3"
        assert url_for("user", uid=3, q="a b", tag=["x", "y"]) == "/app/user/3?q=a+b&tag=x&tag=y"
        assert url_for("files", p="a b/ü.txt") == "/app/files/a%20b/%C3%BC.txt"
        assert url_for("index", _external=True) == "http://example.com/app/"
        assert url_for("index", _external=True, _scheme="https") == "https://example.com/app/"
        assert url_for("index", _anchor="sec 1") == "/app/#sec%201"
        assert url_for("static", filename="a.css") == "/app/static/a.css"
        with pytest.raises(ValueError, match="_external"):
            url_for("index", _scheme="https", _external=False)


def test_url_for_build_error_messages(app):
    @app.route("/user/<int:uid>", methods=["POST"])
    def user(uid):
        return ""

    with app.test_request_context():
        with pytest.raises(BuildError, match=r"Did you forget to specify values \['uid'\]"):
            url_for("user")
        with pytest.raises(BuildError, match="Did you mean 'user'"):
            url_for("usr")
        with pytest.raises(BuildError, match="methods"):
            url_for("user", uid=1, _method="GET")
        assert url_for("user", uid=1, _method="POST") == "/user/1"


def test_url_build_error_handler(app):
    app.url_build_error_handlers.append(lambda error, endpoint, values: f"/fallback/{endpoint}")
    with app.test_request_context():
        assert url_for("nowhere") == "/fallback/nowhere"


def test_url_build_error_handler_reraises(app):
    def handler(error, endpoint, values):
        raise error

    app.url_build_error_handlers.append(handler)
    with app.test_request_context():
        with pytest.raises(BuildError):
            url_for("nowhere")


def test_url_for_outside_request(app):
    @app.route("/x")
    def x():
        return ""

    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("x")
    app.config.update(SERVER_NAME="example.org", APPLICATION_ROOT="/root", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert url_for("x") == "https://example.org/root/x"
        assert url_for("x", _external=False) == "/root/x"
    with pytest.raises(RuntimeError, match="application context"):
        url_for("x")


def test_url_for_defaults_selection(app):
    @app.route("/page/", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(n):
        return str(n)

    with app.test_request_context():
        assert url_for("page", n=1) == "/page/"
        assert url_for("page", n=2) == "/page/2"


def test_url_for_in_view(app, client):
    @app.route("/a")
    def a():
        return url_for("b", x=1, _external=True)

    @app.route("/b")
    def b():
        return ""

    assert client.get("/a").text == "http://localhost/b?x=1"


def test_redirect(app, client):
    rv = redirect("/target?x=<1>")
    assert rv.status_code == 302
    assert rv.location == "/target?x=%3C1%3E"
    assert b"&lt;1&gt;" in rv.data
    assert redirect("/ü", 301).location == "/%C3%BC"

    @app.route("/")
    def index():
        return redirect(url_for("target"), code=303)

    @app.route("/target")
    def target():
        return "arrived"

    rv = client.get("/")
    assert rv.status_code == 303 and rv.location == "/target"
    rv = client.get("/", follow_redirects=True)
    assert rv.data == b"arrived"
    assert [r.status_code for r in rv.history] == [303]
    assert rv.request.path == "/target"
    custom = redirect("/x", Response=erlen.Response)
    assert isinstance(custom, erlen.Response)


def test_make_response(app):
    with app.test_request_context():
        rv = make_response("body", 404, {"X-A": "b"})
        assert rv.status_code == 404 and rv.headers["X-A"] == "b"
        assert make_response().data == b""
        assert make_response({"a": 1}).json == {"a": 1}
        assert make_response(("x", 201)).status_code == 201
    with pytest.raises(RuntimeError):
        make_response("x")


def test_jsonify(app):
    with app.app_context():
        assert erlen.jsonify(a=1).json == {"a": 1}
        assert erlen.jsonify([1, 2]).json == [1, 2]
        assert erlen.jsonify(1, 2).json == [1, 2]
        assert erlen.jsonify().json is None
        with pytest.raises(TypeError):
            erlen.jsonify(1, a=2)
    with pytest.raises(RuntimeError):
        erlen.jsonify(a=1)


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd", "a/../../b", "/etc/passwd", "..", "a\\..\\b", "C:\\win", "C:/win",
        "\\\\server\\share", "//server/share", "NUL", "nul.txt", "CON", "com1.log", "LPT9", "aux.tar.gz",
        "a/PRN/b", "x\x00y",
    ],
)
def test_safe_join_rejects(path):
    assert safe_join("/base", path) is None


def test_safe_join_accepts():
    assert safe_join("/base", "a/b.txt") == "/base/a/b.txt"
    assert safe_join("/base", "a/./b.txt") == "/base/a/b.txt"
    assert safe_join("/base", "a", "b") == "/base/a/b"
    assert safe_join("", "x") == "./x"
    assert safe_join("/base", "") == "/base"
    assert safe_join("/base", "console.txt") == "/base/console.txt"


def test_static_files(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "style.css").write_text("body{}")
    app = Erlen("static_app", root_path=str(tmp_path))
    client = app.test_client()
    rv = client.get("/static/style.css")
    assert rv.status_code == 200
    assert rv.data == b"body{}"
    assert rv.mimetype == "text/css"
    assert client.get("/static/../secret").status_code == 404
    assert client.get("/static/missing.css").status_code == 404
    rv.close()


def test_send_file_from_object(app):
    import io

    with app.test_request_context():
        rv = erlen.send_file(io.BytesIO(b"data"), mimetype="text/plain", as_attachment=True, download_name="d.txt")
        assert rv.get_data() == b"data"
        assert 'filename="d.txt"' in rv.headers["Content-Disposition"]
