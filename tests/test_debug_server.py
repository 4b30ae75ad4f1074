"""The debugger over real sockets: a threaded dev server, ``erlen run`` and ``app.run``.

Servers bind 127.0.0.1 on a free port and are stopped by the test; every
wait is bounded, and started processes are killed with their group.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import typing as t
from pathlib import Path
from urllib.parse import urlencode

import pytest

import erlen.serving
from erlen import Erlen
from erlen.debug import DEBUGGER_PATH, DebuggedApplication
from erlen.serving import make_server, run_simple

PIN = "314-159-265"
posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def make_app() -> Erlen:
    app = Erlen("debug_server_app", root_path="/nonexistent-erlen-root")
    app.debug = True

    @app.route("/boom")
    def boom() -> str:
        secret_value = "<script>steal()</script>"  # noqa: F841 - shown on the page
        raise KeyError("<img src=x onerror=alert(1)>")

    @app.route("/stream-early")
    def stream_early() -> t.Iterator[str]:
        def generate() -> t.Iterator[str]:
            raise OSError("broke before the first chunk")
            yield "never"

        return generate()

    @app.route("/stream-late")
    def stream_late() -> t.Iterator[str]:
        def generate() -> t.Iterator[str]:
            yield "first chunk;"
            raise OSError("broke after the first chunk")

        return generate()

    return app


class Served(t.NamedTuple):
    port: int
    debugger: DebuggedApplication


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[Served]:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", PIN)
    app = make_app()
    debugger = DebuggedApplication(app, trusted_hosts=["dev.example.test"], pin_failure_delay=0)
    server = make_server("127.0.0.1", 0, debugger)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield Served(server.server_address[1], debugger)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Reply(t.NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> t.Any:
        return json.loads(self.body)


def fetch(
    port: int,
    path: str,
    method: str = "GET",
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = dict(headers or {})
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def command(
    port: int,
    cmd: str,
    secret: str,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
    **query: str,
) -> Reply:
    return fetch(
        port,
        f"{DEBUGGER_PATH}?{urlencode({'cmd': cmd, 's': secret, **query})}",
        "POST",
        form,
        headers,
    )


def view_frame(page: str, function: str) -> str:
    match = re.search(
        rf'in <span class="function">{function}</span>.*?data-frame="([0-9a-f]+)"', page, re.S
    )
    assert match is not None
    return match.group(1)


# -- a threaded dev server ---------------------------------------------------------


def test_error_page_over_a_socket(served: Served) -> None:
    reply = fetch(served.port, "/boom", headers={"Accept": "text/html"})
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    page = reply.body.decode()
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert "<h1>KeyError</h1>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    # issue 15, finding 2: no locals before the PIN; with the auth cookie they
    # are in the page, escaped.
    assert "<tr><th>secret_value</th>" not in page and "&#x27;&lt;script&gt;steal()" not in page
    assert 'class="locals-hidden"' in page
    guard = served.debugger.guard
    cookie = f"{guard.cookie_name}={guard.make_cookie_value()}"
    reply = fetch(served.port, "/boom", headers={"Accept": "text/html", "Cookie": cookie})
    page = reply.body.decode()
    assert (
        "&#x27;&lt;script&gt;steal()&lt;/script&gt;&#x27;" in page and "<script>steal" not in page
    )
    assert "<tr><th>secret_value</th>" in page


def test_untrusted_host_gets_no_traceback_over_a_socket(served: Served) -> None:
    # issue 15, finding 2: a DNS-rebinding page (Host: its own name) reads no
    # traceback, in HTML or text; the log still has it.
    for accept in ("text/html", "text/plain"):
        reply = fetch(served.port, "/boom", headers={"Accept": accept, "Host": "rebind.example"})
        assert reply.status == 500
        assert (
            b"KeyError" not in reply.body
            and b"Traceback" not in reply.body
            and b"steal" not in reply.body
        )


def test_plain_text_for_curl_like_clients(served: Served) -> None:
    reply = fetch(served.port, "/boom", headers={"Accept": "text/plain"})
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.body.decode().rstrip().endswith("KeyError: '<img src=x onerror=alert(1)>'")


def test_stream_failing_before_headers_are_sent_gets_the_page(served: Served) -> None:
    # The server sends headers with the first chunk; none came, so the
    # debugger can still replace the response.
    reply = fetch(served.port, "/stream-early")
    assert reply.status == 500
    assert b"broke before the first chunk" in reply.body


def test_stream_failing_after_headers_are_sent_is_cut_short(served: Served) -> None:
    reply = fetch(served.port, "/stream-late")
    assert reply.status == 200
    assert reply.body == b"first chunk;"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("debugger.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8")],
)
def test_resources_over_a_socket(served: Served, name: str, content_type: str) -> None:
    reply = fetch(served.port, f"{DEBUGGER_PATH}?cmd=resource&f={name}")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == content_type
    assert len(reply.body) > 1000


def test_pin_flow_over_a_socket(served: Served) -> None:
    secret = served.debugger.secret
    page = fetch(served.port, "/boom").body.decode()
    assert f'data-secret="{secret}"' in page
    frame = view_frame(page, "boom")

    assert command(served.port, "exec", secret, {"code": "1 + 1"}, frm=frame).status == 403

    wrong = command(served.port, "pinauth", secret, {"pin": "000-000-000"})
    assert wrong.status == 403 and wrong.json()["auth"] is False
    assert "Set-Cookie" not in wrong.headers

    right = command(served.port, "pinauth", secret, {"pin": PIN})
    assert right.status == 200 and right.json() == {"auth": True}
    set_cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    max_age = int(re.search(r"Max-Age=(\d+)", set_cookie).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= 8 * 3600
    cookie = set_cookie.split(";", 1)[0]

    ran = command(
        served.port, "exec", secret, {"code": "secret_value"}, {"Cookie": cookie}, frm=frame
    )
    assert ran.status == 200
    assert ran.json()["output"] == "&#x27;&lt;script&gt;steal()&lt;/script&gt;&#x27;\n"

    expired = served.debugger.guard.make_cookie_value(now=time.time() - 9 * 3600)
    name = served.debugger.guard.cookie_name
    refused = command(
        served.port, "exec", secret, {"code": "1"}, {"Cookie": f"{name}={expired}"}, frm=frame
    )
    assert refused.status == 403 and refused.json()["auth_required"] is True


def test_lockout_over_a_socket(served: Served) -> None:
    secret = served.debugger.secret
    for _ in range(10):
        assert command(served.port, "pinauth", secret, {"pin": "1"}).status == 403
    locked = command(served.port, "pinauth", secret, {"pin": PIN})
    assert locked.status == 403
    assert locked.json()["exhausted"] is True
    assert "Set-Cookie" not in locked.headers


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.com", 400),
        ("evil.com:80", 400),
        ("localhost.evil.com", 400),
        ("localhost", 200),
        ("127.0.0.1:5000", 200),
        ("foo.localhost", 200),
        ("[::1]:5000", 200),
        ("dev.example.test:8000", 200),  # configured
    ],
)
def test_host_check_over_a_socket(served: Served, host: str, status: int) -> None:
    reply = command(served.port, "pinauth", served.debugger.secret, {"pin": PIN}, {"Host": host})
    assert reply.status == status
    if status == 400:
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert b"doesn't answer to host" in reply.body


# -- run_simple, app.run and the erlen command --------------------------------------------


class _FakeServer:
    server_address = ("127.0.0.1", 1234)

    def __init__(self, app: t.Any) -> None:
        self.app = app

    def set_app(self, app: t.Any) -> None:
        self.app = app

    def serve_forever(self) -> None:
        pass

    def server_close(self) -> None:
        pass


def test_run_simple_wraps_the_app_only_with_use_debugger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", PIN)
    servers: list[_FakeServer] = []
    monkeypatch.setattr(
        erlen.serving,
        "make_server",
        lambda host, port, app, **kw: servers.append(_FakeServer(app)) or servers[-1],
    )
    app = make_app()

    run_simple("127.0.0.1", 0, app)
    assert servers[-1].app is app
    assert "Debugger" not in capsys.readouterr().out

    run_simple("127.0.0.1", 0, app, use_debugger=True)
    assert isinstance(servers[-1].app, DebuggedApplication) and servers[-1].app.app is app
    assert servers[-1].app.evalex is True
    out = capsys.readouterr().out
    assert out.endswith(f" * Debugger is active!\n * Debugger PIN: {PIN}\n")

    run_simple("127.0.0.1", 0, app, use_debugger=True, use_evalex=False)
    assert servers[-1].app.evalex is False


def test_reloader_child_serves_with_the_debugger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG_PIN", PIN)
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    served: list[t.Any] = []
    monkeypatch.setattr(
        erlen.serving,
        "_serve_in_child",
        lambda host, port, app, threaded, ssl_context=None: served.append(app),
    )
    app = make_app()
    run_simple("127.0.0.1", 0, app, use_reloader=True, use_debugger=True)
    run_simple("127.0.0.1", 0, app, use_reloader=True)
    assert isinstance(served[0], DebuggedApplication) and served[1] is app
    assert capsys.readouterr().out == f" * Debugger is active!\n * Debugger PIN: {PIN}\n"


@pytest.mark.parametrize(("debug", "expected"), [(True, True), (False, False), (None, False)])
def test_app_run_turns_the_debugger_on_in_debug_mode(
    monkeypatch: pytest.MonkeyPatch, debug: bool | None, expected: bool
) -> None:
    calls: list[dict[str, t.Any]] = []
    monkeypatch.setattr(erlen.serving, "run_simple", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("ERLEN_RUN_FROM_CLI", raising=False)
    app = Erlen("x")
    app.run(debug=debug, port=0)
    assert calls[0]["use_debugger"] is expected
    app.run(debug=True, use_debugger=False)
    assert calls[1]["use_debugger"] is False


@pytest.mark.parametrize(
    ("args", "use_debugger"),
    [
        (["run"], False),
        (["run", "--debug"], True),
        (["--debug", "run"], True),
        (["run", "--debug", "--no-debugger"], False),
        (["run", "--debugger"], True),
    ],
)
def test_erlen_run_asks_for_the_debugger(
    monkeypatch: pytest.MonkeyPatch, args: list[str], use_debugger: bool
) -> None:
    from click.testing import CliRunner

    from erlen.cli import cli

    # The --debug callback writes ERLEN_DEBUG; setting it here makes monkeypatch put it back.
    monkeypatch.setenv("ERLEN_DEBUG", "0")
    monkeypatch.delenv("ERLEN_APP", raising=False)
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    calls: list[dict[str, t.Any]] = []
    monkeypatch.setattr(erlen.serving, "run_simple", lambda *a, **kwargs: calls.append(kwargs))
    modules = set(sys.modules)
    try:
        result = CliRunner().invoke(cli, ["--app", "cli_apps.app_attr", *args])
    finally:
        for name in set(sys.modules) - modules:
            if name.startswith("cli_apps"):
                del sys.modules[name]
    assert result.exit_code == 0, result.output
    assert calls[0]["use_debugger"] is use_debugger
    assert "not available" not in result.output


APP_SOURCE = textwrap.dedent(
    """
    import sys

    from erlen import Erlen

    app = Erlen(__name__)


    @app.route("/boom")
    def boom():
        hidden_local = "the local value"
        return str(1 / 0)


    if __name__ == "__main__":
        app.run(port=0, debug=sys.argv[1] == "debug", use_reloader=False)
    """
)


class _Output:
    """A process's output lines, collected on a thread so that waits can time out."""

    def __init__(self, stream: t.IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: t.IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 20, start: int = 0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines[start:]:
                match = re.search(pattern, line)
                if match:
                    return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} in {timeout}s; output:\n" + "\n".join(self.lines)
                )
            try:
                self.lines.append(self._queue.get(timeout=min(remaining, 0.2)))
            except queue.Empty:
                pass


@pytest.fixture
def start(tmp_path: Path) -> t.Iterator[t.Callable[..., tuple[_Output, int]]]:
    (tmp_path / "app.py").write_text(APP_SOURCE)
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str, pin: str | None = None) -> tuple[_Output, int]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for name in (
            "ERLEN_RUN_MAIN",
            "ERLEN_SERVER_FD",
            "ERLEN_RELOADER_PID",
            "ERLEN_RUN_FROM_CLI",
            "ERLEN_APP",
            "ERLEN_DEBUG",
            "ERLEN_DEBUG_PIN",
        ):
            env.pop(name, None)
        if pin is not None:
            env["ERLEN_DEBUG_PIN"] = pin
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)
        output = _Output(t.cast("t.IO[str]", proc.stdout))
        port = int(output.wait_for(r"Running on http://127\.0\.0\.1:(\d+)/").group(1))
        return output, port

    yield start
    for proc in procs:
        if os.name == "posix":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:  # pragma: no cover
            proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _serves_debugger_page(port: int) -> str:
    reply = fetch(port, "/boom", headers={"Accept": "text/html"})
    assert reply.status == 500
    page = reply.body.decode()
    assert "ZeroDivisionError" in page and "the local value" in page
    return page


def _serves_generic_500(port: int) -> bytes:
    reply = fetch(port, "/boom", headers={"Accept": "text/html"})
    assert reply.status == 500
    for leak in (
        b"Traceback",
        b"ZeroDivisionError",
        b"the local value",
        b"hidden_local",
        b"app.py",
    ):
        assert leak not in reply.body
    return reply.body


@posix_only
def test_erlen_run_debug_prints_the_pin_and_debugs(
    start: t.Callable[..., tuple[_Output, int]],
) -> None:
    output, port = start(
        "-m", "erlen", "--app", "app.py", "run", "--debug", "--port", "0", "--no-reload"
    )
    output.wait_for(r"^ \* Debug mode: on$")
    output.wait_for(r"^ \* Debugger is active!$")
    pin = output.wait_for(r"^ \* Debugger PIN: (\d{3}-\d{3}-\d{3})$").group(1)
    page = _serves_debugger_page(port)
    secret = re.search(r'data-secret="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    # The printed PIN is the one that works.
    assert command(port, "pinauth", secret, {"pin": "000-000-000"}).status == 403
    assert command(port, "pinauth", secret, {"pin": pin}).status == 200


@posix_only
def test_erlen_run_debug_with_fixed_pin(start: t.Callable[..., tuple[_Output, int]]) -> None:
    output, port = start(
        "-m", "erlen", "--app", "app.py", "--debug", "run", "--port", "0", "--no-reload", pin="4242"
    )
    output.wait_for(r"^ \* Debugger PIN: 4242$")
    _serves_debugger_page(port)


@posix_only
def test_erlen_run_no_debugger_flag(start: t.Callable[..., tuple[_Output, int]]) -> None:
    output, port = start(
        "-m",
        "erlen",
        "--app",
        "app.py",
        "--debug",
        "run",
        "--port",
        "0",
        "--no-reload",
        "--no-debugger",
    )
    # Debug mode propagates the error; without the debugger a generic 500 answers.
    _serves_generic_500(port)
    assert not any("Debugger" in line for line in output.lines)


@posix_only
@pytest.mark.parametrize(
    "args", [["-m", "erlen", "--app", "app.py", "run", "--port", "0"], ["app.py", "nodebug"]]
)
def test_without_debug_no_traceback_is_shown(
    start: t.Callable[..., tuple[_Output, int]], args: list[str]
) -> None:
    output, port = start(*args)
    assert b"Internal Server Error" in _serves_generic_500(port)  # the app's own 500 page
    assert not any("Debugger" in line for line in output.lines)


@posix_only
def test_app_run_debug_true_serves_the_debugger(
    start: t.Callable[..., tuple[_Output, int]],
) -> None:
    output, port = start("app.py", "debug", pin="off")
    output.wait_for(r"^ \* Debugger PIN disabled")
    _serves_debugger_page(port)


@posix_only
def test_pin_is_stable_across_reloader_restarts(
    start: t.Callable[..., tuple[_Output, int]], tmp_path: Path
) -> None:
    output, port = start("-m", "erlen", "--app", "app.py", "--debug", "run", "--port", "0")
    first = output.wait_for(r"^ \* Debugger PIN: (\S+)$").group(1)
    seen = len(output.lines)
    source = tmp_path / "app.py"
    source.write_text(source.read_text().replace("the local value", "another value"))
    output.wait_for(r"Detected change", start=seen)
    second = output.wait_for(r"^ \* Debugger PIN: (\S+)$", start=seen).group(1)
    assert second == first
