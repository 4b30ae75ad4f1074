"""The interactive debugger (erlen.debug) over the test client: page, console, PIN, host check.

Tests over a real socket and through the ``erlen`` command and ``app.run``
are in ``test_debug_server.py``.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import time
import typing as t
from pathlib import Path

import pytest

import erlen.debug.auth
from erlen import Erlen
from erlen.debug import DEBUGGER_PATH, DebuggedApplication, get_pin_and_cookie_name, host_is_trusted
from erlen.debug.auth import MAX_FAILED_ATTEMPTS, PIN_TIME, PinGuard
from erlen.debug.console import MAX_OUTPUT, Console
from erlen.debug.tbtools import MAX_LOCAL_REPR, MAX_LOCALS, Traceback, safe_repr
from erlen.testing import ErlenClient

PIN = "111-222-333"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", PIN)
    monkeypatch.delenv("ERLEN_DEBUGGER_TRUSTED_HOSTS", raising=False)


def make_app() -> Erlen:
    app = Erlen("debug_test_app", root_path="/nonexistent-erlen-root")
    app.debug = True

    @app.route("/")
    def index() -> str:
        return "fine"

    @app.route("/boom")
    def boom() -> str:
        # Locals for the page and the console to show.
        payload = "<script>alert('local')</script>"  # noqa: F841
        number = 42  # noqa: F841
        big = "x" * 100_000  # noqa: F841
        unreprable = BadRepr()  # noqa: F841
        raise ValueError("bad <script>alert('message')</script>")

    @app.route("/chain")
    def chain() -> str:
        try:
            {}["missing"]
        except KeyError as e:
            raise RuntimeError("while looking it up") from e
        return "unreachable"

    @app.route("/context")
    def context() -> str:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            if app.config.get("SUPPRESS"):
                raise LookupError("second") from None
            raise LookupError("second")  # noqa: B904 - the implicit chain is the point
        return "unreachable"

    @app.route("/stream-late")
    def stream_late() -> t.Iterator[str]:
        def generate() -> t.Iterator[str]:
            yield "first chunk;"
            raise OSError("the stream broke")

        return generate()

    @app.route("/many-locals")
    def many_locals() -> str:
        scope = {f"v{i}": i for i in range(MAX_LOCALS + 5)}
        exec(
            "def f():\n"
            + "".join(f"    v{i} = {i}\n" for i in scope)
            + "    raise KeyError('deep')\n",
            scope,
        )
        return str(scope["f"]())

    return app


@pytest.fixture
def app() -> Erlen:
    return make_app()


@pytest.fixture
def debugger(app: Erlen) -> DebuggedApplication:
    debugged = DebuggedApplication(app.wsgi_app, pin_failure_delay=0)
    app.wsgi_app = debugged  # type: ignore[method-assign]
    return debugged


@pytest.fixture
def client(app: Erlen, debugger: DebuggedApplication) -> ErlenClient:
    return app.test_client()


def frame_id(page: str, function: str) -> str:
    match = re.search(
        rf'in <span class="function">{function}</span>.*?data-frame="([0-9a-f]+)"', page, re.S
    )
    assert match, f"no console for {function} in the page"
    return match.group(1)


def error_page(client: ErlenClient, path: str = "/boom", **kwargs: t.Any) -> str:
    response = client.get(path, errors_stream=io.StringIO(), **kwargs)
    assert response.status_code == 500
    return t.cast(str, response.get_data(as_text=True))


def debugger_post(
    client: ErlenClient, cmd: str, secret: str, data: dict[str, str] | None = None, **query: str
) -> t.Any:
    return client.post(
        DEBUGGER_PATH, query_string={"cmd": cmd, "s": secret, **query}, data=data or {}
    )


def login(client: ErlenClient, debugger: DebuggedApplication) -> t.Any:
    response = debugger_post(client, "pinauth", debugger.secret, {"pin": PIN})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def run_code(
    client: ErlenClient, debugger: DebuggedApplication, frame: str, code: str, **kwargs: t.Any
) -> t.Any:
    return client.post(
        DEBUGGER_PATH,
        query_string={"cmd": "exec", "frm": frame, "s": debugger.secret},
        data={"code": code},
        **kwargs,
    )


# -- the error page ------------------------------------------------------------


def test_normal_requests_pass_through_untouched(app: Erlen, client: ErlenClient) -> None:
    plain = Erlen("plain")
    plain.route("/")(lambda: "fine")
    expected = plain.test_client().get("/")
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_data() == expected.get_data() == b"fine"
    assert list(response.headers.items()) == list(expected.headers.items())
    assert client.get("/nope").status_code == 404  # HTTP errors are the app's, not the debugger's


def test_error_page_shows_exception_frames_source_and_locals(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    login(client, debugger)  # the locals are shown past the PIN only
    errors = io.StringIO()
    response = client.get("/boom", errors_stream=errors)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert (
        "default-src 'none'" in csp
        and "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
    )
    page = response.get_data(as_text=True)
    assert "<h1>ValueError</h1>" in page
    assert "ValueError: bad &lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt;" in page
    # The view's frame: file, line, function, the current source line, open.
    match = re.search(
        r'<details class="frame" open><summary><span class="file">([^<]+)</span>, line <span class="lineno">(\d+)</span>, in <span class="function">boom</span>',
        page,
    )
    assert match and match.group(1) == __file__
    lineno = int(match.group(2))
    source = Path(__file__).read_text().splitlines()
    assert "raise ValueError" in source[lineno - 1]
    assert f'<span class="line current"><span class="ln">{lineno}</span>' in page
    assert f'<span class="ln">{lineno - 3}</span>' in page  # a few lines of context
    # Erlen's own frames are there, collapsed.
    assert re.search(
        r'<details class="frame library"><summary><span class="file">[^<]*erlen/app\.py', page
    )
    # Locals, repr'd.
    assert "<tr><th>number</th><td><code>42</code></td></tr>" in page
    # The middleware doesn't show itself.
    assert "middleware.py" not in page
    # The plain-text version to copy, and the log on wsgi.errors.
    assert "<textarea readonly" in page and "Traceback (most recent call last):" in page
    assert errors.getvalue().startswith("Traceback (most recent call last):")
    assert "ValueError: bad <script>" in errors.getvalue()
    # The page's assets and console come from the reserved URL, with the secret.
    assert f'href="{DEBUGGER_PATH}?cmd=resource&amp;f=style.css"' in page
    assert f'src="{DEBUGGER_PATH}?cmd=resource&amp;f=debugger.js"' in page
    assert f'data-secret="{debugger.secret}"' in page
    assert 'data-console="on" data-pin="no"' in page  # logged in


def test_error_page_escapes_everything_from_the_app(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    login(client, debugger)
    page = error_page(client)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;local&#x27;)&lt;/script&gt;" in page  # the local
    assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt;" in page  # the message
    # The only scripts are the debugger's own.
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script src="{DEBUGGER_PATH}?cmd=resource&amp;f=debugger.js">'
    ]


def test_local_reprs_are_bounded_and_never_fail(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    login(client, debugger)
    page = error_page(client)
    big = re.search(r"<tr><th>big</th><td><code>([^<]*)</code>", page)
    assert big is not None
    assert len(big.group(1)) <= MAX_LOCAL_REPR
    assert "&#x27;xxxx" in big.group(1)
    assert (
        "<tr><th>unreprable</th><td><code>&lt;repr of BadRepr object failed: RuntimeError&gt;</code>"
        in page
    )


def test_many_locals_are_capped(client: ErlenClient, debugger: DebuggedApplication) -> None:
    login(client, debugger)
    page = error_page(client, "/many-locals")
    frame = page[page.index('<span class="function">f</span>') :]
    frame = frame[: frame.index("</details>")]
    assert frame.count("<tr>") == MAX_LOCALS
    assert "5 more (use the console)" in frame


# issue 15, finding 2: the page listed every frame's locals before any PIN
# (a view holding app.secret_key put the key in the page). They are shown
# once the PIN unlocks the console: in the page for a logged-in browser, or
# fetched over the authenticated "locals" command.
def test_locals_are_hidden_until_the_pin_is_entered(
    client: ErlenClient, debugger: DebuggedApplication, app: Erlen
) -> None:
    app.secret_key = "s3cr3t-" + "signing-key"  # not in the source lines the page shows

    @app.route("/keyed")
    def keyed() -> str:
        key = app.secret_key  # noqa: F841 - a local the page must not show
        raise RuntimeError("keyed")

    page = error_page(client, "/keyed")
    assert (
        "&#x27;s3cr3t-signing-key&#x27;" not in page
    )  # its repr (the source lines show the test code)
    assert "<tr><th>key</th>" not in page and "<tr>" not in page
    assert 'class="locals-hidden"' in page and "shown once the PIN unlocks the console" in page
    page = error_page(client)
    assert "<tr>" not in page and "<td><code>42</code>" not in page
    tb_id = re.search(r'data-traceback="([0-9a-f]+)"', page)
    assert tb_id is not None
    # The locals command needs the PIN like exec.
    response = debugger_post(client, "locals", debugger.secret, tb=tb_id.group(1))
    assert response.status_code == 403 and response.get_json()["auth_required"] is True
    login(client, debugger)
    response = debugger_post(client, "locals", debugger.secret, tb=tb_id.group(1))
    assert response.status_code == 200
    frames = response.get_json()["frames"]
    boom = frames[frame_id(page, "boom")]
    # Plain text in JSON (the page inserts it as text, never as HTML).
    assert ["number", "42"] in boom["locals"] and [
        "payload",
        "\"<script>alert('local')</script>\"",
    ] in boom["locals"]
    assert boom["more"] == 0
    assert debugger_post(client, "locals", debugger.secret, tb="0" * 16).status_code == 404
    # The page of a logged-in browser has them.
    page = error_page(client, "/keyed")
    assert "<tr><th>key</th><td><code>&#x27;s3cr3t-signing-key&#x27;</code></td></tr>" in page


def test_locals_command_is_gated_like_the_console(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    page = error_page(client)
    tb_id = re.search(r'data-traceback="([0-9a-f]+)"', page)
    assert tb_id is not None
    login(client, debugger)
    query = {"cmd": "locals", "s": debugger.secret, "tb": tb_id.group(1)}
    assert (
        client.post(DEBUGGER_PATH, query_string=query, headers={"Host": "evil.com"}).status_code
        == 400
    )
    assert client.post(DEBUGGER_PATH, query_string={**query, "s": "guess"}).status_code == 403
    assert client.get(DEBUGGER_PATH, query_string=query).status_code == 405


def test_locals_in_the_page_with_the_pin_off_on_a_trusted_host(
    monkeypatch: pytest.MonkeyPatch, app: Erlen
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", "off")
    app.wsgi_app = DebuggedApplication(app.wsgi_app)  # type: ignore[method-assign]
    client = app.test_client()
    assert "<tr><th>number</th><td><code>42</code></td></tr>" in error_page(client)
    response = client.get("/boom", headers={"Host": "evil.com"}, errors_stream=io.StringIO())
    assert response.status_code == 500 and "42" not in response.get_data(as_text=True)


def test_evalex_off_shows_no_locals_behind_a_pin(app: Erlen) -> None:
    app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=False)  # type: ignore[method-assign]
    page = error_page(app.test_client())
    assert "<td><code>42</code>" not in page and "data-frame=" not in page


def test_chained_exceptions_are_all_shown_oldest_first(client: ErlenClient, app: Erlen) -> None:
    page = error_page(client, "/chain")
    traceback = page[page.index("<section") :]
    first, second = (
        traceback.index("KeyError: &#x27;missing&#x27;"),
        traceback.index("RuntimeError: while looking it up"),
    )
    relation = traceback.index(
        "The above exception was the direct cause of the following exception:"
    )
    assert first < relation < second
    assert "<h1>RuntimeError</h1>" in page

    page = error_page(client, "/context")
    assert "During handling of the above exception, another exception occurred:" in page
    assert "ZeroDivisionError: division by zero" in page
    app.config["SUPPRESS"] = True
    page = error_page(client, "/context")
    assert "ZeroDivisionError: division" not in page and "During handling" not in page
    assert "<h1>LookupError</h1>" in page


def test_exception_type_is_qualified_by_module(client: ErlenClient, app: Erlen) -> None:
    class Custom(Exception):
        pass

    @app.route("/custom")
    def custom() -> str:
        raise Custom("x")

    page = error_page(client, "/custom")
    assert (
        f"<h1>{__name__}.test_exception_type_is_qualified_by_module.&lt;locals&gt;.Custom</h1>"
        in page
    )


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({"Accept": "text/plain"}, True),
        ({"X-Requested-With": "XMLHttpRequest"}, True),
        ({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, False),
        ({"Accept": "*/*"}, False),
        ({}, False),
    ],
)
def test_plain_text_traceback_for_non_browsers(
    client: ErlenClient, headers: dict[str, str], text: bool
) -> None:
    response = client.get("/boom", headers=headers, errors_stream=io.StringIO())
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    if text:
        assert response.mimetype == "text/plain"
        assert body.startswith("Traceback (most recent call last):")
        # Plain text is not HTML: the message is as raised.
        assert body.rstrip().endswith("ValueError: bad <script>alert('message')</script>")
    else:
        assert response.mimetype == "text/html"


def test_error_after_the_response_started_cuts_it_short(client: ErlenClient) -> None:
    errors = io.StringIO()
    response = client.get("/stream-late", errors_stream=errors)
    # The status and first chunk were on their way; no page can follow.
    assert response.status_code == 200
    assert response.get_data() == b"first chunk;"
    log = errors.getvalue()
    assert "after the response started" in log
    assert "OSError: the stream broke" in log


def test_plain_wsgi_iterables_are_guarded_too() -> None:
    # An app returning an iterator without close() (not Erlen's list).
    def app(environ: dict[str, t.Any], start_response: t.Any) -> t.Iterator[bytes]:
        def body() -> t.Iterator[bytes]:
            raise OSError("lazy failure")
            yield b""

        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter(body())

    debugged = DebuggedApplication(app)
    statuses: list[str] = []
    environ = {"PATH_INFO": "/", "HTTP_HOST": "localhost", "wsgi.errors": io.StringIO()}
    body = b"".join(
        debugged(environ, lambda status, headers, exc_info=None: statuses.append(status))
    )
    assert statuses == ["200 OK", "500 INTERNAL SERVER ERROR"]
    assert b"OSError: lazy failure" in body

    def fine(environ: dict[str, t.Any], start_response: t.Any) -> t.Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"a", b"b"])

    assert b"".join(DebuggedApplication(fine)(environ, lambda *args: None)) == b"ab"


def test_script_name_prefixes_the_debugger_url(client: ErlenClient) -> None:
    response = client.get(
        "/boom", environ_overrides={"SCRIPT_NAME": "/my app"}, errors_stream=io.StringIO()
    )
    page = response.get_data(as_text=True)
    assert 'data-url="/my%20app/__debugger__"' in page


def test_debug_off_never_shows_a_traceback(app: Erlen, client: ErlenClient) -> None:
    # Without debug mode the app answers 500 itself; the middleware sees no exception.
    app.debug = False
    errors = io.StringIO()
    response = client.get("/boom", errors_stream=errors)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "ValueError" not in body and "boom" not in body
    assert "Internal Server Error" in body


def test_evalex_off_shows_pages_without_console(app: Erlen) -> None:
    debugged = DebuggedApplication(app.wsgi_app, evalex=False)
    app.wsgi_app = debugged  # type: ignore[method-assign]
    client = app.test_client()
    page = error_page(client)
    assert "data-frame=" not in page and 'data-console="off"' in page
    assert "The console is disabled." in page
    response = debugger_post(client, "pinauth", debugged.secret, {"pin": PIN})
    assert response.status_code == 404
    assert "disabled" in response.get_data(as_text=True)
    # The assets are still served (the page uses them).
    assert (
        client.get(DEBUGGER_PATH, query_string={"cmd": "resource", "f": "style.css"}).status_code
        == 200
    )


# -- resources and the reserved URL ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "mimetype", "marker"),
    [("debugger.js", "text/javascript", "fetch("), ("style.css", "text/css", "details.frame")],
)
def test_resources_are_served_by_the_debugger(
    client: ErlenClient, name: str, mimetype: str, marker: str
) -> None:
    # No secret or trusted host needed: the assets are public and hold nothing secret.
    response = client.get(
        DEBUGGER_PATH, query_string={"cmd": "resource", "f": name}, headers={"Host": "evil.com"}
    )
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.mimetype_params == {"charset": "utf-8"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert marker in response.get_data(as_text=True)
    assert int(response.headers["Content-Length"]) == len(response.get_data())


@pytest.mark.parametrize("name", ["", "../__init__.py", "auth.py", "shared/style.css"])
def test_unknown_resources_are_404(client: ErlenClient, name: str) -> None:
    response = client.get(DEBUGGER_PATH, query_string={"cmd": "resource", "f": name})
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_unknown_command_is_400(client: ErlenClient, debugger: DebuggedApplication) -> None:
    response = client.get(DEBUGGER_PATH)
    assert response.status_code == 400
    assert "Unknown debugger command ''" in response.get_data(as_text=True)
    assert debugger_post(client, "shell", debugger.secret).status_code == 400


def test_reserved_url_is_the_apps_without_the_debugger(app: Erlen) -> None:
    assert (
        app.test_client()
        .get(DEBUGGER_PATH, query_string={"cmd": "resource", "f": "style.css"})
        .status_code
        == 404
    )


def test_console_commands_need_post(client: ErlenClient, debugger: DebuggedApplication) -> None:
    response = client.get(
        DEBUGGER_PATH, query_string={"cmd": "pinauth", "s": debugger.secret, "pin": PIN}
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("secret", [None, "", "wrong"])
def test_console_commands_need_the_secret(
    client: ErlenClient, debugger: DebuggedApplication, secret: str | None
) -> None:
    query = {"cmd": "pinauth"} if secret is None else {"cmd": "pinauth", "s": secret}
    response = client.post(DEBUGGER_PATH, query_string=query, data={"pin": PIN})
    assert response.status_code == 403
    assert "secret" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert debugger.guard.failures == 0


def test_bad_console_bodies_are_4xx(
    client: ErlenClient, debugger: DebuggedApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    # wsgiref.validate would stop the malformed Content-Length before the debugger sees it.
    monkeypatch.setattr(ErlenClient, "validate", False)
    query = {"cmd": "pinauth", "s": debugger.secret}
    response = client.post(
        DEBUGGER_PATH, query_string=query, data=b"pin=1", content_type="text/plain"
    )
    assert response.status_code == 415
    response = client.post(
        DEBUGGER_PATH,
        query_string=query,
        data=b"pin=%ff",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    response = client.post(
        DEBUGGER_PATH, query_string=query, environ_overrides={"CONTENT_LENGTH": "-1"}
    )
    assert response.status_code == 400
    response = client.post(
        DEBUGGER_PATH,
        query_string=query,
        environ_overrides={"CONTENT_LENGTH": str(2 * 1024 * 1024)},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    response = client.get(DEBUGGER_PATH + "?cmd=%ff")
    assert response.status_code == 400
    # An empty body is an empty PIN: wrong, counted.
    response = client.post(DEBUGGER_PATH, query_string=query)
    assert response.status_code == 403 and json.loads(response.get_data())["auth"] is False


# -- the PIN ---------------------------------------------------------------------------


def test_pin_flow(client: ErlenClient, debugger: DebuggedApplication) -> None:
    page = error_page(client)
    frame = frame_id(page, "boom")

    # The console refuses to run code before the PIN.
    response = run_code(client, debugger, frame, "number + 1")
    assert response.status_code == 403
    assert response.get_json()["auth_required"] is True

    response = debugger_post(client, "pinauth", debugger.secret, {"pin": "999-999-999"})
    assert response.status_code == 403
    assert response.get_json() == {
        "auth": False,
        "exhausted": False,
        "error": "Wrong PIN (9 more tries).",
        "remaining": 9,
    }
    assert "Set-Cookie" not in response.headers

    response = login(client, debugger)
    assert response.get_json() == {"auth": True}
    cookie = response.headers["Set-Cookie"]
    name, _, rest = cookie.partition("=")
    assert name == debugger.guard.cookie_name
    attributes = [part.strip() for part in rest.split(";")][1:]
    assert "HttpOnly" in attributes
    assert "SameSite=Strict" in attributes
    assert "Path=/" in attributes
    assert f"Max-Age={PIN_TIME}" in attributes and PIN_TIME <= 8 * 3600
    assert not any(a.lower().startswith("domain") for a in attributes)

    response = run_code(client, debugger, frame, "number + 1")
    assert response.status_code == 200
    assert response.get_json() == {"output": "43\n", "more": False, "prompt": ">>> "}

    # The page knows the browser is logged in.
    assert 'data-pin="no"' in error_page(client)


def test_pin_without_dashes_and_spaces_is_accepted(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    response = debugger_post(client, "pinauth", debugger.secret, {"pin": " 111222333 "})
    assert response.status_code == 200


def test_console_without_cookie_is_refused(
    client: ErlenClient, debugger: DebuggedApplication, app: Erlen
) -> None:
    frame = frame_id(error_page(client), "boom")
    login(client, debugger)
    assert run_code(client, debugger, frame, "1").status_code == 200
    other = app.test_client()  # a browser without the cookie
    response = run_code(other, debugger, frame, "1")
    assert response.status_code == 403
    assert "PIN" in response.get_json()["error"]


@pytest.mark.parametrize(
    "make_value",
    [
        lambda guard: guard.make_cookie_value(now=time.time() - PIN_TIME - 5),  # expired
        lambda guard: guard.make_cookie_value(now=time.time() + 3600),  # from the future
        lambda guard: f"{int(time.time())}|{'0' * 64}",  # forged signature
        lambda guard: PinGuard(
            "000-000-000", guard.cookie_name
        ).make_cookie_value(),  # another PIN's
        lambda guard: "garbage",
        lambda guard: "99999999999999999|abc",
    ],
)
def test_bad_or_expired_cookies_are_refused(
    client: ErlenClient, debugger: DebuggedApplication, make_value: t.Callable[[PinGuard], str]
) -> None:
    frame = frame_id(error_page(client), "boom")
    client.set_cookie(debugger.guard.cookie_name, make_value(debugger.guard))
    response = run_code(client, debugger, frame, "1")
    assert response.status_code == 403
    assert response.get_json()["auth_required"] is True


def test_fresh_cookie_made_by_the_guard_is_accepted(
    client: ErlenClient, debugger: DebuggedApplication
) -> None:
    frame = frame_id(error_page(client), "boom")
    client.set_cookie(
        debugger.guard.cookie_name,
        debugger.guard.make_cookie_value(now=time.time() - PIN_TIME + 60),
    )
    assert run_code(client, debugger, frame, "1").status_code == 200


def test_lockout_after_ten_wrong_pins(client: ErlenClient, debugger: DebuggedApplication) -> None:
    errors = io.StringIO()
    for attempt in range(1, MAX_FAILED_ATTEMPTS + 1):
        response = client.post(
            DEBUGGER_PATH,
            query_string={"cmd": "pinauth", "s": debugger.secret},
            data={"pin": "000"},
            errors_stream=errors,
        )
        assert response.status_code == 403
        data = response.get_json()
        assert data["exhausted"] is (attempt == MAX_FAILED_ATTEMPTS)
    assert "locked" in data["error"]
    assert errors.getvalue().count("restart the server") == 1
    # Now even the right PIN is refused, and no cookie is set.
    response = client.post(
        DEBUGGER_PATH,
        query_string={"cmd": "pinauth", "s": debugger.secret},
        data={"pin": PIN},
        errors_stream=errors,
    )
    assert response.status_code == 403
    assert response.get_json()["exhausted"] is True
    assert "Set-Cookie" not in response.headers
    assert errors.getvalue().count("restart the server") == 1  # said once, not on every attempt
    frame = frame_id(error_page(client), "boom")
    assert run_code(client, debugger, frame, "1").status_code == 403


def test_wrong_pins_slow_down_after_the_first_few(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(erlen.debug.auth.time, "sleep", sleeps.append)
    guard = PinGuard("123", "cookie", failure_delay=0.25)
    for _ in range(PinGuard.free_failures):
        assert guard.check("0") == "wrong"
    assert sleeps == []
    assert guard.check("0") == "wrong"
    assert sleeps == [0.25]
    assert guard.check("123") == "ok"
    assert sleeps == [0.25]  # a right PIN never waits


def test_pin_off_needs_no_login(monkeypatch: pytest.MonkeyPatch, app: Erlen) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", "off")
    debugged = DebuggedApplication(app.wsgi_app)
    app.wsgi_app = debugged  # type: ignore[method-assign]
    client = app.test_client()
    assert debugged.pin is None
    page = error_page(client)
    assert 'data-pin="no"' in page
    assert (
        run_code(client, debugged, frame_id(page, "boom"), "number").get_json()["output"] == "42\n"
    )
    response = debugger_post(client, "pinauth", debugged.secret, {"pin": "anything"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_pin_security_false_turns_the_pin_off(app: Erlen) -> None:
    assert DebuggedApplication(app.wsgi_app, pin_security=False).pin is None


def test_announce_prints_the_pin(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    DebuggedApplication(app).announce(out)
    assert out.getvalue() == f" * Debugger is active!\n * Debugger PIN: {PIN}\n"
    monkeypatch.setenv("ERLEN_DEBUG_PIN", "off")
    out = io.StringIO()
    DebuggedApplication(app).announce(out)
    assert (
        out.getvalue() == " * Debugger is active!\n * Debugger PIN disabled. DEBUGGER UNSECURED!\n"
    )


def test_announce_defaults_to_stdout(app: Erlen, capsys: pytest.CaptureFixture[str]) -> None:
    DebuggedApplication(app).announce()
    assert f" * Debugger PIN: {PIN}" in capsys.readouterr().out


def test_derived_pin_is_stable_and_per_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ERLEN_DEBUG_PIN")
    app = Erlen("debug_test_app")
    pin, cookie = get_pin_and_cookie_name(app)
    assert pin is not None and re.fullmatch(r"\d{3}-\d{3}-\d{3}", pin)
    # The same app gets the same PIN (so a reloader restart keeps it), also
    # through its bound wsgi_app; another app gets another PIN and cookie.
    assert get_pin_and_cookie_name(Erlen("debug_test_app")) == (pin, cookie)
    assert get_pin_and_cookie_name(app.wsgi_app) == (pin, cookie)
    other_pin, other_cookie = get_pin_and_cookie_name(Erlen("another_app"))
    assert other_pin != pin and other_cookie != cookie
    assert cookie.startswith("__erlen_debugger_")
    # The PIN is not part of the cookie name, nor the other way round.
    assert pin.replace("-", "") not in cookie


def test_machine_id_takes_the_first_nonempty_file(tmp_path: Path) -> None:
    from erlen.debug.auth import _machine_id

    (tmp_path / "empty").write_text("\n")
    (tmp_path / "id").write_text("abc123\n")
    paths = [str(tmp_path / "missing"), str(tmp_path / "empty"), str(tmp_path / "id")]
    assert _machine_id(paths) == "abc123"
    assert _machine_id(paths[:2]) == ""


def test_fixed_pin_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", " 4711 ")
    assert get_pin_and_cookie_name(Erlen("x"))[0] == "4711"
    monkeypatch.setenv("ERLEN_DEBUG_PIN", "OFF")
    assert get_pin_and_cookie_name(Erlen("x"))[0] is None


# -- the host check ---------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:5000",
        "127.0.0.1",
        "127.0.0.1:8080",
        "[::1]",
        "[::1]:5000",
        "foo.localhost",
        "a.b.localhost:1",
        "LOCALHOST",
        "localhost.",
    ],
)
def test_local_hosts_are_trusted(host: str) -> None:
    assert host_is_trusted(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        ".",
        "evil.com",
        "localhost.evil.com",
        "127.0.0.1.nip.io",
        "evillocalhost",
        "localhost:abc",
        "[::1",
        "[::1]x",
        "[::2]",
        ":5000",
        "10.0.0.1",
        "evil.com:80@localhost",
    ],
)
def test_other_hosts_are_not(host: str | None) -> None:
    assert not host_is_trusted(host)


def test_configured_hosts() -> None:
    assert host_is_trusted("dev.example.test:5000", ["dev.example.test"])
    assert not host_is_trusted("other.example.test", ["dev.example.test"])
    assert host_is_trusted("a.example.test", [".example.test"])
    assert host_is_trusted("example.test", [".example.test"])
    assert not host_is_trusted("badexample.test", [".example.test"])
    assert host_is_trusted("DEV.example.test", ["", " Dev.Example.Test. "])


# issue 15, finding 11: the host check parsed the Host header by splitting at
# ":" and compared suffixes, so "evil.example#.localhost" counted as a name
# under .localhost. A Host header must be a host name (letters, digits, "-",
# "_", dots) or an IP literal, with an optional port of ASCII digits.
@pytest.mark.parametrize(
    "host",
    [
        "evil.example#.localhost",
        "evil.example/.localhost",
        "evil.example?.localhost",
        "evil.example\\.localhost",
        "user@evil.localhost",
        "evil example.localhost",
        "evil.example%23.localhost",
        "a..localhost",
        ".localhost",
        "localhost:\uff15\uff10",
        "localhost:123456",
        "[::1]:",
        "[::1]:x",
        "[localhost]",
        "[::1%eth0]",
        "évil.localhost",
        "x" * 64 + ".localhost",
    ],
)
def test_malformed_hosts_are_refused(host: str) -> None:
    assert not host_is_trusted(host)
    assert not host_is_trusted(host, [".localhost", ".example.test", "localhost"])


def test_malformed_hosts_are_refused_for_configured_names() -> None:
    assert not host_is_trusted("evil.example#.example.test", [".example.test"])
    assert not host_is_trusted("evil/.example.test", [".example.test"])
    assert host_is_trusted("dev_box.example.test:5000", [".example.test"])


@pytest.mark.parametrize("host", ["evil.com", "evil.com:5000", "localhost.evil.com"])
def test_untrusted_host_is_refused_over_http(
    client: ErlenClient, debugger: DebuggedApplication, host: str
) -> None:
    errors = io.StringIO()
    response = client.get("/boom", headers={"Host": host}, errors_stream=errors)
    # issue 15, finding 2: no traceback page for a foreign host (DNS
    # rebinding would let a web page read it); a bare 500 saying why, and
    # the traceback in the log.
    assert response.status_code == 500 and response.mimetype == "text/plain"
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "ValueError" not in page and "boom" not in page
    assert "DEBUGGER_TRUSTED_HOSTS" in page
    assert "ValueError: bad <script>" in errors.getvalue()
    assert not debugger._tracebacks  # nothing kept for a console it can't use
    for cmd in ("pinauth", "exec"):
        response = client.post(
            DEBUGGER_PATH,
            query_string={"cmd": cmd, "s": debugger.secret},
            data={"pin": PIN},
            headers={"Host": host},
        )
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert f"doesn't answer to host {host!r}" in text
        assert "DEBUGGER_TRUSTED_HOSTS" in text
    assert debugger.guard.failures == 0


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5000", "foo.localhost", "[::1]:5000"])
def test_trusted_hosts_are_accepted_over_http(
    client: ErlenClient, debugger: DebuggedApplication, host: str
) -> None:
    response = client.post(
        DEBUGGER_PATH,
        query_string={"cmd": "pinauth", "s": debugger.secret},
        data={"pin": PIN},
        headers={"Host": host},
    )
    assert response.status_code == 200
    assert response.get_json() == {"auth": True}


def test_missing_host_is_refused(client: ErlenClient, debugger: DebuggedApplication) -> None:
    response = client.post(
        DEBUGGER_PATH,
        query_string={"cmd": "pinauth", "s": debugger.secret},
        data={"pin": PIN},
        environ_overrides={"HTTP_HOST": ""},
    )
    assert response.status_code == 400


def _pinauth_status(app: Erlen, debugged: DebuggedApplication, host: str) -> int:
    app.wsgi_app = debugged  # type: ignore[method-assign]
    response = app.test_client().post(
        DEBUGGER_PATH,
        query_string={"cmd": "pinauth", "s": debugged.secret},
        data={"pin": PIN},
        headers={"Host": host},
    )
    return t.cast(int, response.status_code)


def test_trusted_hosts_argument(app: Erlen) -> None:
    inner = app.wsgi_app
    assert (
        _pinauth_status(
            app, DebuggedApplication(inner, trusted_hosts=["dev.test"]), "dev.test:5000"
        )
        == 200
    )
    assert (
        _pinauth_status(app, DebuggedApplication(inner, trusted_hosts=["dev.test"]), "evil.com")
        == 400
    )


def test_trusted_hosts_from_config_and_environment(
    app: Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = app.wsgi_app
    app.config["DEBUGGER_TRUSTED_HOSTS"] = ["config.test"]
    monkeypatch.setenv("ERLEN_DEBUGGER_TRUSTED_HOSTS", "env.test, .wild.test")
    debugged = DebuggedApplication(inner)
    assert debugged.trusted_hosts == ["env.test", ".wild.test", "config.test"]
    assert _pinauth_status(app, debugged, "config.test") == 200
    assert _pinauth_status(app, debugged, "env.test") == 200
    assert _pinauth_status(app, debugged, "x.wild.test") == 200
    assert _pinauth_status(app, debugged, "other.test") == 400
    # A comma-separated string in the config works too; an explicit list wins.
    app.config["DEBUGGER_TRUSTED_HOSTS"] = "a.test,b.test"
    monkeypatch.delenv("ERLEN_DEBUGGER_TRUSTED_HOSTS")
    assert DebuggedApplication(inner).trusted_hosts == ["a.test", "b.test"]
    assert DebuggedApplication(inner, trusted_hosts=()).trusted_hosts == []
    # A plain WSGI callable has no config.
    assert DebuggedApplication(lambda environ, start_response: []).trusted_hosts == []


# -- the console -------------------------------------------------------------------


@pytest.fixture
def console(client: ErlenClient, debugger: DebuggedApplication) -> t.Callable[[str], t.Any]:
    """Run a line in the erroring view's frame; the JSON answer."""
    frame = frame_id(error_page(client), "boom")
    login(client, debugger)

    def run(code: str) -> t.Any:
        response = run_code(client, debugger, frame, code)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return run


def test_console_runs_in_the_frame(console: t.Callable[[str], t.Any]) -> None:
    assert console("number * 2")["output"] == "84\n"
    assert console("_ + 1")["output"] == "85\n"  # the last value is _
    assert console("doubled = number * 2")["output"] == ""
    assert console("doubled")["output"] == "84\n"  # names persist per frame
    assert (
        console("[number + i for i in range(2)]")["output"] == "[42, 43]\n"
    )  # comprehensions see locals
    assert console("print('hello'); print(len(payload))")["output"] == "hello\n31\n"
    assert console("PIN")["output"] == f"&#x27;{PIN}&#x27;\n"  # module globals
    assert console("None")["output"] == ""


def test_console_output_is_escaped(console: t.Callable[[str], t.Any]) -> None:
    assert (
        console("payload")["output"]
        == "&quot;&lt;script&gt;alert(&#x27;local&#x27;)&lt;/script&gt;&quot;\n"
    )
    assert console("print('<b>&</b>')")["output"] == "&lt;b&gt;&amp;&lt;/b&gt;\n"


def test_console_multiline_statements(console: t.Callable[[str], t.Any]) -> None:
    assert console("def twice(x):") == {"output": "", "more": True, "prompt": "... "}
    assert console("    return 2 * x")["more"] is True
    assert console("") == {"output": "", "more": False, "prompt": ">>> "}
    assert console("twice(number)")["output"] == "84\n"


def test_console_pasted_block(console: t.Callable[[str], t.Any]) -> None:
    assert console("a = 1\nb = 2\nprint(a + b)")["output"] == "3\n"
    assert console("c = 3\nc * 2")["output"] == "6\n"


def test_console_shows_a_final_expression_after_statements(
    console: t.Callable[[str], t.Any],
) -> None:
    # Regression: after a statement on the same line the value was dropped;
    # the REPL shows it.
    assert console("import os; os.getpid()")["output"] == f"{os.getpid()}\n"
    assert console("_")["output"] == f"{os.getpid()}\n"  # and keeps it as _
    assert console("x = number; x + 1")["output"] == "43\n"
    assert console("print('a'); None")["output"] == "a\n"  # None is not shown
    assert console("y = 1; y += 1")["output"] == ""  # no expression last: nothing
    output = console("z = 1; 1 / 0")["output"]
    assert output.endswith("ZeroDivisionError: division by zero\n")
    assert "console.py" not in output


def test_console_errors(console: t.Callable[[str], t.Any]) -> None:
    output = console("1 / 0")["output"]
    assert output.startswith("Traceback (most recent call last):\n")
    assert "File &quot;&lt;debugger&gt;&quot;, line 1" in output
    assert output.endswith("ZeroDivisionError: division by zero\n")
    assert "console.py" not in output
    output = console("def (")["output"]
    assert "SyntaxError" in output
    assert console("1")["output"] == "1\n"  # the bad line was dropped
    assert "SystemExit" in console("raise SystemExit(3)")["output"]
    assert "EOFError" in console("input()")["output"]  # never blocks on the terminal


def test_console_output_is_bounded(console: t.Callable[[str], t.Any]) -> None:
    output = console(f"print('y' * {MAX_OUTPUT * 2})")["output"]
    assert len(output) < MAX_OUTPUT + 100
    assert output.endswith("characters)\n")
    output = html.unescape(console(f"'z' * {MAX_OUTPUT * 2}")["output"])
    assert len(output) < MAX_OUTPUT + 100
    assert output.endswith("characters)\n")


def test_console_unknown_frame(client: ErlenClient, debugger: DebuggedApplication) -> None:
    login(client, debugger)
    response = run_code(client, debugger, "0123456789abcdef", "1")
    assert response.status_code == 404
    assert "reload the page" in response.get_json()["error"]


def test_each_frame_has_its_own_console(client: ErlenClient, debugger: DebuggedApplication) -> None:
    page = error_page(client)
    login(client, debugger)
    boom = frame_id(page, "boom")
    dispatch = frame_id(page, "full_dispatch_request")
    assert run_code(client, debugger, boom, "mark = 1").status_code == 200
    assert "NameError" in run_code(client, debugger, dispatch, "mark").get_json()["output"]
    assert "NameError" in run_code(client, debugger, dispatch, "number").get_json()["output"]


def test_old_tracebacks_are_forgotten(app: Erlen) -> None:
    debugged = DebuggedApplication(app.wsgi_app, max_tracebacks=2, pin_failure_delay=0)
    app.wsgi_app = debugged  # type: ignore[method-assign]
    client = app.test_client()
    frames = [frame_id(error_page(client), "boom") for _ in range(3)]
    login(client, debugged)
    assert run_code(client, debugged, frames[0], "1").status_code == 404
    assert run_code(client, debugged, frames[1], "1").status_code == 200
    assert run_code(client, debugged, frames[2], "1").status_code == 200
    assert len(debugged._tracebacks) == 2


def test_console_capture_leaves_other_threads_alone() -> None:
    import sys
    import threading

    from erlen.debug import console as console_module

    other: list[t.Any] = []
    seen = threading.Event()
    release = threading.Event()

    def write_from_other_thread() -> None:
        seen.wait(5)
        other.append(sys.stdout.write("outside\n"))
        release.set()

    console = Console({"seen": seen, "release": release})
    thread = threading.Thread(target=write_from_other_thread)
    thread.start()
    real = sys.stdout
    out, more = console.push("seen.set(); release.wait(5); print('inside')")
    thread.join(5)
    assert out == "inside\n" and not more
    assert sys.stdout is real
    assert other  # the other thread's write went to the real stream, not the console
    assert console_module._redirect_lock.acquire(blocking=False)
    console_module._redirect_lock.release()


def test_thread_stream_forwards_attributes() -> None:
    import threading

    from erlen.debug.console import _ThreadStream

    original = io.StringIO("line\n")
    buffer = io.StringIO()
    stream = _ThreadStream(original, buffer)
    stream.write("mine")
    stream.flush()
    assert buffer.getvalue() == "mine" and original.getvalue() == "line\n"
    assert stream.readline() == ""  # input in the console thread reads nothing
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()))
    reader.start()
    reader.join(5)
    assert lines == ["line\n"]  # other threads read the real stream
    assert stream.getvalue() == "line\n"  # anything else is the original's


# -- units ---------------------------------------------------------------------------


def test_safe_repr() -> None:
    assert safe_repr("x" * 1000, limit=10) == "'xxxxxx..."
    assert safe_repr(BadRepr()) == "<repr of BadRepr object failed: RuntimeError>"
    assert safe_repr(list(range(100)), short=True).endswith("...]")


def test_traceback_without_source_and_from_strings() -> None:
    namespace: dict[str, t.Any] = {}
    exec(compile("def f():\n    raise ValueError('x')\n", "<generated>", "exec"), namespace)
    try:
        namespace["f"]()
    except ValueError as e:
        tb = Traceback(e)
    frame = tb.frames[-1]
    assert frame.function == "f" and frame.filename == "<generated>"
    assert frame.is_library  # not a file of the app
    assert frame.source_lines() == []
    assert tb.type_name == "ValueError"
    assert tb.message == "ValueError: x"
    from erlen.debug.tbtools import render_html

    page = render_html(
        tb,
        debugger_url="/d",
        secret="s",
        evalex=True,
        pin_required=False,
        authenticated=False,
        host_trusted=True,
    )
    assert "(source not available)" in page
    assert 'data-pin="no"' in page


def test_traceback_of_a_self_referencing_chain() -> None:
    # A cycle in __context__ must not loop forever.
    a = ValueError("a")
    b = KeyError("b")
    a.__context__ = b
    b.__context__ = a
    try:
        raise a
    except ValueError as e:
        tb = Traceback(e)
    assert [part.type_name for part in tb.parts] == ["KeyError", "ValueError"]
