"""Draw the performance page's chart and table from the benchmark's JSON.

Usage, from the repository root::

    python3 dev.py bench --json docs/performance/bench.json
    python3 dev.py bench --instructions --json docs/performance/instructions.json
    .venv/bin/python docs/performance/chart.py            # writes bench.png, prints the tables
    .venv/bin/python docs/performance/chart.py other.json other.png
    .venv/bin/python benchmarks/e2e_run.py --json docs/performance/e2e.json  # then chart.py: e2e.png

The tables printed are the ones in ``docs/performance/index.md`` (time, from
``bench.json``; instructions, from ``instructions.json``, and end to end,
from ``e2e.json``, when they exist);
``tests/test_docs.py`` checks that the page still shows what the committed
JSON says, so rerun this after every new benchmark run.
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "bench.json"
INSTRUCTIONS_PATH = HERE / "instructions.json"
PNG_PATH = HERE / "bench.png"
E2E_PATH = HERE / "e2e.json"
E2E_PNG_PATH = HERE / "e2e.png"
FRAMEWORKS = ("erlen", "flask", "bottle", "falcon")
LABELS = {"erlen": "Erlen", "flask": "Flask", "bottle": "Bottle", "falcon": "Falcon"}
COLORS = {"erlen": "#00897b", "flask": "#9e9e9e", "bottle": "#ffb300", "falcon": "#5c6bc0"}


def load(path: Path = JSON_PATH) -> dict[str, t.Any]:
    """The benchmark's JSON output."""
    data: dict[str, t.Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def best_us(data: dict[str, t.Any], case: str, framework: str) -> float | None:
    """Microseconds per request of ``framework`` in ``case``, or ``None`` if it did not run."""
    result = data["cases"][case]["results"].get(framework)
    return None if result is None else float(result["best_us"])


def markdown_table(data: dict[str, t.Any]) -> str:
    """The per-case table of the performance page, as Markdown."""
    head = (
        "| case | request | "
        + " | ".join(LABELS[f] for f in FRAMEWORKS)
        + " | Erlen/Flask | Erlen/Falcon |"
    )
    rows = [head, "| --- | --- | " + " | ".join("---:" for _ in FRAMEWORKS) + " | ---: | ---: |"]
    for case, info in data["cases"].items():
        times = {f: best_us(data, case, f) for f in FRAMEWORKS}
        cells = [f"{v:.1f}" if v is not None else "n/a" for v in times.values()]
        ratios = []
        for peer in ("flask", "falcon"):
            erlen, other = times["erlen"], times[peer]
            ratios.append(f"{erlen / other:.2f}×" if erlen is not None and other else "n/a")
        rows.append(
            f"| `{case}` | `{info['request']}` | "
            + " | ".join(cells)
            + " | "
            + " | ".join(ratios)
            + " |"
        )
    return "\n".join(rows) + "\n"


#: Erlen's targets in instructions per request (issue 18): Erlen/peer at most.
INSTRUCTION_TARGETS: dict[str, dict[str, float]] = {
    "template": {"falcon": 1.0},
    "session": {"flask": 0.1},
}
#: The target of every other case.
DEFAULT_INSTRUCTION_TARGET: dict[str, float] = {"falcon": 0.8}


def _kilo(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.1f} k"


def instructions_table(data: dict[str, t.Any]) -> str:
    """The instructions table of the performance page, as Markdown.

    Thousands of instructions per request on the varied traffic (the
    headline), Erlen's ratios to Falcon and Flask, the target and whether it
    is met, and Erlen's figure on the fixed traffic beside it.
    """
    varied = data["instructions"]["varied"]
    fixed = data["instructions"].get("fixed", {})
    head = (
        "| case | "
        + " | ".join(LABELS[f] for f in FRAMEWORKS)
        + " | Erlen/Falcon | Erlen/Flask | target | Erlen, fixed traffic |"
    )
    rows = [
        head,
        "| --- | " + " | ".join("---:" for _ in FRAMEWORKS) + " | ---: | ---: | --- | ---: |",
    ]
    for case in varied.get("erlen", {}):
        counts = {f: varied.get(f, {}).get(case) for f in FRAMEWORKS}
        ratios = {}
        for peer in ("falcon", "flask"):
            erlen, other = counts["erlen"], counts[peer]
            ratios[peer] = erlen / other if erlen is not None and other else None
        limits = INSTRUCTION_TARGETS.get(case, DEFAULT_INSTRUCTION_TARGET)
        target = "; ".join(
            f"≤ {limit:g}× {LABELS[peer]}: "
            + ("n/a" if ratios[peer] is None else "met" if ratios[peer] <= limit else "**missed**")
            for peer, limit in limits.items()
        )
        rows.append(
            f"| `{case}` | "
            + " | ".join(_kilo(v) for v in counts.values())
            + " | "
            + " | ".join("n/a" if r is None else f"{r:.2f}×" for r in ratios.values())
            + f" | {target} | {_kilo(fixed.get('erlen', {}).get(case))} |"
        )
    return "\n".join(rows) + "\n"


def draw(data: dict[str, t.Any], out: Path = PNG_PATH) -> None:
    """Draw grouped horizontal bars of µs per request, one group per case, log scale."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    cases = list(data["cases"])
    height = 0.2
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(cases) + 1.5), dpi=110)
    for i, framework in enumerate(FRAMEWORKS):
        ys, xs = [], []
        for j, case in enumerate(cases):
            value = best_us(data, case, framework)
            if value is not None:
                ys.append(j + (i - 1.5) * height)
                xs.append(value)
        ax.barh(ys, xs, height=height, label=LABELS[framework], color=COLORS[framework])
    ax.set_yticks(range(len(cases)), cases)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per request (log scale, lower is better)")
    meta = data["meta"]
    traffic = " (varied traffic)" if data.get("traffic") == "varied" else ""
    ax.set_title(
        f"One request through each framework's WSGI callable{traffic}\n"
        f"{meta['python']}, {meta['cpu_count']} CPUs, {meta['date'][:10]}"
    )
    ax.legend(loc="lower right")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


#: The end-to-end run's servers (benchmarks/e2e_run.py), by interface, and their columns.
E2E_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "WSGI": (("granian-wsgi", "gunicorn-sync"), ("erlen", "falcon", "bottle", "flask", "bare")),
    "ASGI": (("granian-asgi", "uvicorn"), ("erlen", "erlen-def", "starlette", "bare")),
}
E2E_LABELS = {
    **LABELS,
    "erlen": "Erlen",
    "erlen-def": "Erlen, `def` views",
    "starlette": "Starlette",
    "bare": "bare app",
}
E2E_COLORS = {**COLORS, "erlen-def": "#4db6ac", "starlette": "#8d6e63", "bare": "#263238"}


def _rps(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.1f} k"


def e2e_table(data: dict[str, t.Any], interface: str) -> str:
    """The end-to-end table of one interface's servers, as Markdown.

    Requests per second (best round) per server, case and framework; Erlen's
    ratio to the peer of the server's target, by requests per second and by
    the server's CPU time per request (the peer's over Erlen's: above 1,
    Erlen costs less), and the target.
    """
    servers, frameworks = E2E_GROUPS[interface]
    best = data["best"]
    rows = [
        "| server | case | "
        + " | ".join(E2E_LABELS[f] for f in frameworks)
        + " | Erlen/peer, req/s | Erlen/peer, CPU per request | target |",
        "| --- | --- | " + " | ".join("---:" for _ in frameworks) + " | ---: | ---: | --- |",
    ]
    for server in servers:
        per = best.get(server)
        if per is None:
            continue
        targets = data["meta"]["targets"].get(server, {})
        for case in data["meta"]["cases"]:
            found = {f: per.get(f, {}).get(case) for f in frameworks}
            cells = [_rps(r["rps"] if r else None) for r in found.values()]
            by_rps, by_cpu, verdicts = [], [], []
            erlen = found.get("erlen")
            for peer, limit in targets.items():
                other = found.get(peer)
                if erlen is None or other is None:
                    by_rps.append("n/a")
                    by_cpu.append("n/a")
                    verdicts.append(f"≥ {limit:g}× {E2E_LABELS[peer]}: n/a")
                    continue
                ratio = erlen["rps"] / other["rps"]
                by_rps.append(f"{ratio:.2f}×")
                by_cpu.append(f"{other['cpu_us'] / erlen['cpu_us']:.2f}×")
                verdicts.append(
                    f"≥ {limit:g}× {E2E_LABELS[peer]}: "
                    + ("met" if ratio >= limit else "**missed**")
                )
            rows.append(
                f"| {server} | `{case}` | "
                + " | ".join(cells)
                + f" | {'; '.join(by_rps)} | {'; '.join(by_cpu)} | {'; '.join(verdicts)} |"
            )
    return "\n".join(rows) + "\n"


def draw_e2e(data: dict[str, t.Any], out: Path = E2E_PNG_PATH) -> None:
    """Grouped horizontal bars of requests per second: one panel per interface."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    cases = data["meta"]["cases"]
    panels = [
        (interface, [s for s in servers if s in data["best"]], frameworks)
        for interface, (servers, frameworks) in E2E_GROUPS.items()
    ]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.5 * len(panels), 4.5), dpi=110, squeeze=False
    )
    for ax, (interface, servers, frameworks) in zip(axes[0], panels, strict=True):
        groups = [(server, case) for server in servers for case in cases]
        height = 0.8 / len(frameworks)
        for i, framework in enumerate(frameworks):
            ys, xs = [], []
            for j, (server, case) in enumerate(groups):
                result = data["best"][server].get(framework, {}).get(case)
                if result is not None:
                    ys.append(j + (i - (len(frameworks) - 1) / 2) * height)
                    xs.append(result["rps"] / 1000)
            label = E2E_LABELS[framework].replace("`", "")
            ax.barh(ys, xs, height=height, label=label, color=E2E_COLORS[framework])
        ax.set_yticks(range(len(groups)), [f"{server}\n{case}" for server, case in groups])
        ax.invert_yaxis()
        ax.set_xlabel("thousands of requests per second (higher is better)")
        ax.set_title(f"{interface} servers, one worker")
        ax.legend(loc="lower right", fontsize="small")
        ax.grid(axis="x", alpha=0.3)
    meta = data["meta"]
    load = ", ".join(f"{x:.1f}" for x in data["loadavg"])
    fig.suptitle(
        f"End to end, wrk -c{meta['connections']} on 127.0.0.1: {meta['python']}, "
        f"{meta['cpu_count']} CPUs, {meta['date'][:10]}, load average {load}",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str]) -> int:
    """``chart.py [bench.json [bench.png]]``: draw the chart, print the table."""
    data = load(Path(argv[0]) if argv else JSON_PATH)
    draw(data, Path(argv[1]) if len(argv) > 1 else PNG_PATH)
    print(markdown_table(data), end="")
    if not argv and INSTRUCTIONS_PATH.exists():
        print()
        print(instructions_table(load(INSTRUCTIONS_PATH)), end="")
    if not argv and E2E_PATH.exists():
        e2e = load(E2E_PATH)
        draw_e2e(e2e)
        for interface in E2E_GROUPS:
            print()
            print(e2e_table(e2e, interface), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
