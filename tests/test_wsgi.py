"""The WSGI adapter: PEP 3333 details, closing, file wrappers, bad input."""

from __future__ import annotations

import typing as t
from wsgiref.validate import validator

import pytest

import erlen
from erlen import Erlen, Response, request
from erlen.testing import EnvironBuilder


def call(app, environ):
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return captured["status"], captured["headers"], data


def test_headers_are_latin1_str(app):
    @app.route("/")
    def index():
        r = Response("x")
        r.headers["X-Latin"] = "caf\xe9"
        return r

    status, headers, _ = call(validator(app), EnvironBuilder(app).get_environ())
    assert status == "200 OK"
    for k, v in headers:
        assert type(k) is str and type(v) is str
        v.encode("latin-1")


def test_close_called_on_streamed_body(app):
    closed = []

    class Body:
        def __iter__(self):
            yield b"a"

        def close(self):
            closed.append(True)

    @app.route("/")
    def index():
        r = Response(Body())
        r.call_on_close(lambda: closed.append("cb"))
        return r

    _, _, data = call(validator(app), EnvironBuilder(app).get_environ())
    assert data == b"a"
    assert closed == [True, "cb"]


def test_close_called_even_if_not_iterated(app):
    closed = []

    def gen():
        try:
            yield b"never"
        finally:
            closed.append(True)

    class Body:
        def __iter__(self):
            return gen()

        def close(self):
            closed.append("close")

    @app.route("/")
    def index():
        return Response(Body())

    def start_response(status, headers, exc_info=None):
        return None

    body = app(EnvironBuilder(app).get_environ(), start_response)
    body.close()
    assert closed == ["close"]


def test_head_has_no_body_but_keeps_length(app):
    @app.route("/")
    def index():
        return "12345"

    status, headers, data = call(validator(app), EnvironBuilder(app, method="HEAD").get_environ())
    assert data == b""
    assert ("Content-Length", "5") in headers


def test_204_and_304_have_no_body(app):
    @app.route("/nc")
    def nc():
        return Response("ignored", status=204)

    @app.route("/nm")
    def nm():
        return Response("ignored", status=304)

    assert call(app, EnvironBuilder(app, "/nc").get_environ())[2] == b""
    assert call(app, EnvironBuilder(app, "/nm").get_environ())[2] == b""


def test_file_wrapper_used(app, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"filedata")
    used = []

    class Wrapper:
        def __init__(self, f, blksize=8192):
            used.append(blksize)
            self.f = f

        def __iter__(self):
            return iter([self.f.read()])

        def close(self):
            self.f.close()

    @app.route("/")
    def index():
        return Response(open(path, "rb"), direct_passthrough=True)

    env = EnvironBuilder(app).get_environ()
    env["wsgi.file_wrapper"] = Wrapper
    assert call(app, env)[2] == b"filedata"
    assert used == [8192]
    # Without a wrapper the file is read in blocks and closed.
    env = EnvironBuilder(app).get_environ()
    assert call(app, env)[2] == b"filedata"


def test_invalid_utf8_path_is_400(app):
    @app.route("/<name>")
    def index(name):
        return name

    env = EnvironBuilder(app).get_environ()
    env["PATH_INFO"] = b"/\xff\xfe".decode("latin-1")
    status, _, data = call(app, env)
    assert status.startswith("400")
    assert b"UTF-8" in data


def test_invalid_utf8_path_is_400_with_trusted_hosts(app):
    # Matching that checks the host keeps the error found while reading the
    # request; only the empty path's marker is matched over.
    app.config["TRUSTED_HOSTS"] = ["localhost"]

    @app.route("/<name>")
    def index(name):
        return name

    env = EnvironBuilder(app).get_environ()
    env["PATH_INFO"] = b"/\xff\xfe".decode("latin-1")
    status, _, data = call(app, env)
    assert status.startswith("400")
    assert b"UTF-8" in data
    env["PATH_INFO"] = ""
    status, headers, _ = call(app, env)
    assert status.startswith("404")


def test_script_name_and_empty_path(app):
    @app.route("/")
    def index():
        return f"{request.script_root}|{request.path}|{request.url}"

    env = EnvironBuilder(app).get_environ()
    env["SCRIPT_NAME"] = "/mount"
    env["PATH_INFO"] = ""
    # As Werkzeug: the mount point without its slash redirects to it.
    status, headers, _ = call(app, env)
    assert status.startswith("308") and ("Location", "/mount/") in headers
    env["PATH_INFO"] = "/"
    assert call(app, env)[2] == b"/mount|/|http://localhost/mount/"


def test_server_name_without_host_header():
    app = Erlen("nohost", static_folder=None)

    @app.route("/")
    def index():
        return request.host

    env = EnvironBuilder(app).get_environ()
    del env["HTTP_HOST"]
    env["SERVER_NAME"], env["SERVER_PORT"] = "srv.test", "8080"
    assert call(app, env)[2] == b"srv.test:8080"
    env["SERVER_PORT"] = "80"
    assert call(app, env)[2] == b"srv.test"


def test_exception_propagates_and_context_popped(app):
    from erlen.globals import _cv

    @app.route("/")
    def index():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call(app, EnvironBuilder(app).get_environ())
    assert _cv.get(None) is None


def test_app_keeps_serving_after_errors(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True

    @app.route("/boom")
    def boom():
        raise ValueError

    @app.route("/ok")
    def ok():
        return "ok"

    for _ in range(3):
        assert call(app, EnvironBuilder(app, "/boom").get_environ())[0].startswith("500")
        assert call(app, EnvironBuilder(app, "/ok").get_environ())[2] == b"ok"


def test_absurd_header_values(app, client):
    @app.route("/")
    def index():
        return f"{len(request.headers.get('X-Big', ''))} {request.accept_languages.best}"

    huge = "a" * 100_000
    rv = client.get("/", headers={"X-Big": huge, "Accept-Language": ",;q=," * 1000})
    assert rv.status_code == 200
    assert rv.data.startswith(b"100000")


def test_unicode_everywhere(app, client):
    @app.route("/ünï/<word>", methods=["POST"])
    def index(word):
        return {"word": word, "q": request.args["q"], "form": request.form.get("f")}

    rv = client.post("/ünï/日本?q=€", data={"f": "ÿ"})
    assert rv.json == {"word": "日本", "q": "€", "form": "ÿ"}


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_status_sends_no_content_headers(app: t.Any, client: t.Any, status: int) -> None:
    # Regression: `return "", 204` sent Content-Type and Content-Length: 0,
    # which wsgiref.validate (around the test client) rejects.
    @app.route("/bodiless")
    def bodiless() -> t.Any:
        return "", status, {"ETag": '"x"'}

    rv = client.get("/bodiless")
    assert rv.status_code == status
    assert "Content-Type" not in rv.headers and "Content-Length" not in rv.headers
    assert rv.headers["ETag"] == '"x"'
    assert rv.data == b""


def test_body_media_type_and_length_read_from_the_environ(app):
    # The adapter reads both from CONTENT_TYPE and CONTENT_LENGTH; empty
    # values mean the header was not sent, as for the headers view.
    @app.post("/")
    def index():
        return f"{request.mimetype!r} {request.content_length!r} {request.get_data()!r}"

    def send(content_type, content_length, body=b"abc"):
        environ = EnvironBuilder(app, method="POST", data=body).get_environ()
        environ["CONTENT_TYPE"] = content_type
        environ["CONTENT_LENGTH"] = content_length
        return call(app, environ)

    assert send("Text/Plain; charset=utf-8", "3")[2] == b"'text/plain' 3 b'abc'"
    assert send("", "")[2] == b"'' None b''"
    assert send("text/plain", " 2 ")[2] == b"'text/plain' 2 b'ab'"
    status, _, _ = send("text/plain", "+3")
    assert status == "400 Bad Request"


def test_content_length_gives_way_to_a_terminated_transfer_coding(app):
    # With Transfer-Encoding and a server that marks the body's end (in the
    # environ, or set on the request), the declared length is not used.
    @app.post("/")
    def index():
        if request.args.get("set"):
            request.input_terminated = True
        return repr(request.content_length)

    def send(query, terminated):
        environ = EnvironBuilder(app, "/", method="POST", data=b"abc", query_string=query)
        environ = environ.get_environ()
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        if terminated:
            environ["wsgi.input_terminated"] = True
        return call(app, environ)[2]

    assert send("", False) == b"3"
    assert send("", True) == b"None"
    assert send("set=1", False) == b"None"


def test_request_class_overriding_media_type_or_length_is_honoured(app):
    # The environ shortcuts stand in only for Request's own properties.
    class JSONRequest(erlen.Request):
        @property
        def mimetype(self):
            return "application/json"

    class TwoBytes(erlen.Request):
        content_length = 2

    @app.post("/")
    def index():
        return f"{request.mimetype} {request.content_length} {request.get_data()!r}"

    environ = EnvironBuilder(app, method="POST", data=b"{}xyz", content_type="text/plain")
    app.request_class = JSONRequest
    assert call(app, environ.get_environ())[2] == b"application/json 5 b'{}xyz'"
    app.request_class = TwoBytes
    assert call(app, environ.get_environ())[2] == b"text/plain 2 b'{}'"


def test_args_read_from_the_environ_text(app):
    # The adapter parses QUERY_STRING's text as it is when it is ASCII; the
    # answers are those of Request.args for every other query string.
    @app.route("/")
    def index():
        return repr(list(request.args.items(multi=True)))

    def send(query):
        environ = EnvironBuilder(app).get_environ()
        environ["QUERY_STRING"] = query
        return call(app, environ)

    assert send("a=1&b=x+y&a=%C3%A9")[2] == "[('a', '1'), ('a', 'é'), ('b', 'x y')]".encode()
    assert send("")[2] == b"[]"
    # UTF-8 bytes as PEP 3333's latin-1 text.
    assert send("q=\xc3\xa9")[2] == "[('q', 'é')]".encode()
    for bad in ("q=%C3%28", "q=\xff"):
        status, _, data = send(bad)
        assert status == "400 Bad Request"
        assert b"The query string is not valid UTF-8." in data


def test_args_of_a_query_string_set_on_the_request(app):
    # A query_string set before args is read is the one parsed.
    @app.route("/")
    def index():
        request.query_string = b"b=2"
        return request.args.to_dict()

    assert call(app, EnvironBuilder(app, query_string="a=1").get_environ())[2] == b'{"b":"2"}\n'


def test_request_class_overriding_args_is_honoured(app):
    class FixedArgs(erlen.Request):
        @property
        def args(self):
            return {"fixed": "1"}

    @app.route("/")
    def index():
        return request.args

    app.request_class = FixedArgs
    assert call(app, EnvironBuilder(app, query_string="a=1").get_environ())[2] == b'{"fixed":"1"}\n'


def test_call_honours_a_subclass_wsgi_app_and_one_set_on_the_app():
    # app(environ, start_response) runs wsgi_app's body itself only while
    # wsgi_app is Erlen's own: a subclass's override, or middleware set on
    # the app, is called instead (and the app's own body again once removed).
    seen: list[str] = []

    class Sub(Erlen):
        def wsgi_app(self, environ, start_response):
            seen.append("sub")
            return super().wsgi_app(environ, start_response)

    for cls in (Erlen, Sub):
        app = cls(__name__)
        app.route("/")(lambda: "hi")
        environ = EnvironBuilder(app).get_environ()
        assert call(app, dict(environ)) == (
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "2")],
            b"hi",
        )
        inner = app.wsgi_app

        def middleware(environ, start_response, inner=inner):
            seen.append("mw")
            return inner(environ, start_response)

        app.wsgi_app = middleware
        assert call(app, dict(environ))[2] == b"hi"
        del app.wsgi_app
        assert call(app, dict(environ))[2] == b"hi"
    assert seen == ["mw", "sub", "mw", "sub", "sub"]


def test_after_response_work_runs_through_wrapped_wsgi_app():
    # With middleware on app.wsgi_app, wsgi_app itself (not __call__'s copy
    # of its body) serves the request: the work after the response still
    # runs, once the server closes the body.
    from erlen.background import call_after_response

    app = Erlen(__name__)
    done: list[str] = []

    @app.route("/")
    def index():
        call_after_response(done.append, "after")
        return "hi"

    inner = app.wsgi_app
    app.wsgi_app = lambda environ, start_response: inner(environ, start_response)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        return lambda data: None

    body = app(EnvironBuilder(app).get_environ(), start_response)
    assert b"".join(body) == b"hi" and done == []
    body.close()
    assert captured["status"] == "200 OK" and done == ["after"]


def test_request_class_with_its_own_new_is_honoured(app):
    # make_request takes object.__new__ for classes that keep it; a class
    # with a __new__ of its own has it called, on every request.
    made: list[type] = []

    class Counted(erlen.Request):
        def __new__(cls, *args, **kwargs):
            made.append(cls)
            return super().__new__(cls)

    @app.route("/")
    def index():
        return request.__class__.__name__

    app.request_class = Counted
    environ = EnvironBuilder(app).get_environ()
    assert call(app, dict(environ))[2] == b"Counted"
    assert call(app, dict(environ))[2] == b"Counted"
    assert len(made) == 2 and all(issubclass(cls, Counted) for cls in made)


def test_environ_without_method_or_path_is_a_get_of_the_root(app):
    # PEP 3333 requires REQUEST_METHOD; an environ without it (or without
    # PATH_INFO) is served as a GET, body and all, and without the path as
    # the app's root (which redirects to the slash).
    @app.route("/")
    def index():
        return request.method

    environ = EnvironBuilder(app).get_environ()
    del environ["REQUEST_METHOD"]
    assert call(app, dict(environ)) == (
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "3")],
        b"GET",
    )
    del environ["PATH_INFO"]
    status, headers, _ = call(app, environ)
    assert status == "308 Permanent Redirect"
    assert dict(headers)["Location"].endswith("/")
