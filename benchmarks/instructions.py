"""Instructions per request, counted by valgrind's callgrind: figures a busy machine can't move.

``python benchmarks/run.py --instructions`` (or this file) runs, per
framework, one child Python under ``valgrind --tool=callgrind``.  The child
builds the apps, then for each case and traffic sends some warm-up requests
and two segments of ``N1`` and ``N2`` requests; callgrind writes the count of
instructions executed at each segment's end (``--dump-before=getppid``: the
child calls ``os.getppid()``, which nothing else on the request path calls,
at the segment boundaries).  The cost of one request is the difference of
the two segments divided by ``N2 - N1``, so whatever a segment costs once
(starting, stopping, a stray collection of start-up garbage) cancels out.

Every request is first sent natively, in this process, to a separately built
app and its answer checked; the child replays the same requests (the
``session`` cookies it needs are made here, by the app's own answers).  In
the varied traffic the pool holds warm-up + N1 + N2 distinct requests (the
``upload`` case excepted: 64 bodies of 100 kB), so no request of a segment
was ever sent before.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, CASES_BY_NAME, Case  # noqa: E402
from harness import Pool, Request, make_environ, send  # noqa: E402

HERE = Path(__file__).resolve().parent
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"

#: Requests per segment (N1, N2) and warm-up requests, by default.
N1, N2, WARMUP = 200, 1200, 100


@dataclass
class Job:
    """One case in one traffic, as the child replays it."""

    case: str
    traffic: str
    #: The ``Cookie`` header of each request, for a case that needs one.
    cookies: list[str] | None = None

    def key(self) -> tuple[str, str]:
        return (self.traffic, self.case)


@dataclass
class Counts:
    """What one framework's child measured: instructions per request, by (traffic, case)."""

    framework: str
    per_request: dict[tuple[str, str], float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def pool_size(case: Case, traffic: str, warmup: int, n1: int, n2: int) -> int:
    """How many distinct requests ``case`` sends in ``traffic``."""
    if traffic == "fixed":
        return 1
    size = warmup + n1 + n2
    return min(size, case.pool_limit or size)


def child_pool(case: Case, traffic: str, size: int, cookies: list[str] | None) -> Pool:
    """The requests of ``case`` as the child sends them (the same as the parent checked)."""
    variants = [case.fixed] if traffic == "fixed" else [case.variant(i) for i in range(size)]
    requests: list[Request] = [(make_environ(case, v), v.body) for v in variants]
    if cookies is not None:
        for (environ, _), cookie in zip(requests, cookies, strict=True):
            environ["HTTP_COOKIE"] = cookie
    return Pool(requests)


# --------------------------------------------------------------------------- the child


def child(spec_path: Path) -> int:
    """Run under callgrind: replay the jobs of ``spec_path``, three dumps per job."""
    import run  # the app builders; imported here so the parent's import stays light

    spec = json.loads(spec_path.read_text())
    framework: str = spec["framework"]
    n1, n2, warmup = spec["n1"], spec["n2"], spec["warmup"]
    jobs = [Job(**job) for job in spec["jobs"]]
    cases = [CASES_BY_NAME[job.case] for job in jobs]
    apps = run.build_apps(framework, {case.app for case in cases})
    batches = []
    for job, case in zip(jobs, cases, strict=True):
        size = pool_size(case, job.traffic, warmup, n1, n2)
        pool = child_pool(case, job.traffic, size, job.cookies)
        batches.append((apps[case.app], pool.take(warmup), pool.take(n1), pool.take(n2)))
    gc.collect()
    gc.freeze()
    for app, warm, first, second in batches:
        send(app, *warm)
        os.getppid()  # dump: everything before the first segment
        send(app, *first)
        os.getppid()  # dump: the N1 segment
        send(app, *second)
        os.getppid()  # dump: the N2 segment
    return 0


# --------------------------------------------------------------------------- the parent


def _parent_jobs(
    framework: str, cases: list[Case], traffics: Sequence[str], warmup: int, n1: int, n2: int
) -> tuple[list[Job], list[str]]:
    """The jobs of ``framework``, every request checked natively, and the failures."""
    import run

    jobs: list[Job] = []
    failures: list[str] = []
    applicable = [c for c in cases if c.applies_to(framework)]
    try:
        apps = run.build_apps(framework, {case.app for case in applicable})
    except Exception as exc:  # noqa: BLE001 - report and go on with the others
        return [], [f"could not build the app: {type(exc).__name__}: {exc}"]
    for traffic in traffics:
        for case in applicable:
            size = pool_size(case, traffic, warmup, n1, n2)
            pool = run.build_pool(framework, case, apps[case.app], traffic, size)
            if isinstance(pool, run.Failure):
                failures.append(f"{case.name} ({traffic}): {pool.problem}")
                continue
            cookies = None
            if case.cookies_from_first_response:
                cookies = [environ["HTTP_COOKIE"] for environ, _ in pool.requests]
            jobs.append(Job(case.name, traffic, cookies))
    return jobs, failures


def _summary(path: Path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split(":", 1)[1].split()[0])
    raise ValueError(f"no summary line in {path}")


def _start_child(framework: str, jobs: list[Job], n1: int, n2: int, warmup: int) -> Any:
    folder = Path(tempfile.mkdtemp(prefix=f"erlen-callgrind-{framework}-"))
    spec = folder / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "framework": framework,
                "n1": n1,
                "n2": n2,
                "warmup": warmup,
                "jobs": [job.__dict__ for job in jobs],
            }
        )
    )
    command = [
        VALGRIND,
        "--tool=callgrind",
        "--dump-before=getppid",
        f"--callgrind-out-file={folder}/cg.out",
        "-q",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(spec),
    ]
    # A fixed hash seed makes the children's runs repeatable; the rest of the
    # environment is this process's.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    process = subprocess.Popen(
        command, cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, folder


def _read_counts(counts: Counts, jobs: list[Job], folder: Path, n1: int, n2: int) -> None:
    dumps = sorted(folder.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
    if len(dumps) < 3 * len(jobs):
        counts.failures.append(f"expected {3 * len(jobs)} callgrind dumps, found {len(dumps)}")
        return
    for j, job in enumerate(jobs):
        first, second = _summary(dumps[3 * j + 1]), _summary(dumps[3 * j + 2])
        counts.per_request[job.key()] = (second - first) / (n2 - n1)


def measure(
    frameworks: Sequence[str],
    cases: list[Case],
    traffics: Sequence[str],
    n1: int = N1,
    n2: int = N2,
    warmup: int = WARMUP,
    parallel: int = 2,
) -> dict[str, Counts]:
    """Instructions per request of every framework, case and traffic."""
    if not os.access(VALGRIND, os.X_OK):
        raise SystemExit("valgrind is needed for --instructions (Debian: apt install valgrind)")
    if not 0 < n1 < n2:
        raise SystemExit("need 0 < N1 < N2")
    results: dict[str, Counts] = {}
    pending: list[tuple[str, list[Job]]] = []
    for fw in frameworks:
        _log(f"checking every request natively on {fw} ...")
        jobs, failures = _parent_jobs(fw, cases, traffics, warmup, n1, n2)
        results[fw] = Counts(fw, failures=failures)
        if jobs:
            pending.append((fw, jobs))
    running: list[tuple[str, list[Job], Any, Path, float]] = []
    while pending or running:
        while pending and len(running) < parallel:
            fw, jobs = pending.pop(0)
            _log(f"callgrind: {fw}, {len(jobs)} case runs ...")
            process, folder = _start_child(fw, jobs, n1, n2, warmup)
            running.append((fw, jobs, process, folder, time.monotonic()))
        fw, jobs, process, folder, started = running.pop(0)
        output, _ = process.communicate()
        counts = results[fw]
        counts.seconds = time.monotonic() - started
        if process.returncode != 0:
            counts.failures.append(f"the callgrind child failed:\n{output[-3000:]}")
        else:
            _read_counts(counts, jobs, folder, n1, n2)
        shutil.rmtree(folder, ignore_errors=True)
        _log(f"callgrind: {fw} done in {counts.seconds:.0f} s")
    return results


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def render(
    results: dict[str, Counts], cases: list[Case], traffics: Sequence[str], n1: int, n2: int
) -> str:
    """The tables: thousands of instructions per request, Erlen's ratios and targets."""
    import run

    fws = list(results)
    peers = run._peers(fws)
    out = [
        f"Instructions per request (thousands; callgrind, ({n2} - {n1} requests) difference, "
        "WSGI, in process; lower is better)"
    ]
    for traffic in traffics:
        out.append("")
        out.append(
            "Varied traffic (the headline): distinct requests"
            if traffic == "varied"
            else "Fixed traffic: one request over and over"
        )
        header = ["case", *(run.DISPLAY[fw] for fw in fws)]
        header += [f"Erlen/{run.DISPLAY[p]}" for p in peers]
        header += ["targets"] if peers else []
        rows = []
        for case in cases:
            cells = [case.name]
            for fw in fws:
                value = results[fw].per_request.get((traffic, case.name))
                if not case.applies_to(fw):
                    cells.append("n/a")
                else:
                    cells.append("—" if value is None else f"{value / 1000:.1f} k")
            erlen = results["erlen"].per_request.get((traffic, case.name)) if peers else None
            limits = run.case_targets(case)
            verdicts = []
            for p in peers:
                other = results[p].per_request.get((traffic, case.name))
                ratio = erlen / other if erlen is not None and other else None
                cells.append(run.fmt_ratio(ratio) if case.applies_to(p) else "n/a")
                if p in limits and ratio is not None:
                    met = "met" if ratio <= limits[p] else "MISSED"
                    verdicts.append(f"≤ {limits[p]:g}× {run.DISPLAY[p]}: {met}")
            if peers:
                cells.append("; ".join(verdicts))
            rows.append(cells)
        out += run._table(header, rows)
    if len(traffics) > 1 and "varied" in traffics and "fixed" in traffics:
        out.append("")
        out.append("Varied / fixed (above 1: the varied traffic costs more)")
        rows = []
        for case in cases:
            cells = [case.name]
            for fw in fws:
                varied = results[fw].per_request.get(("varied", case.name))
                fixed = results[fw].per_request.get(("fixed", case.name))
                cells.append(run.fmt_ratio(varied / fixed if varied and fixed else None))
            rows.append(cells)
        out += run._table(["case", *(run.DISPLAY[fw] for fw in fws)], rows)
    failures = [(fw, f) for fw, counts in results.items() for f in counts.failures]
    if failures:
        out.append("")
        out.append("FAILURES (not counted; fix the framework, not the benchmark)")
        out += [f"- {run.DISPLAY[fw]}: {f}" for fw, f in failures]
    return "\n".join(out)


def to_json(
    results: dict[str, Counts], traffics: Sequence[str], n1: int, n2: int, warmup: int
) -> dict[str, Any]:
    """Every count, for docs and charts."""
    import platform

    import run

    return {
        "meta": {
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "machine": platform.machine(),
            "versions": {fw: run._version(fw) for fw in results},
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "erlen_commit": _git_head(),
            "unit": "instructions per request (callgrind)",
            "n1": n1,
            "n2": n2,
            "warmup": warmup,
        },
        "instructions": {
            traffic: {
                fw: {case: value for (t, case), value in counts.per_request.items() if t == traffic}
                for fw, counts in results.items()
            }
            for traffic in traffics
        },
        "failures": {fw: counts.failures for fw, counts in results.items() if counts.failures},
    }


def _git_head() -> str:
    """The commit Erlen's tree is at (``?`` outside a git checkout)."""
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    )
    return proc.stdout.strip() or "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/instructions.py",
        description="Instructions per request (callgrind) of Erlen, Flask, Bottle and Falcon.",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    return run_from_args(args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the instruction mode (shared with ``run.py --instructions``)."""
    names = [c.name for c in CASES]
    if not any(a.dest == "cases" for a in parser._actions):
        parser.add_argument("--cases", type=lambda v: v.split(","), help=", ".join(names))
        parser.add_argument("--frameworks", type=lambda v: v.split(","))
        parser.add_argument("--traffic", choices=("both", "varied", "fixed"), default="both")
        parser.add_argument("--json", metavar="PATH", type=Path)
    parser.add_argument("--n1", type=int, default=N1, help=f"requests in the first segment ({N1})")
    parser.add_argument("--n2", type=int, default=N2, help=f"requests in the second ({N2})")
    parser.add_argument("--warmup", type=int, default=WARMUP, help=f"warm-up requests ({WARMUP})")
    parser.add_argument("--parallel", type=int, default=2, help="callgrind children at once (2)")


def run_from_args(args: argparse.Namespace) -> int:
    """Measure and print, from parsed options (``run.py --instructions`` comes here)."""
    import run

    selected = set(args.cases or CASES_BY_NAME)
    unknown = selected - set(CASES_BY_NAME)
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    cases = [c for c in CASES if c.name in selected]
    frameworks = [fw for fw in run.FRAMEWORKS if fw in (args.frameworks or run.FRAMEWORKS)]
    if getattr(args, "baseline", None):
        # Erlen as of another revision, counted beside today's (see baseline.py).
        baseline = f"erlen@{args.baseline}"
        run.DISPLAY[baseline] = f"Erlen@{args.baseline}"
        frameworks.insert(1 if "erlen" in frameworks else 0, baseline)
    traffics = {"both": ("varied", "fixed"), "varied": ("varied",), "fixed": ("fixed",)}[
        args.traffic
    ]
    results = measure(
        frameworks, cases, traffics, args.n1, args.n2, args.warmup, max(1, args.parallel)
    )
    print(render(results, cases, traffics, args.n1, args.n2))
    if args.json:
        document = to_json(results, traffics, args.n1, args.n2, args.warmup)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        _log(f"wrote {args.json}")
    return 1 if any(counts.failures for counts in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
