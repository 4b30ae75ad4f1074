"""The ``session`` case per session store: Erlen's cookie session, Redis, SQLite.

A separate script because ``run.py`` compares frameworks side by side, while
this compares one framework's session interfaces. Three requests, each sent
with the session cookie the app itself set:

* ``write``: ``GET /session`` reads ``n`` and stores ``n + 1`` (a read and a
  write: two store round trips for Redis and SQLite);
* ``read``: ``GET /read`` reads ``n`` (one round trip; with
  ``SESSION_REFRESH_EACH_REQUEST`` on, Redis' ``GETEX`` also refreshes the TTL);
* ``untouched``: ``GET /plain`` never touches ``session`` (no store call:
  the Redis and SQLite apps should cost what the cookie app costs).

Redis is a ``redis-server`` started on a free port of 127.0.0.1 (persistence
off), or ``--redis-url``; SQLite is a file in a temporary folder. Timing is
``harness.py``'s (best of the repeats, the repeats of the three apps
interleaved), in process over WSGI, so the figures include the round trips
to a local Redis but no HTTP server.

Usage: ``.venv/bin/python benchmarks/session_stores.py [--quick] [--redis-url URL]``
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from cases import Case
from harness import calibrate, call_once, make_environ, timed_repeat

from erlen import Erlen, session
from erlen.session_stores import RedisSessionInterface, SQLiteSessionInterface

STORES = ("cookie", "redis", "sqlite")
CASES = (
    Case("write", "read n, store n + 1", "session", "GET", "/session"),
    Case("read", "read n", "session", "GET", "/read"),
    Case("untouched", "no session use", "session", "GET", "/plain"),
)


def create_app(store: str, redis_url: str, folder: Path) -> Erlen:
    """The ``session`` benchmark app with the given session interface."""
    app = Erlen(f"bench_{store}")
    app.secret_key = "benchmark secret key"
    if store == "redis":
        app.session_interface = RedisSessionInterface(redis_url)
    elif store == "sqlite":
        app.session_interface = SQLiteSessionInterface(str(folder / "sessions.sqlite3"))

    @app.route("/session")
    def write() -> str:
        n = session.get("n", 0) + 1
        session["n"] = n
        return f"n={n}"

    @app.route("/read")
    def read() -> str:
        return f"n={session.get('n', 0)}"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on 127.0.0.1 and a free port, persistence off."""
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server not found: apt-get install redis-server, or pass --redis-url")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                sys.exit("redis-server did not start")
            time.sleep(0.02)
    return proc, f"redis://127.0.0.1:{port}/0"


def _cookie_environ(app: Erlen, case: Case) -> dict[str, t.Any]:
    """The case's environ, carrying the session cookie the app set (``n=1``)."""
    first = call_once(app, make_environ(CASES[0]), None)
    cookie = next(v for k, v in first.headers if k.lower() == "set-cookie").split(";", 1)[0]
    environ = make_environ(case)
    environ["HTTP_COOKIE"] = cookie
    return environ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats of 0.1 s")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    args = parser.parse_args()
    repeat, target = (3, 0.1) if args.quick else (args.repeat, 0.2)
    folder = Path(tempfile.mkdtemp(prefix="erlen-bench-sessions-"))
    redis_proc = None
    try:
        redis_url = args.redis_url
        if redis_url is None:
            redis_proc, redis_url = start_redis(folder)
        apps = {store: create_app(store, redis_url, folder) for store in STORES}
        results: dict[tuple[str, str], float] = {}
        for case in CASES:
            environs = {store: _cookie_environ(apps[store], case) for store in STORES}
            for store in STORES:
                rv = call_once(apps[store], environs[store], None)
                assert rv.status.startswith("200"), (store, case.name, rv.status, rv.body)
            numbers = {
                store: calibrate(apps[store], environs[store], None, 0.1, target)
                for store in STORES
            }
            best = {store: float("inf") for store in STORES}
            for i in range(repeat):
                order = STORES[i % 3 :] + STORES[: i % 3]
                for store in order:
                    us = timed_repeat(apps[store], environs[store], None, numbers[store])
                    best[store] = min(best[store], us)
            for store in STORES:
                results[case.name, store] = best[store]
            print(f"  {case.name} done", file=sys.stderr)
        print(f"Erlen session interfaces, µs per request (best of {repeat}), WSGI in process\n")
        print(
            f"| case      | {' | '.join(f'{s:>8}' for s in STORES)} | redis/cookie | sqlite/cookie |"
        )
        print(f"|-----------|{'|'.join('-' * 10 for _ in STORES)}|--------------|---------------|")
        for case in CASES:
            row = [results[case.name, s] for s in STORES]
            print(
                f"| {case.name:<9} | {' | '.join(f'{v:8.1f}' for v in row)} |"
                f" {row[1] / row[0]:11.2f}x | {row[2] / row[0]:12.2f}x |"
            )
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
