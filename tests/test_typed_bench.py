"""benchmarks/typed_run.py: the three apps give the same checked answers, in process and served."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("apiflask")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import typed_run  # noqa: E402


def test_in_process_checks_every_answer_and_times_them():
    results = typed_run.in_process(list(typed_run.FRAMEWORKS), repeats=1, target_s=0.002)
    assert set(results) == {"post", "query"}
    for row in results.values():
        assert set(row) == set(typed_run.FRAMEWORKS)
        assert all(usec > 0 for usec in row.values())
    table = typed_run._table(results, ["erlen-wsgi"])
    assert "erlen-wsgi / fastapi" in table and "| post |" in table


def test_a_wrong_answer_fails_the_run(monkeypatch):
    monkeypatch.setitem(typed_run.CASES, "post", (*typed_run.CASES["post"][:5], {"id": 2}))
    with pytest.raises(AssertionError, match="post"):
        typed_run.in_process(["erlen-wsgi"], repeats=1, target_s=0.002)


def test_under_uvicorn():
    results = typed_run.end_to_end(["erlen"], total=20, connections=2, max_seconds=20)["wall"]
    assert set(results["post"]) == set(results["query"]) == {"erlen"}


def test_floors_replay_each_frameworks_own_answer():
    # What a floor sends is what the framework sends, recorded in process.
    for name, (_, _, framework) in typed_run.SERVED.items():
        replies = typed_run.record(framework)
        assert [(m, p, s) for m, p, s, _, _ in replies] == [
            ("POST", "/bookmarks", 201),
            ("GET", "/bookmarks", 200),
        ], name
        answers = [typed_run.json.loads(body) for *_, body in replies]
        assert answers == [case[5] for case in typed_run.CASES.values()], name
        assert all(
            k.lower() not in ("date", "server") for *_, headers, _ in replies for k, _ in headers
        )


def test_under_uvicorn_with_floors():
    both = typed_run.end_to_end(
        ["erlen", "apiflask"],
        total=40,
        connections=2,
        max_seconds=20,
        rounds=2,
        floors=True,
        batches=2,
    )
    assert set(both) == {"wall", "cpu"}  # CPU time from /proc: Linux, as the tests run
    results = both["wall"]
    for measure in both.values():
        for row in measure.values():
            assert set(row) == {"erlen", "apiflask", "floor:erlen", "floor:apiflask"}
            assert all(usec >= 0 for usec in row.values())
    assert all(usec > 0 for row in results.values() for usec in row.values())
    fake = {
        case: {
            "erlen": 100.0,
            "floor:erlen": 80.0,
            "fastapi": 200.0,
            "floor:fastapi": 80.0,
            "apiflask": 300.0,
            "floor:apiflask": 100.0,
        }
        for case in results
    }
    table = typed_run._floor_table(fake)
    # Raw 100 / 200 and own (100 - 80) / (200 - 80); against APIFlask 100 / 300 and 20 / 200.
    assert "| post | 100.0 µs | 80.0 µs | 20.0 µs |" in table
    assert table.splitlines()[2].endswith("| 0.50× | 0.17× | 0.33× | 0.10× |")


def test_callgrind_dump_summary(tmp_path):
    plain = tmp_path / "cg.out.1"
    plain.write_text("events: Ir\nsummary: 1234\n")
    assert typed_run._summary(plain) == 1234
    # With the cache simulation: instructions + 10 per L1 miss + 100 per last-level miss.
    cache = tmp_path / "cg.out.2"
    cache.write_text(
        "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\ntotals: 1000 0 0 1 2 3 1 0 1\n"
    )
    assert typed_run._summary(cache) == 1000 + 10 * 6 + 100 * 2
    # Trailing zero counts are left out.
    cache.write_text("events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\ntotals: 1000 0 0 1 2 3 1\n")
    assert typed_run._summary(cache) == 1000 + 10 * 6 + 100 * 1
    (tmp_path / "cg.out.3").write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no summary"):
        typed_run._summary(tmp_path / "cg.out.3")


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_instructions_under_uvicorn():
    # The bare floor only (the lightest server to start under callgrind).
    counts = typed_run.instructions(["floor:erlen"], n1=4, n2=12, warmup=4, connections=2, idle=0.5)
    assert set(counts) == {"post", "query", "idle"}
    for case in ("post", "query"):
        # A request through uvicorn's h11 protocol costs hundreds of thousands of
        # instructions: far from zero, far from a whole interpreter start.
        assert 50_000 < counts[case]["floor:erlen"] < 5_000_000
    assert counts["idle"]["floor:erlen"] > 0
