"""Draw the soak's requests-per-second bar chart from its JSON output.

Usage: ``python soak/chart.py soak.json docs/soak-rps.png``
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path


def draw(reports: list[dict[str, t.Any]], path: Path) -> None:
    """Grouped bars: one group per server, one bar per framework, req/s on top."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    servers = list(dict.fromkeys(r["server"] for r in reports))
    frameworks = list(dict.fromkeys(r["framework"] for r in reports))
    width = 0.8 / len(frameworks)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    colors = {"erlen": "#2a7ab0", "flask": "#9a9a9a"}
    for i, framework in enumerate(frameworks):
        rps = []
        for server in servers:
            match = [
                r["rps"] for r in reports if r["server"] == server and r["framework"] == framework
            ]
            rps.append(match[0] if match else 0)
        xs = [s + (i - (len(frameworks) - 1) / 2) * width for s in range(len(servers))]
        bars = ax.bar(xs, rps, width, label=framework.capitalize(), color=colors.get(framework))
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    total = sum(r["requests"] for r in reports)
    errors = sum(r["errors"] for r in reports)
    ax.set_xticks(range(len(servers)), servers)
    ax.set_ylabel("requests / second")
    ax.set_title(
        f"Soak: same app, same mixed load ({total:,} requests, {errors} errors)", fontsize=10
    )
    ax.legend()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python soak/chart.py SOAK.json OUT.png")
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
