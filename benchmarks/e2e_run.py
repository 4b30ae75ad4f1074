"""End to end: Erlen and its peers under real servers, loaded by wrk.

Usage (from the repository root)::

    .venv/bin/python benchmarks/e2e_run.py                 # 3 rounds: about 9 minutes
    .venv/bin/python benchmarks/e2e_run.py --quick         # 1 short round: about 2 minutes
    .venv/bin/python benchmarks/e2e_run.py --servers granian-wsgi --frameworks erlen,bottle
    .venv/bin/python benchmarks/e2e_run.py --json docs/performance/e2e.json
    .venv/bin/python benchmarks/e2e_run.py --instructions --servers granian-wsgi --cases hello

Each server (granian's WSGI and ASGI interfaces, uvicorn, gunicorn's sync
worker) runs one worker process on 127.0.0.1 and a free port, serving one
framework's app at a time: WSGI: Erlen, Falcon, Bottle, Flask
(``apps_<name>.py``); ASGI: Erlen with ``async def`` views, Erlen with plain
``def`` views (the WSGI app's object, called as ASGI) and Starlette. Each
server also serves ``bare``: a few lines of WSGI or ASGI answering the same
bytes with no framework, the server's own ceiling. Once the server listens,
each case (hello ``GET /``, param ``GET /user/ada``, json ``GET /json``) is
checked once (status and body), warmed up, then loaded by ``wrk -t1`` with
a fixed number of keep-alive connections for a fixed time.

The rounds are interleaved (every server and framework once per round, in
an order rotated each round) so that a burst of other work on the machine
hits all alike; the report takes each figure's best round. Beside requests
per second, it gives the server's CPU time per request (its processes'
user + system time from ``/proc`` over the timed run, divided by the
requests done): on a machine the load generator shares, that figure moves
less with the machine's load than requests per second do.

``--instructions`` counts instead of timing: each server under valgrind's
callgrind, what one request costs all its processes (see
:func:`instructions`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import free_port  # noqa: E402

#: The cases: (name, path, expected answer: text, or a JSON document).
JSON_DOC: dict[str, Any] = {"message": "Hello, World!", "items": [1, 2, 3]}
CASES: dict[str, tuple[str, Any]] = {
    "hello": ("/", "Hello, World!"),
    "param": ("/user/ada", "Hello, ada!"),
    "json": ("/json", JSON_DOC),
}

#: Each interface's frameworks: name -> the factory the server calls (``module:function``).
WSGI_APPS: dict[str, str] = {
    "erlen": "apps_erlen:create_app",
    "falcon": "apps_falcon:create_app",
    "bottle": "apps_bottle:create_app",
    "flask": "apps_flask:create_app",
    "bare": "e2e_run:bare_wsgi",
}
ASGI_APPS: dict[str, str] = {
    "erlen": "apps_asgi_erlen:create_app",
    # The WSGI benchmark app: the same object, plain ``def`` views, as ASGI.
    "erlen-def": "apps_erlen:create_app",
    "starlette": "apps_asgi_starlette:create_app",
    "bare": "e2e_run:bare_asgi",
}


def _bare_answers() -> dict[str, tuple[bytes, bytes]]:
    """Path -> (content type, body): the bytes each case's answer carries, made once."""
    return {
        "/": (b"text/plain; charset=utf-8", b"Hello, World!"),
        "/user/ada": (b"text/plain; charset=utf-8", b"Hello, ada!"),
        "/json": (b"application/json", json.dumps(JSON_DOC).encode()),
    }


def bare_wsgi() -> Callable[..., Iterable[bytes]]:
    """A WSGI app with no framework: the cases' answers, looked up by path."""
    answers = {
        path: ([("Content-Type", kind.decode()), ("Content-Length", str(len(body)))], [body])
        for path, (kind, body) in _bare_answers().items()
    }

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = answers.get(environ["PATH_INFO"])
        if found is None:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        start_response("200 OK", found[0])
        return found[1]

    return app


def bare_asgi() -> Callable[..., Any]:
    """An ASGI app with no framework: the cases' answers, looked up by path."""
    answers = {
        path: (
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            },
            {"type": "http.response.body", "body": body},
        )
        for path, (kind, body) in _bare_answers().items()
    }
    missing = (
        {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]},
        {"type": "http.response.body", "body": b""},
    )

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        start, body = answers.get(scope["path"], missing)
        await send(start)
        await send(body)

    return app


@dataclass(frozen=True)
class Server:
    """How to start one server for one app factory (``{port}``, ``{target}`` filled in)."""

    name: str
    interface: str  # "wsgi" or "asgi": which apps it serves
    command: tuple[str, ...]
    #: The peer Erlen is held to on this server, and Erlen/peer at least.
    targets: dict[str, float] = field(default_factory=dict)

    def argv(self, target: str, port: int) -> list[str]:
        """The command line serving ``target`` on ``port``."""
        return [
            part.format(port=port, target=target, python=sys.executable) for part in self.command
        ]

    def apps(self) -> dict[str, str]:
        """The frameworks this server serves, by name."""
        return WSGI_APPS if self.interface == "wsgi" else ASGI_APPS


def _granian(interface: str) -> tuple[str, ...]:
    return (
        "{python}",
        "-m",
        "granian",
        "--interface",
        interface,
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--no-ws",
        "--log-level",
        "warning",
        "--factory",
        "{target}",
    )


SERVERS: dict[str, Server] = {
    server.name: server
    for server in (
        Server("granian-wsgi", "wsgi", _granian("wsgi"), {"falcon": 1.2}),
        Server("granian-asgi", "asgi", _granian("asgi"), {"starlette": 1.2}),
        Server(
            "uvicorn",
            "asgi",
            (
                "{python}",
                "-m",
                "uvicorn",
                "--factory",
                "{target}",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
                "--lifespan",
                "on",
            ),
            {"starlette": 1.2},
        ),
        Server(
            "gunicorn-sync",
            "wsgi",
            (
                "{python}",
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--bind",
                "127.0.0.1:{port}",
                "--log-level",
                "warning",
                "{target}()",  # gunicorn calls a factory written as a call
            ),
            # "Equal to the server's own ceiling": within 5% of the bare app.
            {"bare": 0.95},
        ),
    )
}


def _proc_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux ``/proc``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
            except OSError:
                pass
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants, all threads included."""
    ticks = 0
    for each in _proc_tree(pid):
        try:
            with open(f"/proc/{each}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/sec, requests done, latency (mean, p50, p99 in ms) and errors of wrk's report."""
    out: dict[str, float] = {}
    out["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    out["requests"] = float(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)", output)
    out["latency_ms"] = _ms(latency.group(1)) if latency else float("nan")
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        found = re.search(rf"^\s+{label}\s+(\S+)", output, re.M)
        if found:
            out[key] = _ms(found.group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    out["non_2xx"] = float(bad.group(1)) if bad else 0.0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    out["socket_errors"] = float(sum(int(n) for n in errors.groups())) if errors else 0.0
    return out


def check(port: int, path: str, expected: Any) -> None:
    """Raise AssertionError unless ``GET path`` answers 200 and the expected body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, f"GET {path}: status {response.status}"
    if isinstance(expected, str):
        assert body == expected.encode(), f"GET {path}: body {body[:80]!r}"
    else:
        assert json.loads(body) == expected, f"GET {path}: body {body[:80]!r}"


def wrk(port: int, path: str, connections: int, seconds: float) -> str:
    """Run ``wrk -t1`` on ``path`` for ``seconds``; its report."""
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    return result.stdout


class Running:
    """One server process serving one app; a ``with`` block, bounded in time."""

    def __init__(
        self,
        server: Server,
        target: str,
        log: Path,
        prefix: tuple[str, ...] = (),
        start_timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.argv = [*prefix, *server.argv(target, self.port)]
        self.log = log
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Running:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=HERE,
                env={**os.environ, "PYTHONPATH": str(HERE), "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            # A first answer can take seconds under valgrind: no second request meanwhile.
            probe = self.start_timeout / 10
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=probe)
            try:
                conn.request("GET", "/")
                conn.getresponse().read()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(
                        f"{' '.join(self.argv)} did not start:\n"
                        + self.log.read_text(errors="replace")[-2000:]
                    ) from None
                time.sleep(0.1)
            finally:
                conn.close()

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None:
            return
        tree = _proc_tree(proc.pid)
        if proc.poll() is None:
            # SIGINT: a quick shutdown for all three (gunicorn's SIGTERM waits
            # for its workers); the server passes it on to its workers.
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(self.start_timeout / 3)
            except subprocess.TimeoutExpired:
                # A granian worker under valgrind sometimes missed the
                # signal its parent passed on: once more, to the workers.
                for pid in tree[1:]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGINT)
                try:
                    proc.wait(self.start_timeout)  # valgrind writes its counts
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        # No worker outlives its server (forked workers have no other parent
        # to stop them); a process is a worker of ours if it has our port
        # on its command line (a pid can be reused once its process is gone).
        for pid in tree[1:]:
            with contextlib.suppress(OSError):
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if str(self.port).encode() in f.read():
                        os.kill(pid, signal.SIGKILL)


def run(
    servers: list[str],
    frameworks: list[str] | None,
    cases: list[str],
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Every round: each server with each framework, each case loaded by wrk; all samples."""
    pairs = [
        (server, name)
        for server in servers
        for name in SERVERS[server].apps()
        if frameworks is None or name in frameworks
    ]
    samples: dict[str, dict[str, dict[str, list[dict[str, float]]]]] = {}
    failures: dict[str, str] = {}
    errors: list[str] = []
    loads = []
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    for round_no in range(rounds):
        loads.append(os.getloadavg()[0])
        shift = round_no * max(1, len(pairs) // rounds) if rounds else 0
        for server_name, name in pairs[shift:] + pairs[:shift]:
            key = f"{server_name}/{name}"
            if key in failures:
                continue
            server = SERVERS[server_name]
            log = log_dir / f"erlen-e2e-{os.getpid()}-{server_name}-{name}.log"
            try:
                with Running(server, server.apps()[name], log) as running:
                    for case in cases:
                        path, expected = CASES[case]
                        check(running.port, path, expected)
                    for case in cases:
                        path = CASES[case][0]
                        wrk(running.port, path, connections, warmup)
                        assert running.proc is not None
                        before = cpu_seconds(running.proc.pid)
                        report = parse_wrk(wrk(running.port, path, connections, seconds))
                        used = cpu_seconds(running.proc.pid) - before
                        report["cpu_us"] = used / max(report["requests"], 1) * 1e6
                        bucket = samples.setdefault(server_name, {}).setdefault(name, {})
                        bucket.setdefault(case, []).append(report)
                        progress(
                            f"round {round_no + 1}/{rounds} {server_name:<13} {name:<10} "
                            f"{case:<6} {report['rps']:>9.0f} req/s {report['cpu_us']:>7.1f} "
                            f"µs CPU/req (load {os.getloadavg()[0]:.1f})"
                        )
            except AssertionError as e:  # a wrong answer: never timed again
                failures[key] = str(e)
                progress(f"FAILED {key}: {e}")
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                # The server did not start or answer in time (a busy machine):
                # noted, and tried again in the next round.
                errors.append(f"round {round_no + 1} {key}: {type(e).__name__}: {e}")
                progress(f"ERROR {errors[-1]}")
            finally:
                log.unlink(missing_ok=True)
    loads.append(os.getloadavg()[0])
    best: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for server_name, per_framework in samples.items():
        for name, per_case in per_framework.items():
            for case, reports in per_case.items():
                top = max(reports, key=lambda r: r["rps"])
                best.setdefault(server_name, {}).setdefault(name, {})[case] = {
                    **top,
                    "cpu_us": min(r["cpu_us"] for r in reports),
                }
    return {
        "samples": samples,
        "best": best,
        "failures": failures,
        "errors": errors,
        "loadavg": loads,
    }


def callgrind_total(folder: Path) -> int:
    """Instructions counted in ``folder``'s callgrind files: every process's total, summed."""
    total = 0
    for path in folder.glob("callgrind.*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("summary:") or line.startswith("totals:"):
                total += int(line.split()[1])
                break  # one total per file (a file may have both lines)
    return total


def instructions(
    server_name: str, frameworks: list[str], case: str, n1: int, n2: int
) -> dict[str, float]:
    """Instructions per request of the whole server (all its processes), per framework.

    The server runs under ``valgrind --tool=callgrind --trace-children=yes``
    twice, serving ``n1`` and then ``n2`` requests of ``case`` on one
    keep-alive connection; the difference of the two totals over ``n2 -
    n1`` is what one request costs, start-up and shut-down cancelled out.
    """
    import asyncio
    import tempfile

    from load import load

    server = SERVERS[server_name]
    path, expected = CASES[case]

    def count(name: str, n: int) -> int:
        with tempfile.TemporaryDirectory(prefix="erlen-e2e-cg-") as tmp:
            folder = Path(tmp)
            prefix = (
                shutil.which("valgrind") or "valgrind",
                "--tool=callgrind",
                "--trace-children=yes",
                f"--callgrind-out-file={folder}/callgrind.%p",
                "--dump-instr=no",
                "--collect-jumps=no",
            )
            target = server.apps()[name]
            with Running(server, target, folder / "log", prefix, start_timeout=300) as running:
                check(running.port, path, expected)
                request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n"
                done, _ = asyncio.run(
                    load(
                        running.port,
                        request.encode(),
                        b"HTTP/1.1 200",
                        n,
                        1,
                        time.monotonic() + 600,
                    )
                )
                assert done == n, f"{name}: {done} of {n} requests answered"
            if running.proc is None or running.proc.returncode != 0:
                # Killed: some process never wrote its counts.
                raise RuntimeError(f"{name}: the server did not stop by itself; no count")
            return callgrind_total(folder)

    # One run after the other, from this thread: a server started from a
    # worker thread under valgrind did not always stop on SIGINT.
    return {name: (count(name, n2) - count(name, n1)) / (n2 - n1) for name in frameworks}


def ratios(best: dict[str, Any], server: str) -> dict[str, dict[str, float]]:
    """Erlen/peer in requests per second, per case, for each of the server's targets' peers."""
    out: dict[str, dict[str, float]] = {}
    per = best.get(server, {})
    for peer in SERVERS[server].targets:
        for case, result in per.get("erlen", {}).items():
            other = per.get(peer, {}).get(case)
            if other:
                out.setdefault(peer, {})[case] = result["rps"] / other["rps"]
    return out


def report(data: dict[str, Any]) -> str:
    """The tables: req/s per server, case and framework, the ratios and targets, CPU µs."""
    lines = []
    meta = data["meta"]
    lines.append(
        f"End to end, wrk -t1 -c{meta['connections']} -d{meta['seconds']}s on 127.0.0.1, one "
        f"worker; best of {meta['rounds']} round(s); {meta['python']}, {meta['cpu_count']} CPUs; "
        f"load average {', '.join(f'{x:.1f}' for x in data['loadavg'])} (per round, then at the end)"
    )
    for server, per in data["best"].items():
        names = [n for n in SERVERS[server].apps() if n in per]
        peers = list(SERVERS[server].targets)
        lines.append("")
        lines.append(f"{server}: requests/second (server CPU µs per request)")
        lines.append(
            f"{'case':<8}"
            + "".join(f"{n:>20}" for n in names)
            + "".join(f"{'erlen/' + p:>16}" for p in peers)
        )
        found = ratios(data["best"], server)
        for case in data["meta"]["cases"]:
            row = f"{case:<8}"
            for n in names:
                result = per[n].get(case)
                row += (
                    f"{result['rps']:>10.0f} ({result['cpu_us']:>6.1f})"
                    if result
                    else f"{'n/a':>20}"
                )
            for peer in peers:
                ratio = found.get(peer, {}).get(case)
                row += f"{ratio:>15.2f}x" if ratio is not None else f"{'n/a':>16}"
            lines.append(row)
        for peer, limit in SERVERS[server].targets.items():
            values = found.get(peer, {})
            if values:
                worst = min(values.values())
                verdict = "met" if worst >= limit else "MISSED"
                lines.append(f"target erlen >= {limit:g}x {peer}: {verdict} (worst {worst:.2f}x)")
    if data.get("errors"):
        lines.append("")
        lines.append("ERRORS (that round's figures are missing):")
        lines.extend(f"  {why}" for why in data["errors"])
    if data["failures"]:
        lines.append("")
        lines.append("FAILURES:")
        lines.extend(f"  {key}: {why}" for key, why in data["failures"].items())
    return "\n".join(lines) + "\n"


def _versions() -> dict[str, str]:
    out = {}
    for name in (
        "erlen",
        "falcon",
        "bottle",
        "flask",
        "starlette",
        "granian",
        "uvicorn",
        "gunicorn",
    ):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "?"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    out["wrk"] = wrk_version.split()[1] if wrk_version.startswith("wrk ") else "?"
    return out


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    )
    return result.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one round of 1 s runs")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset")
    parser.add_argument(
        "--frameworks", default="", help="comma-separated subset (default: all, and bare)"
    )
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3, quick 1)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="timed wrk run per case (default 2, quick 1)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="wrk warm-up run per case")
    parser.add_argument("--connections", type=int, default=32, help="wrk's -c (default 32)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instead: instructions per request of each server under callgrind (see README)",
    )
    parser.add_argument("--n1", type=int, default=200, help="with --instructions: first run")
    parser.add_argument("--n2", type=int, default=1200, help="with --instructions: second run")
    args = parser.parse_args(argv)
    if args.instructions:
        return _main_instructions(args)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    servers = [s for s in args.servers.split(",") if s]
    unknown = [s for s in servers if s not in SERVERS]
    if unknown:
        parser.error(f"unknown servers {unknown}; choose from {list(SERVERS)}")
    cases = [c for c in args.cases.split(",") if c]
    if any(c not in CASES for c in cases):
        parser.error(f"cases are {list(CASES)}")
    frameworks = [f for f in args.frameworks.split(",") if f] or None
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (1.0 if args.quick else 2.0)
    result = run(servers, frameworks, cases, rounds, seconds, args.warmup, args.connections)
    data = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "python": f"CPython {platform.python_version()} ({platform.machine()})",
            "cpu_count": os.cpu_count(),
            "commit": _commit(),
            "versions": _versions(),
            "rounds": rounds,
            "seconds": seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "cases": cases,
            "targets": {name: SERVERS[name].targets for name in servers},
        },
        **result,
    }
    data["ratios"] = {server: ratios(data["best"], server) for server in data["best"]}
    print(report(data), end="")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 1 if data["failures"] else 0


def _main_instructions(args: argparse.Namespace) -> int:
    """``--instructions``: a table of thousands of instructions per request, per server."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed for --instructions (Debian: apt-get install valgrind)")
    chosen = [f for f in args.frameworks.split(",") if f]
    cases = [c for c in args.cases.split(",") if c]
    data: dict[str, Any] = {"n1": args.n1, "n2": args.n2, "instructions": {}}
    for server_name in [s for s in args.servers.split(",") if s]:
        names = [n for n in SERVERS[server_name].apps() if not chosen or n in chosen]
        print(f"\n{server_name}: thousands of instructions per request, whole server")
        print(f"{'case':<8}" + "".join(f"{n:>12}" for n in names))
        for case in cases:
            counts = instructions(server_name, names, case, args.n1, args.n2)
            data["instructions"].setdefault(server_name, {})[case] = counts
            print(f"{case:<8}" + "".join(f"{counts[n] / 1000:>11.1f}k" for n in names))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
