"""The test client and EnvironBuilder."""

from __future__ import annotations

import io
import typing as t

import pytest

from erlen import Response, request
from erlen.testing import ClientRedirectError, EnvironBuilder


def test_query_headers_data(app, client):
    @app.route("/", methods=["GET", "POST"])
    def index():
        return {
            "args": request.args.to_dict(flat=False),
            "header": request.headers.get("X-Test"),
            "form": request.form.to_dict(),
            "data": request.get_data(as_text=True),
            "ct": request.content_type,
        }

    rv = client.get("/", query_string={"a": ["1", "2"], "b": "ü"}, headers={"X-Test": "yes"})
    assert rv.json["args"] == {"a": ["1", "2"], "b": ["ü"]}
    assert rv.json["header"] == "yes"
    rv = client.post("/", data={"f": "v"})
    assert rv.json["form"] == {"f": "v"}
    rv = client.post("/", data="raw text", content_type="text/plain")
    assert rv.json["data"] == "raw text" and rv.json["ct"] == "text/plain"
    rv = client.post("/", data=b"\x00\x01", content_type="application/octet-stream")
    assert rv.json["data"] == "\x00\x01"


def test_environ_base(app, client):
    @app.route("/")
    def index():
        return request.remote_addr

    assert client.get("/").data == b"127.0.0.1"
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.1.1.1"}).data == b"10.1.1.1"


def test_response_attributes(app, client):
    @app.route("/")
    def index():
        return {"x": "ü"}

    rv = client.get("/")
    assert rv.status == "200 OK"
    assert rv.text == '{"x":"\\u00fc"}\n'
    assert rv.get_json() == {"x": "ü"}
    assert rv.json == {"x": "ü"}
    assert rv.request.path == "/"
    assert isinstance(rv, Response)


def test_response_body_is_streamed_until_read_unless_buffered(app, client):
    # As Werkzeug's client: the body is handed over as an iterator, so
    # is_streamed is True until something reads it (Flask-Compress's tests
    # check it on plain responses), and buffered=True gives a list at once.
    @app.route("/")
    def index():
        return "body"

    rv = client.get("/")
    assert rv.is_streamed
    assert rv.data == b"body"
    assert not rv.is_streamed
    assert rv.get_data() == b"body"  # read once, kept
    rv = client.get("/", buffered=True)
    assert not rv.is_streamed
    assert rv.response == [b"body"]
    redirected = client.get("/", follow_redirects=True)
    assert redirected.is_streamed and redirected.text == "body"


def test_flask_private_helpers_build_a_request_with_the_clients_cookies(app, client):
    # Flask-SocketIO's test client builds its connection environ with
    # FlaskClient._request_from_builder_args and adds the client's cookies
    # with Werkzeug's Client._add_cookies_to_wsgi: both as in Flask.
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    client.set_cookie("sid", "abc")
    req = client._request_from_builder_args(
        args=(), kwargs={"path": "/socket.io?x=1", "headers": {"X-Test": "1"}}
    )
    assert req.path == "/socket.io"
    assert req.args["x"] == "1"
    assert req.headers["X-Test"] == "1"
    assert req.remote_addr == "10.0.0.9"
    environ = req.environ
    assert "HTTP_COOKIE" not in environ
    client._add_cookies_to_wsgi(environ)
    assert environ["HTTP_COOKIE"] == "sid=abc"


def test_client_sends_requests_to_a_plain_wsgi_callable(app, client_interface):
    # As Werkzeug's client, any WSGI callable can be tested (Flask-Admin's
    # tests mount their app under a DispatcherMiddleware). It has no ASGI
    # side, so it is called over WSGI whatever the class-wide interface;
    # responses are the Erlen Response, requests Erlen's Request.
    from erlen.testing import ErlenClient

    seen = {}

    def plain(environ, start_response):
        seen["host"] = environ["HTTP_HOST"]
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"hi"]

    client = ErlenClient(plain)
    assert client.interface == "wsgi"
    rv = client.get("/x?a=1", headers={"X-Test": "1"})
    assert rv.status_code == 200 and rv.text == "hi"
    assert isinstance(rv, Response)
    assert rv.request.args["a"] == "1"
    assert seen["host"] == "localhost"
    # An Erlen app keeps the class-wide interface; an explicit one is kept.
    assert ErlenClient(app).interface == client_interface
    assert ErlenClient(plain, interface="asgi").interface == "asgi"


def test_cookie_jar(app, client):
    @app.route("/set")
    def set_():
        r = Response("set")
        r.set_cookie("flavor", "oat meal")
        return r

    @app.route("/get")
    def get():
        return request.cookies.get("flavor", "none")

    @app.route("/del")
    def delete():
        r = Response("del")
        r.delete_cookie("flavor")
        return r

    client.get("/set")
    assert client.get_cookie("flavor").value == "oat meal"
    assert client.get("/get").data == b"oat meal"
    client.get("/del")
    assert client.get_cookie("flavor") is None
    assert client.get("/get").data == b"none"
    client.set_cookie("flavor", "manual")
    assert client.get("/get").data == b"manual"
    client.delete_cookie("flavor")
    assert client.get("/get").data == b"none"


def test_cookie_path_and_secure(app, client):
    @app.route("/set")
    def set_():
        r = Response("")
        r.set_cookie("scoped", "1", path="/admin")
        r.set_cookie("sec", "1", secure=True)
        return r

    @app.route("/admin/x")
    @app.route("/other")
    def show():
        return ",".join(sorted(request.cookies))

    client.get("/set")
    assert client.get("/admin/x").data == b"scoped"
    assert client.get("/other").data == b""
    assert client.get("/other", base_url="https://localhost/").data == b"sec"


def test_cookies_disabled(app):
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError):
        client.get_cookie("x")
    with pytest.raises(TypeError):
        client.set_cookie("x", "y")
    with pytest.raises(TypeError):
        client.delete_cookie("x")


def test_follow_redirects_307_keeps_body(app, client):
    @app.route("/start", methods=["POST"])
    def start():
        return "", 307, {"Location": "/end"}

    @app.route("/end", methods=["POST"])
    def end():
        return request.get_data()

    rv = client.post("/start", data=b"payload", follow_redirects=True)
    assert rv.data == b"payload"


def test_redirect_from_a_path_without_its_slash_stays_on_the_host(app, client):
    # A relative path ("start", as Werkzeug's client takes it) is the path
    # /start; following its redirect stays on localhost, so the cookie the
    # first response set goes with the next request (Flask-Security's tests
    # get "tf-setup" and follow the redirect to a page showing a flash).
    @app.route("/start")
    def start():
        response = Response("", 302, {"Location": "/end?x=1"})
        response.set_cookie("seen", "yes")
        return response

    @app.route("/end")
    def end():
        return f"{request.host} {request.full_path} {request.cookies.get('seen')}"

    # PATH_INFO is "start" as given, as Werkzeug's client sends it, which
    # wsgiref's validator refuses: this test is about the redirect.
    client.validate = False
    rv = client.get("start", follow_redirects=True)
    assert rv.data == b"localhost /end?x=1 yes"
    assert [r.request.path for r in rv.history] == ["/start"]


def test_redirect_loop_detected(app, client):
    @app.route("/loop")
    def loop():
        return "", 302, {"Location": "/loop"}

    with pytest.raises(ClientRedirectError):
        client.get("/loop", follow_redirects=True)


def test_external_redirect_changes_host(app, client):
    @app.route("/")
    def index():
        return "", 302, {"Location": "http://other.test/x"}

    @app.route("/x")
    def x():
        return request.host

    assert client.get("/", follow_redirects=True).data == b"other.test"


def test_environ_builder():
    builder = EnvironBuilder(path="/p?q=1", method="post", json={"a": 1}, headers={"Cookie": "a=1"})
    env = builder.get_environ()
    assert env["REQUEST_METHOD"] == "POST"
    assert env["QUERY_STRING"] == "q=1"
    assert env["CONTENT_TYPE"] == "application/json"
    assert env["wsgi.input"].read() == b'{"a": 1}'
    assert env["HTTP_COOKIE"] == "a=1"
    req = EnvironBuilder(path="http://h.test:8080/x").get_request()
    assert req.host == "h.test:8080" and req.path == "/x"
    with pytest.raises(TypeError):
        EnvironBuilder(json={}, data="x")
    with pytest.raises(TypeError):
        EnvironBuilder(data="x", input_stream=io.BytesIO())
    env = EnvironBuilder(input_stream=io.BytesIO(b"abc"), content_length=3).get_environ()
    assert env["CONTENT_LENGTH"] == "3"
    env = EnvironBuilder(data=io.BytesIO(b"file-like")).get_environ()
    assert env["wsgi.input"].read() == b"file-like"


def test_multipart_encoding():
    builder = EnvironBuilder(
        method="POST", data={"field": "v", "upload": (io.BytesIO(b"content"), "a.txt")}
    )
    env = builder.get_environ()
    assert env["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")
    body = env["wsgi.input"].read()
    assert b'name="upload"; filename="a.txt"' in body
    assert b"content" in body and b'name="field"' in body


def test_open_with_builder_and_environ(app, client):
    @app.route("/", methods=["GET", "PUT", "PATCH"])
    def index():
        return request.method

    assert client.open(EnvironBuilder(app, method="PUT")).data == b"PUT"
    assert client.open(EnvironBuilder(app, method="PATCH").get_environ()).data == b"PATCH"
    assert client.trace("/").status_code == 405


def test_header_replaces_the_clients_default(app: t.Any, client: t.Any) -> None:
    # Regression: headers={"User-Agent": ...} was appended to the default one.
    @app.route("/ua")
    def ua() -> str:
        return request.headers.get("User-Agent", "")

    assert client.get("/ua").text.startswith("Erlen-test-client")
    assert client.get("/ua", headers={"User-Agent": "curl/8"}).text == "curl/8"
    assert client.get("/ua", headers=[("User-Agent", "a"), ("User-Agent", "b")]).text == "a, b"


def test_a_ready_environ_gets_the_clients_environ_base(app: t.Any, client: t.Any) -> None:
    # As Werkzeug's client: client.environ_base applies to an environ passed
    # in as well, over its REMOTE_ADDR, but not over its headers.
    @app.route("/who")
    def who() -> str:
        return f"{request.remote_addr} {request.user_agent.string}"

    environ = EnvironBuilder(app, "/who", headers={"User-Agent": "mine"}).get_environ()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert client.open(environ).text == "127.0.0.2 mine"


def test_environ_builder_input_stream_is_the_encoded_body(app: t.Any) -> None:
    # The JSON body is dumped with the app's provider settings.
    app.json.ensure_ascii = False
    builder = EnvironBuilder(app, json="\u20ac")
    assert builder.input_stream is not None
    assert builder.input_stream.read().decode() == '"\u20ac"'
    assert EnvironBuilder(app).input_stream is None
    body = builder.get_environ()["wsgi.input"].read()
    assert body == '"\u20ac"'.encode()


def test_session_transaction_without_a_session_says_so() -> None:
    from erlen import Erlen

    app = Erlen(__name__)  # no SECRET_KEY: the null session
    with pytest.raises(RuntimeError, match="Session backend did not open a session"):
        with app.test_client().session_transaction():
            pass


def test_auth_argument_sends_an_authorization_header(app: t.Any, client: t.Any) -> None:
    from erlen.datastructures import Authorization

    @app.route("/me")
    def me() -> str:
        auth = request.authorization
        return f"{auth.type} {auth.username} {auth.password}" if auth else "none"

    assert client.get("/me", auth=("ann", "s:cret")).text == "basic ann s:cret"
    bearer = Authorization("bearer", token="tok")
    assert client.get("/me", auth=bearer).text.startswith("bearer")
    assert client.get("/me").text == "none"


def test_cookie_object_like_werkzeugs(app, client):
    client.set_cookie("name", "value", path="/p")
    cookie = client.get_cookie("name", path="/p")
    assert (cookie.decoded_key, cookie.decoded_value) == ("name", "value")
    assert "name='value'" in repr(cookie) and "path=/p" in repr(cookie)


def test_origin_only_cookie_not_sent_to_subdomains(app, client):
    @app.route("/")
    def index():
        return request.headers.get("Cookie", "-")

    client.set_cookie("o", "1", domain="example.test", origin_only=True)
    client.set_cookie("d", "2", domain="example.test", origin_only=False)
    assert client.get("/", base_url="http://example.test").text == "o=1; d=2"
    assert client.get("/", base_url="http://sub.example.test").text == "d=2"
    assert client.get("/", base_url="http://other.test").text == "-"


def test_set_cookie_max_age_not_a_number(app, client):
    @app.route("/")
    def index():
        return "", 200, {"Set-Cookie": "c=1; Max-Age=soon; Path=/"}

    client.get("/")
    # An unreadable Max-Age is ignored, as a browser does: the cookie stays.
    cookie = client.get_cookie("c")
    assert cookie is not None and cookie.expires is None


def test_set_cookie_already_expired_removes_it(app, client):
    client.set_cookie("c", "1")
    assert client.get_cookie("c") is not None
    client.set_cookie("c", "1", max_age=0)
    assert client.get_cookie("c") is None


def test_cookie_expiring_between_requests_is_dropped(app, client):
    from datetime import UTC, datetime, timedelta

    @app.route("/")
    def index():
        return request.headers.get("Cookie", "-")

    client.set_cookie("keep", "1")
    client.set_cookie("old", "2")
    client.get_cookie("old").expires = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/").text == "keep=1"
    assert client.get_cookie("old") is None


def test_client_app_property_and_cookieless_client(app):
    @app.route("/")
    def index():
        return "", 200, {"Set-Cookie": "c=1"}

    client = app.test_client(use_cookies=False)
    assert client.app is app
    assert client.get("/").status_code == 200
    with pytest.raises(TypeError, match="Cookies are disabled"):
        client.get_cookie("c")


def test_more_than_30_redirects_is_an_error(app, client):
    @app.route("/r/<int:n>")
    def hop(n):
        return "", 302, {"Location": f"/r/{n + 1}"}

    with pytest.raises(ClientRedirectError, match="More than 30"):
        client.get("/r/0", follow_redirects=True)


def test_redirect_under_a_script_root(app, client):
    @app.route("/a")
    def a():
        return "", 302, {"Location": "/app/b"}

    @app.route("/b")
    def b():
        return f"{request.script_root} {request.path}"

    rv = client.get("/a", base_url="http://localhost/app", follow_redirects=True)
    assert rv.text == "/app /b"


def test_unknown_interface_set_later_is_an_error(app):
    client = app.test_client()
    client.interface = "cgi"
    with pytest.raises(ValueError, match="interface must be one of"):
        client.get("/")


def test_environ_builder_subdomain_of_the_server_name(app):
    app.config["SERVER_NAME"] = "example.test"
    environ = EnvironBuilder(app, "/x", subdomain="api").get_environ()
    assert environ["HTTP_HOST"] == "api.example.test"


def test_environ_builder_json_and_form_keep_a_given_content_type():
    builder = EnvironBuilder(json={"a": 1}, content_type="application/vnd.x+json")
    assert builder.content_type == "application/vnd.x+json"
    assert builder.get_environ()["wsgi.input"].read() == b'{"a": 1}'
    builder = EnvironBuilder(data={"a": "1"}, content_type="text/x-form")
    assert builder.content_type == "text/x-form"
    assert builder.get_environ()["wsgi.input"].read() == b"a=1"


def test_environ_builder_input_stream_given_and_set():
    stream = io.BytesIO(b"raw")
    builder = EnvironBuilder(method="POST", input_stream=stream)
    assert builder.input_stream is stream
    environ = builder.get_environ()
    assert environ["wsgi.input"] is stream and "CONTENT_LENGTH" not in environ
    other = io.BytesIO(b"other")
    builder.input_stream = other
    builder.content_length = 5
    environ = builder.get_environ()
    assert environ["wsgi.input"] is other and environ["CONTENT_LENGTH"] == "5"


def test_environ_builder_file_objects_and_odd_filenames(tmp_path):
    from pathlib import Path

    named = io.BytesIO(b"one")
    named.name = "one.txt"
    unnamed = io.BytesIO(b"two")
    builder = EnvironBuilder(
        method="POST",
        data={"a": named, "b": unnamed, "c": (io.BytesIO(b"three"), Path("dir/three.bin"))},
    )
    body = builder.get_environ()["wsgi.input"].read()
    assert b'name="a"; filename="one.txt"' in body and b"one" in body
    assert b'name="b"; filename=""' in body and b"two" in body
    assert b'name="c"; filename="three.bin"' in body


def test_a_file_given_by_its_path(app, client, tmp_path):
    # As in Werkzeug: (path, filename) in data sends the file at that path
    # (privacyidea's tests upload their fixtures so); without a filename the
    # path's last part names it.
    path = tmp_path / "policy.cfg"
    path.write_bytes(b"[pol1]\nscope = admin\n")

    @app.post("/upload")
    def upload():
        f = request.files["file"]
        return f"{f.filename}:{f.read().decode()}"

    r = client.post("/upload", data={"file": (str(path), "renamed.cfg")})
    assert r.text == "renamed.cfg:[pol1]\nscope = admin\n"
    r = client.post("/upload", data={"file": (str(path),)})
    assert r.text == "policy.cfg:[pol1]\nscope = admin\n"
    with app.test_request_context("/upload", method="POST", data={"file": (str(path), "p.cfg")}):
        assert request.files["file"].read() == b"[pol1]\nscope = admin\n"


def test_open_with_an_environ_builder_adds_the_clients_environ_base(app, client):
    # Regression: a builder given to open() was sent as built, without the
    # client's REMOTE_ADDR (EnvironBuilder sets none, as Werkzeug's); Flask's
    # client lays its environ_base under the builder's (Flask's own suite,
    # test_client_open_environ).
    @app.route("/index")
    def index():
        return str(request.remote_addr)

    builder = EnvironBuilder(path="/index", environ_base={"HTTP_X_MINE": "1"})
    assert client.open(builder).text == "127.0.0.1"
    assert builder.environ_base == {"HTTP_X_MINE": "1"}  # the given builder is left as it was
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert client.open(builder).text == "127.0.0.2"
    mine = EnvironBuilder(path="/index", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert client.open(mine).text == "10.0.0.9"
