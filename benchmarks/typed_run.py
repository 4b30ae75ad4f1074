"""Typed views: Erlen vs FastAPI vs APIFlask on a validated JSON POST and a typed GET.

Usage (from the repository root)::

    .venv/bin/python benchmarks/typed_run.py            # in process, then under uvicorn
    .venv/bin/python benchmarks/typed_run.py --quick    # shorter repeats, fewer requests
    .venv/bin/python benchmarks/typed_run.py --no-e2e   # in process only

The apps are in ``typed_apps.py``. In process, each request goes straight to
the app's callable (WSGI for APIFlask and Erlen's WSGI side, ASGI for
FastAPI and Erlen's ASGI side), is checked once, then timed: the best of the
repeats (interleaved across frameworks) gives microseconds per request, and
the ratios are Erlen's to FastAPI's and to APIFlask's (targets: at most 0.5x
and 0.2x). End to end, each app is served by uvicorn (one worker, in a
subprocess; APIFlask with ``--interface wsgi``) and a small asyncio load
generator keeps keep-alive connections busy for a bounded number of
requests; the cost per request is the inverse of the requests per second.
``fastapi`` and ``apiflask`` are in the dev extra.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import typed_apps  # noqa: E402

CASES = {
    "post": ("POST", b"/bookmarks", b"", typed_apps.POST_BODY, 201, typed_apps.POST_ANSWER),
    "query": ("GET", b"/bookmarks", typed_apps.QUERY, b"", 200, typed_apps.QUERY_ANSWER),
}

#: name → (interface, maker)
FRAMEWORKS: dict[str, tuple[str, Any]] = {
    "erlen-wsgi": ("wsgi", lambda: typed_apps.make_erlen()),
    "erlen-asgi": ("asgi", lambda: typed_apps.make_erlen(asynchronous=True)),
    "fastapi": ("asgi", typed_apps.make_fastapi),
    "apiflask": ("wsgi", typed_apps.make_apiflask),
}


def _wsgi_caller(app: Any, case: str) -> Any:
    method, path, query, body, _, _ = CASES[case]
    base = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.decode(),
        "QUERY_STRING": query.decode(),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        base["CONTENT_TYPE"] = "application/json"
        base["CONTENT_LENGTH"] = str(len(body))
    seen: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen.append(status)
        return None

    def call(n: int) -> tuple[int, bytes]:
        out = b""
        for _ in range(n):
            environ = dict(base)
            environ["wsgi.input"] = io.BytesIO(body)
            result = app(environ, start_response)
            try:
                out = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return int(seen[-1].split()[0]), out

    return call


def _asgi_caller(app: Any, case: str) -> Any:
    method, path, query, body, _, _ = CASES[case]
    headers = [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "root_path": "",
        "method": method,
        "path": path.decode(),
        "raw_path": path,
        "query_string": query,
        "headers": headers,
        "state": {},
    }
    message = {"type": "http.request", "body": body, "more_body": False}

    async def call(n: int) -> tuple[int, bytes]:
        status = 0
        out: list[bytes] = []
        for _ in range(n):
            out.clear()

            async def receive() -> dict[str, Any]:
                return message

            async def send(msg: dict[str, Any]) -> None:
                nonlocal status
                if msg["type"] == "http.response.start":
                    status = msg["status"]
                elif msg["type"] == "http.response.body":
                    out.append(msg.get("body", b""))

            await app(dict(scope), receive, send)
        return status, b"".join(out)

    return call


def in_process(names: list[str], repeats: int, target_s: float) -> dict[str, dict[str, float]]:
    """Microseconds per request, per case and framework (best of ``repeats``)."""
    results: dict[str, dict[str, float]] = {case: {} for case in CASES}

    async def main() -> None:
        apps = {name: FRAMEWORKS[name][1]() for name in names}
        for case, (_, _, _, _, status, answer) in CASES.items():
            timers = {}
            for name, app in apps.items():
                if FRAMEWORKS[name][0] == "wsgi":
                    sync = _wsgi_caller(app, case)

                    async def caller(n: int, sync: Any = sync) -> tuple[int, bytes]:
                        return sync(n)
                else:
                    caller = _asgi_caller(app, case)
                got_status, body = await caller(1)
                if got_status != status or json.loads(body) != answer:
                    raise AssertionError(f"{name} {case}: {got_status} {body[:200]!r}")
                n = 10
                while True:
                    start = time.perf_counter()
                    await caller(n)
                    took = time.perf_counter() - start
                    if took > target_s / 4:
                        break
                    n *= 4
                timers[name] = (caller, max(10, int(n * target_s / took)))
            for _ in range(repeats):
                for name, (caller, n) in timers.items():
                    start = time.perf_counter()
                    await caller(n)
                    usec = (time.perf_counter() - start) / n * 1e6
                    best = results[case].get(name)
                    results[case][name] = usec if best is None else min(best, usec)

    asyncio.run(main())
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raw_request(case: str, port: int) -> bytes:
    method, path, query, body, _, _ = CASES[case]
    target = path + (b"?" + query if query else b"")
    head = f"{method} {target.decode()} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _load(
    port: int, case: str, total: int, connections: int, deadline: float
) -> tuple[int, float]:
    """Send ``total`` requests over ``connections`` keep-alive connections; (done, seconds)."""
    request = _raw_request(case, port)
    expected = f"HTTP/1.1 {CASES[case][4]}".encode()
    done = 0

    async def worker(count: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(count):
                if time.monotonic() > deadline:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                assert head.startswith(expected), head[:40]
                done += 1
        finally:
            writer.close()

    start = time.perf_counter()
    per = total // connections
    await asyncio.wait_for(
        asyncio.gather(*(worker(per) for _ in range(connections))),
        max(1.0, deadline - time.monotonic() + 5),
    )
    return done, time.perf_counter() - start


#: name → (uvicorn app, interface)
SERVED = {
    "erlen": ("typed_apps:erlen_app", "asgi3"),
    "fastapi": ("typed_apps:fastapi_app", "asgi3"),
    "apiflask": ("typed_apps:apiflask_app", "wsgi"),
}


def end_to_end(
    names: list[str], total: int, connections: int, max_seconds: float
) -> dict[str, dict[str, float]]:
    """Microseconds per request (1 / requests per second) under uvicorn, per case and app."""
    results: dict[str, dict[str, float]] = {case: {} for case in CASES}
    for name in names:
        target, interface = SERVED[name]
        port = _free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--interface",
            interface,
            "--host",
            "127.0.0.1",
        ]
        cmd += [
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ]
        proc = subprocess.Popen(cmd, cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)})
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError(f"uvicorn did not start for {name}") from None
                    time.sleep(0.1)
            for case in CASES:
                asyncio.run(_load(port, case, connections * 20, connections, time.monotonic() + 10))
                done, took = asyncio.run(
                    _load(port, case, total, connections, time.monotonic() + max_seconds)
                )
                results[case][name] = took / done * 1e6
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    return results


def _table(results: dict[str, dict[str, float]], erlen: list[str]) -> str:
    names = list(next(iter(results.values())))
    lines = [
        "| case | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"{e} / {peer}" for e in erlen for peer in ("fastapi", "apiflask"))
        + " |"
    ]
    lines.append("|---" * (1 + len(names) + 2 * len(erlen)) + "|")
    for case, row in results.items():
        cells = [f"{row[n]:.1f} µs" for n in names]
        cells += [f"{row[e] / row[p]:.2f}×" for e in erlen for p in ("fastapi", "apiflask")]
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter repeats and fewer requests")
    parser.add_argument("--no-e2e", action="store_true", help="skip the uvicorn run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    repeats, target = (3, 0.1) if args.quick else (7, 0.25)
    report: dict[str, Any] = {}
    print("In process (µs per request, best of the repeats):", flush=True)
    report["in_process"] = in_process(list(FRAMEWORKS), repeats, target)
    print(_table(report["in_process"], ["erlen-wsgi", "erlen-asgi"]), flush=True)
    if not args.no_e2e:
        total, connections = (2_000, 10) if args.quick else (10_000, 10)
        print(
            f"\nUnder uvicorn (1 worker, {connections} keep-alive connections, {total} requests; µs per request):",
            flush=True,
        )
        report["uvicorn"] = end_to_end(list(SERVED), total, connections, 60)
        print(_table(report["uvicorn"], ["erlen"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
