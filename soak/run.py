"""Soak the soak apps under real WSGI servers and report what happened.

For each framework (Erlen, and Flask for comparison) and each server
(gunicorn's sync and gthread workers, waitress), this starts the server on a
free port of 127.0.0.1, waits until it answers, warms it up, then runs a
bounded load: a few client threads, each with its own keep-alive
:class:`http.client.HTTPConnection` and its own session cookie, send a fixed
mix of requests (pages, JSON, form posts, uploads, 404s, logins) until the
request budget or the time budget is spent. It reports, per run: errors
(an unexpected status, or a failed request), requests per second, p50 and
p99 latency, and how much the worker's resident memory grew between the end
of the warm-up and the end of the load. The server is stopped afterwards.

Examples (from the repository root)::

    .venv/bin/python soak/run.py                       # ~1 minute, every server and framework
    .venv/bin/python soak/run.py --requests 1000000 --duration 3600 --frameworks erlen \\
        --json soak-long.json                          # the long soak (see README)
    .venv/bin/python soak/chart.py soak.json docs/soak-rps.png

Only 127.0.0.1 is ever contacted, and every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"

#: The entry module per framework: ``gunicorn main:app`` is the App
#: Engine-style entry point.
MODULES = {"erlen": "main", "flask": "flask_main"}


def server_command(server: str, module: str, port: int) -> list[str]:
    """The command line that serves ``module:app`` on ``port`` with ``server``."""
    bind = f"{HOST}:{port}"
    if server == "gunicorn-sync":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-b",
            bind,
            "-w",
            "1",
            "-k",
            "sync",
            f"{module}:app",
        ]
    if server == "gunicorn-gthread":
        return [
            sys.executable, "-m", "gunicorn", "-b", bind, "-w", "1", "-k", "gthread", "--threads", "4",
            f"{module}:app",
        ]  # fmt: skip
    if server == "waitress":
        return [
            sys.executable,
            "-m",
            "waitress",
            f"--listen={bind}",
            "--threads=4",
            f"{module}:app",
        ]
    raise ValueError(f"unknown server {server!r}")


SERVERS = ("gunicorn-sync", "gunicorn-gthread", "waitress")


# -- the request mix -----------------------------------------------------------

_BOUNDARY = "soakboundary7MA4YWxk"
_UPLOAD = (
    (
        f"--{_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="note"\r\n\r\n'
        "a note\r\n"
        f"--{_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + bytes(range(256)) * 16
    + f"\r\n--{_BOUNDARY}--\r\n".encode()
)

#: (kind, weight) of each request in the mix.
MIX = [
    ("page", 3),
    ("api_list", 2),
    ("api_get", 2),
    ("api_create", 2),
    ("form_post", 1),
    ("upload", 1),
    ("not_found", 1),
    ("login", 1),
    ("login_page", 1),
    ("bad_json", 1),
]


class _Client:
    """One load thread's connection and session cookie."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.name = name
        self.conn = http.client.HTTPConnection(HOST, port, timeout=10)
        self.cookie: str | None = None
        self.last_item = 1

    def close(self) -> None:
        self.conn.close()

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, bytes]:
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            # A dropped keep-alive connection is the server's right; the
            # request counts as an error, the next one reconnects.
            self.conn.close()
            raise
        for cookie in response.headers.get_all("Set-Cookie") or ():
            pair = cookie.split(";", 1)[0]
            if pair.startswith("session="):
                self.cookie = pair if pair != "session=" else None
        return response.status, data

    def send(self, kind: str) -> bool:
        """Send one request of ``kind``; whether the answer was the expected one."""
        if kind == "page":
            status, body = self.request("GET", "/")
            return status == 200 and b"Soak blog" in body
        if kind == "login_page":
            return self.request("GET", "/login")[0] == 200
        if kind == "login":
            form = f"username={self.name}&password=secret".encode()
            status, _ = self.request("POST", "/login", form, "application/x-www-form-urlencoded")
            return status == 302 and self.cookie is not None
        if kind == "form_post":
            if self.cookie is None and not self.send("login"):
                return False
            form = b"title=Hello+soak&text=Some+text+%E2%9C%93"
            return self.request("POST", "/add", form, "application/x-www-form-urlencoded")[0] == 302
        if kind == "upload":
            status, body = self.request(
                "POST", "/upload", _UPLOAD, f"multipart/form-data; boundary={_BOUNDARY}"
            )
            return status == 200 and json.loads(body)["size"] == 4096
        if kind == "api_list":
            status, body = self.request("GET", "/api/items")
            return status == 200 and "items" in json.loads(body)
        if kind == "api_create":
            payload = json.dumps({"name": f"item of {self.name}", "tags": ["a", "b"]}).encode()
            status, body = self.request("POST", "/api/items", payload, "application/json")
            if status != 201:
                return False
            self.last_item = json.loads(body)["id"]
            return True
        if kind == "api_get":
            # A recent item exists unless 50 newer ones pushed it out: 200 or 404.
            status, _ = self.request("GET", f"/api/items/{self.last_item}")
            return status in (200, 404)
        if kind == "not_found":
            return self.request("GET", "/no/such/page")[0] == 404
        if kind == "bad_json":
            return self.request("POST", "/api/items", b'{"name": ', "application/json")[0] == 400
        raise ValueError(kind)


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)


def run_load(
    port: int, requests: int, duration: float, threads: int = 4, seed: int = 1
) -> LoadResult:
    """Send up to ``requests`` requests within ``duration`` seconds; bounded both ways."""
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    lock = threading.Lock()
    budget = [requests]
    result = LoadResult()
    deadline = time.monotonic() + duration

    def take() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = _Client(port, f"user{index}")
        latencies: list[float] = []
        errors = 0
        samples: list[str] = []
        try:
            while time.monotonic() < deadline and take():
                kind = rng.choice(kinds)
                start = time.perf_counter()
                try:
                    ok = client.send(kind)
                except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the run
                    ok = False
                    if len(samples) < 5:
                        samples.append(f"{kind}: {type(e).__name__}: {e}")
                else:
                    if not ok and len(samples) < 5:
                        samples.append(f"{kind}: unexpected answer")
                latencies.append(time.perf_counter() - start)
                errors += not ok
        finally:
            client.close()
            with lock:
                result.requests += len(latencies)
                result.errors += errors
                result.latencies.extend(latencies)
                result.error_samples.extend(samples[: 10 - len(result.error_samples)])

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        # Every request has a 10 s socket timeout, so this join is bounded.
        thread.join(duration + 60)
    result.seconds = time.perf_counter() - started
    return result


# -- servers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def rss_kb(pid: int) -> int:
    """The resident set size of ``pid`` in kB (0 where /proc is not there)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """A WSGI server subprocess, started in its own process group."""

    def __init__(self, server: str, framework: str) -> None:
        self.server = server
        self.framework = framework
        self.port = free_port()
        self.log = tempfile.TemporaryFile("w+")
        env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            server_command(server, MODULES[framework], self.port),
            cwd=HERE,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.server} exited early:\n{self.output()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/api/items")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.server} did not answer within {timeout} s:\n{self.output()}")

    def worker_pid(self) -> int:
        """The process that runs the app: gunicorn's one worker, or waitress itself."""
        if self.server.startswith("gunicorn"):
            children = _children(self.proc.pid)
            return children[0] if children else self.proc.pid
        return self.proc.pid

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


@dataclass
class RunReport:
    framework: str
    server: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    rss_start_mb: float
    rss_end_mb: float
    rss_growth_mb: float
    error_samples: list[str]


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[index]


def soak_one(
    framework: str, server: str, requests: int, duration: float, threads: int = 4, warmup: int = 300
) -> RunReport:
    """Serve the app on one server, load it, and report; the server is always stopped."""
    srv = Server(server, framework)
    try:
        srv.wait_ready()
        # The warm-up pays for lazy imports, compiled routes and templates,
        # so the memory growth measured next is the steady state's.
        run_load(srv.port, warmup, 60, threads, seed=99)
        pid = srv.worker_pid()
        rss_start = rss_kb(pid)
        load = run_load(srv.port, requests, duration, threads)
        rss_end = rss_kb(pid)
    finally:
        srv.stop()
    latencies = sorted(load.latencies)
    return RunReport(
        framework=framework,
        server=server,
        requests=load.requests,
        errors=load.errors,
        seconds=round(load.seconds, 2),
        rps=round(load.requests / load.seconds, 1) if load.seconds else 0.0,
        p50_ms=round(_percentile(latencies, 0.50) * 1000, 2),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
        rss_start_mb=round(rss_start / 1024, 1),
        rss_end_mb=round(rss_end / 1024, 1),
        rss_growth_mb=round((rss_end - rss_start) / 1024, 2),
        error_samples=load.error_samples,
    )


def soak(
    frameworks: t.Sequence[str] = ("erlen", "flask"),
    servers: t.Sequence[str] = SERVERS,
    requests: int = 100_000,
    duration: float = 10,
    threads: int = 4,
    log: t.Callable[[str], None] | None = None,
    warmup: int = 300,
) -> list[RunReport]:
    """Soak every server with every framework, server by server (so the two
    frameworks are measured close together in time)."""
    reports = []
    for server in servers:
        for framework in frameworks:
            report = soak_one(framework, server, requests, duration, threads, warmup)
            reports.append(report)
            if log is not None:
                log(format_row(report))
    return reports


HEADER = f"{'framework':<9} {'server':<17} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7} {'growth':>7}"


def format_row(r: RunReport) -> str:
    return (
        f"{r.framework:<9} {r.server:<17} {r.requests:>9} {r.errors:>6} {r.rps:>8.0f} {r.p50_ms:>7.2f}"
        f" {r.p99_ms:>7.2f} {r.rss_end_mb:>7.1f} {r.rss_growth_mb:>+7.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", default="erlen,flask", help="comma-separated: erlen, flask")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated: " + ", ".join(SERVERS)
    )
    parser.add_argument(
        "--requests", type=int, default=100_000, help="request budget per framework and server"
    )
    parser.add_argument(
        "--duration", type=float, default=10, help="time budget per framework and server, seconds"
    )
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--json", type=Path, help="write the reports here as JSON")
    parser.add_argument("--chart", type=Path, help="draw the req/s bar chart (PNG) here")
    args = parser.parse_args(argv)
    print(HEADER, flush=True)
    reports = soak(
        args.frameworks.split(","),
        args.servers.split(","),
        args.requests,
        args.duration,
        args.threads,
        log=lambda row: print(row, flush=True),
    )
    total = sum(r.requests for r in reports)
    errors = sum(r.errors for r in reports)
    print(f"total: {total} requests, {errors} errors", flush=True)
    for r in reports:
        for sample in r.error_samples:
            print(f"  {r.framework}/{r.server}: {sample}")
    data = [asdict(r) for r in reports]
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if args.chart:
        from chart import draw

        draw(data, args.chart)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
