"""The development server and its reloader.

The end-to-end tests start real processes; every wait in them is bounded,
and the process group is killed whatever happens.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import types
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from live_servers import free_port, http_scope

import erlen.reloader
import erlen.serving
from erlen import Erlen, request
from erlen.reloader import WatchedPaths, module_dirs
from erlen.serving import make_server

posix_only = pytest.mark.skipif(
    os.name != "posix", reason="process groups and descriptor passing are POSIX"
)


def _module(path: Path | str | None) -> types.SimpleNamespace:
    return types.SimpleNamespace(__file__=None if path is None else str(path))


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


# -- which paths are watched -----------------------------------------------------


def test_module_dirs_keeps_app_modules_only(tmp_path: Path) -> None:
    app_file = _touch(tmp_path / "proj" / "app.py")
    views = _touch(tmp_path / "proj" / "pkg" / "views.py")
    venv_mod = _touch(tmp_path / "proj" / ".venv" / "lib" / "thing.py")
    other_site = _touch(tmp_path / "elsewhere" / "site-packages" / "lib.py")
    modules = [
        _module(app_file),
        _module(views),
        _module(venv_mod),
        _module(other_site),
        _module(None),  # namespace package or built-in: nothing on disk
        types.SimpleNamespace(),  # no __file__ at all
        None,  # sys.modules may hold None for failed imports
        _module(tmp_path / "bundle.zip" / "zipped.py"),  # zipimport: no folder to watch
    ]
    dirs = module_dirs(modules, excluded_roots=[str(tmp_path / "proj" / ".venv")])
    assert dirs == {str(tmp_path / "proj"), str(tmp_path / "proj" / "pkg")}


def test_module_dirs_skips_excluded_patterns(tmp_path: Path) -> None:
    app_file = _touch(tmp_path / "app.py")
    generated = _touch(tmp_path / "generated" / "models.py")
    dirs = module_dirs(
        [_module(app_file), _module(generated)],
        exclude_patterns=["*/generated/*"],
        excluded_roots=[],
    )
    assert dirs == {str(tmp_path)}


def test_module_dirs_default_leaves_out_stdlib_and_site_packages() -> None:
    import json

    import watchfiles

    dirs = module_dirs()
    assert os.path.dirname(os.path.realpath(__file__)) in dirs
    assert os.path.dirname(os.path.realpath(os.__file__)) not in dirs
    assert os.path.dirname(os.path.realpath(json.__file__)) not in dirs
    assert os.path.dirname(os.path.realpath(watchfiles.__file__)) not in dirs


def test_watched_paths_filter(tmp_path: Path) -> None:
    app_file = _touch(tmp_path / "proj" / "app.py")
    extra = _touch(tmp_path / "conf" / "settings.toml")
    _touch(tmp_path / "conf" / "notes.txt")
    templates = tmp_path / "templates"
    templates.mkdir()
    watched = WatchedPaths(
        extra_files=[str(extra), str(templates), str(tmp_path / "missing" / "later.cfg")],
        exclude_patterns=["*_flymake.py", "*/proj/scratch_*"],
        modules=[_module(app_file)],
        excluded_roots=[],
    )
    proj = tmp_path / "proj"
    # Only folders that exist are handed to the watcher, none twice.
    assert watched.roots == sorted({str(proj), str(tmp_path / "conf"), str(templates)})

    def counts(path: Path) -> bool:
        return watched(None, str(path))

    assert counts(proj / "app.py")
    assert counts(proj / "new_module.py")  # not imported yet, but next to the app
    assert not counts(proj / "README.md")
    assert not counts(proj / "sub" / "deep.py")  # folders are watched without subfolders
    assert not counts(proj / ".#app.py")  # an editor's lock file
    assert not counts(proj / "app_flymake.py")  # excluded by name
    assert not counts(proj / "scratch_1.py")  # excluded by full path
    assert counts(extra)
    assert not counts(tmp_path / "conf" / "notes.txt")  # shares the folder, not listed
    assert counts(templates / "index.html")
    assert counts(
        tmp_path / "missing" / "later.cfg"
    )  # listed, even if its folder can't be watched yet


def test_child_command_line_is_the_original_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "orig_argv", ["python3", "-X", "dev", "-c", "print(1)"])
    assert erlen.reloader._child_args() == [sys.executable, "-X", "dev", "-c", "print(1)"]


def test_changed_module_bytecode_is_dropped(tmp_path: Path) -> None:
    import importlib.util

    source = tmp_path / "mod.py"
    source.write_text("x = 1\n")
    cached = Path(importlib.util.cache_from_source(str(source)))
    _touch(cached)
    erlen.reloader._drop_bytecode(str(source))
    assert not cached.exists()
    erlen.reloader._drop_bytecode(str(source))  # nothing left to drop: no error
    erlen.reloader._drop_bytecode(str(tmp_path / "data.txt"))


def test_make_server_on_an_inherited_socket() -> None:
    app = Erlen("inherited")

    @app.route("/")
    def index() -> str:
        return "from the inherited socket"

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # The server owns the descriptor from here on, as the reloader's child does.
    server = make_server("127.0.0.1", 9, app, fd=listener.detach())
    assert server.server_address[1] == port and server.server_port == port
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.read() == b"from the inherited socket"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_run_simple_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: a port already taken ended in a 40-line traceback.
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as info:
            erlen.serving.run_simple("127.0.0.1", port, Erlen("taken"))
    message = info.value.code
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith(f"Port {port} on 127.0.0.1 is in use by another program")
    assert f"--port {port + 1}" in message
    assert "Serving" not in capsys.readouterr().out  # nothing claimed to be running


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.EACCES, "Permission denied"), "Not allowed to listen on port 80"),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), "Cannot assign"),
        (socket.gaierror(-2, "Name or service not known"), "Name or service not known"),
        (OSError("no errno"), "no errno"),
    ],
)
def test_bind_errors_are_one_line(error: OSError, expected: str) -> None:
    message = erlen.serving._bind_error("example.invalid", 80, error)
    assert expected in message and "\n" not in message and "--" in message


def test_run_simple_without_reloader_ignores_reloader_options(
    monkeypatch: pytest.MonkeyPatch, app: Erlen
) -> None:
    class FakeServer:
        server_address = ("127.0.0.1", 4321)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    monkeypatch.setattr(erlen.serving, "make_server", lambda *a, **k: FakeServer())
    monkeypatch.setattr(erlen.serving, "Reloader", None)  # must not be reached
    erlen.serving.run_simple(
        "127.0.0.1", 0, app, extra_files=["x"], exclude_patterns=["*.tmp"], reloader_interval=1
    )


# -- end to end --------------------------------------------------------------------

APP_SOURCE = """\
from erlen import Erlen
from erlen.serving import run_simple

app = Erlen(__name__)


@app.route("/")
def index():
    return {body!r}


if __name__ == "__main__":
    run_simple("127.0.0.1", 0, app, use_reloader=True, exclude_patterns=["*_ignored.py"])
"""


class _Output:
    """Collect a process's output lines on a thread, so reading can time out."""

    def __init__(self, stream: t.IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: t.IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line (already seen or new) matching ``pattern``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                match = re.search(pattern, line)
                if match:
                    return match
            seen = len(self.lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} in {timeout}s; output:\n" + "\n".join(self.lines)
                )
            try:
                self.lines.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                pass

    def drain(self) -> str:
        while True:
            try:
                self.lines.append(self._queue.get_nowait())
            except queue.Empty:
                return "\n".join(self.lines)


def _get(url: str, timeout: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode()
    except (urllib.error.URLError, OSError):
        return None


def _poll(url: str, expected: str, timeout: float) -> float:
    """Request ``url`` until it answers ``expected``; how long it took."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        last = _get(url, timeout=min(2.0, timeout))
        if last == expected:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{url} still answers {last!r}, not {expected!r}, after {timeout}s")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a recycled group id
        return False
    return True


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def reloading_app(tmp_path: Path) -> t.Iterator[tuple[subprocess.Popen[str], _Output, Path, str]]:
    source = tmp_path / "app.py"
    source.write_text(APP_SOURCE.format(body="v1"))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for name in ("ERLEN_RUN_MAIN", "ERLEN_SERVER_FD", "ERLEN_RELOADER_PID", "ERLEN_RUN_FROM_CLI"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, str(source)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, to signal the watcher and child together
        # As in a terminal: a test run started in the background (`cmd &` in
        # a script) inherits SIGINT ignored, and Python then never turns it
        # into KeyboardInterrupt, so the Ctrl+C below would do nothing.
        preexec_fn=_default_sigint,
    )
    try:
        output = _Output(t.cast("t.IO[str]", proc.stdout))
        port = output.wait_for(r"Running on http://127\.0\.0\.1:(\d+)/", timeout=20).group(1)
        yield proc, output, source, f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None or _group_alive(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@posix_only
def test_reloader_end_to_end(
    reloading_app: tuple[subprocess.Popen[str], _Output, Path, str],
) -> None:
    proc, output, source, url = reloading_app
    output.wait_for(r"^ \* Restarting with watchfiles$", timeout=5)
    _poll(url, "v1", timeout=15)

    # An excluded file next to the app changes nothing.
    (source.parent / "scratch_ignored.py").write_text("x = 1\n")

    source.write_text(APP_SOURCE.format(body="v2"))
    reload_time = _poll(url, "v2", timeout=15)
    output.wait_for(
        rf"^ \* Detected change in '{re.escape(str(source.resolve()))}', reloading$", timeout=5
    )
    assert "scratch_ignored" not in output.drain()

    # A syntax error: the child can't start, the watcher reports it and waits.
    source.write_text(APP_SOURCE.format(body="v2").replace("def index():", "def index(:"))
    output.wait_for(r"SyntaxError", timeout=15)
    output.wait_for(
        r"^ \* The server exited with status 1; restarting when a file changes\.$", timeout=5
    )
    assert proc.poll() is None
    # Requests meanwhile are answered at once, not left waiting for the fix.
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=5)
    assert info.value.code == 503
    info.value.close()

    source.write_text(APP_SOURCE.format(body="v3"))
    fixed_time = _poll(url, "v3", timeout=15)

    # Ctrl+C reaches the whole process group: both stop, cleanly.
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(10) == 0
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "the server child outlived the watcher"
    text = output.drain()
    assert " * Shutting down" in text
    assert "Traceback" not in text.split("SyntaxError")[-1]
    print(f"\nreload took {reload_time:.2f}s; after fixing the syntax error {fixed_time:.2f}s")


CLI_APP_SOURCE = """\
from erlen import Erlen

app = Erlen(__name__)


@app.route("/")
def index():
    return {body!r}
"""


def _status_and_body(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode()


@posix_only
def test_erlen_run_debug_shows_an_import_error_then_recovers(tmp_path: Path) -> None:
    # Regression: a syntax error saved under `erlen run --debug` made the
    # child exit, and requests waited on the watcher's socket until the fix.
    source = tmp_path / "app.py"
    source.write_text(CLI_APP_SOURCE.format(body="v1"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERLEN_")}
    env["PYTHONUNBUFFERED"] = "1"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "erlen", "run", "--debug", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        output = _Output(t.cast("t.IO[str]", proc.stdout))
        output.wait_for(r"Debugger PIN", timeout=20)
        _poll(url, "v1", timeout=15)

        source.write_text(CLI_APP_SOURCE.format(body="v2").replace("def index():", "def index(:"))
        output.wait_for(r"^SyntaxError", timeout=15)
        # The child stays up and the debugger shows the import's traceback.
        start = time.monotonic()
        status, body = _status_and_body(url)
        assert status == 500
        assert "SyntaxError" in body and str(source) in body
        assert time.monotonic() - start < 5

        source.write_text(CLI_APP_SOURCE.format(body="v3"))
        _poll(url, "v3", timeout=15)
        assert "The server exited" not in output.drain()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover
            pass
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@posix_only
def test_reloader_sigterm_to_watcher_stops_the_child(
    reloading_app: tuple[subprocess.Popen[str], _Output, Path, str],
) -> None:
    proc, output, source, url = reloading_app
    _poll(url, "v1", timeout=15)
    # Only the watcher gets the signal; it must not leave the child serving.
    proc.terminate()
    proc.wait(10)
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "the server child outlived the watcher"
    assert _get(url, timeout=1) is None


def test_watched_paths_accepts_single_strings(tmp_path: Path) -> None:
    extra = _touch(tmp_path / "settings.toml")
    watched = WatchedPaths(
        extra_files=str(extra), exclude_patterns="*.tmp", modules=[], excluded_roots=[]
    )
    assert watched.extra_files == {str(extra)}
    assert watched.exclude_patterns == ("*.tmp",)


# -- the fallback server's HTTP/1.1 (issue 15, finding 6) -----------------------------


class _RawServer:
    """``make_server`` on 127.0.0.1 and a free port, serving in a thread, for raw requests."""

    def __init__(self, app: t.Any, threaded: bool = True) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=threaded)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> _RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def connect(self) -> tuple[socket.socket, t.BinaryIO]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock, sock.makefile("rb")


def _read_response(rfile: t.BinaryIO) -> tuple[str, int, dict[str, str], bytes]:
    """One response from ``rfile``: version, status, headers (lower-case names), body."""
    status_line = rfile.readline()
    assert status_line, "the server closed the connection without answering"
    version, code, _ = status_line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (line := rfile.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = rfile.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while size := int(rfile.readline().split(b";")[0], 16):
            parts.append(rfile.read(size))
            assert rfile.readline() == b"\r\n"
        assert rfile.readline() == b"\r\n"
        body = b"".join(parts)
    else:
        body = rfile.read()
    return version, int(code), headers, body


def _echo_app() -> tuple[Erlen, list[str]]:
    app = Erlen("raw_http")
    seen: list[str] = []

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        seen.append(request.method)
        data = request.get_data()
        return f"{len(data)} {data.decode()}"

    @app.route("/stream")
    def stream() -> t.Any:
        return iter([b"one ", b"two"])

    @app.post("/ignore")
    def ignore() -> str:
        return "not read"

    return app, seen


def test_dev_server_decodes_chunked_request_bodies() -> None:
    # issue 15, finding 6: wsgiref's server dropped a chunked body silently
    # (len=0, 200). It is decoded; MAX_CONTENT_LENGTH applies while the app
    # reads it; malformed chunk framing is a 400.
    app, _ = _echo_app()
    chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"
    with _RawServer(app) as server:
        sock, rfile = server.connect()
        try:
            sock.sendall(chunked)
            assert _read_response(rfile)[1:4:2] == (200, b"9 Wikipedia")
            # The connection goes on after a chunked body.
            sock.sendall(chunked)
            assert _read_response(rfile)[1:4:2] == (200, b"9 Wikipedia")
        finally:
            sock.close()

        app.config["MAX_CONTENT_LENGTH"] = 5
        sock, rfile = server.connect()
        try:
            sock.sendall(chunked)
            assert _read_response(rfile)[1] == 413
        finally:
            sock.close()
        app.config["MAX_CONTENT_LENGTH"] = None

        sock, rfile = server.connect()
        try:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nWiki\r\n0\r\n\r\n"
            )
            assert _read_response(rfile)[1] == 400
        finally:
            sock.close()


def test_dev_server_keeps_http11_connections_alive() -> None:
    # issue 15, finding 6: serving.py said it kept connections alive, yet
    # every response was HTTP/1.0 and the connection closed after it.
    app, _ = _echo_app()
    with _RawServer(app) as server:
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            version, status, headers, body = _read_response(rfile)
            assert (version, status, body) == ("HTTP/1.1", 200, b"0 ")
            assert headers.get("connection") != "close"
            # A streamed body of unknown length is chunked, so the connection stays usable.
            sock.sendall(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
            _, status, headers, body = _read_response(rfile)
            assert (status, headers["transfer-encoding"], body) == (200, "chunked", b"one two")
            # A body the app left unread is dropped before the next request.
            sock.sendall(b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
            assert _read_response(rfile)[1:4:2] == (200, b"not read")
            sock.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
            assert _read_response(rfile)[1:4:2] == (200, b"3 abc")
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            _, status, headers, _ = _read_response(rfile)
            assert (status, headers["connection"]) == (200, "close")
            assert rfile.read() == b""  # closed as asked
        finally:
            sock.close()

        # HTTP/1.0 keeps the connection only when asked to.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            _, status, headers, _ = _read_response(rfile)
            assert (status, headers["connection"]) == (200, "keep-alive")
            sock.sendall(b"GET /stream HTTP/1.0\r\n\r\n")
            _, status, headers, body = _read_response(
                rfile
            )  # no chunking for 1.0: read to the close
            assert (status, headers["connection"], body) == (200, "close", b"one two")
        finally:
            sock.close()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", id="nul-request-line"
        ),  # NUL in the request line
        pytest.param(
            b"GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", id="cr-request-line"
        ),  # bare CR in the request line
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", id="nul-header"
        ),  # NUL in a header
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n", id="bare-cr-header"
        ),  # bare CR in a header
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n", id="obs-fold"
        ),  # obs-fold
        pytest.param(
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", id="space-before-colon"
        ),  # whitespace before the colon
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", id="two-hosts"
        ),  # two Host headers
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="no-host"),  # no Host on HTTP/1.1
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            id="two-lengths",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", id="length-list"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", id="signed-length"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            id="length-and-chunked",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            id="chunked-not-last",
        ),
    ],
)
def test_dev_server_rejects_malformed_framing(raw: bytes) -> None:
    # issue 15, finding 6: wsgiref's server accepted NUL and bare CR in
    # headers, two Host headers, no Host, and ambiguous body framing (the
    # request smuggling kinds). Each is a 400 that never reaches the app,
    # and the connection closes.
    app, seen = _echo_app()
    with _RawServer(app) as server:
        sock, rfile = server.connect()
        try:
            sock.sendall(raw)
            _, status, headers, _ = _read_response(rfile)
            assert (status, headers.get("connection")) == (400, "close")
            assert rfile.read() == b""
        finally:
            sock.close()
    assert seen == []


# -- the fallback server's request handler, path by path ------------------------------


def _exchange(
    server: _RawServer, raw: bytes, shut: bool = False
) -> tuple[tuple[str, int, dict[str, str], bytes], bytes]:
    """Send ``raw`` on a new connection; the response and what follows it until the server closes."""
    sock, rfile = server.connect()
    try:
        sock.sendall(raw)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        response = _read_response(rfile)
        return response, rfile.read()
    finally:
        rfile.close()
        sock.close()


def _head_lines(rfile: t.BinaryIO) -> list[str]:
    """The status line and header lines of one response, as sent."""
    lines = []
    while (line := rfile.readline()) not in (b"\r\n", b""):
        lines.append(line.decode("latin-1").rstrip("\r\n"))
    return lines


def _input_app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
    """Reads ``wsgi.input`` as the path says and answers what it got (or the error it raised)."""
    stream = environ["wsgi.input"]
    try:
        if environ["PATH_INFO"] == "/lines":
            parts = list(stream)
        elif environ["PATH_INFO"] == "/sizes":
            parts = [
                stream.readline(2),
                stream.readline(),
                stream.read(3),
                stream.read(),
                stream.read(),
                stream.readline(),
            ]
        elif environ["PATH_INFO"] == "/twice":
            parts = [stream.read(), stream.read()]
        else:
            parts = [b"unread"]
        body = repr(parts).encode()
    except Exception as e:
        body = f"{type(e).__name__}: {getattr(e, 'description', e)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


CHUNKED_LINES = b"4\r\nab\nc\r\n5;name=value\r\nde\nfg\r\n0\r\n\r\n"


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        pytest.param(b"Content-Length: 9\r\n", b"ab\ncde\nfg", id="length"),
        pytest.param(b"Transfer-Encoding: chunked\r\n", CHUNKED_LINES, id="chunked"),
    ],
)
def test_dev_server_input_reads_lines_and_sizes(framing: bytes, body: bytes) -> None:
    # Both kinds of wsgi.input iterate by lines and honour read/readline
    # sizes, across chunk boundaries too, and stop at the body's end.
    with _RawServer(_input_app) as server:
        sock, rfile = server.connect()
        try:
            for path, expected in [
                (b"/lines", [b"ab\n", b"cde\n", b"fg"]),
                (b"/sizes", [b"ab", b"\n", b"cde", b"\nfg", b"", b""]),
            ]:
                sock.sendall(
                    b"POST " + path + b" HTTP/1.1\r\nHost: a\r\n" + framing + b"\r\n" + body
                )
                _, status, headers, got = _read_response(rfile)
                assert (status, got) == (200, repr(expected).encode())
                assert headers.get("connection") != "close"
        finally:
            sock.close()


def test_dev_server_length_body_ending_early() -> None:
    # The client stops sending before Content-Length: the app gets what came,
    # then an end, not a hang; the connection closes after the response.
    with _RawServer(_input_app) as server:
        (_, status, _, body), rest = _exchange(
            server, b"POST /twice HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", shut=True
        )
        assert (status, body, rest) == (200, repr([b"abc", b""]).encode(), b"")
        # Unread by the app: draining finds the early end and closes.
        (_, status, _, body), rest = _exchange(
            server, b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", shut=True
        )
        assert (status, body, rest) == (200, b"[b'unread']", b"")


@pytest.mark.parametrize(
    ("chunks", "error"),
    [
        pytest.param(
            b"5\r\nab", "ClientDisconnected: The client closed the connection", id="ends-in-data"
        ),
        pytest.param(
            b"5\r\nabcde",
            "ClientDisconnected: The client closed the connection",
            id="ends-after-data",
        ),
        pytest.param(
            b"3;\x00ext\r\nabc\r\n0\r\n\r\n",
            "BadRequest: The chunked request body is malformed: bad chunk size line.",
            id="nul-in-extension",
        ),
        pytest.param(
            b"3;a\rb\r\nabc\r\n0\r\n\r\n",
            "BadRequest: The chunked request body is malformed: bad chunk size line.",
            id="cr-in-extension",
        ),
        pytest.param(
            b"3" + b" " * 65536,
            "BadRequest: The chunked request body is malformed: a line is too long",
            id="long-size-line",
        ),
        pytest.param(
            b"3\r\nabcd\r\n0\r\n\r\n",
            "BadRequest: The chunked request body is malformed: chunk data is longer than its size.",
            id="data-too-long",
        ),
        pytest.param(
            b"0\r\nBad Trailer: x\r\n\r\n",
            "BadRequest: The chunked request body is malformed: bad trailer field.",
            id="bad-trailer",
        ),
        pytest.param(
            b"0\r\n" + b"X-T: v\r\n" * 101 + b"\r\n",
            "BadRequest: The chunked request body is malformed: too many trailer fields.",
            id="too-many-trailers",
        ),
    ],
)
def test_dev_server_malformed_or_truncated_chunked_body(chunks: bytes, error: str) -> None:
    # A chunked body that ends early is ClientDisconnected, malformed framing
    # a BadRequest; either way the connection closes after the response.
    with _RawServer(_input_app) as server:
        raw = b"POST /lines HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
        (_, status, headers, body), rest = _exchange(
            server, raw, shut=error.startswith("ClientDisconnected")
        )
        assert status == 200 and body.decode().startswith(error), body
        assert rest == b""


def test_dev_server_unread_bodies_too_large_to_drain_close_the_connection() -> None:
    with _RawServer(_input_app) as server:
        # A declared length over the drain limit: the connection closes at once.
        (_, status, headers, body), rest = _exchange(
            server, b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"
        )
        assert (status, body, rest) == (200, b"[b'unread']", b"")
        # A chunked body: dropped until past the limit (exactly all that was sent), then closed.
        sent = 17 * 65536
        raw = (
            b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n"
            % (2 * sent)
            + b"x" * sent
        )
        (_, status, headers, body), rest = _exchange(server, raw)
        assert (status, body, rest) == (200, b"[b'unread']", b"")
        # A malformed chunked body the app never read: found while draining, closed.
        raw = b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        (_, status, headers, body), rest = _exchange(server, raw)
        assert (status, body, rest) == (200, b"[b'unread']", b"")


def test_dev_server_expect_100_continue() -> None:
    app, _ = _echo_app()
    with _RawServer(app) as server:
        sock, rfile = server.connect()
        try:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
            )
            # The interim response comes before the body is sent.
            assert rfile.readline() == b"HTTP/1.1 100 Continue\r\n"
            assert rfile.readline() == b"\r\n"
            sock.sendall(b"abc")
            assert _read_response(rfile)[1:4:2] == (200, b"3 abc")
            # No body, no interim response.
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
            assert _read_response(rfile)[1:4:2] == (200, b"0 ")
        finally:
            sock.close()


def _environ_app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
    keys = (
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_URI",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_MULTI",
        "SERVER_PROTOCOL",
    )
    body = repr({key: environ.get(key) for key in keys}).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_dev_server_environ_from_the_request() -> None:
    with _RawServer(_environ_app) as server:
        raw = (
            b"\r\n"  # one empty line before the request line is ignored
            b"GET http://example.test/a%20b?x=1 HTTP/1.1\n"  # absolute form, bare LF line ends
            b"Host: a\n"
            b"X_Forwarded_For: 6.6.6.6\n"  # spelled with "_": dropped, it would pass for the real one
            b"X-Forwarded-For: 1.2.3.4\n"
            b"X-Multi: one\n"
            b"X-Multi: two\n"
            b"Connection: close\n"
            b"\n"
        )
        (_, status, _, body), _ = _exchange(server, raw)
    assert status == 200
    assert eval(body) == {  # noqa: S307 - the repr of a dict of strings
        "PATH_INFO": "/a b",
        "QUERY_STRING": "x=1",
        "REQUEST_URI": "http://example.test/a%20b?x=1",
        "HTTP_X_FORWARDED_FOR": "1.2.3.4",
        "HTTP_X_MULTI": "one,two",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET /" + b"a" * (65537 - 5), 414, id="request-line-too-long"),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + b"a" * (65537 - 8),
            431,
            id="header-line-too-long",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: a\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(100))
            + b"\r\n",
            431,
            id="too-many-headers",
        ),
        pytest.param(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, id="http-2"),
        pytest.param(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            id="chunked-in-http-1.0",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            501,
            id="unknown-coding",
        ),
        pytest.param(b"GET / HTTP/1.1", 400, id="unterminated-request-line"),
    ],
)
def test_dev_server_rejects_oversized_or_unsupported_requests(raw: bytes, status: int) -> None:
    app, seen = _echo_app()
    with _RawServer(app) as server:
        (_, got, headers, _), rest = _exchange(server, raw, shut=not raw.endswith(b"\n"))
        assert (got, headers.get("connection"), rest) == (status, "close", b"")
    assert seen == []


def _app_by_path(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
    """Raw WSGI responses the Erlen app never makes."""
    path = environ["PATH_INFO"]
    if path == "/write":  # the legacy write() callable, then the iterable
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"hello ")
        return [b"world"]
    if path == "/list":  # a list of known length, no Content-Length given
        start_response("200 OK", [])
        return [b"ab", b"cd"]
    if path == "/empty-first":

        def empty_first() -> t.Iterator[bytes]:
            yield b""
            yield b"x"

        start_response("200 OK", [])
        return empty_first()
    if path == "/nothing":
        start_response("204 No Content" if environ["REQUEST_METHOD"] == "DELETE" else "200 OK", [])
        return iter([])
    if path == "/own-headers":
        start_response(
            "200 OK",
            [
                ("Server", "mine"),
                ("Date", "Thu, 01 Jan 1970 00:00:00 GMT"),
                ("Connection", "keep-alive"),
                ("Content-Length", "2"),
            ],
        )
        return [b"ok"]
    if path == "/close":
        start_response("200 OK", [("Connection", "close"), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/own-chunking":
        start_response("200 OK", [("Transfer-Encoding", "chunked")])
        return [b"2\r\nok\r\n0\r\n\r\n"]
    if path == "/short":
        start_response("200 OK", [("Content-Length", "10")])
        return [b"short"]
    if path == "/error-page":  # the error replaces the headers not sent yet
        start_response("200 OK", [("Content-Length", "2")])
        try:
            raise ValueError("in the view")
        except ValueError:
            start_response("500 Oops", [("Content-Length", "4")], sys.exc_info())
        return [b"oops"]
    if path == "/error-after-write":  # too late to replace them: re-raised
        write = start_response("200 OK", [])
        write(b"sent")
        try:
            raise ValueError("after the headers")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        return [b"never"]  # pragma: no cover - start_response raised
    if path == "/boom":
        raise RuntimeError("before the headers")
    if path == "/boom-late":

        def late() -> t.Iterator[bytes]:
            yield b"part"
            raise RuntimeError("after the headers")

        start_response("200 OK", [])
        return late()
    start_response("200 OK", [])
    return iter([b"streamed"])


def test_dev_server_response_framing_from_raw_wsgi_apps() -> None:
    with _RawServer(_app_by_path) as server:
        sock, rfile = server.connect()
        try:

            def get(path: bytes, method: bytes = b"GET") -> tuple[str, int, dict[str, str], bytes]:
                sock.sendall(method + b" " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
                return _read_response(rfile)

            # Bytes given to write() go out first, chunked: the length is unknown.
            _, status, headers, body = get(b"/write")
            assert (status, headers["transfer-encoding"], body) == (200, "chunked", b"hello world")
            # A list's length is known: Content-Length, not chunks.
            _, status, headers, body = get(b"/list")
            assert (status, headers["content-length"], "transfer-encoding" in headers, body) == (
                200,
                "4",
                False,
                b"abcd",
            )
            # An empty first chunk doesn't send the headers early.
            _, status, headers, body = get(b"/empty-first")
            assert (headers["transfer-encoding"], body) == ("chunked", b"x")
            # An empty iterable: Content-Length 0; a 204 gets none.
            _, status, headers, body = get(b"/nothing")
            assert (status, headers["content-length"], body) == (200, "0", b"")
            sock.sendall(b"DELETE /nothing HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert head[0] == "HTTP/1.1 204 No Content" and not any(
                line.lower().startswith(("content-length", "transfer-encoding")) for line in head
            )
            # HEAD: the headers only, and the connection goes on.
            sock.sendall(b"HEAD /streamed HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert head[0] == "HTTP/1.1 200 OK" and not any(
                line.lower().startswith(("content-length", "transfer-encoding")) for line in head
            )
            # The app's Server and Date are kept, not doubled; its Connection is the server's business.
            sock.sendall(b"GET /own-headers HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert rfile.read(2) == b"ok"
            names = [line.split(":", 1)[0].lower() for line in head[1:]]
            assert sorted(names) == ["content-length", "date", "server"]
            assert "Server: mine" in head and "Date: Thu, 01 Jan 1970 00:00:00 GMT" in head
            # The app asking to close is heeded.
            sock.sendall(b"GET /close HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert [line for line in head if line.lower().startswith("connection")] == [
                "Connection: close"
            ]
            assert rfile.read() == b"ok"
        finally:
            sock.close()

        # Framing the server doesn't know (the app's own chunking): passed on, then closed.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET /own-chunking HTTP/1.1\r\nHost: a\r\n\r\n")
            _, status, headers, body = _read_response(rfile)
            assert (status, headers["connection"], body, rfile.read()) == (200, "close", b"ok", b"")
        finally:
            sock.close()

        # A body shorter than its Content-Length: the client can't find the
        # response's end, so the connection closes.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET /short HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert "Content-Length: 10" in head
            assert rfile.read() == b"short"
        finally:
            sock.close()


def test_dev_server_exc_info_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with _RawServer(_app_by_path, threaded=False) as server:
        sock, rfile = server.connect()
        try:
            # exc_info before anything was sent replaces the status and headers.
            sock.sendall(b"GET /error-page HTTP/1.1\r\nHost: a\r\n\r\n")
            _, status, headers, body = _read_response(rfile)
            assert (status, body, headers.get("connection")) == (500, b"oops", None)
        finally:
            sock.close()

        # exc_info after the headers went out re-raises: logged, the response cut short.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET /error-after-write HTTP/1.1\r\nHost: a\r\n\r\n")
            head = _head_lines(rfile)
            assert head[0] == "HTTP/1.1 200 OK" and "Transfer-Encoding: chunked" in head
            assert (
                rfile.read() == b"4\r\nsent\r\n"
            )  # no last chunk: the client sees it is incomplete
        finally:
            sock.close()

        # An error before the headers: a logged 500, and the connection closes.
        (_, status, headers, _), rest = _exchange(server, b"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
        assert (status, headers["connection"], rest) == (500, "close", b"")

        # An error after them: the chunked body stops without its last chunk.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET /boom-late HTTP/1.1\r\nHost: a\r\n\r\n")
            _head_lines(rfile)
            assert rfile.read() == b"4\r\npart\r\n"
        finally:
            sock.close()
        # One request more: the server (one thread) is done logging the last one.
        (_, status, _, _), _ = _exchange(
            server, b"GET /list HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        assert status == 200
    err = capsys.readouterr().err
    assert (
        "Error on request 'GET /error-after-write HTTP/1.1'" in err
        and "ValueError: after the headers" in err
    )
    assert (
        "Error on request 'GET /boom HTTP/1.1'" in err and "RuntimeError: before the headers" in err
    )
    assert (
        "Error on request 'GET /boom-late HTTP/1.1'" in err
        and "RuntimeError: after the headers" in err
    )
    assert '"GET /error-page HTTP/1.1" 500' in err


# SO_LINGER on, zero seconds: close() resets the connection.
_RESET = struct.pack("ii", 1, 0)


def test_dev_server_client_leaving_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    closed = threading.Event()

    def endless(environ: dict[str, t.Any], start_response: t.Any) -> t.Iterator[bytes]:
        start_response("200 OK", [])
        try:
            while True:
                yield b"x" * 65536
        finally:
            closed.set()

    with _RawServer(endless, threaded=False) as server:
        # Reset while the server reads the headers.
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        sock.close()
        # Gone while the response streams: the app's iterable is closed.
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            _head_lines(rfile)
            assert rfile.read(100)
        finally:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
            rfile.close()  # the socket stays open while its file is
            sock.close()
        assert closed.wait(5)
        # The server (one thread) goes on serving.
        closed.clear()
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _head_lines(rfile)[0] == "HTTP/1.1 200 OK"
        finally:
            rfile.close()
            sock.close()
        assert closed.wait(5)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Error on request" not in err


def test_dev_server_sends_the_length_of_a_list_body() -> None:
    # Regression: the length of a list body was summed, then never used: the
    # first chunk sent the headers without it, so the response was chunked
    # (HTTP/1.1) or ended by closing the connection (HTTP/1.0 keep-alive).
    with _RawServer(_app_by_path) as server:
        sock, rfile = server.connect()
        try:
            sock.sendall(b"GET /list HTTP/1.1\r\nHost: a\r\n\r\n")
            _, status, headers, body = _read_response(rfile)
            assert (
                status,
                headers.get("content-length"),
                headers.get("transfer-encoding"),
                body,
            ) == (200, "4", None, b"abcd")
        finally:
            sock.close()
        sock, rfile = server.connect()
        try:
            for _ in range(2):
                sock.sendall(b"GET /list HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                _, status, headers, body = _read_response(rfile)
                assert (status, headers.get("content-length"), headers["connection"], body) == (
                    200,
                    "4",
                    "keep-alive",
                    b"abcd",
                )
        finally:
            sock.close()


# -- the reloader's child, uvicorn and the ASGI side ------------------------------------


def test_reloader_child_serves_the_asgi_side_with_the_debugger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app: Erlen
) -> None:
    pytest.importorskip("uvicorn")
    from erlen.debug import DebuggedApplication

    monkeypatch.setenv("ERLEN_DEBUG_PIN", "off")
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    served: list[tuple[t.Any, t.Any]] = []
    monkeypatch.setattr(
        erlen.serving,
        "_serve_in_child",
        lambda host, port, application, threaded, ssl_context=None, asgi_debugged=False: (
            served.append((application, asgi_debugged))
        ),
    )
    erlen.serving.run_simple("127.0.0.1", 0, app, use_reloader=True, asgi=True, use_debugger=True)
    erlen.serving.run_simple("127.0.0.1", 0, app, use_reloader=True, asgi=True)
    # The app's ASGI side serves; HTTP goes through the debugger when asked for.
    (first_app, debugged), (second_app, no_debugger) = served
    assert first_app is app and isinstance(debugged, DebuggedApplication) and debugged.app is app
    assert second_app is app and no_debugger is None


def test_reloader_child_binds_the_named_port_without_a_descriptor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app: Erlen
) -> None:
    # Where no descriptor can be passed, the watcher names the port it got.
    monkeypatch.delenv("ERLEN_SERVER_FD", raising=False)
    monkeypatch.delenv("ERLEN_RELOADER_PID", raising=False)
    monkeypatch.setenv("ERLEN_SERVER_PORT", "4321")
    calls: list[tuple[str, int]] = []
    closed: list[bool] = []

    class FakeServer:
        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            closed.append(True)

    def fake_make_server(
        host: str,
        port: int,
        application: t.Any,
        threaded: bool = True,
        fd: int | None = None,
        ssl_context: t.Any = None,
    ) -> FakeServer:
        assert fd is None and application is app and ssl_context is None
        calls.append((host, port))
        return FakeServer()

    monkeypatch.setattr(erlen.serving, "make_server", fake_make_server)
    erlen.serving._serve_in_child("127.0.0.1", 0, app, True)
    assert calls == [("127.0.0.1", 4321)] and closed == [True]
    assert capsys.readouterr().out == " * Shutting down\n"


def _orphaned_child(monkeypatch: pytest.MonkeyPatch) -> list[t.Any]:
    """Make this process a reloader child whose watcher is gone; return the servers it makes."""
    monkeypatch.delenv("ERLEN_SERVER_FD", raising=False)
    monkeypatch.setenv("ERLEN_SERVER_PORT", "0")
    monkeypatch.setenv("ERLEN_RELOADER_PID", str(os.getpid()))
    servers: list[t.Any] = []

    def recording_make_server(*args: t.Any, **kwargs: t.Any) -> t.Any:
        servers.append(make_server(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(erlen.serving, "make_server", recording_make_server)
    return servers


@posix_only
def test_orphaned_reloader_child_stops_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app: Erlen
) -> None:
    # The watcher named in the environment is not this process's parent (it
    # is gone): the child stops by itself instead of keeping the port.
    servers = _orphaned_child(monkeypatch)
    done = threading.Event()

    def serve() -> None:
        try:
            erlen.serving._serve_in_child("127.0.0.1", 0, app, True)
        finally:
            done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert done.wait(10), "the orphaned child kept serving"
    finally:
        if not done.is_set():  # pragma: no cover - only when the test fails
            servers[0].shutdown()
        thread.join(5)
    assert servers[0].socket.fileno() == -1  # closed
    assert " * The reloader is gone; shutting down" in capsys.readouterr().out


@posix_only
def test_orphaned_reloader_child_stops_uvicorn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app: Erlen
) -> None:
    pytest.importorskip("uvicorn")
    servers = _orphaned_child(monkeypatch)
    done = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            erlen.serving._serve_in_child("127.0.0.1", 0, app, True, asgi_debugged=None)
        except BaseException as e:  # pragma: no cover - only when the test fails
            errors.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert done.wait(15), "uvicorn kept serving in the orphaned child"
    thread.join(5)
    assert errors == []
    assert servers[0].socket.fileno() == -1
    out = capsys.readouterr().out
    assert " * Serving the ASGI side with uvicorn (WebSockets included)" in out
    assert " * The reloader is gone; shutting down" in out


class _Body:
    """A WSGI body iterable that records how far it got and whether it was closed."""

    def __init__(self, chunks: list[bytes], wait: threading.Event | None = None) -> None:
        self.chunks = chunks
        self.wait = wait
        self.closed = threading.Event()

    def __iter__(self) -> t.Iterator[bytes]:
        yield from self.chunks
        if self.wait is not None:
            assert self.wait.wait(5)

    def close(self) -> None:
        self.closed.set()


def _run_dev_app(
    body: _Body,
    send_fails: bool = False,
    leave_after_first: bool = False,
    extra_message: bool = False,
) -> list[dict[str, t.Any]]:
    import asyncio

    from erlen.serving import dev_app

    app = Erlen("dev_app_edges")

    def wsgi(environ: dict[str, t.Any], start_response: t.Any) -> _Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    sent: list[dict[str, t.Any]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        first_sent = asyncio.Event()
        finished = asyncio.Event()
        calls = 0

        async def receive() -> dict[str, t.Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"", "more_body": False}
            if calls == 2 and extra_message:
                return {
                    "type": "http.request",
                    "body": b"",
                    "more_body": False,
                }  # not a disconnect: waited past
            if leave_after_first:
                await first_sent.wait()
                # Runs after the disconnect was noticed (this task's next step).
                loop.call_soon(t.cast("threading.Event", body.wait).set)
                return {"type": "http.disconnect"}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, t.Any]) -> None:
            if send_fails and message["type"] == "http.response.body":
                raise OSError("the client is gone")
            sent.append(message)
            if message.get("body"):
                first_sent.set()
            if not message.get("more_body", True):
                finished.set()

        await asyncio.wait_for(dev_app(app, wsgi)(http_scope(), receive, send), 10)

    asyncio.run(main())
    assert body.closed.wait(5), "the body iterable was not closed"
    return sent


def test_dev_app_stream_edges() -> None:
    # A message other than a disconnect while the response streams is waited past.
    sent = _run_dev_app(_Body([b"a", b"b"]), extra_message=True)
    assert [m.get("body") for m in sent] == [None, b"a", b"b", b""]
    # A failing send: the stream stops, nothing more is sent, the body is closed.
    sent = _run_dev_app(_Body([b"a", b"b"]), send_fails=True)
    assert [m["type"] for m in sent] == ["http.response.start"]
    # The client leaves while the app is busy: the end of the response is not sent.
    sent = _run_dev_app(_Body([b"first"], wait=threading.Event()), leave_after_first=True)
    assert [m.get("body") for m in sent] == [None, b"first"]


def test_stream_wsgi_start_response_rules() -> None:
    from erlen.asgi import _ClientGone, _stream_wsgi

    def run(wsgi_app: t.Any, emit: t.Any = None, head: bool = False) -> list[dict[str, t.Any]]:
        messages: list[dict[str, t.Any]] = []
        _stream_wsgi(wsgi_app, {}, emit or messages.append, threading.Event(), head)
        return messages

    # An empty body: the headers go with the end.
    def empty(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("204 No Content", [("X-A", "b")])
        return []

    assert run(empty) == [
        {"type": "http.response.start", "status": 204, "headers": [(b"x-a", b"b")]},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]

    # No start_response at all is the app's bug, said plainly.
    with pytest.raises(RuntimeError, match="did not call start_response"):
        run(lambda environ, start_response: [])

    # exc_info once the headers went out re-raises the app's error.
    def late_error(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"sent")
        try:
            raise KeyError("late")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return []  # pragma: no cover - start_response raised

    with pytest.raises(KeyError, match="late"):
        run(late_error)

    # HEAD: the headers, no body bytes.
    def body(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"data"]

    assert [m.get("body") for m in run(body, head=True)] == [None, b""]

    # The client gone while emitting: the stream stops quietly, the iterable is closed.
    closing = _Body([b"a", b"b"])

    def gone_app(environ: dict[str, t.Any], start_response: t.Any) -> _Body:
        start_response("200 OK", [])
        return closing

    def emit(message: dict[str, t.Any]) -> None:
        if message["type"] == "http.response.body":
            raise _ClientGone

    assert run(gone_app, emit=emit) == []
    assert closing.closed.is_set()


# -- the reloader's watcher, in process ---------------------------------------------------


def test_excluded_roots_outside_a_virtualenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import site
    import sysconfig

    stdlib, site_dir, user_site = (tmp_path / name for name in ("stdlib", "site", "user"))
    # A scheme without some keys, the user site on, no virtualenv.
    monkeypatch.setattr(
        sysconfig, "get_paths", lambda: {"stdlib": str(stdlib), "scripts": str(tmp_path / "bin")}
    )
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(site_dir)])
    monkeypatch.setattr(site, "ENABLE_USER_SITE", True)
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(user_site))
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    assert erlen.reloader._excluded_roots() == sorted(
        os.path.realpath(p) for p in (stdlib, site_dir, user_site)
    )


_SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]


def _reloader(args: list[str]) -> tuple[erlen.reloader.Reloader, socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    return erlen.reloader.Reloader(sock, args=args), sock


@posix_only
def test_reloader_kills_a_child_that_ignores_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)"
    reloader, sock = _reloader([sys.executable, "-c", code])
    reloader.stop_timeout = 0.2
    # Started here rather than by start_child, to know when SIGTERM is ignored.
    child = reloader.child = subprocess.Popen(reloader.args, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        reloader.stop_child()
        assert child.returncode == -signal.SIGKILL
        assert reloader.child is None
    finally:
        if child.poll() is None:  # pragma: no cover - only when the test fails
            child.kill()
            child.wait(5)
        if child.stdout is not None:
            child.stdout.close()
        sock.close()


@posix_only
def test_reloader_reports_a_child_exit_once(capsys: pytest.CaptureFixture[str]) -> None:
    reloader, sock = _reloader([sys.executable, "-c", "import sys; sys.exit(3)"])
    try:
        reloader._report_exit()  # no child yet: nothing to say
        reloader.start_child()
        assert reloader.child is not None
        reloader.child.wait(10)
        reloader._report_exit()
        reloader._report_exit()
        out = capsys.readouterr().out
        assert out.count("The server exited with status 3") == 1
        # A running child: nothing said.
        reloader.args = _SLEEPER
        reloader.start_child()
        reloader._report_exit()
        assert "exited" not in capsys.readouterr().out
    finally:
        reloader.stop_child()
        sock.close()


def _ask(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


@posix_only
def test_watcher_answers_while_no_child_serves(capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: a child that exited left the watcher's socket listening with
    # nobody accepting, and requests hung until the next edit.
    reloader, sock = _reloader([sys.executable, "-c", "import sys; sys.exit(3)"])
    port = sock.getsockname()[1]
    try:
        reloader.start_child()
        assert reloader.child is not None
        reloader.child.wait(10)
        reloader._report_exit()
        for _ in range(2):  # each request is answered, the stand-in goes on
            answer = _ask(port)
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"exited with status 3" in answer
        standin = reloader._standin
        assert standin is not None
        # A new child takes over the socket; the stand-in stops first.
        reloader.args = _SLEEPER
        reloader.start_child()
        assert reloader._standin is None and not standin._thread.is_alive()
    finally:
        reloader.stop_child()
        sock.close()


@posix_only
def test_watcher_standin_survives_a_silent_client(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reloader, sock = _reloader([sys.executable, "-c", "import sys; sys.exit(1)"])
    port = sock.getsockname()[1]
    monkeypatch.setattr(erlen.reloader._StandIn, "client_timeout", 0.2)
    try:
        reloader.start_child()
        assert reloader.child is not None
        reloader.child.wait(10)
        reloader._report_exit()
        # A client that connects and sends nothing is given up on, and one
        # that leaves at once changes nothing: the next request is answered.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            time.sleep(0.4)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert _ask(port).startswith(b"HTTP/1.1 503 ")
    finally:
        reloader._stop_standin()
        sock.close()


@posix_only
def test_reloader_run_restarts_on_a_change(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # watchfiles replaced by a fixed sequence: a quiet tick, then one change,
    # then the end of watching. Run on a thread, where no SIGTERM handler can be set.
    import importlib.util

    import watchfiles

    changed = tmp_path / "app.py"
    changed.write_text("x = 1\n")
    cached = Path(importlib.util.cache_from_source(str(changed)))
    _touch(cached)
    children: list[subprocess.Popen[bytes]] = []

    def fake_watch(*roots: str, **kwargs: t.Any) -> t.Iterator[set[tuple[t.Any, str]]]:
        assert kwargs["watch_filter"] is reloader.paths and kwargs["recursive"] is False
        yield set()
        assert reloader.child is not None
        children.append(reloader.child)
        yield {(watchfiles.Change.modified, str(changed))}
        assert reloader.child is not None
        children.append(reloader.child)

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    reloader, sock = _reloader(_SLEEPER)
    handler = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=reloader.run, daemon=True)
    try:
        thread.start()
        thread.join(20)
        assert not thread.is_alive()
        assert len(children) == 2 and children[0] is not children[1]
        # Both children stopped: the first by the restart, the second when watching ended.
        assert all(child.poll() is not None for child in children)
        assert not cached.exists()
        out = capsys.readouterr().out
        assert out.count(" * Restarting with watchfiles") == 2
        assert f" * Detected change in {str(changed)!r}, reloading" in out
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        for child in children:
            if child.poll() is None:  # pragma: no cover - only when the test fails
                child.kill()
                child.wait(5)
        sock.close()


def test_reloader_run_when_the_child_cannot_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The error reaches the caller, and the SIGTERM handler is given back.
    reloader, sock = _reloader([str(tmp_path / "no-such-python")])
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(FileNotFoundError):
            reloader.run()
        assert reloader.child is None
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        sock.close()
