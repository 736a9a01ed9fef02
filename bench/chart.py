"""Draw docs/img/benchmarks.png from the figures in docs/benchmarks.json.

`make bench-chart`. The JSON holds, per benchmark, the ratio to its baseline
(higher is better: 1.0 means as fast as the baseline) before and after a round
of work, with the date and the machine's state of each measurement; the chart
puts them side by side so a change reads at a glance. docs/BENCHMARKS.md has
the absolute figures and how each was measured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "docs" / "benchmarks.json"
TARGET = ROOT / "docs" / "img" / "benchmarks.png"


def draw(data: dict, target: Path) -> None:
    rows = data["benchmarks"]
    labels = [row["label"] for row in rows]
    before = [row["before"] for row in rows]
    after = [row["after"] for row in rows]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    y = range(len(rows))
    height = 0.38
    ax.barh(
        [i + height / 2 for i in y],
        before,
        height,
        label=data["before_label"],
        color="#b0b7c3",
    )
    ax.barh(
        [i - height / 2 for i in y],
        after,
        height,
        label=data["after_label"],
        color="#2f6fde",
    )
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        ax.text(b, i + height / 2, f" {b:.3g}", va="center", fontsize=8)
        ax.text(a, i - height / 2, f" {a:.3g}", va="center", fontsize=8)
    ax.set_yticks(list(y), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")  # ratios from 0.01 to 1: each bar readable
    ax.set_xlabel(
        "ratio to the baseline measured in the same run (log scale, higher is better)"
    )
    ax.set_title(data["title"], fontsize=11)
    # Below the axes: inside, it can cover a bar's figure.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8)
    ax.set_xlim(min(before + after) / 2, max(before + after) * 3)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else TARGET
    draw(json.loads(source.read_text()), target)
    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


if __name__ == "__main__":
    main()
