"""benchmarks/e2e_run.py: wrk's report parsed, the bare apps' answers, a short real run."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import typing as t
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import e2e_run  # noqa: E402

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:40000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.95ms    5.17ms  58.60ms   92.52%
    Req/Sec    40.36k     4.21k   45.02k    80.00%
  Latency Distribution
     50%  650.00us
     75%    1.10ms
     90%    2.30ms
     99%    1.02s
  120490 requests in 3.00s, 16.43MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 7
Requests/sec:  40163.93
Transfer/sec:      5.48MB
"""


def test_parse_wrk_reads_rate_latency_and_errors() -> None:
    report = e2e_run.parse_wrk(WRK_OUTPUT)
    assert report["rps"] == pytest.approx(40163.93)
    assert report["requests"] == 120490
    assert report["latency_ms"] == pytest.approx(1.95)
    assert report["p50_ms"] == pytest.approx(0.65)
    assert report["p99_ms"] == pytest.approx(1020.0)
    assert report["non_2xx"] == 7
    assert report["socket_errors"] == 3


def test_bare_wsgi_answers_each_case_and_404s_the_rest() -> None:
    app = e2e_run.bare_wsgi()
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.append((status, headers))

    for path, expected in e2e_run.CASES.values():
        body = b"".join(app({"PATH_INFO": path}, start_response))
        status, headers = started.pop()
        assert status == "200 OK"
        assert ("Content-Length", str(len(body))) in headers
        assert body == expected.encode() if isinstance(expected, str) else json.loads(body)
    assert b"".join(app({"PATH_INFO": "/nope"}, start_response)) == b""
    assert started.pop()[0] == "404 Not Found"


def test_bare_asgi_answers_each_case_and_runs_a_lifespan() -> None:
    app = e2e_run.bare_asgi()

    async def drive(scope: dict[str, t.Any], incoming: list[dict[str, t.Any]]) -> list[t.Any]:
        sent: list[t.Any] = []

        async def receive() -> dict[str, t.Any]:
            return incoming.pop(0)

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    assert [m["type"] for m in asyncio.run(drive({"type": "lifespan"}, lifespan))] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    start, body = asyncio.run(drive({"type": "http", "path": "/json"}, []))
    assert start["status"] == 200
    assert json.loads(body["body"]) == e2e_run.JSON_DOC
    assert asyncio.run(drive({"type": "http", "path": "/nope"}, []))[0]["status"] == 404


def _meta() -> dict[str, t.Any]:
    return {
        "connections": 32,
        "seconds": 3.0,
        "rounds": 1,
        "python": "CPython",
        "cpu_count": 2,
        "cases": ["hello", "param"],
    }


def test_report_shows_ratios_and_targets() -> None:
    def result(rps: float) -> dict[str, float]:
        return {"rps": rps, "cpu_us": 20.0}

    data: dict[str, t.Any] = {
        "meta": _meta(),
        "loadavg": [1.0, 2.0],
        "best": {
            "granian-wsgi": {
                "erlen": {"hello": result(60000), "param": result(50000)},
                "falcon": {"hello": result(40000), "param": result(50000)},
            }
        },
        "failures": {"granian-wsgi/flask": "GET /: status 500"},
    }
    assert e2e_run.ratios(data["best"], "granian-wsgi") == {"falcon": {"hello": 1.5, "param": 1.0}}
    text = e2e_run.report(data)
    assert "1.50x" in text and "1.00x" in text
    assert "target erlen >= 1.2x falcon: MISSED (worst 1.00x)" in text
    assert "granian-wsgi/flask: GET /: status 500" in text


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_a_short_run_under_granian_and_gunicorn(tmp_path: Path) -> None:
    pytest.importorskip("granian", reason="granian is not installed: pip install 'granian>=2'")
    pytest.importorskip("gunicorn")
    out = tmp_path / "e2e.json"
    argv = ["--servers", "granian-wsgi,gunicorn-sync", "--frameworks", "erlen,bare"]
    argv += ["--cases", "hello", "--rounds", "1", "--seconds", "1", "--warmup", "1"]
    assert e2e_run.main([*argv, "--connections", "4", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["failures"] == {}
    for server in ("granian-wsgi", "gunicorn-sync"):
        for name in ("erlen", "bare"):
            for case in ("hello",):
                found = data["best"][server][name][case]
                assert found["rps"] > 0 and found["non_2xx"] == 0 and found["cpu_us"] > 0
    assert set(data["ratios"]["gunicorn-sync"]["bare"]) == {"hello"}


def test_a_wrong_answer_is_a_failure_not_a_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("granian", reason="granian is not installed: pip install 'granian>=2'")
    monkeypatch.setitem(e2e_run.CASES, "hello", ("/", "Goodbye"))
    result = e2e_run.run(["granian-wsgi"], ["bare"], ["hello"], 1, 1, 1, 2, progress=print)
    assert "body b'Hello, World!'" in result["failures"]["granian-wsgi/bare"]
    assert result["best"] == {}


def test_a_server_that_does_not_answer_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("granian", reason="granian is not installed: pip install 'granian>=2'")
    real_check, calls = e2e_run.check, []

    def check_once_timing_out(port: int, path: str, expected: t.Any) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise TimeoutError("timed out")
        real_check(port, path, expected)

    monkeypatch.setattr(e2e_run, "check", check_once_timing_out)
    result = e2e_run.run(["granian-wsgi"], ["bare"], ["hello"], 2, 1, 1, 2, progress=print)
    assert result["errors"] == ["round 1 granian-wsgi/bare: TimeoutError: timed out"]
    assert result["failures"] == {}
    assert len(result["samples"]["granian-wsgi"]["bare"]["hello"]) == 1
    assert "ERRORS" in e2e_run.report({**result, "meta": _meta()})


def test_callgrind_total_sums_one_total_per_process(tmp_path: Path) -> None:
    (tmp_path / "callgrind.101").write_text("version: 1\nsummary: 1000\ntotals: 1000\n")
    (tmp_path / "callgrind.102").write_text("version: 1\ntotals: 250\n")
    (tmp_path / "other.txt").write_text("summary: 99999\n")
    assert e2e_run.callgrind_total(tmp_path) == 1250


def test_instructions_mode_prints_and_writes_the_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = []

    def fake(server: str, names: list[str], case: str, n1: int, n2: int) -> dict[str, float]:
        asked.append((server, names, case, n1, n2))
        return {name: 1000.0 * (i + 1) for i, name in enumerate(names)}

    monkeypatch.setattr(e2e_run.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(e2e_run, "instructions", fake)
    out = tmp_path / "counts.json"
    argv = ["--instructions", "--servers", "granian-wsgi", "--frameworks", "erlen,bottle"]
    assert e2e_run.main([*argv, "--cases", "hello", "--n2", "300", "--json", str(out)]) == 0
    assert asked == [("granian-wsgi", ["erlen", "bottle"], "hello", 200, 300)]
    assert "hello           1.0k        2.0k" in capsys.readouterr().out
    counts = json.loads(out.read_text())["instructions"]
    assert counts == {"granian-wsgi": {"hello": {"erlen": 1000.0, "bottle": 2000.0}}}
