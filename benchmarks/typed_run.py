"""Typed views: Erlen vs FastAPI vs APIFlask on a validated JSON POST and a typed GET.

Usage (from the repository root)::

    .venv/bin/python benchmarks/typed_run.py            # in process, then under uvicorn
    .venv/bin/python benchmarks/typed_run.py --quick    # shorter repeats, fewer requests
    .venv/bin/python benchmarks/typed_run.py --no-e2e   # in process only
    .venv/bin/python benchmarks/typed_run.py --rounds 5 # best of 5 rounds under uvicorn
    .venv/bin/python benchmarks/typed_run.py --instructions  # instructions under uvicorn

The apps are in ``typed_apps.py``. In process, each request goes straight to
the app's callable (WSGI for APIFlask and Erlen's WSGI side, ASGI for
FastAPI and Erlen's ASGI side), is checked once, then timed (the process's
CPU time): the best of the repeats (interleaved across frameworks) gives
microseconds per request, and the ratios are Erlen's to FastAPI's and to
APIFlask's (targets: at most 0.5x and 0.2x). ``erlen-msgspec`` is Erlen's
WSGI side with msgspec Structs for models: a data point, not a target. End to end, each app is served by uvicorn (one worker, in a
subprocess; APIFlask with ``--interface wsgi``) and a small asyncio load
generator keeps keep-alive connections busy for a bounded number of
requests; the cost per request is the inverse of the requests per second.

Under a server most of each request is the server's own work, the same for
every framework. So each framework's *floor* is measured too: a bare app
on the same uvicorn interface (ASGI, or WSGI for APIFlask) that reads the
request and replays that framework's own recorded answer, the same bytes on
the wire. A framework's own cost under the server is its raw µs minus its
floor; the report gives Erlen's ratios on both. The apps and floors are
measured once per round (``--rounds``, 3 by default), rounds one after
another, and the best round counts: other work on the machine inflates a
round, never deflates it.

``--instructions`` measures the same apps and floors without the machine's
noise: each uvicorn process runs under valgrind's callgrind, and the
instructions it executes per request (all its threads) are the difference
of two segments of requests (``--n1``, ``--n2``) over their count; see
:func:`instructions`. With ``--cache-sim`` the figure is callgrind's
estimate of cycles (cache misses counted) instead. Run it with another
venv's Python (``uvicorn[standard]``: httptools and uvloop) for that server.
``fastapi`` and ``apiflask`` are in the dev extra.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import typed_apps  # noqa: E402
from load import free_port, load, stop_server, wait_until_serving  # noqa: E402

CASES = {
    "post": ("POST", b"/bookmarks", b"", typed_apps.POST_BODY, 201, typed_apps.POST_ANSWER),
    "query": ("GET", b"/bookmarks", typed_apps.QUERY, b"", 200, typed_apps.QUERY_ANSWER),
}

#: name → (interface, maker)
FRAMEWORKS: dict[str, tuple[str, Any]] = {
    "erlen-wsgi": ("wsgi", lambda: typed_apps.make_erlen()),
    "erlen-asgi": ("asgi", lambda: typed_apps.make_erlen(asynchronous=True)),
    # The same API with msgspec Structs for models: not in the targets, a data point.
    "erlen-msgspec": ("wsgi", typed_apps.make_erlen_msgspec),
    "fastapi": ("asgi", typed_apps.make_fastapi),
    "apiflask": ("wsgi", typed_apps.make_apiflask),
}


def _wsgi_caller(app: Any, case: str, record: dict[str, Any] | None = None) -> Any:
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
        if record is not None:
            record["headers"] = [(k, v) for k, v in headers]
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


def _asgi_caller(app: Any, case: str, record: dict[str, Any] | None = None) -> Any:
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
                    if record is not None:
                        record["headers"] = [(k.decode(), v.decode()) for k, v in msg["headers"]]
                elif msg["type"] == "http.response.body":
                    out.append(msg.get("body", b""))

            await app(dict(scope), receive, send)
        return status, b"".join(out)

    return call


def in_process(names: list[str], repeats: int, target_s: float) -> dict[str, dict[str, float]]:
    """Microseconds per request, per case and framework (best of ``repeats``).

    Timed with the process's CPU time: the same as the wall clock on an idle
    machine, and not counting the time the process waits for a core that
    other work holds (the machines this runs on are shared).
    """
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
                    start = time.process_time()
                    await caller(n)
                    took = time.process_time() - start
                    if took > target_s / 4:
                        break
                    n *= 4
                timers[name] = (caller, max(10, int(n * target_s / took)))
            for _ in range(repeats):
                for name, (caller, n) in timers.items():
                    start = time.process_time()
                    await caller(n)
                    usec = (time.process_time() - start) / n * 1e6
                    best = results[case].get(name)
                    results[case][name] = usec if best is None else min(best, usec)

    asyncio.run(main())
    return results


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
    """Send ``total`` requests of ``case``; (done, seconds)."""
    expected = f"HTTP/1.1 {CASES[case][4]}".encode()
    return await load(port, _raw_request(case, port), expected, total, connections, deadline)


#: name → (uvicorn app, interface, the in-process framework whose answers it gives)
SERVED = {
    "erlen": ("typed_apps:erlen_app", "asgi3", "erlen-asgi"),
    "fastapi": ("typed_apps:fastapi_app", "asgi3", "fastapi"),
    "apiflask": ("typed_apps:apiflask_app", "wsgi", "apiflask"),
}
#: The server's floor under each framework: a bare app on the same interface
#: replaying that framework's own answers (the same bytes on the wire).
FLOORS = {
    f"floor:{name}": (
        "typed_apps:floor_wsgi_app" if interface == "wsgi" else "typed_apps:floor_asgi_app",
        interface,
        framework,
    )
    for name, (_, interface, framework) in SERVED.items()
}


def record(framework: str) -> list[list[Any]]:
    """A framework's answer to each case, in process: [method, path, status, headers, body].

    The floor apps replay these; the server adds its own ``date`` and
    ``server`` headers, so those are left out.
    """
    interface, maker = FRAMEWORKS[framework]
    app = maker()
    replies = []
    for case, (method, path, _, _, status, _) in CASES.items():
        seen: dict[str, Any] = {}
        if interface == "wsgi":
            got, body = _wsgi_caller(app, case, seen)(1)
        else:
            got, body = asyncio.run(_asgi_caller(app, case, seen)(1))
        assert got == status, (framework, case, got)
        headers = [(k, v) for k, v in seen["headers"] if k.lower() not in ("date", "server")]
        replies.append([method, path.decode(), got, headers, body.decode("latin-1")])
    return replies


def _cpu_seconds(pid: int) -> float | None:
    """CPU time of a process so far, all its threads; ``None`` off Linux.

    The sum of each thread's time on a CPU from ``/proc/<pid>/task/*/schedstat``
    (nanoseconds), so that a short batch of requests is measured precisely.
    """
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def _serve_and_load(
    name: str, total: int, connections: int, max_seconds: float, env: dict[str, str], batches: int
) -> dict[str, tuple[float, float | None]]:
    """(wall µs, server CPU µs) per request for each case, with ``name`` under uvicorn.

    Each is the best of ``batches`` batches of ``total / batches`` requests:
    a burst of other work on the machine slows a batch, never speeds one
    up. Wall is 1 / requests per second; CPU the server process's own time
    on a CPU per request (the load generator's is not in it), which other
    work on the machine changes far less than the wall clock.
    """
    target, interface, _ = {**SERVED, **FLOORS}[name]
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--interface", interface]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--no-access-log", "--lifespan", "off"]
    proc = subprocess.Popen(cmd, cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE), **env})
    found: dict[str, tuple[float, float | None]] = {}
    try:
        wait_until_serving(port, proc, f"uvicorn for {name}", 20, 0.1)
        per_batch = max(connections, total // batches)
        for case in CASES:
            asyncio.run(_load(port, case, connections * 20, connections, time.monotonic() + 10))
            best = float("inf")
            cpu: float | None = float("inf")
            end = time.monotonic() + max_seconds
            for _ in range(batches):
                cpu_start = _cpu_seconds(proc.pid)
                done, took = asyncio.run(_load(port, case, per_batch, connections, end))
                cpu_end = _cpu_seconds(proc.pid)
                if not done:
                    continue
                best = min(best, took / done * 1e6)
                if cpu is not None and cpu_start is not None and cpu_end is not None:
                    cpu = min(cpu, (cpu_end - cpu_start) / done * 1e6)
                else:
                    cpu = None
            found[case] = (best, None if cpu == float("inf") else cpu)
    finally:
        stop_server(proc, 10)
    return found


def end_to_end(
    names: list[str],
    total: int,
    connections: int,
    max_seconds: float,
    rounds: int = 1,
    floors: bool = False,
    batches: int = 1,
) -> dict[str, dict[str, dict[str, float]]]:
    """Microseconds per request under uvicorn: ``{"wall": {case: {app: µs}}, "cpu": ...}``.

    ``wall`` is 1 / requests per second (the best batch), ``cpu`` the
    server process's CPU time per request (Linux; empty elsewhere). With
    ``floors``, each app's floor (``floor:<name>``) is measured too. Every
    app is measured once per round, the rounds one after another (so a
    burst of load from elsewhere hits one round, not one app); the best
    round counts.
    """
    results: dict[str, dict[str, dict[str, float]]] = {
        measure: {case: {} for case in CASES} for measure in ("wall", "cpu")
    }
    measured = list(names) + ([f"floor:{name}" for name in names] if floors else [])
    with tempfile.TemporaryDirectory() as tmp:
        envs: dict[str, dict[str, str]] = {name: {} for name in measured}
        if floors:
            for name in names:
                replies = Path(tmp, f"{name}.json")
                replies.write_text(json.dumps(record(SERVED[name][2])))
                envs[f"floor:{name}"] = {"TYPED_FLOOR_REPLIES": str(replies)}
        for _ in range(rounds):
            for name in measured:
                found = _serve_and_load(name, total, connections, max_seconds, envs[name], batches)
                for case, (wall, cpu) in found.items():
                    for measure, usec in (("wall", wall), ("cpu", cpu)):
                        if usec is None:
                            continue
                        best = results[measure][case].get(name)
                        results[measure][case][name] = usec if best is None else min(best, usec)
    if not any(results["cpu"].values()):
        del results["cpu"]
    return results


# -- instructions under uvicorn (callgrind) ---------------------------------------

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"


def serve(target: str, interface: str, port: int) -> None:
    """The server process of the instruction mode: uvicorn, and SIGUSR1 as the dump marker.

    It runs under ``valgrind --tool=callgrind --dump-before=getppid``; the
    handler calls ``os.getppid()``, which nothing else in the server calls,
    so each SIGUSR1 from the load generator writes the instructions counted
    so far. The server is idle when the signal comes (a segment's requests
    all answered), so a dump falls between requests.
    """
    import signal

    import uvicorn

    signal.signal(signal.SIGUSR1, lambda *_: os.getppid())
    uvicorn.run(
        target,
        interface=interface,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


def _dump(proc: subprocess.Popen[bytes], folder: Path, count: int) -> int:
    """Make the server dump its counts; wait for dump ``count + 1``; its total."""
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while True:
        dumps = sorted(folder.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) > count:
            try:
                return _summary(dumps[count])
            except ValueError:  # still being written
                pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"no callgrind dump {count + 1} from the server")
        time.sleep(0.2)


def _summary(path: Path) -> int:
    """A dump's instructions; with ``--cache-sim``, its estimated cycles instead.

    The estimate is callgrind_annotate's: each instruction a cycle, 10 more
    per first-level cache miss and 100 more per last-level miss.
    """
    events: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith(("summary:", "totals:")):
            # NOTE: callgrind leaves out trailing counts that are zero.
            counts = dict(zip(events, map(int, line.split(":", 1)[1].split()), strict=False))
            if "D1mr" not in events:
                return counts["Ir"]
            l1 = sum(counts.get(e, 0) for e in ("I1mr", "D1mr", "D1mw"))
            ll = sum(counts.get(e, 0) for e in ("ILmr", "DLmr", "DLmw"))
            return counts["Ir"] + 10 * l1 + 100 * ll
    raise ValueError(f"no summary line in {path}")


def instructions(
    names: list[str],
    n1: int,
    n2: int,
    warmup: int,
    connections: int,
    idle: float = 0.0,
    cache_sim: bool = False,
) -> dict[str, dict[str, float]]:
    """Instructions of the uvicorn process per request: ``{case: {app: count}}``.

    Each app (and ``floor:<name>``) is served by uvicorn under callgrind.
    Per case: ``warmup`` requests, a dump, ``n1`` requests, a dump, ``n2``
    requests, a dump; one request costs the difference of the two segments
    over ``n2 - n1``, so what a segment costs once (the dump, connecting)
    cancels out. All of the process's threads are counted (APIFlask's WSGI
    pool too); the load generator, outside valgrind, is not. With ``idle``
    seconds, the server's cost while idle (uvicorn's 0.1 s tick) is
    measured too, as ``{"idle": {app: instructions per second}}``: under
    valgrind a segment takes seconds, so it is in the figures (small).
    """
    results: dict[str, dict[str, float]] = {case: {} for case in CASES}
    if idle:
        results["idle"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        envs: dict[str, dict[str, str]] = {}
        for name in names:
            if name.startswith("floor:"):
                replies = Path(tmp, f"{name[6:]}.json")
                replies.write_text(json.dumps(record(SERVED[name[6:]][2])))
                envs[name] = {"TYPED_FLOOR_REPLIES": str(replies)}
        for name in names:
            target, interface, _ = {**SERVED, **FLOORS}[name]
            folder = Path(tmp, name.replace(":", "-"))
            folder.mkdir()
            port = free_port()
            cmd = [VALGRIND, "--tool=callgrind", "--dump-before=getppid", "-q"]
            cmd += ["--cache-sim=yes"] if cache_sim else []
            cmd += [
                f"--callgrind-out-file={folder}/cg.out",
                sys.executable,
                str(HERE / "typed_run.py"),
            ]
            cmd += ["--serve", target, interface, str(port)]
            env = {
                **os.environ,
                "PYTHONPATH": str(HERE),
                "PYTHONHASHSEED": "0",
                **envs.get(name, {}),
            }
            proc = subprocess.Popen(cmd, cwd=HERE, env=env)
            dumps = 0
            try:
                wait_until_serving(port, proc, f"uvicorn for {name}", 300, 0.5)
                for case in CASES:
                    counts, sent = [], []
                    for n in (warmup, n1, n2):
                        end = time.monotonic() + 3600
                        done, _ = asyncio.run(_load(port, case, n, connections, end))
                        if done != n // connections * connections:
                            raise RuntimeError(f"{name} {case}: {done} of {n} requests answered")
                        counts.append(_dump(proc, folder, dumps))
                        sent.append(done)
                        dumps += 1
                    results[case][name] = (counts[2] - counts[1]) / (sent[2] - sent[1])
                if idle:
                    # A first window takes what the last segment left (its
                    # connections closing); the second is the idle server.
                    time.sleep(idle)
                    _dump(proc, folder, dumps)
                    start = time.monotonic()
                    time.sleep(idle)
                    # Each dump holds what was counted since the one before.
                    window = _dump(proc, folder, dumps + 1)
                    results["idle"][name] = window / (time.monotonic() - start)
            finally:
                stop_server(proc, 30)
    return results


def _floor_table(results: dict[str, dict[str, float]]) -> str:
    """Raw µs, the server's floor and the framework's own cost (raw − floor), with Erlen's ratios."""
    peers = ("fastapi", "apiflask")
    head = ["case"]
    for name in ("erlen", *peers):
        head += [f"{name} raw", f"{name} floor", f"{name} own"]
    for peer in peers:
        head += [f"erlen / {peer} raw", f"erlen / {peer} own"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for case, row in results.items():
        own = {name: row[name] - row[f"floor:{name}"] for name in ("erlen", *peers)}
        cells = [case]
        for name in ("erlen", *peers):
            cells += [
                f"{row[name]:.1f} µs",
                f"{row[f'floor:{name}']:.1f} µs",
                f"{own[name]:.1f} µs",
            ]
        for peer in peers:
            cells += [f"{row['erlen'] / row[peer]:.2f}×", f"{own['erlen'] / own[peer]:.2f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds under uvicorn; the best counts (default 3)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count the uvicorn process's instructions per request under callgrind instead",
    )
    parser.add_argument("--n1", type=int, default=100, help="--instructions: first segment (100)")
    parser.add_argument("--n2", type=int, default=500, help="--instructions: second segment (500)")
    parser.add_argument("--warmup", type=int, default=100, help="--instructions: warm-up (100)")
    parser.add_argument(
        "--connections", type=int, default=10, help="keep-alive connections under uvicorn (10)"
    )
    parser.add_argument(
        "--apps", type=lambda v: v.split(","), help="--instructions: which of " + ", ".join(SERVED)
    )
    parser.add_argument(
        "--cache-sim",
        action="store_true",
        help="--instructions: estimated cycles (callgrind's cache simulation) instead",
    )
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        target, interface, port = args.serve
        serve(target, interface, int(port))
        return 0
    if args.instructions:
        names = args.apps or list(SERVED)
        names += [f"floor:{name}" for name in names]
        counts = instructions(
            names, args.n1, args.n2, args.warmup, args.connections, 5.0, args.cache_sim
        )
        idle = counts.pop("idle")
        print(
            f"{'Estimated cycles' if args.cache_sim else 'Instructions'} of the uvicorn"
            f" process per request (thousands; callgrind, "
            f"({args.n2} - {args.n1} requests) difference, {args.connections} connections):",
            flush=True,
        )
        if set(names) >= set(FLOORS) | set(SERVED):
            print(
                _floor_table(
                    {c: {k: v / 1000 for k, v in row.items()} for c, row in counts.items()}
                ).replace(" µs", "")
            )
        else:
            for case, row in counts.items():
                print(case, {k: round(v / 1000, 1) for k, v in row.items()})
        print("idle (thousands per second):", {k: round(v / 1000, 1) for k, v in idle.items()})
        if args.json:
            Path(args.json).write_text(json.dumps({"instructions": counts, "idle": idle}, indent=2))
        return 0
    repeats, target = (3, 0.1) if args.quick else (7, 0.25)
    report: dict[str, Any] = {}
    print("In process (CPU µs per request, best of the repeats):", flush=True)
    report["in_process"] = in_process(list(FRAMEWORKS), repeats, target)
    print(_table(report["in_process"], ["erlen-wsgi", "erlen-asgi", "erlen-msgspec"]), flush=True)
    if not args.no_e2e:
        total, connections = (2_000 if args.quick else 10_000), args.connections
        print(
            f"\nUnder uvicorn (1 worker, {connections} keep-alive connections, {total} requests; µs per request):",
            flush=True,
        )
        rounds = 1 if args.quick else args.rounds
        batches = 2 if args.quick else 10
        report["uvicorn"] = end_to_end(
            list(SERVED), total, connections, 120, rounds=rounds, floors=True, batches=batches
        )
        print(
            f"(best of {rounds} round(s) of {batches} batches; own = raw - the server's floor)",
            flush=True,
        )
        print("Wall clock (1 / requests per second):", flush=True)
        print(_floor_table(report["uvicorn"]["wall"]), flush=True)
        if "cpu" in report["uvicorn"]:
            print("\nThe server process's CPU time per request:", flush=True)
            print(_floor_table(report["uvicorn"]["cpu"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
