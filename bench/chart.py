"""The results as a PNG: each figure's ratio to its same-run baseline, and the goal."""

from __future__ import annotations

import re
from pathlib import Path

from bench.harness import Measure

__all__ = ["write_chart"]

_RATIO_GOAL = re.compile(r"ratio\s*([<>]=)\s*([\d.]+)")


def write_chart(measures: list[Measure], path: Path, title: str) -> str | None:
    """Draw the chart; None if it was drawn, else why not."""
    shown = [m for m in measures if m.ratio]
    if not shown:
        return "no figure of these suites has a ratio to draw"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed"
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(shown) + 1.6))
    colours = {True: "#2e7d32", False: "#c62828", None: "#78909c"}
    rows = range(len(shown))
    ratios = [m.ratio or 0.0 for m in shown]
    axes.barh(rows, ratios, color=[colours[m.met] for m in shown])
    for row, measure in zip(rows, shown, strict=True):
        goal = _RATIO_GOAL.search(measure.goal)
        if goal:
            axes.plot([float(goal.group(2))] * 2, [row - 0.4, row + 0.4], color="black", lw=2)
        axes.text(
            (measure.ratio or 0.0) * 1.02, row, f" {measure.ratio:.2f}", va="center", fontsize=8
        )
    axes.set_yticks(list(rows), [m.name for m in shown], fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("value / same-run baseline (log scale); black tick: goal")
    axes.set_title(f"{title}\ngreen: goal met, red: missed, grey: no goal", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
