"""The DEMO paper's reported numbers, kept as package data.

``botorch_demo/data/paper_results.json`` holds, for the tasks this package can
score (TF Bind 8, TF Bind 10, Levy) and the methods of the harness, the paper's
normalised 100th percentile (Tables 1-3) and 50th percentile (Tables 4-5) as
``[mean, standard error]`` over 8 seeds, and the paper's D(best). The paper
reports no medians for its ablations.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

Metric = Literal["p100", "p50"]


@cache
def paper_results() -> dict[str, Any]:
    """The parsed ``paper_results.json`` (cached; do not mutate)."""
    text = resources.files("botorch_demo").joinpath("data/paper_results.json").read_text()
    return json.loads(text)


def paper_value(metric: Metric, method: str, task: str) -> tuple[float, float] | None:
    """The paper's ``(mean, standard error)`` for a method and task, if reported.

    Args:
        metric: ``"p100"`` or ``"p50"``.
        method: Harness method name, e.g. ``"demo"``.
        task: Task name, e.g. ``"tfbind8"``.

    Returns:
        The pair, or ``None`` where the paper has no number.
    """
    if metric not in ("p100", "p50"):
        raise ValueError(f"metric must be 'p100' or 'p50', got {metric!r}.")
    pair = paper_results()[metric].get(method, {}).get(task)
    return None if pair is None else (float(pair[0]), float(pair[1]))


def paper_d_best(task: str) -> float | None:
    """The paper's D(best) for a task, if it has the task."""
    value = paper_results()["d_best"].get(task)
    return None if value is None else float(value)
