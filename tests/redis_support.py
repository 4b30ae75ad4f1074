"""A real ``redis-server`` for tests: Debian's package, on 127.0.0.1 and a free port.

The tests of server-side sessions, broadcast and background work talk to a
real Redis, never a fake. :class:`RedisServer` starts one with persistence
off in a temporary folder, can stop, kill and restart it on the same port
(the fault tests), and always stops it at the end.

Without ``redis-server`` on the machine the tests that need it skip with a
message saying how to install it; ``.ci/run`` installs it and sets
``ERLEN_REDIS_TESTS=require``, which turns that skip into an error, as
``ERLEN_BROWSER_TESTS=require`` does for Chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import typing as t

HOST = "127.0.0.1"

HOW_TO_INSTALL = (
    "run .ci/run (it installs it), or: apt-get install -y redis-server"
    " (Debian's package; the tests start their own server on a free port)"
)


def redis_server_path() -> str | None:
    """The ``redis-server`` executable (``ERLEN_REDIS_SERVER`` overrides), or ``None``."""
    return os.environ.get("ERLEN_REDIS_SERVER") or shutil.which("redis-server")


def missing() -> str | None:
    """Why the Redis tests can't run here, or ``None`` if they can."""
    if redis_server_path() is None:
        return "redis-server not found"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis Python package is not installed (pip install -e .[dev])"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, persistence off.

    ``url`` stays the same across :meth:`stop`/:meth:`start`, so a client
    configured once reconnects to the restarted server by itself.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="erlen-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and return once it answers ``PING``."""
        exe = redis_server_path()
        if exe is None:
            raise RuntimeError(f"redis-server not found; {HOW_TO_INSTALL}")
        self.proc = subprocess.Popen(
            [
                exe,
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--protected-mode",
                "yes",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {timeout} s")
            time.sleep(0.02)
        return self

    def ping(self) -> bool:
        """Whether a server answers ``PING`` on the port (raw RESP, no client state)."""
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush(self) -> None:
        """Empty every database (between tests that share the server)."""
        import redis

        redis.Redis.from_url(self.url).flushall()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (``SIGKILL`` for a crash) and wait for it to exit."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: t.Any) -> None:
        self.close()
