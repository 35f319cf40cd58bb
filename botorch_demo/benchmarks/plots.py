"""PNG figures of the benchmark (matplotlib, Agg backend).

* :func:`plot_reliability` -- the paper's Figure 3: proportion of candidates
  above D(best), per method (bars) and task (groups).
* :func:`plot_distributions` -- normalised oracle scores of all candidates of
  all seeds, one box plot per method, one panel per task, D(best) dashed.
* :func:`plot_m_sweep` -- the paper's Figure 4: score against m, D(best) dashed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from botorch_demo.fileio import atomic_write

matplotlib.use("Agg")


def _save(fig: Any, path: Path) -> Path:
    """Write ``fig`` as a PNG atomically (see :mod:`botorch_demo.fileio`) and close it."""
    try:
        return atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=120))
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class Grid:
    """The tasks and methods a benchmark figure shows, in order, and the methods' labels."""

    tasks: Sequence[str]
    methods: Sequence[str]
    labels: Mapping[str, str]

    def label(self, method: str) -> str:
        """The display label of ``method`` (its name when it has none)."""
        return self.labels.get(method, method)


def plot_reliability(summary: Sequence[Mapping[str, Any]], grid: Grid, path: str | Path) -> Path:
    """Bar chart of the proportion of candidates above D(best) (Figure 3).

    Args:
        summary: Rows of :func:`botorch_demo.benchmarks.report.summarize`.
        grid: Tasks (groups of bars), methods (bars) and labels.
        path: PNG file to write.

    Returns:
        The path written.
    """
    tasks, methods = grid.tasks, grid.methods
    cell = {(r["task"], r["method"]): r for r in summary}
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(
        figsize=(1.6 + 1.3 * len(tasks) * max(1, len(methods)) / 4, 3.6), layout="constrained"
    )
    x = np.arange(len(tasks))
    for i, m in enumerate(methods):
        means = [
            cell[(t, m)]["proportion_above_d_best_mean"] if (t, m) in cell else 0 for t in tasks
        ]
        errs = [
            (cell[(t, m)]["proportion_above_d_best_se"] or 0.0) if (t, m) in cell else 0
            for t in tasks
        ]
        ax.bar(
            x + (i - (len(methods) - 1) / 2) * width,
            means,
            width,
            yerr=errs,
            capsize=2,
            label=grid.label(m),
        )
    ax.set_xticks(x, list(tasks))
    ax.set_ylim(0, 1)
    ax.set_ylabel("proportion above D(best)")
    ax.set_title("Reliability: share of the K candidates that beat the best offline design")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, Path(path))


def plot_distributions(
    scores: Mapping[tuple[str, str], np.ndarray],
    d_best: Mapping[str, float],
    grid: Grid,
    path: str | Path,
) -> Path:
    """Box plots of the normalised scores of all candidates, per method and task.

    Args:
        scores: ``{(task, method): 1-d array}`` of normalised oracle scores.
        d_best: D(best) per task (dashed line).
        grid: Tasks (panels), methods (boxes) and labels.
        path: PNG file to write.

    Returns:
        The path written.
    """
    tasks, methods = grid.tasks, grid.methods
    fig, axes = plt.subplots(
        1,
        len(tasks),
        figsize=(0.7 * len(methods) * len(tasks) + 1.5, 3.8),
        squeeze=False,
        layout="constrained",
    )
    for ax, t in zip(axes[0], tasks, strict=True):
        present = [m for m in methods if (t, m) in scores]
        data = [scores[(t, m)] for m in present]
        if data:
            ax.boxplot(data, showfliers=True, flierprops={"markersize": 2})
            ax.set_xticks(
                range(1, len(present) + 1),
                [grid.label(m) for m in present],
                rotation=60,
                ha="right",
                fontsize=7,
            )
        if t in d_best:
            ax.axhline(d_best[t], ls="--", color="grey", lw=1, label="D(best)")
            ax.legend(fontsize=7, loc="lower left")
        ax.set_title(t)
        ax.set_ylabel("normalised score")
    fig.suptitle("Normalised oracle scores of all candidates (all seeds)")
    return _save(fig, Path(path))


def plot_m_sweep(
    summary: Sequence[Mapping[str, Any]],
    d_best: Mapping[str, float],
    tasks: Sequence[str],
    path: str | Path,
) -> Path:
    """Score against the editing noise level m (Figure 4).

    Args:
        summary: Rows with ``task``, ``m``, ``p100_mean``, ``p100_se``,
            ``p50_mean`` and ``p50_se`` (``se`` may be ``None``).
        d_best: D(best) per task.
        tasks: Task order (panels).
        path: PNG file to write.

    Returns:
        The path written.
    """
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False, layout="constrained"
    )
    for ax, t in zip(axes[0], tasks, strict=True):
        rows = sorted((r for r in summary if r["task"] == t), key=lambda r: r["m"])
        ms = np.array([r["m"] for r in rows])
        for metric, label in (("p100", "100th percentile"), ("p50", "50th percentile")):
            mean = np.array([r[f"{metric}_mean"] for r in rows])
            se = np.array([r[f"{metric}_se"] or 0.0 for r in rows])
            ax.plot(ms, mean, marker="o", ms=3, label=label)
            ax.fill_between(ms, mean - se, mean + se, alpha=0.25)
        if t in d_best:
            ax.axhline(d_best[t], ls="--", color="grey", lw=1, label="D(best)")
        ax.set_xlabel("m (noise level of the edit)")
        ax.set_ylabel("normalised score")
        ax.set_title(t)
        ax.legend(fontsize=7)
    fig.suptitle("Sensitivity of DEMO to m")
    return _save(fig, Path(path))
