"""The bar a user applies: DEMO against the simplest optimisers on the same surrogate.

Grad (gradient ascent from the top designs) and CMA-ES both optimise DEMO's own
surrogate, so a DEMO batch is worth its diffusion model only where it is at
least as good as theirs. :func:`bar_checks` tests every DEMO configuration of a
benchmark (``demo`` and its variants ``demo[...]``) on every task where both
baselines ran:

* **p100**: its 100th percentile is at least the better baseline's minus one
  standard error of its own mean over seeds (with one seed: at least the
  better baseline's);
* **median**: its 50th percentile is at least Grad's.

:func:`bar_markdown` is the section of ``results.md`` that shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The baselines of the bar, and the one whose median DEMO's must reach.
BASELINES: tuple[str, ...] = ("grad", "cma-es")
MEDIAN_BASELINE = "grad"


def is_demo(method: str) -> bool:
    """Whether ``method`` is DEMO or one of its variants (not an ablation)."""
    return method == "demo" or method.startswith("demo[")


@dataclass(frozen=True)
class BarCheck:
    """One DEMO configuration against the bar on one task.

    Attributes:
        task: Task name.
        method: DEMO method name (``demo`` or ``demo[...]``).
        p100: Mean 100th percentile over seeds.
        p100_se: Its standard error (``None`` with one seed).
        bar: The better baseline's mean 100th percentile.
        bar_method: Which baseline that is.
        p50: Mean 50th percentile.
        baseline_p50: Grad's mean 50th percentile.
    """

    task: str
    method: str
    p100: float
    p100_se: float | None
    bar: float
    bar_method: str
    p50: float
    baseline_p50: float

    @property
    def meets_p100(self) -> bool:
        """p100 at least the bar minus one standard error."""
        return self.p100 >= self.bar - (self.p100_se or 0.0)

    @property
    def meets_median(self) -> bool:
        """Median at least Grad's."""
        return self.p50 >= self.baseline_p50


def bar_checks(summary: Sequence[Mapping[str, Any]]) -> list[BarCheck]:
    """Every DEMO configuration against the bar, on the tasks where Grad and
    CMA-ES both ran.

    Args:
        summary: Rows of :func:`~botorch_demo.benchmarks.report.summarize`
            (``task``, ``method``, ``p100_mean``, ``p100_se``, ``p50_mean``).

    Returns:
        One :class:`BarCheck` per (task, DEMO method), in the summary's order.
    """
    cell = {(r["task"], r["method"]): r for r in summary}
    checks = []
    for row in summary:
        task, method = row["task"], row["method"]
        baselines = [cell.get((task, b)) for b in BASELINES]
        if not is_demo(method) or any(b is None for b in baselines):
            continue
        best = max(baselines, key=lambda b: b["p100_mean"])  # type: ignore[index]
        checks.append(
            BarCheck(
                task=task,
                method=method,
                p100=row["p100_mean"],
                p100_se=row["p100_se"],
                bar=best["p100_mean"],  # type: ignore[index]
                bar_method=best["method"],  # type: ignore[index]
                p50=row["p50_mean"],
                baseline_p50=cell[(task, MEDIAN_BASELINE)]["p50_mean"],
            )
        )
    return checks


def bar_markdown(
    checks: Sequence[BarCheck], tasks: Sequence[str], labels: Mapping[str, str]
) -> list[str]:
    """The ``results.md`` section of :func:`bar_checks` (no lines without checks).

    Args:
        checks: From :func:`bar_checks`.
        tasks: Task order (columns).
        labels: Label of each method.

    Returns:
        Markdown lines: one row per DEMO configuration, ``p100 / median`` per
        task as ``yes`` or ``no``, and the counts.
    """
    if not checks:
        return []
    by_key = {(c.task, c.method): c for c in checks}
    methods = list(dict.fromkeys(c.method for c in checks))
    columns = [t for t in tasks if any((t, m) in by_key for m in methods)]
    out = [
        "## Against Grad and CMA-ES on the same surrogate",
        "",
        "Per task, p100 / median: *p100* is yes when the method's 100th percentile is "
        "at least the better of Grad's and CMA-ES's minus one standard error of the "
        "method's own mean (with one seed, at least the better one); *median* is yes "
        "when its 50th percentile is at least Grad's.",
        "",
        "| method | " + " | ".join(columns) + " | p100 met | median met |",
        "|" + "---|" * (len(columns) + 3),
    ]
    for m in methods:
        cells, p100_met, median_met, n = [], 0, 0, 0
        for t in columns:
            c = by_key.get((t, m))
            if c is None:
                cells.append("–")
                continue
            n += 1
            p100_met += c.meets_p100
            median_met += c.meets_median
            cells.append(f"{_yes(c.meets_p100)} / {_yes(c.meets_median)}")
        label = labels.get(m, m)
        out.append(
            f"| {label} | " + " | ".join(cells) + f" | {p100_met} of {n} | {median_met} of {n} |"
        )
    out.append("")
    return out


def _yes(value: bool) -> str:
    return "yes" if value else "no"
