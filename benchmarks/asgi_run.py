"""ASGI benchmarks: Erlen, Starlette and Quart through their ASGI callables, in one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/asgi_run.py            # in-process cases, then uvicorn end to end
    .venv/bin/python benchmarks/asgi_run.py --quick    # shorter repeats, fewer requests
    .venv/bin/python benchmarks/asgi_run.py --no-e2e   # in-process only

In process: every case is checked on every framework (every request of the
pool of the varied traffic, the headline, and the one request of the fixed
traffic), then timed with repeats interleaved across frameworks; the best repeat gives microseconds
per request and the ratio to Starlette (Erlen's target: at most 0.8x).
End to end: each app is served by uvicorn (one worker, in a subprocess) on
127.0.0.1 and a free port; a small asyncio load generator keeps a fixed
number of keep-alive connections busy for a bounded number of requests
(and at most a bounded time) and reports requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from asgi_cases import CASES, FRAMEWORKS, Lifespan, make_caller  # noqa: E402
from baseline import import_apps  # noqa: E402
from load import free_port, load  # noqa: E402


def create_app(name: str) -> Any:
    """The app of framework ``name``; ``erlen@REV``: the Erlen app on Erlen at git revision REV."""
    name, _, rev = name.partition("@")
    return import_apps(FRAMEWORKS[name], rev).create_app()


def in_process(
    frameworks: list[str],
    repeats: int,
    target_s: float,
    clock: Any = time.thread_time,
    traffic: str = "varied",
    pool_size: int = 2048,
) -> dict[str, dict[str, float]]:
    """Microseconds per request, per case and framework (best of ``repeats``)."""
    results: dict[str, dict[str, float]] = {case.name: {} for case in CASES}

    async def main() -> None:
        apps = {name: create_app(name) for name in frameworks}
        spans = [Lifespan(app) for app in apps.values()]
        for span in spans:
            await span.__aenter__()
        try:
            for case in CASES:
                callers = {}
                requests = case.requests(traffic, pool_size)
                for name, app in apps.items():
                    for request in requests:
                        status, body = await make_caller(app, [request])(1)
                        case.check(status, body, request)
                    caller = make_caller(app, requests)
                    # Calibrate: enough calls for one repeat to last target_s.
                    n = 10
                    while True:
                        start = clock()
                        await caller(n)
                        took = max(clock() - start, 1e-6)
                        if took > target_s / 4:
                            break
                        n *= 4
                    callers[name] = (caller, max(10, int(n * target_s / took)))
                for _ in range(repeats):
                    for name, (caller, n) in callers.items():
                        start = clock()
                        await caller(n)
                        usec = (clock() - start) / n * 1e6
                        best = results[case.name].get(name)
                        results[case.name][name] = usec if best is None else min(best, usec)
        finally:
            for span in spans:
                await span.__aexit__()

    asyncio.run(main())
    return results


async def _load(
    port: int, path: str, total: int, connections: int, deadline: float
) -> tuple[int, float]:
    """Send ``total`` GET requests of ``path``; (done, seconds)."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    return await load(port, request, b"HTTP/1.1 200", total, connections, deadline)


def end_to_end(
    frameworks: list[str], total: int, connections: int, max_seconds: float
) -> dict[str, dict[str, float]]:
    """Requests per second under uvicorn for ``/`` (hello) and ``/json``."""
    out: dict[str, dict[str, float]] = {}
    for name in frameworks:
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{FRAMEWORKS[name]}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "on",
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
            out[name] = {}
            for label, path in (("hello", "/"), ("json", "/json")):
                asyncio.run(
                    _load(port, path, connections * 20, connections, time.monotonic() + 10)
                )  # warm-up
                done, took = asyncio.run(
                    _load(port, path, total, connections, time.monotonic() + max_seconds)
                )
                out[name][label] = done / took
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter repeats and fewer requests")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated subset")
    parser.add_argument("--no-e2e", action="store_true", help="skip the uvicorn run")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="in process, also time Erlen as of git revision REV (erlen@REV)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="requests per end-to-end case (default 20000, quick 5000)",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--traffic",
        choices=("both", "varied", "fixed"),
        default="both",
        help="in process: varied (a pool of distinct requests, the headline), fixed (one "
        "request over and over) or both (default)",
    )
    parser.add_argument(
        "--pool", type=int, default=2048, help="distinct requests per case when varied"
    )
    parser.add_argument(
        "--clock",
        choices=("thread", "wall"),
        default="thread",
        help="in process: this thread's CPU time (default; steady on a shared machine) or wall time",
    )
    args = parser.parse_args(argv)
    frameworks = [f for f in args.frameworks.split(",") if f]
    versions = {}
    for name in frameworks:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "?"
    baseline = f"erlen@{args.baseline}" if args.baseline else None
    if baseline:
        frameworks.insert(frameworks.index("erlen") + 1 if "erlen" in frameworks else 0, baseline)
    print(f"Python {sys.version.split()[0]}; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    repeats, target = (3, 0.1) if args.quick else (7, 0.25)
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    traffics = {"both": ("varied", "fixed"), "varied": ("varied",), "fixed": ("fixed",)}[
        args.traffic
    ]
    width = max(12, *(len(name) + 2 for name in frameworks))
    ratios = [("starlette", "erlen/star"), *([(baseline, "erlen/old")] if baseline else [])]
    for traffic in traffics:
        results = in_process(frameworks, repeats, target, clock, traffic, args.pool)
        what = (
            f"varied traffic, the headline: {args.pool} distinct requests per case"
            if traffic == "varied"
            else "fixed traffic: one request over and over"
        )
        print(
            f"\nIn process, through each ASGI callable, {what} (µs per request, {args.clock} "
            f"clock, best of {repeats}; ratio of erlen to Starlette"
            + (f" and to {baseline}" if baseline else "")
            + "):"
        )
        print(
            f"{'case':<10}"
            + "".join(f"{name:>{width}}" for name in frameworks)
            + "".join(f"{label:>12}" for _, label in ratios)
        )
        worst = 0.0
        for case, row in results.items():
            line = f"{case:<10}" + "".join(f"{row[name]:>{width}.2f}" for name in frameworks)
            for other, _ in ratios:
                if "erlen" in row and other in row:
                    ratio = row["erlen"] / row[other]
                    line += f"{ratio:>11.3f}x"
                    if other == "starlette":
                        worst = max(worst, ratio)
            print(line)
        if worst:
            print(
                f"target <= 0.80x Starlette: {'met' if worst <= 0.8 else 'MISSED'} "
                f"(worst {worst:.2f}x)"
            )
    if not args.no_e2e:
        total = args.requests or (5000 if args.quick else 20000)
        frameworks = [
            name for name in frameworks if name != baseline
        ]  # under uvicorn: the installed ones
        rps = end_to_end(frameworks, total, args.connections, 30.0)
        print(
            f"\nEnd to end under uvicorn (1 worker, {args.connections} keep-alive connections, {total} requests; requests/second):"
        )
        print(f"{'case':<10}" + "".join(f"{name:>12}" for name in frameworks))
        for label in ("hello", "json"):
            print(f"{label:<10}" + "".join(f"{rps[name][label]:>12.0f}" for name in frameworks))
    return 0


if __name__ == "__main__":
    import importlib.metadata

    raise SystemExit(main())
