"""erlen.compat's plain-WSGI pieces: Werkzeug's middleware, debugger, locals and helpers.

These are WSGI-only by nature (they wrap ``app.wsgi_app``), so they are
called with made-up environs here; the compat layer is not installed (the
modules are Erlen's and importable as they are).
"""

from __future__ import annotations

import io
import os
import sys
import threading
import typing as t
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import Erlen, url_for
from erlen._utils import call_wsgi_app
from erlen.compat import _glue, local, utils
from erlen.compat import wsgi as cwsgi
from erlen.compat.cli import SeparatedPathType, get_version, show_server_banner, version_option
from erlen.compat.debug import DebuggedApplication, get_machine_id
from erlen.compat.dispatcher import DispatcherMiddleware
from erlen.compat.lint import HTTPWarning, LintMiddleware, WSGIWarning
from erlen.compat.profiler import ProfilerMiddleware
from erlen.compat.shared_data import SharedDataMiddleware
from erlen.exceptions import ClientDisconnected, SecurityError

Environ = dict[str, t.Any]


def environ(path: str = "/", **kwargs: t.Any) -> Environ:
    return _glue.create_environ(path, **kwargs)


def call(
    app: t.Callable[..., t.Any], path: str = "/", **kwargs: t.Any
) -> tuple[str, dict[str, str], bytes]:
    status, headers, body = call_wsgi_app(app, environ(path, **kwargs))
    return status, dict(headers), body


def where(env: Environ, start_response: t.Callable[..., t.Any]) -> list[bytes]:
    """A WSGI app that answers with the SCRIPT_NAME and PATH_INFO it got."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{env['SCRIPT_NAME']}|{env['PATH_INFO']}".encode()]


def named(name: str) -> t.Callable[..., list[bytes]]:
    def app(env: Environ, start_response: t.Callable[..., t.Any]) -> list[bytes]:
        return [name.encode(), b":", *where(env, start_response)]

    return app


# -- DispatcherMiddleware ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/", b"root:|/"),
        ("/api", b"api:/api|"),
        ("/api/", b"api:/api|/"),
        ("/api/items/3", b"api:/api|/items/3"),
        ("/apix", b"root:|/apix"),  # prefixes match whole segments
        ("/api/v2/x", b"v2:/api/v2|/x"),  # the longest mount point wins
        ("/other/api", b"root:|/other/api"),
    ],
)
def test_dispatcher_routes_by_prefix(path: str, answer: bytes) -> None:
    app = DispatcherMiddleware(named("root"), {"/api": named("api"), "/api/v2": named("v2")})
    assert call(app, path)[2] == answer


def test_dispatcher_mounted_erlen_app_builds_its_urls_under_the_prefix() -> None:
    api = Erlen("api")

    @api.route("/items/<int:n>")
    def item(n: int) -> str:
        return url_for("item", n=n + 1)

    app = DispatcherMiddleware(named("root"), {"/api": api})
    status, _, body = call(app, "/api/items/3", environ_overrides={"SCRIPT_NAME": "/site"})
    assert (status, body) == ("200 OK", b"/site/api/items/4")


# -- SharedDataMiddleware ----------------------------------------------------


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("body {}")
    (tmp_path / "static" / "secret.ini").write_text("x=1")
    (tmp_path / "outside.txt").write_text("do not serve")
    (tmp_path / "robots.txt").write_text("User-agent: *")
    return tmp_path


def shared(static_dir: Path, **kwargs: t.Any) -> SharedDataMiddleware:
    return SharedDataMiddleware(
        named("app"),
        {
            "/static": str(static_dir / "static"),
            "/robots.txt": str(static_dir / "robots.txt"),
            "/debugger": ("erlen.debug", "shared"),
        },
        **kwargs,
    )


def test_shared_data_serves_files_from_a_directory(static_dir: Path) -> None:
    status, headers, body = call(shared(static_dir), "/static/app.css")
    assert (status, body) == ("200 OK", b"body {}")
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    assert headers["Content-Length"] == "7"
    assert "max-age=43200" in headers["Cache-Control"] and headers["ETag"].startswith('"')
    assert "Last-Modified" in headers and "Expires" in headers


def test_shared_data_serves_a_single_file_and_package_data(static_dir: Path) -> None:
    assert call(shared(static_dir), "/robots.txt")[2] == b"User-agent: *"
    assert call(shared(static_dir), "/robots.txt/x")[2] == b"app:|/robots.txt/x"
    name = sorted(os.listdir(Path(sys.modules["erlen"].__file__).parent / "debug" / "shared"))[0]
    status, _, body = call(shared(static_dir), f"/debugger/{name}")
    assert status == "200 OK" and body


@pytest.mark.parametrize(
    "path",
    [
        "/static/../outside.txt",
        "/static/%2e%2e/outside.txt",
        "/static/missing.css",
        "/static/",
        "/static",
    ],
)
def test_shared_data_passes_what_it_does_not_serve_to_the_app(static_dir: Path, path: str) -> None:
    status, _, body = call(shared(static_dir), path)
    assert status == "200 OK" and body.startswith(b"app:")


def test_shared_data_answers_304_for_a_current_copy(static_dir: Path) -> None:
    middleware = shared(static_dir)
    etag = call(middleware, "/static/app.css")[1]["ETag"]
    status, headers, body = call(middleware, "/static/app.css", headers={"If-None-Match": etag})
    assert (status, body) == ("304 Not Modified", b"") and headers["ETag"] == etag


def test_shared_data_methods_disallow_and_cache_off(static_dir: Path) -> None:
    middleware = shared(static_dir, disallow="*.ini", cache=False)
    assert call(middleware, "/static/secret.ini")[2].startswith(b"app:")
    assert call(middleware, "/static/app.css", method="POST")[2].startswith(b"app:")
    status, headers, body = call(middleware, "/static/app.css", method="HEAD")
    assert (status, body, headers["Content-Length"]) == ("200 OK", b"", "7")
    assert "ETag" not in headers and headers["Cache-Control"] == "public"


def test_shared_data_uses_the_servers_file_wrapper(static_dir: Path) -> None:
    wrapped: list[t.Any] = []

    def file_wrapper(file: t.IO[bytes], size: int) -> t.Any:
        wrapped.append(file)
        return cwsgi.FileWrapper(file, size)

    env = environ("/static/app.css")
    env["wsgi.file_wrapper"] = file_wrapper
    assert call_wsgi_app(shared(static_dir), env)[2] == b"body {}"
    assert len(wrapped) == 1 and wrapped[0].closed


# -- LintMiddleware ----------------------------------------------------------


def _linted(app: t.Callable[..., t.Any], **kwargs: t.Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Not call(): a broken body (str items) would break joining it.
        body = LintMiddleware(app)(environ(**kwargs), lambda status, headers, *exc: None)
        list(body)
        t.cast(t.Any, body).close()
    return [w for w in caught if issubclass(w.category, (WSGIWarning, HTTPWarning))]


def test_lint_is_quiet_for_a_correct_app() -> None:
    app = Erlen("linted")

    @app.route("/")
    def index() -> str:
        return "fine"

    assert _linted(app) == []


def test_lint_warns_about_a_str_body_item_and_a_wrong_length() -> None:
    def bad(env: Environ, start_response: t.Callable[..., t.Any]) -> list[t.Any]:
        start_response("200 OK", [("Content-Length", "10")])
        return ["text"]

    messages = [str(w.message) for w in _linted(bad)]
    assert any("must be 'bytes', got 'str'" in m for m in messages)
    assert any("Content-Length says 10" in m for m in messages)


def test_lint_warns_about_bad_status_headers_and_a_304_body() -> None:
    def bad(env: Environ, start_response: t.Callable[..., t.Any]) -> list[bytes]:
        start_response("304", [("Content-Type", "text/plain"), ("ETag", "unquoted")])
        return [b"x"]

    caught = _linted(bad)
    messages = [str(w.message) for w in caught]
    assert any("no reason phrase" in m for m in messages)
    assert any("ETag is not quoted" in m for m in messages)
    assert any("304 response must not have a body" in m for m in messages)
    assert any(w.category is HTTPWarning for w in caught)


def test_lint_warns_about_an_unbounded_read_of_the_input() -> None:
    def reads_all(env: Environ, start_response: t.Callable[..., t.Any]) -> list[bytes]:
        env["wsgi.input"].read()
        start_response("200 OK", [])
        return []

    assert any("without a size" in str(w.message) for w in _linted(reads_all, method="POST"))


# -- ProfilerMiddleware ------------------------------------------------------


def test_profiler_prints_and_writes_per_request(tmp_path: Path) -> None:
    out = io.StringIO()
    app = ProfilerMiddleware(named("app"), stream=out, profile_dir=str(tmp_path))
    assert call(app, "/a/b")[2] == b"app:|/a/b"
    assert "PATH: '/a/b'" in out.getvalue() and "function calls" in out.getvalue()
    (written,) = os.listdir(tmp_path)
    assert written.startswith("GET.a.b.") and written.endswith(".prof")


# -- DebuggedApplication -----------------------------------------------------


def _failing_app() -> Erlen:
    app = Erlen("failing")
    app.debug = True

    @app.route("/")
    def boom() -> str:
        raise ValueError("kaboom")

    return app


def test_debugged_application_is_erlens_debugger_with_werkzeugs_signature(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from erlen.debug import DebuggedApplication as ErlenDebugger

    app = _failing_app()
    debugged = DebuggedApplication(app.wsgi_app)
    assert isinstance(debugged, ErlenDebugger)
    assert debugged.evalex is False  # Werkzeug's default, unlike erlen run --debug
    assert capsys.readouterr().err == ""  # nothing to announce without a console
    status, _, body = call(debugged, "/")
    assert status.startswith("500") and b"kaboom" in body

    DebuggedApplication(app.wsgi_app, evalex=True, console_path="/console")
    assert "Debugger is active" in capsys.readouterr().err


def test_get_machine_id_is_a_string_or_none() -> None:
    value = get_machine_id()
    assert value is None or (isinstance(value, str) and value)


# -- werkzeug.local ----------------------------------------------------------


def test_local_values_are_per_thread_and_proxied() -> None:
    loc = local.Local()
    loc.user = "main"
    proxy = loc("user")
    seen: list[t.Any] = []

    def other() -> None:
        seen.append(getattr(loc, "user", None))
        loc.user = "thread"
        seen.append(proxy.upper())

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert seen == [None, "THREAD"] and loc.user == "main" and proxy.upper() == "MAIN"
    assert dict(iter(loc)) == {"user": "main"}
    local.release_local(loc)
    with pytest.raises(AttributeError):
        loc.user  # noqa: B018
    with pytest.raises(RuntimeError, match="no user"):
        loc("user", unbound_message="no user").upper()


def test_local_stack_and_manager() -> None:
    stack = local.LocalStack()
    assert stack.top is None and stack.pop() is None
    stack.push({"a": 1})
    stack.push("top")
    proxy = stack()
    assert stack.top == "top" and proxy.upper() == "TOP"
    assert stack.pop() == "top" and stack.top == {"a": 1}

    manager = local.LocalManager(stack)

    def app(env: Environ, start_response: t.Callable[..., t.Any]) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    assert call(manager.make_middleware(app))[2] == b"ok"
    assert stack.top is None  # released when the response was closed


# -- werkzeug.wsgi helpers ---------------------------------------------------


def test_get_host_and_current_url() -> None:
    env = environ("/x/ä", base_url="http://example.com:80/app", query_string="q=1")
    assert cwsgi.get_host(env) == "example.com"
    assert cwsgi.get_current_url(env) == "http://example.com/app/x/ä?q=1"
    assert cwsgi.get_current_url(env, root_only=True) == "http://example.com/app/"
    assert cwsgi.get_current_url(env, host_only=True) == "http://example.com/"
    assert cwsgi.get_host(env, trusted_hosts=["example.com"]) == "example.com"
    with pytest.raises(SecurityError):
        cwsgi.get_host(env, trusted_hosts=["other.test"])
    assert cwsgi.sansio_get_host("https", None, ("::1", 8443)) == "[::1]:8443"
    assert cwsgi.sansio_get_host("https", "h:443") == "h"


def test_input_stream_is_bounded_by_the_content_length() -> None:
    env = environ("/", method="POST", data=b"abcdef")
    env["CONTENT_LENGTH"] = "3"
    assert cwsgi.get_input_stream(env).read() == b"abc"
    env = environ("/", method="POST", data=b"abc")
    env["CONTENT_LENGTH"] = "10"
    with pytest.raises(ClientDisconnected):
        cwsgi.get_input_stream(env).read()
    env.pop("CONTENT_LENGTH")
    env["HTTP_TRANSFER_ENCODING"] = "chunked"
    assert cwsgi.get_content_length(env) is None
    assert cwsgi.get_input_stream(env).read() == b""  # unknown length: safe fallback


def test_closing_iterator_takes_one_callback_or_none() -> None:
    import erlen.wsgi

    closed: list[str] = []
    one = cwsgi.ClosingIterator(iter([b"a"]), lambda: closed.append("one"))
    assert isinstance(one, erlen.wsgi.ClosingIterator)
    assert next(one) == b"a"
    one.close()
    cwsgi.ClosingIterator([b"b"]).close()
    cwsgi.ClosingIterator([b"c"], [lambda: closed.append("x"), lambda: closed.append("y")]).close()
    assert closed == ["one", "x", "y"]


def test_responder_and_wrap_file() -> None:
    @cwsgi.responder
    def app(env: Environ, start_response: t.Callable[..., t.Any]) -> t.Any:
        return named("made")

    assert call(app, "/p")[2] == b"made:|/p"
    assert list(cwsgi.wrap_file({}, io.BytesIO(b"abcde"), 2)) == [b"ab", b"cd", b"e"]
    assert cwsgi.get_path_info({"PATH_INFO": "/\xc3\xa4"}) == "/ä"


# -- werkzeug.utils, .test, .formparser --------------------------------------


def test_import_string_raises_import_string_error() -> None:
    assert utils.import_string("os.path:join") is os.path.join
    with pytest.raises(utils.ImportStringError) as exc_info:
        utils.import_string("os.no_such_name")
    assert isinstance(exc_info.value, ImportError)
    assert exc_info.value.import_name == "os.no_such_name"
    assert utils.import_string("no.such.module", silent=True) is None


def test_small_utils() -> None:
    assert utils.get_content_type("text/html", "utf-8") == "text/html; charset=utf-8"
    assert utils.get_content_type("image/svg+xml", "utf-8") == "image/svg+xml; charset=utf-8"
    assert utils.get_content_type("image/png", "utf-8") == "image/png"
    rv = utils.append_slash_redirect({"PATH_INFO": "/docs/page", "QUERY_STRING": "a=1"})
    assert (rv.status_code, rv.headers["Location"]) == (308, "page/?a=1")
    assert "erlen.compat.utils" in set(utils.find_modules("erlen.compat"))

    class Thing:
        def __init__(self) -> None:
            self.environ = {"REMOTE_USER": "ann", "X": "nope"}
            self.headers: dict[str, str] = {}

        user = utils.environ_property("REMOTE_USER")
        number = utils.environ_property("X", 0, load_func=int)
        tag = utils.header_property("X-Tag")

    thing = Thing()
    assert (thing.user, thing.number) == ("ann", 0)
    with pytest.raises(AttributeError):
        thing.user = "bob"  # type: ignore[misc]
    thing.tag = "t"  # type: ignore[misc]
    assert thing.headers == {"X-Tag": "t"}


def test_multipart_encoding_parses_back_and_run_wsgi_app() -> None:
    from erlen.datastructures.file_storage import FileStorage

    upload = FileStorage(io.BytesIO(b"xyz"), "x.txt", "f", "text/plain")
    boundary, body = _glue.encode_multipart({"a": "1", "f": upload}, boundary="BOUNDARY")
    assert boundary == "BOUNDARY" and body.startswith(b"--BOUNDARY\r\n")
    env = environ(
        "/",
        method="POST",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    _, form, files = _glue.parse_form_data(env)
    assert form["a"] == "1" and files["f"].read() == b"xyz"

    app_iter, status, headers = _glue.run_wsgi_app(named("app"), environ("/z"))
    assert (b"".join(app_iter), status, headers["Content-Type"]) == (
        b"app:|/z",
        "200 OK",
        "text/plain",
    )


# -- flask.cli ---------------------------------------------------------------


def test_get_version_and_version_option() -> None:
    @click.command(params=[version_option])
    def cli() -> None:
        click.echo("ran")

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "ran" not in result.output
    assert "Flask 3.1.3" in result.output and "Erlen " in result.output
    assert get_version is version_option.callback
    assert CliRunner().invoke(cli, []).output == "ran\n"


def test_show_server_banner_and_separated_paths(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ERLEN_RUN_MAIN", raising=False)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    show_server_banner(True, "app:create")
    assert capsys.readouterr().out == " * Serving Erlen app 'app:create'\n * Debug mode: on\n"

    @click.command()
    @click.option("--files", type=SeparatedPathType())
    def cli(files: list[str]) -> None:
        click.echo(repr(files))

    value = os.pathsep.join([str(tmp_path), "b"])
    assert CliRunner().invoke(cli, ["--files", value]).output == f"{[str(tmp_path), 'b']!r}\n"
