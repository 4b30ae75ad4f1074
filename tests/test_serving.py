"""The development server and its reloader.

The end-to-end tests start real processes; every wait in them is bounded,
and the process group is killed whatever happens.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
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

import erlen.reloader
import erlen.serving
from erlen import Erlen, request
from erlen.reloader import WatchedPaths, module_dirs
from erlen.serving import make_server

posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups and descriptor passing are POSIX")


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
    dirs = module_dirs([_module(app_file), _module(generated)], exclude_patterns=["*/generated/*"], excluded_roots=[])
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
    assert counts(tmp_path / "missing" / "later.cfg")  # listed, even if its folder can't be watched yet


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
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.read() == b"from the inherited socket"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_run_simple_without_reloader_ignores_reloader_options(monkeypatch: pytest.MonkeyPatch, app: Erlen) -> None:
    class FakeServer:
        server_address = ("127.0.0.1", 4321)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    monkeypatch.setattr(erlen.serving, "make_server", lambda *a, **k: FakeServer())
    monkeypatch.setattr(erlen.serving, "Reloader", None)  # must not be reached
    erlen.serving.run_simple("127.0.0.1", 0, app, extra_files=["x"], exclude_patterns=["*.tmp"], reloader_interval=1)


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
                raise AssertionError(f"no line matching {pattern!r} in {timeout}s; output:\n" + "\n".join(self.lines))
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
def test_reloader_end_to_end(reloading_app: tuple[subprocess.Popen[str], _Output, Path, str]) -> None:
    proc, output, source, url = reloading_app
    output.wait_for(r"^ \* Restarting with watchfiles$", timeout=5)
    _poll(url, "v1", timeout=15)

    # An excluded file next to the app changes nothing.
    (source.parent / "scratch_ignored.py").write_text("x = 1\n")

    source.write_text(APP_SOURCE.format(body="v2"))
    reload_time = _poll(url, "v2", timeout=15)
    output.wait_for(rf"^ \* Detected change in '{re.escape(str(source.resolve()))}', reloading$", timeout=5)
    assert "scratch_ignored" not in output.drain()

    # A syntax error: the child can't start, the watcher reports it and waits.
    source.write_text(APP_SOURCE.format(body="v2").replace("def index():", "def index(:"))
    output.wait_for(r"SyntaxError", timeout=15)
    output.wait_for(r"^ \* The server exited with status 1; restarting when a file changes\.$", timeout=5)
    assert proc.poll() is None

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


@posix_only
def test_reloader_sigterm_to_watcher_stops_the_child(reloading_app: tuple[subprocess.Popen[str], _Output, Path, str]) -> None:
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
    watched = WatchedPaths(extra_files=str(extra), exclude_patterns="*.tmp", modules=[], excluded_roots=[])
    assert watched.extra_files == {str(extra)}
    assert watched.exclude_patterns == ("*.tmp",)


# -- the fallback server's HTTP/1.1 (issue 15, finding 6) -----------------------------


class _RawServer:
    """``make_server`` on 127.0.0.1 and a free port, serving in a thread, for raw requests."""

    def __init__(self, app: t.Any) -> None:
        self.server = make_server("127.0.0.1", 0, app)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

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
            sock.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nWiki\r\n0\r\n\r\n")
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
            _, status, headers, body = _read_response(rfile)  # no chunking for 1.0: read to the close
            assert (status, headers["connection"], body) == (200, "close", b"one two")
        finally:
            sock.close()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", id="nul-request-line"),  # NUL in the request line
        pytest.param(b"GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", id="cr-request-line"),  # bare CR in the request line
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", id="nul-header"),  # NUL in a header
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n", id="bare-cr-header"),  # bare CR in a header
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n", id="obs-fold"),  # obs-fold
        pytest.param(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", id="space-before-colon"),  # whitespace before the colon
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", id="two-hosts"),  # two Host headers
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="no-host"),  # no Host on HTTP/1.1
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", id="two-lengths"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", id="length-list"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", id="signed-length"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", id="length-and-chunked"),
        pytest.param(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n", id="chunked-not-last"),
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
