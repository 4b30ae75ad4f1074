"""benchmarks/: varied traffic (distinct, checked requests) and the instruction-count mode."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import instructions  # noqa: E402
import run  # noqa: E402
from cases import CASES, CASES_BY_NAME  # noqa: E402
from harness import Pool, make_environ, send  # noqa: E402


def _request_key(environ: dict[str, object], body: bytes | None) -> tuple[object, ...]:
    # What tells two requests apart, as a server would receive them.
    return (
        environ["PATH_INFO"],
        environ["QUERY_STRING"],
        environ.get("HTTP_COOKIE"),
        environ.get("HTTP_X_REQUEST_ID"),
        body,
    )


@pytest.fixture(scope="module")
def erlen_apps() -> dict[str, object]:
    return run.build_apps("erlen", {case.app for case in CASES})


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_varied_pool_is_distinct_and_every_answer_checked(
    case: run.Case, erlen_apps: dict[str, object]
) -> None:
    pool = run.build_pool("erlen", case, erlen_apps[case.app], "varied", 40)
    assert isinstance(pool, Pool), getattr(pool, "problem", pool)
    keys = {_request_key(environ, body) for environ, body in pool.requests}
    assert len(keys) == len(pool) == 40
    fixed = run.build_pool("erlen", case, erlen_apps[case.app], "fixed", 40)
    assert isinstance(fixed, Pool) and len(fixed) == 1


def test_a_wrong_answer_to_one_variant_fails_the_pool(
    erlen_apps: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES_BY_NAME["param"]
    original = case.variant

    def variant(i: int) -> object:
        v = original(i)
        return v if i != 7 else type(v)(v.path, text="Hello, nobody!")

    monkeypatch.setattr(type(case), "variant", lambda self, i: variant(i))
    failure = run.build_pool("erlen", case, erlen_apps["main"], "varied", 10)
    assert isinstance(failure, run.Failure)
    assert "Hello, nobody!" in failure.problem


def test_session_pool_carries_distinct_sessions(erlen_apps: dict[str, object]) -> None:
    case = CASES_BY_NAME["session"]
    pool = run.build_pool("erlen", case, erlen_apps["session"], "varied", 5)
    assert isinstance(pool, Pool)
    cookies = [environ["HTTP_COOKIE"] for environ, _ in pool.requests]
    assert len(set(cookies)) == 5
    # Cookie k holds n = k + 1, so the answer is n={k + 2}: the same as variant k.
    for k, (environ, body) in enumerate(pool.requests):
        response = run.call_once(erlen_apps["session"], environ, body)
        assert response.body == f"n={k + 2}".encode()


def test_pool_goes_round_where_the_last_batch_stopped() -> None:
    case = CASES_BY_NAME["param"]
    requests = [(make_environ(case, case.variant(i)), None) for i in range(3)]
    pool = Pool(requests)
    paths = [env["PATH_INFO"] for env in pool.take(2)[0]]
    paths += [env["PATH_INFO"] for env in pool.take(4)[0]]
    expected = [env["PATH_INFO"] for env, _ in requests]
    assert paths == expected * 2
    with pytest.raises(ValueError):
        Pool([])


def test_send_calls_the_app_with_fresh_bodies() -> None:
    seen: list[bytes] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        seen.append(environ["wsgi.input"].read())  # type: ignore[attr-defined]
        return [b""]

    case = CASES_BY_NAME["form"]
    pool = Pool([(make_environ(case, case.variant(i)), case.variant(i).body) for i in range(2)])
    send(app, *pool.take(4))
    assert seen == [case.variant(i).body for i in (0, 1, 0, 1)]


def test_counts_are_the_difference_of_the_two_segments(tmp_path: Path) -> None:
    # Three dumps per job: before the first segment, N1, N2.
    totals = [5_000_000, 1_000_000, 4_000_000, 9_000, 2_000_000, 7_000_000]
    for i, total in enumerate(totals, start=1):
        (tmp_path / f"cg.out.{i}").write_text(f"events: Ir\nsummary: {total}\n")
    jobs = [instructions.Job("hello", "varied"), instructions.Job("hello", "fixed")]
    counts = instructions.Counts("erlen")
    instructions._read_counts(counts, jobs, tmp_path, n1=100, n2=400)
    assert counts.per_request == {("varied", "hello"): 10_000.0, ("fixed", "hello"): 5_000.0 / 0.3}
    missing = instructions.Counts("erlen")
    instructions._read_counts(missing, [*jobs, jobs[0]], tmp_path, n1=100, n2=400)
    assert missing.failures and not missing.per_request


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_instruction_mode_counts_a_case_under_callgrind() -> None:
    cases = [CASES_BY_NAME["hello"]]
    results = instructions.measure(["erlen"], cases, ("varied",), n1=5, n2=25, warmup=2)
    count = results["erlen"].per_request[("varied", "hello")]
    # A request through Erlen's WSGI callable is tens of thousands of
    # instructions, far from zero and from a whole interpreter start.
    assert 5_000 < count < 500_000
    table = instructions.render(results, cases, ("varied",), 5, 25)
    assert "hello" in table and " k" in table
