"""Real servers for tests: a free port, a bounded wait, uvicorn in a thread or a process.

Shared by ``tests/test_asgi.py``, ``tests/test_uvicorn_sync_app.py`` and the
browser tests (a module of its own so that any of them can import it by
name). Every server here binds 127.0.0.1, serves for a bounded time even if
nobody stops it, and is stopped by whoever started it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import typing as t
from pathlib import Path

from erlen.pytest_plugin import LiveServer

HOST = "127.0.0.1"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, alive: t.Callable[[], bool] | None = None
) -> None:
    """Return once ``port`` on 127.0.0.1 accepts a connection.

    :param alive: Asked between tries; a server that has exited stops the wait.
    :raises RuntimeError: After ``timeout`` seconds, or once ``alive()`` is false.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            if alive is not None and not alive():
                raise RuntimeError(
                    f"the server for port {port} exited before it listened"
                ) from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listened on port {port} within {timeout} s") from None
            time.sleep(0.05)


class UvicornLiveServer(LiveServer):
    """uvicorn serving an app in a thread on 127.0.0.1 and a free port.

    It has :class:`~erlen.pytest_plugin.LiveServer`'s interface (``url``,
    ``url_for``, ``start``, ``stop``, a ``with`` block), so a test written
    against the WSGI live server runs unchanged on the app's ASGI side.
    It stops by itself after ``lifetime`` seconds.
    """

    def __init__(
        self, app: t.Any, lifetime: float = 60.0, lifespan: str = "on", log_level: str = "warning"
    ) -> None:
        import uvicorn

        super().__init__(app, HOST)
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self._bound_port = int(self.sock.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan=lifespan))
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name=f"uvicorn-{self._bound_port}",
            daemon=True,
        )
        self.timer = threading.Timer(lifetime, self._exit)
        self.timer.daemon = True

    @property
    def port(self) -> int:
        return self._bound_port

    def _exit(self) -> None:
        self.server.should_exit = True

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        self.timer.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        self._exit()
        self.timer.cancel()
        if self.thread.is_alive():
            self.thread.join(timeout)
        self.sock.close()
        assert not self.thread.is_alive(), "uvicorn did not stop"

    def __enter__(self) -> UvicornLiveServer:
        self.start()
        return self

    def __repr__(self) -> str:
        return f"<UvicornLiveServer {self.url}>"


class ServerProcess:
    """A server command run in a folder, its stdout and stderr kept in a file.

    ``{port}`` in the command becomes a free port. Used as a ``with`` block:
    entering waits (bounded) until the port accepts connections; leaving
    terminates the process (kills it if it lingers). A timer kills it after
    ``lifetime`` seconds whatever the test does.
    """

    def __init__(
        self,
        command: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        lifetime: float = 120.0,
    ) -> None:
        self.port = free_port()
        self.command = [part.format(port=self.port) for part in command]
        self.cwd = cwd
        self.env = env
        self.lifetime = lifetime
        self.log_path = cwd / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        """Everything the server wrote so far (stdout and stderr together)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> ServerProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._timer = threading.Timer(self.lifetime, self.proc.kill)
        self._timer.daemon = True
        self._timer.start()
        proc = self.proc
        try:
            wait_for_port(self.port, alive=lambda: proc.poll() is None)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError(f"{e}: {' '.join(self.command)}\n{self.output()}") from None
        return self

    def stop(self) -> None:
        """Terminate the server and wait for it (10 s, then kill)."""
        if self._timer is not None:
            self._timer.cancel()
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Erlen's settings (no debug mode, no reloader state)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ERLEN_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def http_scope(path: str = "/", method: str = "GET") -> dict[str, t.Any]:
    """An ASGI ``http`` scope as a server would send it, for driving an app in process."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 4321),
        "server": ("localhost", 80),
    }
