"""Erlen's benchmark suite: Erlen against Flask, Bottle and Falcon, in one process.

Usage (from the repository root)::

    python3 dev.py bench                       # full run, about 4 minutes on 2 cores
    python3 dev.py bench --quick               # about a minute
    python3 dev.py bench --instructions        # instructions per request (callgrind)
    python3 dev.py bench --cases hello,json --frameworks erlen,falcon
    python3 dev.py bench --json bench.json     # also write every figure as JSON

Every case is first checked for correctness on every framework (status code
and body); a framework that fails a case is reported and not timed on it.
Then each case is timed for all frameworks with repeats interleaved, so that
noise from a shared machine hits every framework alike, and the best (minimum)
repeat is reported in microseconds per request.  See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The app modules and the harness live beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import instructions  # noqa: E402
from baseline import import_apps  # noqa: E402
from cases import (  # noqa: E402
    CASES,
    CASES_BY_NAME,
    ROUTE_COUNT,
    ROUTE_INDEX,
    AppKind,
    Case,
    Variant,
    check_response,
)
from harness import (  # noqa: E402
    CLOCKS,
    Environ,
    ImportTimes,
    Pool,
    Request,
    WSGIApp,
    calibrate,
    call_once,
    import_times,
    make_environ,
    null_app,
    timed_repeat,
)

#: Frameworks in column order; each has an ``apps_<name>.py`` module.
FRAMEWORKS: tuple[str, ...] = ("erlen", "flask", "bottle", "falcon")
DISPLAY: dict[str, str] = {
    "erlen": "Erlen",
    "flask": "Flask",
    "bottle": "Bottle",
    "falcon": "Falcon",
}
#: Distribution names, for version reporting.
DISTRIBUTIONS: dict[str, str] = {
    "erlen": "erlen",
    "flask": "Flask",
    "bottle": "bottle",
    "falcon": "falcon",
}
#: Erlen is compared with these, in this order (after ``erlen@REV``, if any).
PEERS: tuple[str, ...] = ("falcon", "flask", "bottle")

#: The targets Erlen is held to (ratios, lower is better).
TARGET_VS_FALCON = 0.8
TARGET_VS_FLASK = 0.1
TARGET_ROUTE1000_VS_HELLO = 1.3
TARGET_IMPORT_VS_FLASK = 1 / 3
#: Erlen/peer limits of a case, by peer: every case not in CASE_TARGETS.
DEFAULT_CASE_TARGETS: dict[str, float] = {"falcon": TARGET_VS_FALCON, "flask": TARGET_VS_FLASK}
#: The cases held to other limits than the default.
CASE_TARGETS: dict[str, dict[str, float]] = {
    # Jinja2 does most of the work, the same for all: Falcon + Jinja2 is the floor.
    "template": {"falcon": 1.0},
    # Parsing 100 kB of multipart is most of the work, so no 0.1x Flask here.
    "upload": {"falcon": TARGET_VS_FALCON},
    # Falcon has no sessions.
    "session": {"flask": TARGET_VS_FLASK},
}


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    repeat: int = 7
    target_s: float = 0.2  # duration of one timed batch
    warmup_s: float = 0.1
    number: int | None = None  # fixed batch size instead of calibrating
    gc_enabled: bool = True
    clock: str = "wall"  # a key of harness.CLOCKS
    import_runs: int = 5
    #: Distinct requests per case in the varied traffic: more than any cache
    #: keyed on a request's text holds (Erlen's largest such cache: 512).
    pool_size: int = 2048
    #: The traffics measured: "varied" (the headline) and "fixed".
    traffics: tuple[str, ...] = ("varied", "fixed")


QUICK = Settings(repeat=5, target_s=0.04, warmup_s=0.02, import_runs=3)


@dataclass
class Timing:
    """The timings of one framework on one case."""

    number: int
    samples_us: list[float] = field(default_factory=list)

    @property
    def best_us(self) -> float:
        return min(self.samples_us)

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_us)


@dataclass
class Failure:
    """A framework that could not be built or answered a case wrongly."""

    framework: str
    case: str  # "*" when the app could not be built at all
    problem: str
    status: str = ""
    body: str = ""
    traceback: str = ""


@dataclass
class Results:
    """Everything measured in one run."""

    settings: Settings
    frameworks: list[str]
    cases: list[Case]
    #: "varied" (a pool of distinct requests per case) or "fixed" (one request).
    traffic: str = "varied"
    timings: dict[str, dict[str, Timing]] = field(default_factory=dict)  # case -> fw -> Timing
    failures: list[Failure] = field(default_factory=list)
    harness_us: float | None = None
    imports: dict[str, ImportTimes] = field(default_factory=dict)
    import_errors: dict[str, str] = field(default_factory=dict)

    def best(self, case: str, framework: str) -> float | None:
        timing = self.timings.get(case, {}).get(framework)
        return timing.best_us if timing else None

    def ratio(self, case: str, framework: str, other: str) -> float | None:
        return _div(self.best(case, framework), self.best(case, other))

    def route_ratio(self, framework: str, other_case: str) -> float | None:
        return _div(self.best("route1000", framework), self.best(other_case, framework))

    def import_best(self, framework: str) -> float | None:
        times = self.imports.get(framework)
        return min(times.wall_ms) if times else None

    def import_ratio(self, framework: str, other: str) -> float | None:
        return _div(self.import_best(framework), self.import_best(other))


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# --------------------------------------------------------------------------- running


def _log(message: str, end: str = "\n") -> None:
    print(message, end=end, file=sys.stderr, flush=True)


def _short_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-8:]).rstrip()


def _excerpt(body: bytes, limit: int = 400) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return text + (" ..." if len(body) > limit else "")


def _peers(frameworks: Sequence[str]) -> list[str]:
    """Erlen's peers in ``frameworks``: Erlen at another revision first, then PEERS."""
    if "erlen" not in frameworks:
        return []
    return [fw for fw in frameworks if "@" in fw] + [p for p in PEERS if p in frameworks]


def _released(frameworks: Sequence[str]) -> list[str]:
    """The installed frameworks among ``frameworks`` (not ``erlen@REV``)."""
    return [fw for fw in frameworks if "@" not in fw]


def build_apps(framework: str, kinds: set[AppKind]) -> dict[AppKind, WSGIApp]:
    """Import ``apps_<framework>`` (``erlen@REV``: on Erlen at REV) and build the apps needed."""
    name, _, rev = framework.partition("@")
    module = import_apps(f"apps_{name}", rev)
    apps: dict[AppKind, WSGIApp] = {}
    if "main" in kinds:
        apps["main"] = module.create_app()
    if "route1000" in kinds:
        apps["route1000"] = module.create_app(range(ROUTE_COUNT))
    if "route1" in kinds:
        apps["route1"] = module.create_app([ROUTE_INDEX], base=False)
    if "session" in kinds:
        apps["session"] = module.create_session_app()
    return apps


def _response_failure(framework: str, case: Case, problem: str, response: Any) -> Failure:
    return Failure(
        framework,
        case.name,
        problem,
        response.status,
        _excerpt(response.body),
        traceback=response.errors[-3000:].rstrip(),
    )


def _set_cookies(headers: list[tuple[str, str]]) -> str:
    """The ``Cookie`` header sending back what ``headers`` set."""
    return "; ".join(
        value.split(";", 1)[0].strip() for name, value in headers if name.lower() == "set-cookie"
    )


def cookie_chain(framework: str, case: Case, app: WSGIApp, size: int) -> list[str] | Failure:
    """``size`` cookies of distinct sessions, from a case with ``cookies_from_first_response``.

    The first is what the answer to a request without cookies sets (``n`` is
    1); each next one what the answer to a request sending the previous one
    sets (``n`` one more), every answer checked on the way.  Cookie ``k`` (from
    0) thus gets ``n={k + 2}``: the ``k``-th variant of the case.
    """
    environ = make_environ(case)
    try:
        response = call_once(app, environ, case.body)
    except Exception as exc:  # noqa: BLE001 - any error is a failed set-up
        return Failure(
            framework,
            case.name,
            f"the first request, without cookies, raised {type(exc).__name__}: {exc}",
            traceback=_short_traceback(exc),
        )
    cookie = _set_cookies(response.headers)
    if not response.status.startswith("200") or not cookie:
        return _response_failure(
            framework,
            case,
            "the first request, without cookies, must answer 200 and set a cookie",
            response,
        )
    cookies = [cookie]
    for k in range(size - 1):
        environ["HTTP_COOKIE"] = cookies[-1]
        response = call_once(app, environ, case.body)
        problem = check_response(
            case, response.status, response.headers, response.body, case.variant(k)
        )
        cookie = _set_cookies(response.headers)
        if problem is None and not cookie:
            problem = "the answer sets no cookie"
        if problem is not None:
            return _response_failure(framework, case, f"session {k + 2}: {problem}", response)
        cookies.append(cookie)
    return cookies


def build_pool(framework: str, case: Case, app: WSGIApp, traffic: str, size: int) -> Pool | Failure:
    """The requests ``case`` sends to ``app`` in ``traffic``, each checked once, or a failure.

    Fixed traffic is the case's one request; varied traffic ``size`` distinct
    variants (at most ``case.pool_limit``).  For a case with
    ``cookies_from_first_response`` the cookies come from :func:`cookie_chain`
    (fixed: the first one).
    """
    if traffic == "fixed":
        variants = [case.fixed]
    else:
        size = min(size, case.pool_limit or size)
        variants = [case.variant(i) for i in range(size)]
    requests: list[Request] = [(make_environ(case, v), v.body) for v in variants]
    if case.cookies_from_first_response:
        cookies = cookie_chain(framework, case, app, len(variants))
        if isinstance(cookies, Failure):
            return cookies
        for (environ, _), cookie in zip(requests, cookies, strict=True):
            environ["HTTP_COOKIE"] = cookie
    for (environ, body), variant in zip(requests, variants, strict=True):
        failure = check(framework, case, app, environ, body, variant)
        if failure is not None:
            return failure
    return Pool(requests)


def check(
    framework: str,
    case: Case,
    app: WSGIApp,
    environ: Environ,
    body: bytes | None,
    variant: Variant | None = None,
) -> Failure | None:
    """Send a request of ``case`` to ``app`` once; describe the failure if the answer is wrong."""
    try:
        response = call_once(app, environ, body)
    except Exception as exc:  # noqa: BLE001 - any error is a failed check
        return Failure(
            framework,
            case.name,
            f"raised {type(exc).__name__}: {exc}",
            traceback=_short_traceback(exc),
        )
    problem = check_response(case, response.status, response.headers, response.body, variant)
    if problem is None:
        return None
    return _response_failure(framework, case, problem, response)


def _raised_while_timing(framework: str, case: Case, exc: Exception) -> Failure:
    return Failure(
        framework,
        case.name,
        f"raised {type(exc).__name__} while timed: {exc}",
        traceback=_short_traceback(exc),
    )


def _fail(results: Results, failure: Failure) -> None:
    results.failures.append(failure)
    _log(f"! {DISPLAY[failure.framework]} fails {failure.case}: {failure.problem}")


def build_all(
    frameworks: list[str], cases: list[Case]
) -> tuple[dict[str, dict[AppKind, WSGIApp]], list[Failure]]:
    """The apps of every framework for ``cases``, and the frameworks that could not build them."""
    apps: dict[str, dict[AppKind, WSGIApp]] = {}
    failures: list[Failure] = []
    for fw in frameworks:
        _log(f"building the {DISPLAY[fw]} apps ...", end="")
        start = time.perf_counter()
        try:
            apps[fw] = build_apps(fw, {case.app for case in cases if case.applies_to(fw)})
            _log(f" {time.perf_counter() - start:.1f} s")
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            failures.append(
                Failure(
                    fw,
                    "*",
                    f"could not build the app: {type(exc).__name__}: {exc}",
                    traceback=_short_traceback(exc),
                )
            )
            _log(f" failed\n! {DISPLAY[fw]} unavailable: {type(exc).__name__}: {exc}")
    return apps, failures


def run_benchmarks(settings: Settings, frameworks: list[str], cases: list[Case]) -> list[Results]:
    """Check, then time, every selected case on every selected framework, per traffic."""
    apps, failures = build_all(frameworks, cases)
    runs = [Results(settings, frameworks, cases, traffic) for traffic in settings.traffics]
    for results in runs:
        results.failures += failures

    # Move everything built so far (frameworks, apps, 1000-route tables) out of
    # the collector's reach: collections in timed loops then only scan what the
    # requests allocate, the same for every framework, and stay cheap.
    gc.collect()
    gc.freeze()
    try:
        for results in runs:
            _log(f"-- {results.traffic} traffic")
            _time_cases(results, apps, cases)
    finally:
        gc.unfreeze()
    return runs


def _time_cases(
    results: Results, apps: dict[str, dict[AppKind, WSGIApp]], cases: list[Case]
) -> None:
    settings = results.settings
    for case in cases:
        runnable: dict[str, WSGIApp] = {}
        pools: dict[str, Pool] = {}
        for fw, fw_apps in apps.items():
            if not case.applies_to(fw):
                continue
            app = fw_apps[case.app]
            pool = build_pool(fw, case, app, results.traffic, settings.pool_size)
            if isinstance(pool, Failure):
                _fail(results, pool)
                continue
            runnable[fw] = app
            pools[fw] = pool
        _log(f"{case.name:<10} {case.request_line:<42}", end="")
        timings: dict[str, Timing] = {}
        for fw, app in list(runnable.items()):
            try:
                number = calibrate(
                    app, pools[fw], settings.warmup_s, settings.target_s, settings.clock
                )
            except Exception as exc:  # noqa: BLE001 - report, do not time
                _fail(results, _raised_while_timing(fw, case, exc))
                del runnable[fw]
                continue
            timings[fw] = Timing(settings.number or number)
        for r in range(settings.repeat):
            # Rotate the order so that no framework always runs first or last.
            order = list(runnable)
            shift = r % len(order) if order else 0
            for fw in order[shift:] + order[:shift]:
                try:
                    sample = timed_repeat(
                        runnable[fw],
                        pools[fw],
                        timings[fw].number,
                        settings.gc_enabled,
                        settings.clock,
                    )
                except Exception as exc:  # noqa: BLE001 - report, do not time
                    _fail(results, _raised_while_timing(fw, case, exc))
                    del runnable[fw], timings[fw]
                    continue
                timings[fw].samples_us.append(sample)
            _log(".", end="")
        _log("")
        # Check again: an app that answers right once but not after thousands
        # of requests (state leaking between requests) must not be reported.
        for fw, app in runnable.items():
            environ, body = pools[fw].requests[0]
            variant = case.fixed if results.traffic == "fixed" else case.variant(0)
            failure = check(fw, case, app, environ, body, variant)
            if failure is not None:
                failure.problem = f"right at first, but after the timed requests: {failure.problem}"
                _fail(results, failure)
                del timings[fw]
        results.timings[case.name] = timings

    # The harness's own cost per call, included in every figure above.
    hello = Pool([(make_environ(CASES_BY_NAME["hello"]), None)])
    number = calibrate(null_app, hello, settings.warmup_s, settings.target_s, settings.clock)
    results.harness_us = min(
        timed_repeat(
            null_app, hello, settings.number or number, settings.gc_enabled, settings.clock
        )
        for _ in range(settings.repeat)
    )


def measure_imports(results: Results) -> None:
    """Time ``import <framework>`` in fresh interpreters, best of N."""
    for fw in _released(results.frameworks):
        _log(f"import {fw} ...", end="")
        try:
            results.imports[fw] = times = import_times(fw, results.settings.import_runs)
            _log(f" {min(times.wall_ms):.1f} ms")
        except RuntimeError as exc:
            results.import_errors[fw] = str(exc)
            _log(f" failed: {exc}")


# --------------------------------------------------------------------------- reporting


def fmt_us(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 100 else f"{value:.1f}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}×" if value < 1 else f"{value:.2f}×"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Format a table: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


@dataclass(frozen=True)
class Target:
    """One of Erlen's performance targets and how this run did on it."""

    name: str
    limit: float
    value: float | None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value <= self.limit


def case_targets(case: Case) -> dict[str, float]:
    """The limits of Erlen/peer on ``case``, by peer (peers without the case left out)."""
    limits = CASE_TARGETS.get(case.name, DEFAULT_CASE_TARGETS)
    return {peer: limit for peer, limit in limits.items() if case.applies_to(peer)}


def evaluate_targets(results: Results) -> list[Target]:
    """Erlen's targets, for whatever this run measured."""
    fws = results.frameworks
    targets: list[Target] = []
    if "erlen" not in fws:
        return targets
    failed = {(f.framework, f.case) for f in results.failures}

    def note(case: str, peer: str = "erlen") -> str:
        for fw in dict.fromkeys(("erlen", peer)):
            if (fw, case) in failed or (fw, "*") in failed:
                return f"{DISPLAY[fw]} failed the check"
        return "not measured"

    for peer in ("falcon", "flask"):
        if peer not in fws:
            continue
        for case in results.cases:
            limit = case_targets(case).get(peer)
            if limit is None:
                continue
            value = results.ratio(case.name, "erlen", peer)
            targets.append(
                Target(
                    f"{case.name}: Erlen/{DISPLAY[peer]}",
                    limit,
                    value,
                    "" if value is not None else note(case.name, peer),
                )
            )
    if any(c.name == "route1000" for c in results.cases) and any(
        c.name == "hello" for c in results.cases
    ):
        value = results.route_ratio("erlen", "hello")
        targets.append(
            Target(
                "route1000/hello (Erlen)",
                TARGET_ROUTE1000_VS_HELLO,
                value,
                "" if value is not None else note("route1000"),
            )
        )
    if results.imports or results.import_errors:
        if "flask" in fws:
            value = results.import_ratio("erlen", "flask")
            targets.append(
                Target(
                    "import: Erlen/Flask",
                    TARGET_IMPORT_VS_FLASK,
                    value,
                    "" if value is not None else "import failed",
                )
            )
    return targets


def _case_table(results: Results) -> list[str]:
    """µs per request of every case and framework, then Erlen's ratios to its peers."""
    fws = results.frameworks
    peers = _peers(fws)
    failed = {(f.framework, f.case) for f in results.failures}
    header = ["case", *(DISPLAY[fw] for fw in fws), *(f"Erlen/{DISPLAY[p]}" for p in peers)]
    rows = []
    for case in results.cases:
        cells = [case.name]
        for fw in fws:
            bad = (fw, case.name) in failed or (fw, "*") in failed
            if not case.applies_to(fw):
                cells.append("n/a")
            else:
                cells.append("FAIL" if bad else fmt_us(results.best(case.name, fw)))
        cells += [
            fmt_ratio(results.ratio(case.name, "erlen", p)) if case.applies_to(p) else "n/a"
            for p in peers
        ]
        rows.append(cells)
    return _table(header, rows)


def _traffic_title(results: Results) -> str:
    if results.traffic == "fixed":
        return "Fixed traffic: each case's one request, sent over and over"
    return (
        f"Varied traffic (the headline): each case sends a pool of up to "
        f"{results.settings.pool_size} distinct requests in turn"
    )


def render(runs: list[Results], targets: list[Target]) -> str:
    """The human-readable report: the first run is the headline, the others follow."""
    results = runs[0]
    s, fws = results.settings, results.frameworks
    out: list[str] = []
    batch = f"{s.number} calls" if s.number else f"~{s.target_s:g} s"
    out.append(
        f"Erlen benchmarks — {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    out.append(
        f"µs per request through each WSGI callable (lower is better); best of {s.repeat} "
        f"repeats of {batch} each; {'wall-clock' if s.clock == 'wall' else 'CPU'} time; "
        f"GC {'enabled' if s.gc_enabled else 'disabled'} in timed loops"
    )
    versions = ", ".join(f"{DISPLAY[fw]} {_version(fw)}" for fw in _released(fws))
    out.append(f"Versions: {versions}")
    out.append("")

    for run in runs:
        out.append(_traffic_title(run))
        out += _case_table(run)
        out.append("")
    if len(runs) > 1:
        out.append("Varied / fixed, per framework (above 1: the varied traffic costs more)")
        varied, fixed = runs[0], runs[1]
        header = ["case", *(DISPLAY[fw] for fw in fws)]
        rows = [
            [
                c.name,
                *(fmt_ratio(_div(varied.best(c.name, fw), fixed.best(c.name, fw))) for fw in fws),
            ]
            for c in results.cases
        ]
        out += _table(header, rows)
        out.append("")
    if results.harness_us is not None:
        out.append(
            f"(harness overhead, measured with a null WSGI app: {results.harness_us:.2f} µs "
            "per call, included in every figure above)"
        )
    out += [f"{case.name}: {case.note}" for case in results.cases if case.note]

    names = {c.name for c in results.cases}
    if "route1000" in names:
        out.append("")
        out.append(
            f"Routing: GET /r{ROUTE_INDEX}/42 among {ROUTE_COUNT} dynamic routes (route1000) "
            "vs. an app with that route only (route1)"
        )
        header = [
            "framework",
            "route1000",
            "route1",
            "hello",
            "route1000/hello",
            "route1000/route1",
        ]
        rows = [
            [
                DISPLAY[fw],
                fmt_us(results.best("route1000", fw)),
                fmt_us(results.best("route1", fw)),
                fmt_us(results.best("hello", fw)),
                fmt_ratio(results.route_ratio(fw, "hello")),
                fmt_ratio(results.route_ratio(fw, "route1")),
            ]
            for fw in fws
        ]
        out += _table(header, rows)

    if results.imports or results.import_errors:
        out.append("")
        out.append(
            f"Import time: `import <framework>` in a fresh interpreter, ms, best of {s.import_runs}"
        )
        header = ["framework", "best ms", "median ms", "best CPU ms", "Erlen/this"]
        rows = []
        for fw in _released(fws):
            times = results.imports.get(fw)
            if times is None:
                rows.append([DISPLAY[fw], "FAIL", "", "", ""])
                continue
            ratio = results.import_ratio("erlen", fw) if fw != "erlen" else None
            rows.append(
                [
                    DISPLAY[fw],
                    f"{min(times.wall_ms):.1f}",
                    f"{statistics.median(times.wall_ms):.1f}",
                    f"{min(times.cpu_ms):.1f}",
                    fmt_ratio(ratio),
                ]
            )
        out += _table(header, rows)

    if targets:
        out.append("")
        out.append("Targets (Erlen; a ratio must be ≤ its limit)")
        header = ["target", "limit", "this run", "met"]
        rows = [
            [
                t.name,
                f"≤ {t.limit:.3g}×",
                "—" if t.value is None else f"{t.value:.3f}×",
                {True: "yes", False: "NO", None: f"n/a ({t.note})"}[t.met],
            ]
            for t in targets
        ]
        out += _table(header, rows)
        met = sum(t.met is True for t in targets)
        out.append(f"{met} of {len(targets)} targets met")

    failures = [f for run in runs for f in run.failures]
    failures = list({(f.framework, f.case, f.problem): f for f in failures}.values())
    if failures or results.import_errors:
        out.append("")
        out.append("FAILURES (not timed; fix the framework, not the benchmark)")
        for f in failures:
            where = "building the app" if f.case == "*" else f"case {f.case!r}"
            out.append(f"- {DISPLAY[f.framework]}, {where}: {f.problem}")
            if f.status:
                out.append(f"    status: {f.status}")
            if f.body:
                out.append(f"    body:   {f.body!r}")
            if f.traceback:
                out += ["    " + line for line in f.traceback.splitlines()]
        for fw, error in results.import_errors.items():
            out.append(f"- {DISPLAY[fw]}, import time: {error}")
    return "\n".join(out)


def _version(framework: str) -> str:
    if "@" in framework:
        return framework.partition("@")[2]
    try:
        return importlib.metadata.version(DISTRIBUTIONS[framework])
    except importlib.metadata.PackageNotFoundError:
        return "?"


def to_json(runs: list[Results], targets: list[Target]) -> dict[str, Any]:
    """Every figure of the run, for docs and charts: ``cases`` is the headline traffic."""
    document = _run_json(runs[0], targets)
    document["traffic"] = runs[0].traffic
    document["other_traffics"] = {
        run.traffic: {
            "harness_overhead_us": run.harness_us,
            "cases": _run_json(run, [])["cases"],
            "failures": [asdict(f) for f in run.failures],
        }
        for run in runs[1:]
    }
    return document


def _run_json(results: Results, targets: list[Target]) -> dict[str, Any]:
    fws = results.frameworks
    peers = _peers(fws)
    return {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "versions": {fw: _version(fw) for fw in fws},
            "settings": asdict(results.settings),
            "unit": "microseconds per request; best of repeats",
        },
        "harness_overhead_us": results.harness_us,
        "cases": {
            case.name: {
                "request": case.request_line,
                "description": case.description,
                "frameworks": [fw for fw in fws if case.applies_to(fw)],
                "note": case.note,
                "results": {
                    fw: {
                        "best_us": t.best_us,
                        "median_us": t.median_us,
                        "number": t.number,
                        "samples_us": t.samples_us,
                    }
                    for fw, t in results.timings.get(case.name, {}).items()
                },
                "ratios": {
                    f"erlen/{p}": results.ratio(case.name, "erlen", p)
                    for p in peers
                    if case.applies_to(p)
                },
                "targets": {f"erlen/{p}": limit for p, limit in case_targets(case).items()},
            }
            for case in results.cases
        },
        "routing": {
            fw: {
                "route1000/hello": results.route_ratio(fw, "hello"),
                "route1000/route1": results.route_ratio(fw, "route1"),
            }
            for fw in fws
        },
        "imports": {
            "runs_ms": {fw: t.wall_ms for fw, t in results.imports.items()},
            "cpu_runs_ms": {fw: t.cpu_ms for fw, t in results.imports.items()},
            "best_ms": {fw: min(t.wall_ms) for fw, t in results.imports.items()},
            "ratios": {f"erlen/{p}": results.import_ratio("erlen", p) for p in _released(peers)},
            "errors": results.import_errors,
        },
        "targets": [
            {"name": t.name, "limit": t.limit, "value": t.value, "met": t.met, "note": t.note}
            for t in targets
        ],
        "failures": [asdict(f) for f in results.failures],
    }


# --------------------------------------------------------------------------- command line


def _names(value: str, known: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    case_names = [c.name for c in CASES]
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Erlen vs Flask, Bottle and Falcon: µs per request through WSGI.",
    )
    parser.add_argument("--quick", action="store_true", help="short run (about 25 s)")
    parser.add_argument(
        "--cases",
        type=lambda v: _names(v, case_names, "case"),
        help=f"comma-separated subset of: {', '.join(case_names)} (route1000 brings route1 along)",
    )
    parser.add_argument(
        "--frameworks",
        type=lambda v: _names(v, FRAMEWORKS, "framework"),
        help=f"comma-separated subset of: {', '.join(FRAMEWORKS)}",
    )
    parser.add_argument("--repeat", type=int, help="timed repeats per case and framework")
    parser.add_argument("--target-ms", type=float, help="duration of one timed repeat")
    parser.add_argument("--number", type=int, help="calls per repeat (default: calibrated)")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the garbage collector inside timed loops (for everyone)",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="time batches by wall clock (default) or by this process's CPU time, "
        "which leaves out waiting for a CPU on a busy machine",
    )
    parser.add_argument("--no-imports", action="store_true", help="skip import timing")
    parser.add_argument(
        "--traffic",
        choices=("both", "varied", "fixed"),
        default="both",
        help="varied: a pool of distinct requests per case (the headline); fixed: one "
        "request over and over; both (default): varied, then fixed, side by side",
    )
    parser.add_argument(
        "--pool", type=int, help="distinct requests per case in the varied traffic (2048)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time Erlen as of git revision REV, as the column Erlen@REV",
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write all figures as JSON")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request with valgrind's callgrind instead of timing "
        "(slow: minutes; immune to the machine's load); see benchmarks/instructions.py",
    )
    instructions.add_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("repeat", "target_ms", "number", "pool"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.instructions:
        return instructions.run_from_args(args)
    settings = QUICK if args.quick else Settings()
    overrides: dict[str, Any] = {"gc_enabled": not args.no_gc, "clock": args.clock}
    if args.repeat:
        overrides["repeat"] = args.repeat
    if args.target_ms:
        overrides["target_s"] = args.target_ms / 1000
    if args.number:
        overrides["number"] = args.number
    if args.pool:
        overrides["pool_size"] = args.pool
    overrides["traffics"] = {
        "both": ("varied", "fixed"),
        "varied": ("varied",),
        "fixed": ("fixed",),
    }[args.traffic]
    settings = Settings(**{**asdict(settings), **overrides})

    selected = set(args.cases or CASES_BY_NAME)
    if "route1000" in selected:
        selected.add("route1")
    cases = [c for c in CASES if c.name in selected]
    frameworks = [fw for fw in FRAMEWORKS if fw in (args.frameworks or FRAMEWORKS)]
    if args.baseline:
        baseline = f"erlen@{args.baseline}"
        DISPLAY[baseline] = f"Erlen@{args.baseline}"
        frameworks.insert(1 if "erlen" in frameworks else 0, baseline)

    runs = run_benchmarks(settings, frameworks, cases)
    results = runs[0]
    if not args.no_imports:
        measure_imports(results)
    targets = evaluate_targets(results)
    print(render(runs, targets))
    if args.json:
        args.json.write_text(json.dumps(to_json(runs, targets), indent=2) + "\n")
        _log(f"wrote {args.json}")
    return 1 if any(run.failures for run in runs) or results.import_errors else 0


if __name__ == "__main__":
    sys.exit(main())
