"""Tables and plots of the campaign benchmark: best-so-far over rounds.

``best_so_far`` is the best normalised oracle score (the task's min-max
normaliser, :meth:`~botorch_demo.tasks.task.OfflineTask.normalize`) among the
designs a strategy proposed up to and including a round; the offline data is
not counted, so D(best) is drawn for reference.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt

from botorch_demo.benchmarks.plots import _save

matplotlib.use("Agg")

#: Columns of results.csv, one row per (task, strategy, seed, round).
CSV_COLUMNS = (
    "task",
    "strategy",
    "seed",
    "round",
    "n_evaluated",
    "best_so_far",
    "round_best",
    "d_best",
    "seconds",
    "generation_seconds",
    "oracle_seconds",
    "nodes",
)

#: Rounds shown in the table of results.md (those that exist).
TABLE_ROUNDS = (0, 1, 2, 4)


def round_rows(records: Iterable[Mapping[str, Any]], rounds: int) -> list[dict[str, Any]]:
    """One row per (task, strategy, seed, round) up to ``rounds``, from cell records."""
    rows = []
    for record in records:
        for row in record["rows"]:
            if int(row["round"]) <= rounds:
                rows.append({c: row.get(c) for c in CSV_COLUMNS})
    return rows


def _mean_se(values: Sequence[float]) -> tuple[float, float | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, strategy, round): best-so-far and seconds, mean and s.e. over seeds."""
    groups: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["task"], row["strategy"], int(row["round"]))].append(row)
    out = []
    for (task, strategy, r), group in groups.items():
        best, best_se = _mean_se([float(g["best_so_far"]) for g in group])
        seconds, seconds_se = _mean_se([float(g["seconds"]) for g in group])
        out.append(
            {
                "task": task,
                "strategy": strategy,
                "round": r,
                "n_seeds": len(group),
                "n_evaluated": int(group[0]["n_evaluated"]),
                "best_so_far_mean": best,
                "best_so_far_se": best_se,
                "seconds_mean": seconds,
                "seconds_se": seconds_se,
                "seconds_max": max(float(g["seconds"]) for g in group),
            }
        )
    return out


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """results.csv: one row per (task, strategy, seed, round)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = dict(row)
        out["nodes"] = "+".join(row.get("nodes") or [])
        for name in ("seconds", "generation_seconds", "oracle_seconds"):
            if out.get(name) is not None:
                out[name] = round(float(out[name]), 3)
        writer.writerow(out)
    return buf.getvalue()


def _fmt(mean: float | None, se: float | None, digits: int = 3) -> str:
    if mean is None:
        return "–"
    if se is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def markdown_text(
    summary: Sequence[Mapping[str, Any]],
    tasks: Sequence[str],
    strategies: Sequence[str],
    labels: Mapping[str, str],
    rounds: int,
    meta: Mapping[str, Any],
) -> str:
    """results.md: per task, best-so-far at rounds 0, 1, 2, 4 and seconds per round."""
    cell = {(s["task"], s["strategy"], s["round"]): s for s in summary}
    shown = [r for r in TABLE_ROUNDS if r <= rounds]
    lines = [
        "# Closed-loop campaigns",
        "",
        ", ".join(f"{k}: {v}" for k, v in meta.items()),
        "",
        "Best-so-far: the best normalised oracle score among the designs proposed up to "
        "a round (mean ± s.e. over seeds); D(best) is the offline data's best.",
        "",
    ]
    for task in tasks:
        lines += [f"## {task}", ""]
        n_eval = {
            r: next(
                (cell[(task, n, r)]["n_evaluated"] for n in strategies if (task, n, r) in cell),
                None,
            )
            for r in shown
        }
        header = ["strategy"] + [
            f"round {r}" + ("" if n_eval[r] is None else f" ({n_eval[r]} calls)") for r in shown
        ]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name in strategies:
            values = []
            for r in shown:
                s = cell.get((task, name, r))
                values.append(
                    "–" if s is None else _fmt(s["best_so_far_mean"], s["best_so_far_se"])
                )
            lines.append("| " + " | ".join([labels.get(name, name), *values]) + " |")
        lines += ["", "Seconds per round (mean over seeds; online: rounds 1 and later):", ""]
        lines += [
            "| strategy | round 0 | online round (mean) | online round (max) |",
            "|---|---|---|---|",
        ]
        for name in strategies:
            first = cell.get((task, name, 0))
            online = [
                cell[(task, name, r)] for r in range(1, rounds + 1) if (task, name, r) in cell
            ]
            mean = sum(s["seconds_mean"] for s in online) / len(online) if online else None
            peak = max((s["seconds_max"] for s in online), default=None)
            lines.append(
                "| "
                + " | ".join(
                    [
                        labels.get(name, name),
                        "–" if first is None else f"{first['seconds_mean']:.1f}",
                        "–" if mean is None else f"{mean:.1f}",
                        "–" if peak is None else f"{peak:.1f}",
                    ]
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def plot_best_so_far(
    summary: Sequence[Mapping[str, Any]],
    task: str,
    strategies: Sequence[str],
    labels: Mapping[str, str],
    d_best: float | None,
    path: str | Path,
) -> Path:
    """Best-so-far against oracle calls, one line per strategy (mean ± s.e.),
    the hand-off after round 0 marked by a vertical line, D(best) dashed."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    handoff = None
    for name in strategies:
        points = sorted(
            (s for s in summary if s["task"] == task and s["strategy"] == name),
            key=lambda s: s["round"],
        )
        if not points:
            continue
        x = [s["n_evaluated"] for s in points]
        y = [s["best_so_far_mean"] for s in points]
        se = [s["best_so_far_se"] or 0.0 for s in points]
        ax.plot(x, y, marker="o", label=labels.get(name, name))
        ax.fill_between(
            x,
            [a - b for a, b in zip(y, se, strict=True)],
            [a + b for a, b in zip(y, se, strict=True)],
            alpha=0.2,
        )
        handoff = x[0]
    if handoff is not None:
        ax.axvline(handoff, color="grey", linestyle=":", label="hand-off (after round 0)")
    if d_best is not None:
        ax.axhline(d_best, color="black", linestyle="--", linewidth=1, label="D(best)")
    ax.set_xlabel("oracle calls")
    ax.set_ylabel("best-so-far (normalised)")
    ax.set_title(task)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no finished campaign", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return _save(fig, Path(path))
