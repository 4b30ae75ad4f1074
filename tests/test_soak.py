"""The short soak: the soak apps under gunicorn (sync, gthread) and waitress.

About 20 seconds in all: each framework and server gets a 1.5 s load of the
mixed requests that ``soak/run.py`` sends (the long soak is a documented
command, see README). Everything runs on 127.0.0.1, bounded in count and
time, and every server is stopped by the test.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import typing as t
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

# Loaded by path under its own name: "run" and "main" are too generic to
# put the soak folder on sys.path.
_spec = importlib.util.spec_from_file_location(
    "erlen_soak_run", Path(__file__).resolve().parent.parent / "soak" / "run.py"
)
assert _spec is not None and _spec.loader is not None
soak_run = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = soak_run  # dataclasses look their module up
_spec.loader.exec_module(soak_run)


@pytest.fixture(scope="module")
def reports() -> list[t.Any]:
    return soak_run.soak(requests=20_000, duration=1.5, threads=4, warmup=60)


@pytest.mark.parametrize("server", soak_run.SERVERS)
@pytest.mark.parametrize("framework", ["erlen", "flask"])
def test_short_soak(reports: list[t.Any], framework: str, server: str) -> None:
    (report,) = [r for r in reports if r.framework == framework and r.server == server]
    assert report.errors == 0, report.error_samples
    assert report.requests >= 20, report  # the server really served the mix
    assert report.rps > 0 and 0 < report.p50_ms <= report.p99_ms
    # The long soak's goal is < 5 MB over a million requests; two seconds
    # only show a gross leak.
    assert report.rss_start_mb > 0 and report.rss_growth_mb < 20, report


def test_wrong_answers_are_counted_as_errors() -> None:
    # The load generator's error count is what the soak reports; a server
    # that answers every request with a 500 must show up as all errors.
    def app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"broken"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: t.Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = soak_run.run_load(server.server_port, requests=40, duration=10, threads=2)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert result.requests == 40
    assert result.errors == 40
    assert result.error_samples
