"""benchmarks/asgi_run.py: every app (erlen-sync too) gives the checked answers, in process and served."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from erlen.concurrency import is_async

pytest.importorskip("starlette")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import asgi_run  # noqa: E402
from asgi_cases import CASES  # noqa: E402


def test_in_process_checks_the_sync_and_async_erlen_apps() -> None:
    results = asgi_run.in_process(["erlen", "erlen-sync"], repeats=1, target_s=0.002)
    assert set(results) == {case.name for case in CASES}
    for row in results.values():
        assert set(row) == {"erlen", "erlen-sync"} and all(usec > 0 for usec in row.values())


def test_erlen_sync_is_the_app_with_plain_def_views() -> None:
    sync, native = asgi_run.create_app("erlen-sync"), asgi_run.create_app("erlen")
    assert sync.view_functions.keys() == native.view_functions.keys()
    assert not any(is_async(view) for view in sync.view_functions.values())
    assert is_async(native.view_functions["hello"])


@pytest.mark.parametrize("server", ["uvicorn", "granian", "granian-wsgi"])
def test_served_with_the_servers_cpu_time(server: str) -> None:
    pytest.importorskip(server.partition("-")[0])
    rows = asgi_run.end_to_end(
        ["erlen-sync"], total=20, connections=2, max_seconds=20, server=server
    )
    row = rows["erlen-sync"]
    assert row["hello"] > 0 and row["json"] > 0
    assert row["hello_cpu"] >= 0 and row["json_cpu"] >= 0
