"""The known vulnerability classes of web frameworks, one regression test each.

Werkzeug and Flask have fixed each of these since 2022 (issue 6). Every test
says, in a comment, what a naive implementation does and why the assertion
catches it. Requests are built as raw WSGI environs where the test client
would hide the detail under test (missing lengths, chunked input, the bytes
actually read from ``wsgi.input``).
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
import typing as t

import pytest

from erlen import Erlen, redirect, request, session
from erlen.helpers import safe_join, send_from_directory
from erlen.http import dump_cookie, parse_cookie
from erlen.wrappers import Response

# -- helpers -----------------------------------------------------------------


class CountingInput:
    """A ``wsgi.input`` that serves ``total`` bytes of ``pattern`` without
    holding them, and records how many bytes the app asked for.

    It stands in for a client that keeps sending: the assertions check that
    the app stops reading near its limit instead of consuming the body.
    """

    def __init__(self, head: bytes, pattern: bytes, total: int) -> None:
        self.head = head
        self.pattern = pattern
        self.total = total
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        remaining = self.total - self.served
        if size < 0 or size > remaining:
            size = remaining
        out = bytearray()
        while len(out) < size:
            pos = self.served + len(out)
            if pos < len(self.head):
                out += self.head[pos : pos + size - len(out)]
            else:
                need = size - len(out)
                reps = need // len(self.pattern) + 1
                offset = (pos - len(self.head)) % len(self.pattern)
                out += (self.pattern * (reps + 1))[offset : offset + need]
        self.served += len(out)
        return bytes(out)

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - never used by erlen
        return self.read(size if size >= 0 else 65536)


class ForbiddenInput:
    """A ``wsgi.input`` whose read stands for a blocking socket read."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the app read a body that has no length and no end marker")

    readline = read


def make_environ(
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    body: bytes | None = None,
    stream: t.Any = None,
    content_type: str | None = None,
    content_length: str | None = None,
    terminated: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, t.Any]:
    if stream is None:
        stream = io.BytesIO(body or b"")
        if content_length is None and not terminated:
            content_length = str(len(body or b""))
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    if terminated:
        environ["wsgi.input_terminated"] = True
    environ.update(headers or {})
    return environ


def run(app: t.Any, environ: dict[str, t.Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Call the app as a WSGI server would; return status code, headers and body."""
    captured: list[t.Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        captured[:] = [status, headers]
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return int(captured[0].split()[0]), captured[1], data


@pytest.fixture
def form_app() -> Erlen:
    app = Erlen("vulns_form", static_folder=None)
    # No overall body cap: the form limits alone must protect the app.
    app.config.update(MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=10_000, MAX_FORM_PARTS=50)

    @app.post("/")
    def index() -> str:
        return f"{len(request.form)} {len(request.files)}"

    return app


MB = 1024 * 1024

# -- multipart ---------------------------------------------------------------


def test_multipart_part_count_is_limited(form_app: Erlen) -> None:
    # Naive: every part is parsed and kept, so a body of millions of tiny
    # parts costs memory and CPU proportional to the attacker's budget
    # (Werkzeug CVE-2023-25577). Here the 51st part is a 413, and the parser
    # stops reading there: far less than the 20 MB offered is read.
    part = b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    stream = CountingInput(b"", part, 20 * MB)
    environ = make_environ(
        "POST",
        stream=stream,
        content_type="multipart/form-data; boundary=b",
        content_length=str(20 * MB),
    )
    status, _, body = run(form_app, environ)
    assert status == 413
    assert b"50 parts" in body
    assert stream.served < 2 * MB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_multipart_text_field_memory_is_limited(form_app: Erlen, chunked: bool) -> None:
    # Naive: a text field's value is collected whole before any check, so one
    # 100 MB field with no line breaks is held in memory (Werkzeug
    # CVE-2024-49767), and without Content-Length nothing stops it at all.
    head = b'--b\r\nContent-Disposition: form-data; name="big"\r\n\r\n'
    stream = CountingInput(head, b"A", 100 * MB)
    environ = make_environ(
        "POST",
        stream=stream,
        content_type="multipart/form-data; boundary=b",
        content_length=None if chunked else str(100 * MB),
        terminated=chunked,
    )
    status, _, body = run(form_app, environ)
    assert status == 413
    assert b"10000 bytes" in body
    assert stream.served < 2 * MB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_urlencoded_form_memory_is_limited(form_app: Erlen, chunked: bool) -> None:
    # Naive: a urlencoded body is read whole and only then compared with the
    # limit; with a chunked body (no Content-Length to check up front) and no
    # MAX_CONTENT_LENGTH, all 100 MB are read into memory before the 413.
    stream = CountingInput(b"a=", b"A", 100 * MB)
    environ = make_environ(
        "POST",
        stream=stream,
        content_type="application/x-www-form-urlencoded",
        content_length=None if chunked else str(100 * MB),
        terminated=chunked,
    )
    status, _, _ = run(form_app, environ)
    assert status == 413
    assert stream.served < 2 * MB
    # A form within the limit still parses, chunked or not.
    small = b"a=1&b=" + b"x" * 9000
    environ = make_environ(
        "POST", body=small, content_type="application/x-www-form-urlencoded", terminated=chunked
    )
    assert run(form_app, environ)[:3:2] == (200, b"2 0")


@pytest.mark.parametrize("filler", [b"\r", b"\n", b"\r\n", b"\r\n-", b"\r\n--boundar"])
def test_multipart_line_break_floods_parse_in_linear_time(filler: bytes) -> None:
    # Naive: a parser that splits on line breaks and re-scans its buffer for
    # the boundary after each one takes quadratic time on a body made of
    # many CR or LF characters (Werkzeug CVE-2023-46136): 4 MB of them
    # would take minutes. Here 4 MB are parsed well within the bound.
    app = Erlen("vulns_flood", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=None)

    @app.post("/")
    def index() -> str:
        return str(len(request.files["f"].read()))

    # The last filler is a near-boundary, the worst case for a matcher that
    # backtracks.
    data = filler * (4 * MB // len(filler))
    body = (
        b'--boundary\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n'
        + data
        + b"\r\n--boundary--\r\n"
    )
    start = time.perf_counter()
    environ = make_environ("POST", body=body, content_type="multipart/form-data; boundary=boundary")
    status, _, out = run(app, environ)
    elapsed = time.perf_counter() - start
    assert status == 200
    assert out == str(len(data)).encode()
    # Linear parsing takes well under a second here; quadratic takes minutes.
    assert elapsed < 10


def test_multipart_part_header_that_never_ends(form_app: Erlen) -> None:
    # Naive: part headers are buffered until the blank line that ends them,
    # so a header line that never ends grows without bound. Here it is a
    # 400 once the header block passes 16 kB, and reading stops there.
    head = b"--b\r\nContent-Disposition: form-data; name=a; x="
    stream = CountingInput(head, b"x", 100 * MB)
    environ = make_environ(
        "POST",
        stream=stream,
        content_type="multipart/form-data; boundary=b",
        content_length=str(100 * MB),
    )
    status, _, body = run(form_app, environ)
    assert status == 400
    assert b"header" in body.lower()
    assert stream.served < 2 * MB


def test_multipart_endless_header_lines(form_app: Erlen) -> None:
    # Naive: each complete header line is small, so a per-line limit does not
    # stop a part with millions of them. The whole header block is bounded.
    stream = CountingInput(b"--b\r\n", b"X-A: b\r\n", 100 * MB)
    environ = make_environ(
        "POST",
        stream=stream,
        content_type="multipart/form-data; boundary=b",
        content_length=str(100 * MB),
    )
    status, _, _ = run(form_app, environ)
    assert status == 400
    assert stream.served < 2 * MB


# -- cookies -----------------------------------------------------------------


def test_nameless_cookie_does_not_override_a_named_one() -> None:
    # Naive: "=__Host-sid=evil" is split at the first "=" of the value, or
    # the empty name is dropped and the rest taken as "name=value", so a
    # subdomain that can set a nameless cookie shadows a __Host- cookie
    # (Werkzeug CVE-2023-23934). Nameless pairs are ignored here.
    cookies = parse_cookie("=__Host-sid=evil; __Host-sid=good")
    assert cookies.getlist("__Host-sid") == ["good"]
    assert cookies.getlist("") == []
    cookies = parse_cookie("__Host-sid=good; =__Host-sid=evil")
    assert cookies.getlist("__Host-sid") == ["good"]
    assert parse_cookie("=value").to_dict() == {}


def test_quoted_values_and_odd_separators_parse_safely() -> None:
    # Naive: quotes are taken literally or a ";" inside quotes starts a new
    # cookie that the client never set. Here escapes decode, pairs split on
    # ";" only, blank pairs and pairs without "=" are skipped.
    cookies = parse_cookie('a="x\\"y\\073z"; b=1;; c; d = 2 ;e="')
    assert cookies["a"] == 'x"y;z'
    assert cookies["b"] == "1"
    assert cookies["d"] == "2"
    assert cookies["e"] == '"'
    assert "c" not in cookies
    # A value that a server wrote with dump_cookie comes back unchanged,
    # whatever it holds, and never as a second cookie.
    nasty = 'v"; evil=1; \\ \r\n,\x00é'
    header = dump_cookie("k", nasty)
    pair = header.split("; ", 1)[0]
    assert parse_cookie(pair).to_dict(flat=False) == {"k": [nasty]}


# -- sessions ----------------------------------------------------------------


def test_vary_cookie_whenever_the_session_was_read(app: Erlen) -> None:
    # Naive: Vary: Cookie only when the cookie is (re)written, so a shared
    # cache serves one user's session-dependent page to everyone (Flask
    # CVE-2023-30861). It is needed whenever the content read the session.
    @app.route("/read")
    def read() -> str:
        return str(session.get("user"))

    @app.route("/contains")
    def contains() -> str:
        return str("user" in session)

    @app.route("/untouched")
    def untouched() -> str:
        return "static"

    client = app.test_client()
    for path in ("/read", "/contains"):
        response = client.get(path)
        assert "Cookie" in response.headers.get("Vary", ""), path
        assert "Set-Cookie" not in response.headers
    assert "Vary" not in client.get("/untouched").headers


def test_key_rotation_signs_with_the_newest_key(app: Erlen) -> None:
    # Naive: the fallback list is used in order for signing too, so after a
    # rotation new cookies are still signed with the old (maybe leaked) key.
    # Old cookies must still verify; new ones must verify with the new key
    # alone.
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    def serializer(key: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            key,
            salt="cookie-session",
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])

    @app.route("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    client.set_cookie("session", serializer("old key").dumps({"n": 41}))
    response = client.get("/")
    assert response.text == "42"  # the old key still verifies
    cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    assert serializer("new key").loads(cookie) == {"n": 42}
    with pytest.raises(BadSignature):
        serializer("old key").loads(cookie)


def test_forged_session_cookie_is_an_empty_session(app: Erlen) -> None:
    # Naive: the payload is decoded before (or without) checking the
    # signature. A cookie signed with another key must give an empty session.
    from itsdangerous import URLSafeTimedSerializer

    @app.route("/")
    def index() -> str:
        return repr(dict(session))

    forged = URLSafeTimedSerializer("attacker", salt="cookie-session").dumps({"admin": True})
    client = app.test_client()
    client.set_cookie("session", forged)
    assert client.get("/").text == "{}"


# -- file serving ------------------------------------------------------------

UNSAFE_PATHS = [
    "../secret.txt",
    "a/../../secret.txt",
    "..",
    "/etc/passwd",
    "//server/share",
    "\\\\server\\share\\x",
    "..\\secret.txt",
    "C:/Windows/win.ini",
    "c:secret.txt",
    "file.txt\x00.png",
    "NUL",
    "con",
    "CON.txt",
    "sub/aux.tar.gz",
    "COM1",
    "com1.log",
    "LPT3.txt",
    "PRN ",
    "nul .txt",
]


@pytest.mark.parametrize("unsafe", UNSAFE_PATHS)
def test_safe_join_refuses_escapes(unsafe: str) -> None:
    # Naive: os.path.join(directory, name), or a check for ".." alone: an
    # absolute or UNC path replaces the directory, a drive letter or
    # backslashes escape it on Windows, and device names (NUL, CON, COM1,
    # also with an extension) open devices instead of files.
    assert safe_join("/srv/files", unsafe) is None


def test_safe_join_keeps_ordinary_paths() -> None:
    assert safe_join("/srv/files", "a/b.txt") == "/srv/files/a/b.txt"
    assert safe_join("/srv/files", "a/./b/../c.txt") == "/srv/files/a/c.txt"
    assert safe_join("/srv/files", "console.txt") == "/srv/files/console.txt"


@pytest.mark.parametrize(
    "unsafe", ["../secret.txt", "/etc/hostname", "..\\secret.txt", "sub/../../secret.txt"]
)
def test_send_from_directory_stays_inside(tmp_path: t.Any, unsafe: str) -> None:
    # Naive: the joined path is opened if it exists, so "../secret.txt"
    # serves a file next to the public folder. Here it is a 404.
    public = tmp_path / "public"
    public.mkdir()
    (public / "ok.txt").write_text("public")
    (tmp_path / "secret.txt").write_text("secret")
    app = Erlen("vulns_files", root_path=str(tmp_path), static_folder=None)

    @app.route("/files")
    def files() -> Response:
        return send_from_directory(public, request.args["name"])

    client = app.test_client()
    assert client.get("/files", query_string={"name": "ok.txt"}).text == "public"
    response = client.get("/files", query_string={"name": unsafe})
    assert response.status_code == 404
    assert b"secret" not in response.data


# -- the debugger ------------------------------------------------------------


def test_debugger_unreachable_with_debug_off() -> None:
    # Naive: the debugger middleware is wrapped around the app whenever it is
    # installed, or the traceback page is shown for any error; then anyone
    # can read the source and reach the console. With debug off (the
    # default) an error is a bare 500, and the debugger's URL is an
    # ordinary (missing) page.
    app = Erlen("vulns_debug", static_folder=None)
    assert app.debug is False

    @app.route("/boom")
    def boom() -> str:
        secret = "do-not-show-this-local"  # noqa: F841 - a local the debugger would show
        raise RuntimeError("internal detail")

    status, _, body = run(app, make_environ("GET", "/boom"))
    assert status == 500
    for leak in (
        b"Traceback",
        b"RuntimeError",
        b"internal detail",
        b"do-not-show",
        b"console",
        b"PIN",
    ):
        assert leak not in body
    for query in ("cmd=resource&f=style.css", "cmd=pinauth&s=x", "cmd=exec&s=x&frm=1"):
        for method in ("GET", "POST"):
            status, _, body = run(
                app, make_environ(method, "/__debugger__", query=query, body=b"pin=1&code=1")
            )
            assert status == 404, (method, query)
            assert b"PIN" not in body and b"debugger" not in body.lower()


def test_debugger_console_is_host_checked_and_pin_protected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Naive: the console runs code for any request that names a frame, or it
    # trusts any Host header (DNS rebinding lets a web page drive a console
    # on localhost), or it lets a PIN be guessed without limit. Each gate is
    # checked here: host, per-process secret, PIN, and the lockout.
    from erlen.debug import DebuggedApplication
    from erlen.debug.auth import MAX_FAILED_ATTEMPTS

    monkeypatch.setenv("ERLEN_DEBUG_PIN", "111-222-333")
    app = Erlen("vulns_debug_on", static_folder=None)
    app.debug = True

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    debugged = DebuggedApplication(app.wsgi_app, pin_failure_delay=0)
    local = {"HTTP_HOST": "localhost:5000"}
    status, _, page = run(debugged, make_environ("GET", "/boom", headers=local))
    assert status == 500 and b"RuntimeError" in page
    assert b"111-222-333" not in page
    frame = next(iter(debugged._frames))

    def console(
        cmd: str,
        form: bytes,
        *,
        host: str = "localhost",
        secret: str | None = None,
        cookie: str = "",
    ) -> tuple[int, dict[str, str], bytes]:
        query = f"cmd={cmd}&s={debugged.secret if secret is None else secret}&frm={frame}"
        headers = {"HTTP_HOST": host, "HTTP_COOKIE": cookie}
        environ = make_environ(
            "POST",
            "/__debugger__",
            query=query,
            body=form,
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        code, response_headers, body = run(debugged, environ)
        return code, dict(response_headers), body

    # No PIN yet: no code runs.
    code, _, body = console("exec", b"code=6*7")
    assert code == 403 and b"42" not in body
    # DNS rebinding: a foreign Host is refused even with the right PIN.
    assert console("pinauth", b"pin=111-222-333", host="attacker.example")[0] == 400
    assert console("pinauth", b"pin=111-222-333", host="localhost.attacker.example")[0] == 400
    # The per-process secret from the error page is required.
    assert console("pinauth", b"pin=111-222-333", secret="guess")[0] == 403
    # The right PIN logs in, and only the cookie it sets lets code run.
    code, headers, _ = console("pinauth", b"pin=111-222-333")
    assert code == 200
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert "HttpOnly" in headers["Set-Cookie"]
    code, _, body = console("exec", b"code=6*7", cookie=cookie)
    assert code == 200 and b"42" in body
    name = cookie.split("=", 1)[0]
    forged = f"{name}=9999999999|{'0' * 64}"
    assert console("exec", b"code=6*7", cookie=forged)[0] == 403
    # Guessing is bounded: after the limit even the right PIN is refused.
    for _ in range(MAX_FAILED_ATTEMPTS):
        console("pinauth", b"pin=000-000-000")
    code, _, body = console("pinauth", b"pin=111-222-333")
    assert code == 403 and b"exhausted" in body


# -- redirects and header injection -----------------------------------------


@pytest.mark.parametrize(
    "target", ["/next\r\nSet-Cookie: evil=1", "/a\nb", "/a\rb", "http://x/\r\n\r\n<script>"]
)
def test_redirect_location_cannot_split_the_response(target: str) -> None:
    # Naive: Location is set to the target as given, so CR/LF from a user
    # supplied "next" adds headers or a body (response splitting). Here the
    # characters are percent-encoded (or refused): never a raw line break.
    try:
        response = redirect(target)
    except ValueError:
        return
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert "Set-Cookie" not in [k for k, _ in response.headers.items()]


OPEN_REDIRECTS = [
    "//evil.example/",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "https://evil.example/",
    "http:evil.example",
    "https://localhost@evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\x00//evil.example",
    "/\u202e//evil.example",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_next_is_not_an_open_redirect(app: Erlen, target: str) -> None:
    # Naive: redirect(request.args["next"]) after a login, or a check that
    # only looks for "http", so "//evil.example" or "/\evil.example"
    # (which browsers read as another host) sends the user off the site.
    from erlen.auth import safe_next_url

    @app.route("/login")
    def login() -> Response:
        return redirect(safe_next_url())

    response = app.test_client().get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/account?tab=1", "/a/b#c", "http://localhost/x"])
def test_login_next_keeps_local_urls(app: Erlen, target: str) -> None:
    from erlen.auth import safe_next_url

    @app.route("/login")
    def login() -> Response:
        return redirect(safe_next_url())

    response = app.test_client().get("/login", query_string={"next": target})
    assert response.headers["Location"] == target


def test_slash_redirect_is_not_an_open_redirect() -> None:
    # Naive: a request for "//evil.example" that matches a rule only with a
    # trailing slash is redirected to "//evil.example/", which browsers read
    # as another host (Werkzeug's merge_slashes fix). The redirect must stay
    # on this host.
    app = Erlen("vulns_redirect", static_folder=None)

    @app.route("/<path:page>/")
    def page(page: str) -> str:
        return page

    for path in ("//evil.example", "///evil.example", "/\\evil.example"):
        status, headers, _ = run(app, make_environ("GET", path))
        assert status == 308, path
        location = dict(headers)["Location"]
        if "://" in location:
            assert location.split("://", 1)[1].startswith("localhost/"), location
        else:
            assert not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"])
def test_header_injection_is_refused(value: str) -> None:
    # Naive: header values are passed to the server as given, so text with
    # CR/LF from a request ends the header and starts a new one.
    response = Response("x")
    with pytest.raises(ValueError):
        response.headers["X-Name"] = value
    with pytest.raises(ValueError):
        response.headers.add("X-Name", value)
    with pytest.raises(ValueError):
        response.headers[value] = "x"


def test_header_injection_in_a_view_is_a_500_not_a_split(app: Erlen) -> None:
    # An app that copies request text into a header fails loudly (500) and
    # the client never sees a second header line.
    app.testing = False

    @app.route("/")
    def index() -> Response:
        response = Response("x")
        response.headers["X-Echo"] = request.args["v"]
        return response

    status, headers, _ = run(app, make_environ("GET", "/", query="v=a%0D%0ASet-Cookie:%20evil=1"))
    assert status == 500
    assert all(name.lower() != "set-cookie" for name, _ in headers)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/;evil=1"},
        {"path": "/\r\nX: y"},
        {"domain": "example.com; evil=1"},
        {"domain": "a\nb"},
        {"samesite": "Lax\r\nX: y"},
    ],
)
def test_cookie_attributes_cannot_split_the_response(kwargs: dict[str, str]) -> None:
    # Naive: attributes are formatted into Set-Cookie verbatim, so a path or
    # domain taken from a request injects attributes or headers.
    with pytest.raises(ValueError):
        Response("x").set_cookie("k", "v", **kwargs)  # type: ignore[arg-type]


def test_cookie_value_cannot_split_the_response() -> None:
    # Naive: the value is written bare, so "; Domain=evil" adds an attribute
    # and CR/LF adds a header. The value is quoted and escaped instead.
    response = Response("x")
    response.set_cookie("k", "v; Domain=evil.example\r\nSet-Cookie: evil=1")
    headers = response.headers.getlist("Set-Cookie")
    assert len(headers) == 1
    header = headers[0]
    assert "\r" not in header and "\n" not in header
    assert "; Domain=" not in header
    assert (
        parse_cookie(header.split("; ", 1)[0])["k"]
        == "v; Domain=evil.example\r\nSet-Cookie: evil=1"
    )


# -- request smuggling-adjacent input at the WSGI layer ----------------------


@pytest.mark.parametrize(
    "length",
    ["5, 6", "5,5", "-1", "abc", "+5", "0x10", "1e3", "٥", "5 5", "99999999999999999999999a"],
)
def test_bad_content_length_is_a_400(length: str) -> None:
    # Naive: int(value) accepts "+5" and other digits, and a list of
    # conflicting lengths is either a 500 (ValueError) or silently one of
    # them, which is how front and back ends come to disagree on where a
    # request ends. Anything but ASCII digits is a 400.
    app = Erlen("vulns_cl", static_folder=None)

    @app.post("/")
    def index() -> str:
        return str(len(request.get_data()))

    status, _, body = run(app, make_environ("POST", body=b"hello", content_length=length))
    assert status == 400, length
    assert b"Content-Length" in body


def test_body_without_length_or_end_marker_is_not_read() -> None:
    # Naive: read() until EOF on wsgi.input when there is no Content-Length,
    # which blocks forever on a keep-alive socket (PEP 3333 forbids reading
    # past CONTENT_LENGTH). Without wsgi.input_terminated the body is empty.
    app = Erlen("vulns_nolength", static_folder=None)

    @app.post("/")
    def index() -> str:
        return f"{len(request.get_data())} {len(request.form)}"

    for content_type in (
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
    ):
        status, _, body = run(
            app, make_environ("POST", stream=ForbiddenInput(), content_type=content_type)
        )
        assert (status, body) == (200, b"0 0"), content_type


def test_chunked_body_is_read_to_its_end_within_the_limit() -> None:
    # Naive: a chunked body (no Content-Length, wsgi.input_terminated) is
    # either ignored (data lost) or read without any limit. It is read, and
    # MAX_CONTENT_LENGTH still applies while reading.
    app = Erlen("vulns_chunked", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=1000)

    @app.post("/")
    def index() -> str:
        return str(len(request.get_data()))

    status, _, body = run(app, make_environ("POST", body=b"x" * 600, terminated=True))
    assert (status, body) == (200, b"600")
    stream = CountingInput(b"", b"x", 100 * MB)
    status, _, _ = run(app, make_environ("POST", stream=stream, terminated=True))
    assert status == 413
    assert stream.served <= 1001


def test_short_body_is_a_client_error_not_a_hang() -> None:
    # Naive: loop on read() until Content-Length bytes arrived, spinning
    # forever when the client went away. A short body is a 400.
    app = Erlen("vulns_short", static_folder=None)

    @app.post("/")
    def index() -> str:
        return str(len(request.get_data()))

    status, _, _ = run(app, make_environ("POST", body=b"abc", content_length="10"))
    assert status == 400


def test_transfer_encoding_wins_over_content_length_when_the_server_dechunks() -> None:
    # issue 15, finding 9 (the WSGI side; tests/test_asgi.py has the ASGI
    # one). Naive: read Content-Length bytes of a body the server already
    # de-chunked (wsgi.input_terminated), cutting it short or waiting for
    # bytes that never come. Transfer-Encoding wins (RFC 9112 section 6.3):
    # the body is read to its end, MAX_CONTENT_LENGTH still applies.
    app = Erlen("vulns_te_and_cl", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=1000)

    @app.post("/")
    def index() -> str:
        return f"{request.content_length} {request.get_data().decode()}"

    chunked = {"HTTP_TRANSFER_ENCODING": "chunked"}
    for declared in ("3", "100", "0"):
        environ = make_environ(
            "POST", body=b"abcdefghij", content_length=declared, terminated=True, headers=chunked
        )
        assert run(app, environ)[::2] == (200, b"None abcdefghij"), declared
    stream = CountingInput(b"", b"x", 100 * MB)
    status, _, _ = run(
        app,
        make_environ("POST", stream=stream, content_length="3", terminated=True, headers=chunked),
    )
    assert status == 413
    assert stream.served <= 1001
    # An input the server does not terminate keeps the declared length.
    environ = make_environ("POST", body=b"abcdefghij", content_length="3", headers=chunked)
    assert run(app, environ)[::2] == (200, b"3 abc")


def test_huge_declared_length_without_a_limit_is_read_in_bounded_chunks() -> None:
    # issue 15, finding 8. Naive: with MAX_CONTENT_LENGTH = None the body is
    # read with one read(Content-Length); a socket file allocates that size
    # before any byte arrives, so a huge declared length is a MemoryError
    # (500). It is read in bounded chunks; a body that never arrives is a 400
    # (ClientDisconnected), and a large body that does arrive is whole.
    import socket
    import threading

    app = Erlen("vulns_huge_length", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=None)

    @app.post("/")
    def index() -> str:
        return str(len(request.get_data()))

    @app.post("/stream")
    def streamed() -> str:
        received = 0
        while chunk := request.stream.read(10**13):
            received += len(chunk)
        return str(received)

    for path in ("/", "/stream"):
        reader, writer = socket.socketpair()
        try:
            writer.sendall(b"only a few bytes")
            writer.close()
            with reader.makefile("rb") as rfile:
                status, _, _ = run(
                    app, make_environ("POST", path, stream=rfile, content_length=str(10**13))
                )
            assert status == 400, path
        finally:
            reader.close()

    payload = bytes(range(256)) * 4000  # 1 024 000 bytes, several chunks
    reader, writer = socket.socketpair()
    sender = threading.Thread(target=lambda: (writer.sendall(payload), writer.close()), daemon=True)
    sender.start()
    try:
        with reader.makefile("rb") as rfile:
            status, _, body = run(
                app, make_environ("POST", stream=rfile, content_length=str(len(payload)))
            )
        assert (status, body) == (200, str(len(payload)).encode())
    finally:
        sender.join(5)
        reader.close()
