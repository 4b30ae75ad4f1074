"""benchmarks/typed_run.py: the three apps give the same checked answers, in process and served."""

from __future__ import annotations

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
    results = typed_run.end_to_end(["erlen"], total=20, connections=2, max_seconds=20)
    assert set(results["post"]) == set(results["query"]) == {"erlen"}
