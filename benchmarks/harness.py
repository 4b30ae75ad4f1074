"""The measuring harness: identical for every framework.

A request is a PEP 3333 environ built once, before timing.  A batch sends a
pool of requests in turn: one request over and over (fixed traffic) or a pool
of distinct ones (varied traffic).  Each call gets its own copy
(``dict(environ)``) and, for requests with a body, a fresh
``io.BytesIO(body)`` as ``wsgi.input``; the app is called with a trivial
``start_response``, its iterable consumed fully and closed if it has
``close()``.  Timing uses :func:`time.perf_counter_ns` around a batch of calls
(or, on request, :func:`time.process_time_ns`).
"""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cases import Case, Variant

Environ = dict[str, Any]
Headers = list[tuple[str, str]]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
#: One request ready to send: its environ and its body (``None``: no body).
Request = tuple[Environ, bytes | None]


def make_environ(case: Case, variant: Variant | None = None) -> Environ:
    """The WSGI environ of ``case``'s request (or ``variant``), with an empty ``wsgi.input``."""
    request = variant or case.fixed
    environ: Environ = {
        "REQUEST_METHOD": case.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(request.headers)
    if request.body is not None:
        environ["CONTENT_TYPE"] = case.content_type or "application/octet-stream"
        environ["CONTENT_LENGTH"] = str(len(request.body))
    return environ


def _write(data: bytes) -> None:
    """The ``write`` callable returned by ``start_response``; discards data."""


def _start_response(
    status: str, headers: Headers, exc_info: object | None = None
) -> Callable[[bytes], None]:
    """The trivial ``start_response`` used in timed loops."""
    return _write


@dataclass
class Response:
    """What one call of a WSGI app produced (for correctness checks)."""

    status: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    #: What the app wrote to ``wsgi.errors`` (where Flask-style apps log tracebacks).
    errors: str = ""


def call_once(app: WSGIApp, environ: Environ, body: bytes | None) -> Response:
    """Call ``app`` once with a copy of ``environ`` and record the full response.

    ``wsgi.errors`` is captured here, so a failed check can show what the app logged.
    """
    response = Response()
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: Headers, exc_info: object | None = None
    ) -> Callable[[bytes], object]:
        response.status = status
        response.headers = list(headers)
        return chunks.append

    env = dict(environ)
    if body is not None:
        env["wsgi.input"] = io.BytesIO(body)
    errors = env["wsgi.errors"] = io.StringIO()
    iterable = app(env, start_response)
    try:
        chunks.extend(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    response.body = b"".join(chunks)
    response.errors = errors.getvalue()
    return response


#: The clocks a batch can be timed with: wall-clock time (the default), or the
#: CPU time of this process, which leaves out the time spent waiting for a CPU
#: that other processes held on a busy machine.
CLOCKS: dict[str, Callable[[], int]] = {
    "wall": time.perf_counter_ns,
    "cpu": time.process_time_ns,
}


class Pool:
    """The requests a case sends, in turn; each batch goes on where the last one stopped.

    So a request comes back only after all the others of the pool, however
    batches are sized: with a pool larger than any cache, nothing cached from
    a request's text is ever found again.
    """

    def __init__(self, requests: list[Request]) -> None:
        if not requests:
            raise ValueError("a pool needs at least one request")
        self.requests = requests
        self.position = 0

    def __len__(self) -> int:
        return len(self.requests)

    def take(self, number: int) -> tuple[list[Environ], list[bytes] | None]:
        """The next ``number`` requests, going round the pool as often as needed.

        Returned as their environs and their bodies (``None`` when the case's
        requests have none), ready for :func:`send`.
        """
        requests, size = self.requests, len(self.requests)
        start = self.position
        rotated = requests[start:] + requests[:start]
        rounds, rest = divmod(number, size)
        self.position = (start + number) % size
        batch = rotated * rounds + rotated[:rest]
        environs = [environ for environ, _ in batch]
        if all(body is None for _, body in requests):
            return environs, None
        return environs, [body or b"" for _, body in batch]


def send(app: WSGIApp, environs: list[Environ], bodies: list[bytes] | None) -> None:
    """Call ``app`` on each environ (with its body, if any), as a minimal WSGI server would.

    The lists are made by :meth:`Pool.take` beforehand, so the loop costs the
    same per request for a pool of one request or of thousands.
    """
    start_response = _start_response
    copy = dict
    if bodies is None:
        for environ in environs:
            iterable = app(copy(environ), start_response)
            for _chunk in iterable:
                pass
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return
    new_input = io.BytesIO
    for environ, body in zip(environs, bodies, strict=True):
        env = copy(environ)
        env["wsgi.input"] = new_input(body)
        iterable = app(env, start_response)
        for _chunk in iterable:
            pass
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


def run_batch(app: WSGIApp, pool: Pool, number: int, clock_name: str = "wall") -> int:
    """Call ``app`` ``number`` times on the requests of ``pool`` in turn; return the nanoseconds.

    The list of requests is made before the clock starts.
    """
    clock = CLOCKS[clock_name]
    environs, bodies = pool.take(number)
    start = clock()
    send(app, environs, bodies)
    return clock() - start


def calibrate(
    app: WSGIApp,
    pool: Pool,
    warmup_s: float,
    target_s: float,
    clock_name: str = "wall",
) -> int:
    """Warm ``app`` up for about ``warmup_s``; return the batch size lasting ``target_s``.

    Batches double in size until the warm-up time is spent; the last (warmest)
    batch gives the per-call estimate.
    """
    number, spent, elapsed = 1, 0, 0
    while True:
        elapsed = run_batch(app, pool, number, clock_name)
        spent += elapsed
        if spent >= warmup_s * 1e9 and number >= 8:
            break
        number *= 2
    per_call = max(elapsed / number, 1.0)
    return max(1, round(target_s * 1e9 / per_call))


def timed_repeat(
    app: WSGIApp,
    pool: Pool,
    number: int,
    gc_enabled: bool = True,
    clock_name: str = "wall",
) -> float:
    """One timed batch of ``number`` calls; return microseconds per call.

    A full collection runs first so every batch starts from the same heap
    state; the collector is then left on (the default) or switched off for the
    batch, identically for every framework.
    """
    gc.collect()
    if gc_enabled:
        elapsed = run_batch(app, pool, number, clock_name)
    else:
        gc.disable()
        try:
            elapsed = run_batch(app, pool, number, clock_name)
        finally:
            gc.enable()
    return elapsed / number / 1000.0


def null_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The least a WSGI app can do; times the harness's own overhead."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]


_IMPORT_SNIPPET = """\
import time
wall, cpu = time.perf_counter_ns(), time.process_time_ns()
import {module}
print(time.perf_counter_ns() - wall, time.process_time_ns() - cpu)
"""


@dataclass
class ImportTimes:
    """Milliseconds taken by ``import <module>``, one entry per fresh interpreter."""

    wall_ms: list[float] = field(default_factory=list)
    #: CPU time of the importing process: what it cost, without waiting for
    #: a CPU that other processes held (so less sensitive to a busy machine).
    cpu_ms: list[float] = field(default_factory=list)


#: Environment variables that would slow imports down or skew them if inherited.
_UNFAIR_ENV = frozenset(
    {
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPROFILEIMPORTTIME",
        "PYTHONVERBOSE",
        "PYTHONDEVMODE",
        "PYTHONTRACEMALLOC",
        "PYTHONSTARTUP",
    }
)


def import_times(module: str, runs: int) -> ImportTimes:
    """Time ``import module`` in ``runs`` fresh interpreters.

    An untimed first run makes sure bytecode caches are written.  Interpreter
    start-up is excluded: only the ``import`` statement is inside the clock.
    The child runs from a temporary directory so nothing local shadows modules.
    """
    command = [sys.executable, "-c", _IMPORT_SNIPPET.format(module=module)]
    env = {k: v for k, v in os.environ.items() if k not in _UNFAIR_ENV}
    times = ImportTimes()
    with tempfile.TemporaryDirectory() as cwd:
        for run in range(runs + 1):
            proc = subprocess.run(
                command, cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise RuntimeError(f"import {module} failed: {last}")
            if run:
                wall_ns, cpu_ns = proc.stdout.split()
                times.wall_ms.append(int(wall_ns) / 1e6)
                times.cpu_ms.append(int(cpu_ns) / 1e6)
    return times
