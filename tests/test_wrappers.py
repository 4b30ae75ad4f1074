"""Request and Response objects: lazy parsing, bodies, limits, cookies."""

from __future__ import annotations

import datetime as dt
import io
import json
import typing as t

import pytest

from erlen import Response, request
from erlen.datastructures import Headers
from erlen.exceptions import BadRequest, UnsupportedMediaType
from erlen.wrappers import Request
from erlen.wsgi import make_request


def make(app, *args, **kwargs):
    """A pushed test request context's request (caller pops via the fixture)."""
    return app.test_request_context(*args, **kwargs)


def test_url_parts(app):
    with app.test_request_context("/a b/ü?x=1&y=2", base_url="https://example.com:8443/root/"):
        assert request.method == "GET"
        assert request.path == "/a b/ü"
        assert request.script_root == "/root"
        assert request.full_path == "/a b/ü?x=1&y=2"
        assert request.host == "example.com:8443"
        assert request.host_url == "https://example.com:8443/"
        assert request.root_url == "https://example.com:8443/root/"
        assert request.url_root == request.root_url
        assert request.base_url == "https://example.com:8443/root/a%20b/%C3%BC"
        assert request.url == "https://example.com:8443/root/a%20b/%C3%BC?x=1&y=2"
        assert request.is_secure
        assert request.scheme == "https"
        assert request.query_string == b"x=1&y=2"
        assert "a%20b" in repr(request._get_current_object())


def test_args_multidict(app):
    with app.test_request_context("/?tag=a&tag=b&n=3&empty="):
        assert request.args["tag"] == "a"
        assert request.args.getlist("tag") == ["a", "b"]
        assert request.args.get("n", type=int) == 3
        assert request.args.get("missing") is None
        assert request.args["empty"] == ""
        with pytest.raises(KeyError):
            request.args["missing"]
        with pytest.raises(BadRequest):
            request.args["missing"]
        with pytest.raises(TypeError):
            request.args["x"] = "y"  # immutable


def test_args_invalid_utf8_is_400(app, client):
    @app.route("/")
    def index():
        return request.args.get("q", "")

    rv = client.get("/", query_string="q=%FF%FE")
    assert rv.status_code == 400
    assert b"UTF-8" in rv.data
    # A malformed escape is kept literally, not dropped.
    assert client.get("/", query_string="q=%zz").data == b"%zz"


def test_headers_case_insensitive(app):
    with app.test_request_context(headers={"X-Thing": "1", "Accept": "text/html"}):
        assert request.headers["x-thing"] == "1"
        assert request.headers.get("X-THING") == "1"
        assert "x-thing" in request.headers
        assert request.headers.get("Missing", "d") == "d"


def test_cookies(app):
    with app.test_request_context(headers={"Cookie": 'a=1; b="two words"; =evil; a=2'}):
        assert request.cookies["a"] == "1"
        assert request.cookies.getlist("a") == ["1", "2"]
        assert request.cookies["b"] == "two words"
        assert "" not in request.cookies
    with app.test_request_context():
        assert not request.cookies


def test_content_type_and_length(app):
    with app.test_request_context(
        method="POST", data="x=1", content_type="text/plain; charset=latin-1"
    ):
        assert request.content_type == "text/plain; charset=latin-1"
        assert request.mimetype == "text/plain"
        assert request.mimetype_params == {"charset": "latin-1"}
        assert request.content_length == 3
        assert not request.is_json
    with app.test_request_context(method="POST", json={"a": 1}):
        assert request.is_json
    with app.test_request_context(
        method="POST", data="{}", content_type="application/vnd.api+json"
    ):
        assert request.is_json


@pytest.mark.parametrize("bad", ["-1", "abc", "1e3", "+5", "٣"])
def test_bad_content_length_is_400(app, client, bad):
    @app.route("/", methods=["POST"])
    def index():
        return request.get_data()

    client.validate = False  # wsgiref.validate itself rejects such an environ
    rv = client.post("/", data="abc", environ_overrides={"CONTENT_LENGTH": bad})
    assert rv.status_code == 400
    assert b"Content-Length" in rv.data
    # The app keeps serving.
    assert client.post("/", data="ok").data == b"ok"


def test_remote_addr_access_route(app, client):
    with app.test_request_context(
        headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.1"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    ):
        assert request.remote_addr == "10.9.9.9"
        assert request.access_route == ["1.2.3.4", "10.0.0.1"]
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.9.9.9"}):
        assert request.access_route == ["10.9.9.9"]
    # As in Werkzeug, a bare test request context has no client address (only
    # the test client adds 127.0.0.1): privacyidea's tests tell the client's
    # IP from a request parameter when there is none.
    with app.test_request_context():
        assert request.remote_addr is None
        assert request.access_route == []

    @app.route("/")
    def index():
        return str(request.remote_addr)

    assert client.get("/").text == "127.0.0.1"


def test_user_agent_referrer(app):
    with app.test_request_context(
        headers={"User-Agent": "Mozilla/5.0 Test", "Referer": "http://x/"}
    ):
        assert str(request.user_agent) == "Mozilla/5.0 Test"
        assert request.user_agent.string == "Mozilla/5.0 Test"
        assert request.referrer == "http://x/"


def test_authorization_basic_and_bearer(app):
    import base64

    token = base64.b64encode("ädа:pa:ss".encode()).decode()
    with app.test_request_context(headers={"Authorization": f"Basic {token}"}):
        auth = request.authorization
        assert auth.type == "basic"
        assert auth.username == "ädа"
        assert auth.password == "pa:ss"
    with app.test_request_context(headers={"Authorization": "Bearer abc.def"}):
        assert request.authorization.type == "bearer"
        assert request.authorization.token == "abc.def"
    with app.test_request_context(headers={"Authorization": "Basic !!!notbase64"}):
        assert request.authorization is None
    with app.test_request_context():
        assert request.authorization is None


def test_conditional_headers(app):
    headers = {
        "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
        "If-None-Match": '"abc", W/"weak"',
    }
    with app.test_request_context(headers=headers):
        assert request.if_modified_since == dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=dt.UTC)
        assert "abc" in request.if_none_match
        assert request.if_none_match.contains_weak("weak")
        assert request.if_unmodified_since is None
        assert not request.if_match


def test_accept_headers(app):
    headers = {
        "Accept": "text/html;q=0.5, application/json, */*;q=0.1",
        "Accept-Language": "de-CH, en;q=0.8, fr;q=0.3",
    }
    with app.test_request_context(headers=headers):
        assert request.accept_mimetypes.best == "application/json"
        assert (
            request.accept_mimetypes.best_match(["text/html", "application/json"])
            == "application/json"
        )
        assert request.accept_mimetypes["text/html"] == 0.5
        assert request.accept_languages.best == "de-CH"
        assert request.accept_languages.best_match(["fr", "en"]) == "en"
        assert not request.accept_charsets.provided


def test_get_data_and_stream(app):
    with app.test_request_context(method="POST", data=b"hello body"):
        assert request.get_data() == b"hello body"
        assert request.get_data(as_text=True) == "hello body"
        assert request.data == b"hello body"


def test_form_urlencoded(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return f"{request.form['a']} {request.form.getlist('b')} {request.values['q']} {request.data!r}"

    rv = client.post("/?q=query", data={"a": "ä", "b": ["1", "2"]})
    assert rv.text == "ä ['1', '2'] query b''"


def test_form_parsed_once_and_kept(app, client):
    # request.form is cached on the request, as Werkzeug's is: the body is
    # parsed on the first read, and every read gives the same object.
    loads = []

    class CountingRequest(Request):
        def _load_form_data(self) -> None:
            loads.append(self.path)
            super()._load_form_data()

    app.request_class = CountingRequest

    @app.route("/", methods=["POST"])
    def index():
        first = request.form
        return f"{first is request.form} {request.form['a']} {request.form.get('b')}"

    rv = client.post("/", data={"a": "1", "b": "x y"})
    assert rv.text == "True 1 x y"
    assert loads == ["/"]


def test_form_after_get_data_parse_form_data(app):
    with app.test_request_context(method="POST", data={"a": "1"}):
        assert request.get_data(parse_form_data=True) == b""
        assert request.form["a"] == "1"
        assert request.data == b""


def test_values_get_only_args(app):
    with app.test_request_context("/?a=1", method="GET"):
        assert request.values["a"] == "1"
    with app.test_request_context("/?a=1", method="POST", data={"b": "2"}):
        assert request.values["a"] == "1"
        assert request.values["b"] == "2"


def test_json(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return {"got": request.get_json()}

    rv = client.post("/", json={"ü": [1, 2]})
    assert rv.json == {"got": {"ü": [1, 2]}}


def test_json_wrong_content_type_415(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return {"got": request.json}

    rv = client.post("/", data='{"a": 1}', content_type="text/plain")
    assert rv.status_code == 415
    assert b"application/json" in rv.data


def test_json_malformed_400(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return {"got": request.get_json()}

    rv = client.post("/", data="{not json", content_type="application/json")
    assert rv.status_code == 400
    # As Flask: the decoding error is shown in debug mode only.
    assert b"Failed to decode JSON object" not in rv.data
    app.debug = True
    rv = client.post("/", data="{not json", content_type="application/json")
    assert rv.status_code == 400
    assert b"Failed to decode JSON object" in rv.data


def test_json_deeply_nested_400(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return {"got": request.get_json() is not None}

    rv = client.post("/", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert rv.status_code == 400
    assert client.post("/", json=[1]).status_code == 200


def test_json_silent_force_cache(app):
    with app.test_request_context(method="POST", data="{bad", content_type="application/json"):
        assert request.get_json(silent=True) is None
        with pytest.raises(BadRequest):
            request.get_json()
    with app.test_request_context(method="POST", data='{"a":1}', content_type="text/plain"):
        assert request.get_json(silent=True) is None
        with pytest.raises(UnsupportedMediaType):
            request.get_json()
        assert request.get_json(force=True) == {"a": 1}
    with app.test_request_context(method="POST", json={"a": 1}):
        first = request.get_json()
        assert request.get_json() is first
        assert request.json is first


def test_max_content_length_declared(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/", methods=["POST"])
    def index():
        return request.get_data()

    rv = client.post("/", data=b"x" * 11)
    assert rv.status_code == 413
    assert client.post("/", data=b"x" * 10).data == b"x" * 10


def test_max_content_length_undeclared_chunked(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/", methods=["POST"])
    def index():
        return request.get_data()

    client.validate = False  # no CONTENT_LENGTH with a body is outside plain PEP 3333
    big = {"wsgi.input": io.BytesIO(b"y" * 1000), "wsgi.input_terminated": True}
    rv = client.post("/", environ_overrides=big)
    assert rv.status_code == 413
    small = {"wsgi.input": io.BytesIO(b"y" * 5), "wsgi.input_terminated": True}
    assert client.post("/", environ_overrides=small).data == b"yyyyy"


def test_body_without_length_is_not_read(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return repr(request.get_data())

    client.validate = False
    rv = client.post("/", environ_overrides={"wsgi.input": io.BytesIO(b"secret")})
    assert rv.data == b"b''"


def test_per_request_max_content_length(app, client):
    @app.route("/", methods=["POST"])
    def index():
        request.max_content_length = 3
        return request.get_data()

    assert client.post("/", data="abcd").status_code == 413
    with app.test_request_context():
        assert request.max_content_length == app.config["MAX_CONTENT_LENGTH"]
        request.max_form_memory_size = 5
        request.max_form_parts = 2
        assert request.max_form_memory_size == 5
        assert request.max_form_parts == 2


def test_urlencoded_form_memory_limit(app, client):
    app.config["MAX_FORM_MEMORY_SIZE"] = 20

    @app.route("/", methods=["POST"])
    def index():
        return request.form.get("a", "")

    assert client.post("/", data={"a": "x" * 50}).status_code == 413
    assert client.post("/", data={"a": "ok"}).data == b"ok"


def test_truncated_body_is_400(app, client):
    @app.route("/", methods=["POST"])
    def index():
        return request.get_data()

    client.validate = False
    rv = client.post(
        "/", environ_overrides={"wsgi.input": io.BytesIO(b"abc"), "CONTENT_LENGTH": "10"}
    )
    assert rv.status_code == 400


def test_request_without_context():
    req = Request(
        "POST",
        "/x",
        b"a=1",
        Headers([("Content-Type", "application/json")]),
        stream=io.BytesIO(b'{"k": 2}'),
        environ={},
    )
    # No app: the limit is off and JSON uses the standard library.
    req.headers.set("Content-Length", "8")
    assert req.get_json() == {"k": 2}
    assert req.args["a"] == "1"
    assert req.max_content_length is None
    assert req.endpoint is None and req.blueprint is None and req.blueprints == []


def test_blueprint_names_from_endpoint():
    class FakeRule:
        endpoint = "outer.inner.view"

    req = Request()
    req.url_rule = FakeRule()  # type: ignore[assignment]
    assert req.blueprint == "outer.inner"
    assert req.blueprints == ["outer.inner", "outer"]


# -- Response ----------------------------------------------------------------


def test_response_defaults():
    r = Response()
    assert r.status_code == 200 and r.status == "200 OK"
    assert r.mimetype == "text/html"
    assert r.data == b""
    assert r.headers["Content-Length"] == "0"


def test_response_text_and_bytes():
    r = Response("héllo", status=201, mimetype="text/plain")
    assert r.data == "héllo".encode()
    assert r.text == "héllo"
    assert r.content_length == len("héllo".encode())
    assert r.content_type == "text/plain; charset=utf-8"
    r.set_data(b"new")
    assert r.headers["Content-Length"] == "3"
    r.data = "newer"
    assert r.get_data(as_text=True) == "newer"
    assert "5 bytes" in repr(r)


def test_response_status_forms():
    r = Response()
    r.status = 404
    assert r.status == "404 Not Found"
    r.status = "404 Nope"
    assert r.status_code == 404 and r.status == "404 Nope"
    r.status = "299"
    assert r.status == "299 UNKNOWN"
    r.status_code = 201
    assert r.status == "201 Created"
    with pytest.raises(ValueError):
        r.status = "abc"
    with pytest.raises(ValueError):
        r.status = ""
    from http import HTTPStatus

    r.status = HTTPStatus.ACCEPTED  # an int subclass
    assert r.status_code == 202


def test_response_headers_forms():
    r = Response("x", headers={"X-A": "1"}, content_type="application/custom")
    assert r.headers["X-A"] == "1"
    assert r.content_type == "application/custom"
    r = Response("x", headers=[("Content-Type", "text/csv")])
    assert r.content_type == "text/csv"
    r = Response("x", headers=Headers([("X-B", "2")]), mimetype="application/xml")
    assert r.content_type == "application/xml; charset=utf-8"
    r.mimetype = "text/plain"
    assert r.content_type == "text/plain; charset=utf-8"
    r.content_type = None
    assert r.content_type is None
    r.location = "/x"
    assert r.location == "/x"
    r.location = None
    assert r.location is None
    r.content_length = None
    assert r.content_length is None
    r.content_length = 7
    assert r.headers["Content-Length"] == "7"


def test_header_injection_rejected():
    r = Response()
    with pytest.raises(ValueError):
        r.headers["X-Evil"] = "a\r\nSet-Cookie: x=1"
    # A cookie value is quoted with escapes, so it cannot split the header.
    r.set_cookie("a", "b\r\nX: y")
    header = r.headers.getlist("Set-Cookie")[0]
    assert "\r" not in header and "\n" not in header
    with pytest.raises(ValueError):
        r.set_cookie("a\r\nX", "b")


def test_response_streamed():
    def gen():
        yield "a"
        yield b"b"

    r = Response(gen())
    assert r.is_streamed
    assert "streamed" in repr(r)
    assert r.get_data() == b"ab"
    assert r.is_sequence


def test_response_iter_and_close():
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"1", "2"])

        def close(self):
            closed.append("body")

    r = Response(Body())
    r.call_on_close(lambda: closed.append("cb"))
    assert list(r.iter_encoded()) == [b"1", b"2"]
    with r:
        pass
    assert closed == ["body", "cb"]


def test_response_bad_body_item():
    r = Response([1])
    with pytest.raises(TypeError, match="str or bytes"):
        r.get_data()


def test_response_json():
    r = Response(json.dumps({"a": 1}), mimetype="application/json")
    assert r.is_json and r.json == {"a": 1} and r.get_json() == {"a": 1}
    r = Response("nope")
    assert r.json is None
    with pytest.raises(ValueError):
        r.get_json()
    assert r.get_json(force=True, silent=True) is None
    assert Response("[1]").get_json(force=True) == [1]
    assert r.mimetype_params == {"charset": "utf-8"}


def test_set_and_delete_cookie():
    r = Response()
    r.set_cookie(
        "name",
        "value",
        max_age=60,
        path="/p",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    header = r.headers.getlist("Set-Cookie")[0]
    for part in (
        "name=value",
        "Max-Age=60",
        "Path=/p",
        "Domain=example.com",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Expires=",
    ):
        assert part in header
    r.set_cookie("chips", "1", partitioned=True)
    assert "Partitioned" in r.headers.getlist("Set-Cookie")[1]
    assert "Secure" in r.headers.getlist("Set-Cookie")[1]
    r.delete_cookie("name", path="/p")
    deleted = r.headers.getlist("Set-Cookie")[2]
    assert deleted.startswith("name=;") and "Max-Age=0" in deleted and "1970" in deleted


def test_response_as_wsgi_app():
    r = Response("body", status=202)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status
        seen["headers"] = headers

    body = r({"REQUEST_METHOD": "GET"}, start_response)
    assert seen["status"] == "202 Accepted"
    assert b"".join(body) == b"body"


def test_header_values_must_be_latin1():
    r = Response()
    r.headers["X-Latin"] = "café"  # latin-1 is fine
    with pytest.raises(ValueError, match="latin-1"):
        r.headers["X-Euro"] = "5 €"
    with pytest.raises(ValueError, match="latin-1"):
        r.headers.add("X-Euro", "€")
    with pytest.raises(ValueError, match="latin-1"):
        Headers([("X-Euro", "€")])


def test_get_data_with_short_reads(app):
    class Trickle(io.BytesIO):
        def read(self, size=-1):
            return super().read(min(size, 3) if size and size > 0 else size)

    body = b"0123456789"
    with app.test_request_context(
        method="POST", input_stream=Trickle(body), content_length=len(body)
    ):
        assert request.get_data() == body
        assert request.stream.read() == b""
    with app.test_request_context(method="POST", input_stream=Trickle(b"0123"), content_length=10):
        from erlen.exceptions import ClientDisconnected

        with pytest.raises(ClientDisconnected):
            request.get_data()


def test_parsed_cookies_shared_between_requests_with_same_header() -> None:
    from erlen import wrappers
    from erlen.testing import EnvironBuilder

    def cookies(header: str) -> t.Any:
        environ = EnvironBuilder(headers={"Cookie": header}).get_environ()
        return make_request(Request, environ).cookies

    first = cookies("a=1; b=2; a=3")
    again = cookies("a=1; b=2; a=3")
    assert again is first  # parsed once
    assert first.getlist("a") == ["1", "3"]
    # The shared dict can't be changed through what it hands out.
    first.getlist("a").append("x")
    for lst in first.lists():
        lst[1].append("y")
    with pytest.raises(TypeError):
        first["c"] = "1"  # type: ignore[index]
    assert cookies("a=1; b=2; a=3").getlist("a") == ["1", "3"]
    assert cookies("a=9").getlist("a") == ["9"]
    # Bounded: old headers are forgotten.
    for n in range(wrappers._COOKIE_CACHE_SIZE + 10):
        cookies(f"n={n}")
    assert len(wrappers._cookie_cache) == wrappers._COOKIE_CACHE_SIZE
    assert "a=1; b=2; a=3" not in wrappers._cookie_cache
    # Long headers are parsed every time, not kept.
    long_header = "big=" + "x" * wrappers._COOKIE_CACHE_MAX_HEADER
    assert cookies(long_header)["big"] == "x" * wrappers._COOKIE_CACHE_MAX_HEADER
    assert long_header not in wrappers._cookie_cache


def test_mutable_cookie_storage_is_never_shared() -> None:
    from erlen.datastructures import MultiDict
    from erlen.testing import EnvironBuilder

    class MutableRequest(Request):
        parameter_storage_class = MultiDict

    environ = EnvironBuilder(headers={"Cookie": "a=1"}).get_environ()
    one = make_request(MutableRequest, environ).cookies
    two = make_request(MutableRequest, environ).cookies
    assert one == two and one is not two
    one["a"] = "changed"
    assert two["a"] == "1"


def test_add_cookie_header_and_add_vary_without_a_headers_view() -> None:
    # What the session cookie uses: no Headers view is made for plain values.
    rv = Response("x")
    rv._add_cookie_header("a=b; Path=/")
    assert rv._headers is None
    rv._add_vary("Cookie")
    assert rv.headers.getlist("Set-Cookie") == ["a=b; Path=/"]
    assert rv.headers.getlist("Vary") == ["Cookie"]
    # An existing Vary is merged, once; "*" already covers everything.
    rv.headers.set("Vary", "Accept-Encoding")
    rv._add_cookie_header("c=d")
    rv._add_vary("cookie")
    assert rv.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    assert rv.headers.getlist("Set-Cookie") == ["a=b; Path=/", "c=d"]
    star = Response("x", headers={"Vary": "*"})
    star._add_vary("Cookie")
    assert star.headers.getlist("Vary") == ["*"]
    # A value that is not ASCII goes through Headers.add's checks.
    with pytest.raises(ValueError):
        rv._add_cookie_header("a=\u20ac\r\nX-Evil: 1")


def test_add_cookie_header_respects_a_subclass_headers_property() -> None:
    class Custom(Response):
        seen: list[tuple[str, str]] = []

        @property  # type: ignore[misc]
        def headers(self) -> Headers:
            h = Headers(self._hlist)
            Custom.seen.append(("read", ""))
            return h

    rv = Custom("x")
    rv._add_cookie_header("a=b")
    assert Custom.seen  # went through the subclass's property


def test_response_allow_and_vary_are_header_sets() -> None:
    # As Werkzeug's: a case-insensitive set read from the header, and a
    # change to the set (or an assignment) writes the header back.
    response = Response()
    assert not response.allow and response.headers.get("Allow") is None
    response.allow = ["GET", "HEAD"]  # type: ignore[assignment]
    assert response.headers["Allow"] == "GET, HEAD"
    assert "get" in response.allow and sorted(response.allow) == ["GET", "HEAD"]
    response.allow.add("POST")
    assert response.headers["Allow"] == "GET, HEAD, POST"
    response.headers["Vary"] = "Accept, Cookie"
    assert response.vary.as_set() == {"accept", "cookie"}
    response.vary.discard("accept")
    assert response.headers["Vary"] == "Cookie"
    response.vary.clear()
    assert "Vary" not in response.headers
    response.vary = "Origin"  # type: ignore[assignment]
    assert response.headers["Vary"] == "Origin"
    response.allow = None  # type: ignore[assignment]
    assert "Allow" not in response.headers


def test_automatic_options_response_has_allow(app, client) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return ""

    rv = client.open("/", method="OPTIONS")
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_response_cache_control_writes_the_header() -> None:
    response = Response()
    assert response.cache_control.max_age is None and not response.cache_control.public
    response.cache_control.max_age = 60
    response.cache_control.public = True
    assert response.headers["Cache-Control"] == "max-age=60, public"
    assert response.cache_control.max_age == 60
    response.cache_control.public = False
    response.cache_control.no_cache = True
    assert response.headers["Cache-Control"] == "max-age=60, no-cache"
    response.cache_control.clear()
    assert "Cache-Control" not in response.headers


def test_request_cache_control_is_read_only(app) -> None:
    with app.test_request_context(headers={"Cache-Control": "no-cache, max-age=0"}):
        cc = request.cache_control
        assert cc.no_cache and cc.max_age == 0 and not cc.no_store
        with pytest.raises(TypeError):
            cc["max-age"] = "1"
    with app.test_request_context():
        assert not request.cache_control


def test_limits_default_to_werkzeugs_outside_an_app_context(app) -> None:
    app.config.update(MAX_CONTENT_LENGTH=100, MAX_FORM_MEMORY_SIZE=50, MAX_FORM_PARTS=3)
    r = Request.from_values("/")
    assert (r.max_content_length, r.max_form_memory_size, r.max_form_parts) == (
        None,
        500_000,
        1_000,
    )
    with app.app_context():
        assert (r.max_content_length, r.max_form_memory_size, r.max_form_parts) == (100, 50, 3)
    r.max_form_memory_size = 30
    with app.app_context():
        assert r.max_form_memory_size == 30


def test_request_origin_and_date(app) -> None:
    with app.test_request_context(
        headers={"Origin": "https://a.test", "Date": "Mon, 01 Feb 2021 07:15:00 GMT"}
    ):
        assert request.origin == "https://a.test"
        assert request.date == dt.datetime(2021, 2, 1, 7, 15, tzinfo=dt.UTC)
    with app.test_request_context():
        assert request.origin is None and request.date is None


def test_response_freeze_and_get_wsgi_response() -> None:
    from erlen.testing import EnvironBuilder

    response = Response(iter(["a", "b"]))
    assert response.is_streamed
    response.freeze()
    assert not response.is_streamed and response.get_data() == b"ab"
    assert response.headers["Content-Length"] == "2"
    app_iter, status, headers = response.get_wsgi_response(EnvironBuilder().get_environ())
    assert status == "200 OK" and ("Content-Length", "2") in headers
    assert b"".join(app_iter) == b"ab"


def test_text_response_content_type_pairs_bounded():
    # The quick path for a view's str shares one header pair per media
    # type; past the bound each response still gets its own right one.
    from erlen.wrappers.response import _CONTENT_TYPE_PAIRS, _text_response

    for i in range(300):
        cls = type("R", (Response,), {"default_mimetype": f"application/x-pair-{i}"})
        response = _text_response(cls, "x")
        assert response.headers["Content-Type"] == f"application/x-pair-{i}"
    assert len(_CONTENT_TYPE_PAIRS) <= 256
    bare = type("R", (Response,), {"default_mimetype": None})
    assert list(_text_response(bare, "hé").headers.items()) == [("Content-Length", "3")]
    unsized = type("R", (Response,), {"automatically_set_content_length": False})
    assert list(_text_response(unsized, "x").headers.items()) == [
        ("Content-Type", "text/html; charset=utf-8")
    ]


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 70000])
def test_content_length_of_small_and_large_bodies(size):
    # Lengths below a bound come from a table of shared header pairs; every
    # way of building a sized body gives the true length on either side of it.
    from erlen.wrappers.response import _text_response

    text = "x" * size
    for response in (Response(text), Response(text.encode()), _text_response(Response, text)):
        assert response.headers["Content-Length"] == str(size)
        assert len(response.get_data()) == size


def test_remote_user(app, client):
    # Werkzeug's request.remote_user: the environ's REMOTE_USER (privacyidea's
    # remote-user login reads it); None when no server set one.
    @app.route("/")
    def index():
        return repr(request.remote_user)

    assert client.get("/").text == "None"
    with app.test_request_context(environ_base={"REMOTE_USER": "alice"}):
        assert request.remote_user == "alice"


def test_response_class_with_its_own_new_is_honoured(app, client):
    # A view's str is made into a response with object.__new__ only for a
    # class keeping Response's __init__ and __new__; a class (or a mixin)
    # with a __new__ of its own has it called, and still builds the same response.
    made: list[type] = []

    class NewMixin:
        def __new__(cls, *args, **kwargs):
            made.append(cls)
            return super().__new__(cls)

    class Counted(NewMixin, Response):
        pass

    class Sub(Counted):
        pass

    @app.route("/")
    def index():
        return "hé"

    for cls in (Counted, Sub):
        app.response_class = cls
        response = client.get("/")
        assert response.data == "hé".encode()
        assert response.headers["Content-Length"] == "3"
        assert response.mimetype == "text/html"
    assert made == [Counted, Sub]


def test_text_response_honours_charset_and_settings():
    # The quick path for a view's str encodes with the class's charset (UTF-8
    # without naming the codec, any other by name) and sends the headers
    # its settings ask for, none at all included.
    from erlen.wrappers.response import _text_response

    latin = type("R", (Response,), {"charset": "latin-1"})
    response = _text_response(latin, "hé")
    assert response.get_data() == b"h\xe9"
    assert response.headers["Content-Length"] == "2"
    assert _text_response(Response, "hé").get_data() == "hé".encode()
    bare = type("R", (Response,), {"default_mimetype": None})
    neither = type("R", (bare,), {"automatically_set_content_length": False})
    response = _text_response(neither, "x")
    assert list(response.headers.items()) == []
    assert response.get_data() == b"x"
