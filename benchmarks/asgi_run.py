"""ASGI benchmarks: Erlen, Starlette and Quart through their ASGI callables, in one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/asgi_run.py            # in-process cases, then uvicorn end to end
    .venv/bin/python benchmarks/asgi_run.py --quick    # shorter repeats, fewer requests
    .venv/bin/python benchmarks/asgi_run.py --no-e2e   # in-process only
    .venv/bin/python benchmarks/asgi_run.py --server granian --frameworks erlen,erlen-sync

In process: every case is checked on every framework (every request of the
pool of the varied traffic, the headline, and the one request of the fixed
traffic), then timed with repeats interleaved across frameworks; the best repeat gives microseconds
per request and the ratio to Starlette (Erlen's target: at most 0.8x).
``erlen-sync`` is Erlen with plain ``def`` views, whose code runs on a
worker thread: the default clock is the process's CPU time, which counts
that thread too.
End to end: each app is served by uvicorn or granian (one worker, in a
subprocess) on 127.0.0.1 and a free port; a small asyncio load generator keeps a fixed
number of keep-alive connections busy for a bounded number of requests
(and at most a bounded time) and reports requests per second, and the
server's CPU time per request (steadier than requests per second when other
work shares the machine). ``--server granian-wsgi`` serves the same apps
over granian's WSGI interface, to set a sync app's cost under ASGI beside
WSGI. ``--instructions`` counts instructions per request under callgrind,
in process; ``--served-instructions`` those of the server's processes.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import importlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from asgi_cases import CASES, FRAMEWORKS, Lifespan, make_caller  # noqa: E402
from baseline import import_apps  # noqa: E402
from load import free_port, load, stop_server, wait_until_serving  # noqa: E402


def create_app(name: str) -> Any:
    """The app of framework ``name``; ``erlen@REV``: the Erlen app on Erlen at git revision REV."""
    name, _, rev = name.partition("@")
    module, _, attribute = FRAMEWORKS[name].partition(":")
    return getattr(import_apps(module, rev), attribute)


def in_process(
    frameworks: list[str],
    repeats: int,
    target_s: float,
    clock: Any = time.process_time,
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


def server_command(server: str, target: str, port: int) -> list[str]:
    """The command serving ``target`` (``module:attribute``) with one worker on ``port``.

    ``granian-wsgi`` serves it over WSGI (Erlen's apps speak both): the
    same app and server with no thread hop, to compare with ``granian``.
    """
    if server.startswith("granian"):
        granian = str(Path(sys.executable).with_name("granian"))
        return [
            granian,
            "--interface",
            "wsgi" if server == "granian-wsgi" else "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-ws",
            target,
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
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


@functools.cache
def source_at(rev: str) -> Path:
    """A folder holding ``erlen`` as of git revision ``rev``, to put first on a server's path."""
    archive = subprocess.run(
        ["git", "archive", rev, "src/erlen"], cwd=HERE.parent, capture_output=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="erlen-e2e-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def process_tree(pid: int) -> dict[int, float]:
    """Process ``pid`` and its descendants: the CPU time (user and system) each used so far."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry))
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, todo = {}, [pid]
    while todo:
        current = todo.pop()
        tree[current] = times.get(current, 0.0)
        todo.extend(children.get(current, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by process ``pid`` and its descendants."""
    return sum(process_tree(pid).values())


def served_instructions(name: str, server: str, total: int = 1000) -> float:
    """Instructions per ``hello`` request of ``server``'s processes under callgrind.

    All their threads, user space only (not the kernel's share of a thread
    hop): callgrind dumps its counts (``callgrind_control --dump``) after a
    warm-up and after ``total`` requests from 4 connections.
    """
    valgrind = shutil.which("valgrind") or "/usr/bin/valgrind"
    framework, _, rev = name.partition("@")
    port = free_port()
    path = [str(source_at(rev)), str(HERE)] if rev else [str(HERE)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="erlen-served-callgrind-") as folder:
        command = [
            valgrind,
            "--tool=callgrind",
            "-q",
            "--trace-children=yes",
            f"--callgrind-out-file={folder}/cg.%p",
            *server_command(server, FRAMEWORKS[framework], port),
        ]
        proc = subprocess.Popen(
            command, cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def dump() -> int:
            before = len(list(Path(folder).glob("cg.*.*")))
            pids = list(process_tree(proc.pid))
            for pid in pids:
                subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True)
            deadline = time.monotonic() + 60
            while len(list(Path(folder).glob("cg.*.*"))) < before + len(pids):
                if time.monotonic() > deadline:
                    break  # a process that is no Python (a shell) writes nothing
                time.sleep(0.2)
            return sum(_summary(path) for path in Path(folder).glob("cg.*.*"))

        try:
            wait_until_serving(port, proc, f"{server} for {name}", 120, 0.5)
            asyncio.run(_load(port, "/", 300, 4, time.monotonic() + 120))  # warm-up
            first = dump()
            done, _ = asyncio.run(_load(port, "/", total, 4, time.monotonic() + 600))
            return (dump() - first) / done
        finally:
            stop_server(proc, 60)


def end_to_end(
    frameworks: list[str],
    total: int,
    connections: int,
    max_seconds: float,
    server: str = "uvicorn",
) -> dict[str, dict[str, float]]:
    """Requests per second under ``server`` for ``/`` (hello) and ``/json``, and CPU per request.

    ``<label>_cpu`` is the server's CPU time (all its processes and
    threads, user and system) per request in µs: unlike requests per
    second it barely moves when other work shares the machine. A name
    ``erlen@REV`` (or ``erlen-sync@REV``) serves Erlen as of git revision REV.
    """
    out: dict[str, dict[str, float]] = {}
    for name in frameworks:
        port = free_port()
        framework, _, rev = name.partition("@")
        cmd = server_command(server, FRAMEWORKS[framework], port)
        path = [str(source_at(rev)), str(HERE)] if rev else [str(HERE)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        proc = subprocess.Popen(cmd, cwd=HERE, env=env)
        try:
            wait_until_serving(port, proc, f"{server} for {name}", 20, 0.1)
            out[name] = {}
            for label, path in (("hello", "/"), ("json", "/json")):
                asyncio.run(
                    _load(port, path, connections * 20, connections, time.monotonic() + 10)
                )  # warm-up
                cpu = cpu_seconds(proc.pid)
                done, took = asyncio.run(
                    _load(port, path, total, connections, time.monotonic() + max_seconds)
                )
                out[name][f"{label}_cpu"] = (cpu_seconds(proc.pid) - cpu) / done * 1e6
                out[name][label] = done / took
        finally:
            stop_server(proc, 10)
    return out


#: Requests in the two segments of an instruction count, and before them.
N1, N2, WARMUP = 200, 1200, 100


def count_child(name: str, n1: int, n2: int, warmup: int) -> None:
    """Under callgrind: each case's fixed request, ``warmup`` + ``n1`` + ``n2`` times.

    ``os.getppid()`` (which nothing on the request path calls) marks the
    segment boundaries, where callgrind dumps its counts
    (``--dump-before=getppid``), as in ``instructions.py``.
    """

    async def run() -> None:
        app = create_app(name)
        async with Lifespan(app):
            for case in CASES:
                caller = make_caller(app, case.requests("fixed", 1))
                await caller(warmup)
                os.getppid()
                await caller(n1)
                os.getppid()
                await caller(n2)
                os.getppid()

    asyncio.run(run())


def instructions(frameworks: list[str], n1: int = N1, n2: int = N2) -> dict[str, dict[str, float]]:
    """Instructions per request (all threads of the process), per case and framework.

    The difference of two segments of ``n1`` and ``n2`` requests, divided by
    ``n2 - n1``: what a segment costs once cancels out. callgrind counts what
    runs in the process, not the kernel's work (the wake-ups of a thread
    hop), so this is the Python side of a request.
    """
    out: dict[str, dict[str, float]] = {}
    valgrind = shutil.which("valgrind") or "/usr/bin/valgrind"
    for name in frameworks:
        with tempfile.TemporaryDirectory(prefix="erlen-asgi-callgrind-") as folder:
            command = [
                valgrind,
                "--tool=callgrind",
                "--dump-before=getppid",
                f"--callgrind-out-file={folder}/cg.out",
                "-q",
                sys.executable,
                str(Path(__file__).resolve()),
                "--count-child",
                f"{name},{n1},{n2},{WARMUP}",
            ]
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            subprocess.run(command, cwd=HERE, env=env, check=True, timeout=1800)
            dumps = sorted(Path(folder).glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
            counts = [_summary(path) for path in dumps]
            out[name] = {
                case.name: (counts[3 * i + 2] - counts[3 * i + 1]) / (n2 - n1)
                for i, case in enumerate(CASES)
            }
    return out


def _summary(path: Path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split(":", 1)[1].split()[0])
    raise ValueError(f"no summary line in {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter repeats and fewer requests")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated subset")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end run")
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process run")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request under valgrind's callgrind (fixed traffic)",
    )
    parser.add_argument(
        "--served-instructions",
        action="store_true",
        help="count the server's instructions per hello request under callgrind (--server)",
    )
    parser.add_argument("--count-child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--server",
        choices=("uvicorn", "granian", "granian-wsgi", "both"),
        default="uvicorn",
        help="the server of the end-to-end run (both: uvicorn and granian; granian-wsgi: "
        "granian's WSGI interface, for Erlen only)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="in process, also time Erlen as of git revision REV (erlen@REV, erlen-sync@REV)",
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
        choices=("process", "thread", "wall"),
        default="process",
        help="in process: the process's CPU time (default; steady on a shared machine, and it "
        "counts erlen-sync's worker thread), this thread's CPU time, or wall time",
    )
    args = parser.parse_args(argv)
    if args.count_child:
        name, n1, n2, warmup = args.count_child.split(",")
        count_child(name, int(n1), int(n2), int(warmup))
        return 0
    frameworks = [f for f in args.frameworks.split(",") if f]
    versions = {}
    for name in frameworks:
        try:
            versions[name] = importlib.metadata.version(name.partition("-")[0])
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "?"
    baseline = f"erlen@{args.baseline}" if args.baseline else None
    if args.baseline:
        for erlen in ("erlen-sync", "erlen"):
            if erlen in frameworks:
                frameworks.insert(frameworks.index(erlen) + 1, f"{erlen}@{args.baseline}")
    print(f"Python {sys.version.split()[0]}; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    repeats, target = (3, 0.1) if args.quick else (7, 0.25)
    clock = {"process": time.process_time, "thread": time.thread_time, "wall": time.perf_counter}[
        args.clock
    ]
    traffics = {"both": ("varied", "fixed"), "varied": ("varied",), "fixed": ("fixed",)}[
        args.traffic
    ]
    width = max(12, *(len(name) + 2 for name in frameworks))
    # (numerator, denominator, label) of each ratio column.
    ratios = [("erlen", "starlette", "erlen/star")]
    if baseline:
        ratios.append(("erlen", baseline, "erlen/old"))
    ratios.append(("erlen-sync", "erlen", "sync/async"))
    if args.baseline:
        ratios.append(("erlen-sync", f"erlen-sync@{args.baseline}", "sync/old"))
    ratios = [r for r in ratios if r[0] in frameworks and r[1] in frameworks]
    for traffic in () if args.no_in_process else traffics:
        results = in_process(frameworks, repeats, target, clock, traffic, args.pool)
        what = (
            f"varied traffic, the headline: {args.pool} distinct requests per case"
            if traffic == "varied"
            else "fixed traffic: one request over and over"
        )
        print(
            f"\nIn process, through each ASGI callable, {what} (µs per request, {args.clock} "
            f"clock, best of {repeats}; ratios: "
            + ", ".join(f"{label} = {top} / {bottom}" for top, bottom, label in ratios)
            + "):"
        )
        print(
            f"{'case':<10}"
            + "".join(f"{name:>{width}}" for name in frameworks)
            + "".join(f"{label:>12}" for _, _, label in ratios)
        )
        worst = 0.0
        for case, row in results.items():
            line = f"{case:<10}" + "".join(f"{row[name]:>{width}.2f}" for name in frameworks)
            for top, bottom, _ in ratios:
                ratio = row[top] / row[bottom]
                line += f"{ratio:>11.3f}x"
                if bottom == "starlette":
                    worst = max(worst, ratio)
            print(line)
        if worst:
            print(
                f"target <= 0.80x Starlette: {'met' if worst <= 0.8 else 'MISSED'} "
                f"(worst {worst:.2f}x)"
            )
    if args.instructions:
        counts = instructions(frameworks)
        print(f"\nInstructions per request under callgrind (fixed traffic; {N2} - {N1} requests):")
        print(f"{'case':<10}" + "".join(f"{name:>{width}}" for name in frameworks))
        for case in CASES:
            print(
                f"{case.name:<10}"
                + "".join(f"{counts[name][case.name]:>{width},.0f}" for name in frameworks)
            )
    if args.served_instructions:
        servers = ("uvicorn", "granian") if args.server == "both" else (args.server,)
        for server in servers:
            print(f"\nInstructions per hello request of {server} under callgrind (all threads):")
            for name in frameworks:
                print(f"{name:<{width}}{served_instructions(name, server):>14,.0f}")
    if not args.no_e2e:
        total = args.requests or (5000 if args.quick else 20000)
        servers = ("uvicorn", "granian") if args.server == "both" else (args.server,)
        for server in servers:
            rps = end_to_end(frameworks, total, args.connections, 30.0, server)
            print(
                f"\nEnd to end under {server} (1 worker, {args.connections} keep-alive "
                f"connections, {total} requests; requests/second):"
            )
            print(f"{'case':<10}" + "".join(f"{name:>{width}}" for name in frameworks))
            for label in ("hello", "json"):
                print(
                    f"{label:<10}"
                    + "".join(f"{rps[name][label]:>{width}.0f}" for name in frameworks)
                )
            print("The server's CPU time per request (µs, all its threads, user + system):")
            for label in ("hello", "json"):
                print(
                    f"{label:<10}"
                    + "".join(f"{rps[name][label + '_cpu']:>{width}.1f}" for name in frameworks)
                )
    return 0


if __name__ == "__main__":
    import importlib.metadata

    raise SystemExit(main())
