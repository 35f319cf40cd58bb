"""Aggregate finished cells into results.json, results.csv and results.md.

Per method and task: the normalised 100th and 50th percentile and the
proportion of candidates above D(best), each as mean and standard error over
seeds (paper Section 5.2), and wall-clock seconds. Beside them, the metrics of
:func:`botorch_demo.tasks.protocol.batch_metrics`: the best of the first 128
candidates (K = 128), the 80th percentile, the mean pairwise distance of the
batch (diversity) and the mean distance to the nearest offline design (novelty).
Across tasks: the mean rank of each method (rank 1 = best mean score on a task;
ties share the average rank), for the 100th and the 50th percentile.

Time attribution: each cell stores its method's own seconds (generation, search)
and the seconds of every shared component it used (see
:mod:`botorch_demo.benchmarks.components`) with the number of methods that
shared it in that (task, seed) group. ``seconds`` = own + each component's time
divided by the methods sharing it (the columns add up to the group's wall time);
``standalone_seconds`` = own + the full time of its components (what the method
costs when run alone).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from botorch_demo.benchmarks.bar import bar_checks, bar_markdown
from botorch_demo.benchmarks.paper import paper_d_best, paper_results, paper_value
from botorch_demo.benchmarks.store import CellKey, CellStore
from botorch_demo.tasks.protocol import mean_and_stderr, score_candidates
from botorch_demo.tasks.task import OfflineTask

#: Columns of results.csv, in order.
CSV_COLUMNS = (
    "task",
    "method",
    "label",
    "seed",
    "profile",
    "q",
    "p100",
    "p50",
    "proportion_above_d_best",
    "p100_k128",
    "p80",
    "diversity",
    "novelty",
    "d_best",
    "n_distinct",
    "seconds",
    "standalone_seconds",
    "own_seconds",
    "device",
    "reach_ascent_positions_changed",
    "reach_ascent_sd_moved",
    "reach_edits_positions_changed",
    "reach_edits_sd_moved",
)

METRICS = ("p100", "p50", "proportion_above_d_best")

#: Metrics beyond the paper's (cells stored before they existed lack them).
EXTRA_METRICS = ("p100_k128", "p80", "diversity", "novelty")


def attributed_seconds(record: dict[str, Any]) -> float:
    """Own seconds plus each used component's share."""
    shared = sum(
        seconds / max(1, int(record["shared_by"].get(name, 1)))
        for name, seconds in record["components"].items()
    )
    return float(record["own_seconds"]) + shared


def standalone_seconds(record: dict[str, Any]) -> float:
    """Own seconds plus the full time of every used component."""
    return float(record["own_seconds"]) + sum(record["components"].values())


def _mean_se(values: Sequence[float]) -> tuple[float, float | None]:
    if len(values) >= 2:
        mean, se = mean_and_stderr(list(values))
        return float(mean), float(se)
    return float(values[0]), None


#: Reaches a cell's ``info`` may hold (:mod:`botorch_demo.reach`): of D' from the
#: offline designs, and of the edits from the designs they were edited from.
REACHES = ("reach_ascent", "reach_edits")


def summarize(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, method): means and standard errors over seeds, and the paper's.

    Args:
        records: Cell records (see :func:`botorch_demo.benchmarks.harness.run_benchmark`).

    Returns:
        One dict per (task, method), in the order first seen.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["task"], r["method"])].append(r)
    rows = []
    for (task, method), cells in groups.items():
        cells = sorted(cells, key=lambda r: r["seed"])
        row: dict[str, Any] = {
            "task": task,
            "method": method,
            "label": cells[0]["label"],
            "n_seeds": len(cells),
            "seeds": [r["seed"] for r in cells],
            "d_best": cells[0]["d_best"],
        }
        for metric in METRICS:
            row[f"{metric}_mean"], row[f"{metric}_se"] = _mean_se([r[metric] for r in cells])
        for metric in EXTRA_METRICS:
            values = [r.get(metric) for r in cells]
            row[f"{metric}_mean"], row[f"{metric}_se"] = (
                (None, None) if any(v is None for v in values) else _mean_se(values)
            )
        row["n_distinct_mean"] = sum(r["n_distinct"] for r in cells) / len(cells)
        for which in REACHES:
            for part in ("positions_changed", "sd_moved"):
                values = [((r.get("info") or {}).get(which) or {}).get(part) for r in cells]
                row[f"{which}_{part}"] = (
                    None if any(v is None for v in values) else sum(values) / len(values)
                )
        for name, fn in (
            ("seconds", attributed_seconds),
            ("standalone_seconds", standalone_seconds),
            ("own_seconds", lambda r: float(r["own_seconds"])),
        ):
            row[f"{name}_mean"] = sum(fn(r) for r in cells) / len(cells)
        for metric in ("p100", "p50"):
            paper = paper_value(metric, method, task)
            row[f"paper_{metric}_mean"] = None if paper is None else paper[0]
            row[f"paper_{metric}_se"] = None if paper is None else paper[1]
        rows.append(row)
    return rows


def mean_ranks(summary: Sequence[dict[str, Any]], metric: str = "p100") -> dict[str, float]:
    """Mean over tasks of each method's rank by mean score (1 = best).

    Args:
        summary: Rows from :func:`summarize`.
        metric: ``"p100"``, ``"p50"`` or ``"proportion_above_d_best"``.

    Returns:
        ``{method: mean rank}`` over the tasks where the method has results.
    """
    by_task: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in summary:
        by_task[row["task"]].append((row["method"], row[f"{metric}_mean"]))
    ranks: dict[str, list[float]] = defaultdict(list)
    for entries in by_task.values():
        for method, value in entries:
            better = sum(1 for _, v in entries if v > value)
            equal = sum(1 for _, v in entries if v == value)
            ranks[method].append(better + (equal + 1) / 2)
    return {m: sum(r) / len(r) for m, r in ranks.items()}


def sharing_summary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, seed): the cost with sharing against running each method alone.

    Returns:
        Rows with ``task``, ``seed``, ``methods``, ``seconds`` (attributed total,
        i.e. the wall time with sharing), ``standalone_seconds`` (sum of the
        methods' standalone costs) and ``saved_seconds``.
    """
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["task"], r["seed"])].append(r)
    rows = []
    for (task, seed), cells in sorted(groups.items()):
        shared = sum(attributed_seconds(r) for r in cells)
        alone = sum(standalone_seconds(r) for r in cells)
        rows.append(
            {
                "task": task,
                "seed": seed,
                "methods": [r["method"] for r in cells],
                "seconds": shared,
                "standalone_seconds": alone,
                "saved_seconds": alone - shared,
            }
        )
    return rows


def recompute_record(store: CellStore, key: CellKey, task: OfflineTask) -> dict[str, float]:
    """Re-score a cell's stored candidates with the oracle.

    Args:
        store: The cell store.
        key: The cell.
        task: Its task.

    Returns:
        ``p100``, ``p50`` and ``proportion_above_d_best`` recomputed.
    """
    X = store.load_tensors(key)["candidates"]
    scores = score_candidates(task, X, budget=None)
    return {
        "p100": float(scores.p100),
        "p50": float(scores.p50),
        "proportion_above_d_best": float(scores.proportion_above_best),
    }


def normalized_scores(store: CellStore, keys: Sequence[CellKey]) -> dict[tuple[str, str], Any]:
    """Pooled normalised oracle scores of the candidates, per (task, method)."""
    pooled: dict[tuple[str, str], list[torch.Tensor]] = defaultdict(list)
    for key in keys:
        y = store.load_tensors(key)["y_normalized"].reshape(-1)
        pooled[(key.task, key.method)].append(y)
    return {k: torch.cat(v).numpy() for k, v in pooled.items()}


# ---------------------------------------------------------------------- writers
def csv_text(records: Sequence[dict[str, Any]]) -> str:
    """results.csv: one row per cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        row = {c: r.get(c) for c in CSV_COLUMNS}
        row["seconds"] = round(attributed_seconds(r), 3)
        row["standalone_seconds"] = round(standalone_seconds(r), 3)
        row["own_seconds"] = round(float(r["own_seconds"]), 3)
        for which in REACHES:
            reach = (r.get("info") or {}).get(which) or {}
            for part in ("positions_changed", "sd_moved"):
                row[f"{which}_{part}"] = reach.get(part)
        writer.writerow(row)
    return buf.getvalue()


def _fmt(mean: float | None, se: float | None = None, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if se is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


@dataclass(frozen=True)
class _Tables:
    """The rows of the summary by (task, method), and the order and labels of the tables."""

    cell: Mapping[tuple[str, str], dict[str, Any]]
    tasks: Sequence[str]
    methods: Sequence[str]
    labels: Mapping[str, str]

    def per_task(
        self, value: Callable[[dict[str, Any]], Sequence[str]], missing: Sequence[str] = ("–",)
    ) -> list[str]:
        """One line per method: its label, then ``value(row)`` for every task."""
        lines = []
        for m in self.methods:
            values: list[str] = []
            for t in self.tasks:
                row = self.cell.get((t, m))
                values += missing if row is None else value(row)
            lines.append(_row([self.labels.get(m, m), *values]))
        return lines

    def header(self, columns: Sequence[str]) -> list[str]:
        """The header line and the separator of a table."""
        return [_row(columns), "|" + "---|" * len(columns)]


#: Tables of one metric per task beyond the paper's: (metric, title, note).
_EXTRA_TABLES = (
    (
        "p100_k128",
        "100th percentile at K = 128",
        "The best of the first 128 candidates in the order the method returned them "
        "(the batch it would propose with K = 128; ROOT, RGD and LTR report K = 128). "
        "Compare with the 100th percentile at K = 256 above.",
    ),
    ("p80", "80th percentile", "Normalised oracle score, K = 256."),
    (
        "diversity",
        "Diversity (mean pairwise distance)",
        "Mean distance over all pairs of the K candidates: Hamming distance (positions "
        "that differ) for categorical columns, L2 distance in the unit cube for "
        "continuous columns, their sum for a mixed task. Copies count at distance 0.",
    ),
    (
        "novelty",
        "Novelty (distance to the nearest offline design)",
        "Mean over the K candidates of the distance (as for diversity) to the nearest "
        "offline design; 0 for a candidate that is an offline design.",
    ),
)


def markdown_text(
    summary: Sequence[dict[str, Any]],
    sharing: Sequence[dict[str, Any]],
    tasks: Sequence[str],
    methods: Sequence[str],
    labels: dict[str, str],
    meta: dict[str, Any],
) -> str:
    """results.md: our numbers beside the paper's.

    Args:
        summary: Rows from :func:`summarize`.
        sharing: Rows from :func:`sharing_summary`.
        tasks: Task order (columns).
        methods: Method order (rows).
        labels: Paper label of each method.
        meta: ``profile``, ``q``, ``seeds``, ``device`` and ``created``.
    """
    tables = _Tables({(r["task"], r["method"]): r for r in summary}, tasks, methods, labels)
    d_best = {r["task"]: r["d_best"] for r in summary}
    out = [
        "# Benchmark results",
        "",
        f"Profile `{meta['profile']}`, K = {meta['q']}, seeds {meta['seeds']}, "
        f"device `{meta['device']}`, written {meta['created']}. Normalised oracle scores, "
        "mean ± standard error over seeds; *paper* is the DEMO paper's number "
        "(8 seeds; its BO-qEI, CMA-ES and Grad come from design-bench).",
        "",
    ]
    out += _score_tables(summary, tables, d_best)
    out += bar_markdown(bar_checks(summary), tasks, labels)
    out += _metric_tables(tables, d_best)
    out += _reach_table(summary, tables)
    out += _cost_tables(tables, sharing, meta["q"])
    out += [
        "",
        "Mean ranks are over the methods and tasks above, so they are not comparable with "
        "the paper's ranks (16 methods, 7 tasks).",
        "",
        "On TF Bind 8 the offline set is the lower half of all 4^8 sequences, so every "
        "design outside it beats D(best): there the proportion above D(best) counts the "
        "candidates that are not offline designs (1.0 for a method that avoids them).",
        "",
        f"Paper source: {paper_results()['source']}",
        "",
    ]
    return "\n".join(out)


def _score_tables(
    summary: Sequence[dict[str, Any]], tables: _Tables, d_best: Mapping[str, float]
) -> list[str]:
    """The 100th and 50th percentile, ours beside the paper's, with mean ranks."""
    out: list[str] = []
    # A "(paper)" column only for the tasks the paper has (not the suite's).
    in_paper = {t: paper_d_best(t) is not None for t in tables.tasks}
    for metric, title in (("p100", "100th percentile (max)"), ("p50", "50th percentile (median)")):
        ranks = mean_ranks(summary, metric)
        header = ["method"]
        for t in tables.tasks:
            header += [f"{t} (ours)", f"{t} (paper)"] if in_paper[t] else [t]
        out += [f"## {title}", "", *tables.header([*header, "mean rank (ours)"])]
        row = ["D(best)"]
        for t in tables.tasks:
            row += [_fmt(d_best.get(t))] + ([_fmt(paper_d_best(t))] if in_paper[t] else [])
        out.append(_row([*row, ""]))
        for m in tables.methods:
            row = [tables.labels.get(m, m)]
            for t in tables.tasks:
                r = tables.cell.get((t, m))
                ours = "–" if r is None else _fmt(r[f"{metric}_mean"], r[f"{metric}_se"])
                paper = paper_value(metric, m, t)  # type: ignore[arg-type]
                row += [ours] + (["–" if paper is None else _fmt(*paper)] if in_paper[t] else [])
            rank = ranks.get(m)
            out.append(_row([*row, "–" if rank is None else f"{rank:.1f}"]))
        out.append("")
    return out


def _metric_tables(tables: _Tables, d_best: Mapping[str, float]) -> list[str]:
    """One table per extra metric, the proportion above D(best) and the distinct candidates."""
    out: list[str] = []
    for metric, title, note in _EXTRA_TABLES:
        out += [f"## {title}", "", note, "", *tables.header(["method", *tables.tasks])]
        if metric == "p100_k128":
            out.append(_row(["D(best)", *(_fmt(d_best.get(t)) for t in tables.tasks)]))
        out += tables.per_task(lambda r, m=metric: [_fmt(r.get(f"{m}_mean"), r.get(f"{m}_se"))])
        out.append("")
    out += ["## Proportion of candidates above D(best) (paper Figure 3)", ""]
    out += tables.header(["method", *tables.tasks])
    out += tables.per_task(
        lambda r: [_fmt(r["proportion_above_d_best_mean"], r["proportion_above_d_best_se"])]
    )
    return out


def _reach_text(row: Mapping[str, Any], which: str) -> str:
    """``"1.6 pos"``, ``"0.85 SD"`` or both for a mixed task; ``"–"`` without a reach."""
    parts = []
    positions, sd = row.get(f"{which}_positions_changed"), row.get(f"{which}_sd_moved")
    if positions is not None:
        parts.append(f"{positions:.2f} pos")
    if sd is not None:
        parts.append(f"{sd:.2f} SD")
    return ", ".join(parts) or "–"


def _reach_table(summary: Sequence[dict[str, Any]], tables: _Tables) -> list[str]:
    """How far D' and the edits moved, for the methods whose cells record it."""
    if not any(_reach_text(r, w) != "–" for r in summary for w in REACHES):
        return []
    out = [
        "",
        "## Reach (how far the designs moved)",
        "",
        "*D'*: the gradient-ascent designs against the offline designs they started from; "
        "*edits*: the candidates against the designs they were edited from. *pos*: "
        "categorical positions changed per design; *SD*: root-mean-square move of the "
        "continuous columns in offline standard deviations. Mean over seeds.",
        "",
        *tables.header(
            ["method", *(f"{t} {kind}" for t in tables.tasks for kind in ("D'", "edits"))]
        ),
    ]
    out += tables.per_task(
        lambda r: [_reach_text(r, w) for w in REACHES],
        missing=("–", "–"),
    )
    return out


def _cost_tables(tables: _Tables, sharing: Sequence[dict[str, Any]], q: int) -> list[str]:
    """Distinct candidates, then attributed and standalone seconds with the sharing total."""
    out = ["", f"## Distinct candidates among the K = {q} (mean over seeds)", ""]
    out += tables.header(["method", *tables.tasks])
    out += tables.per_task(lambda r: [f"{r['n_distinct_mean']:.0f}"])
    out += [
        "",
        "## Wall-clock seconds per seed",
        "",
        "*attributed*: the method's own time plus its share of each shared component "
        "(component time / methods sharing it); *alone*: own time plus the full time of "
        "its components, i.e. the cost of running it by itself.",
        "",
        *tables.header(
            ["method", *(f"{t} {kind}" for t in tables.tasks for kind in ("attributed", "alone"))]
        ),
    ]
    out += tables.per_task(
        lambda r: [f"{r['seconds_mean']:.1f}", f"{r['standalone_seconds_mean']:.1f}"],
        missing=("–", "–"),
    )
    if sharing:
        shared = sum(r["seconds"] for r in sharing)
        alone = sum(r["standalone_seconds"] for r in sharing)
        out += [
            "",
            f"Sharing trained components within each task and seed: {shared:.1f} s in all "
            f"instead of {alone:.1f} s with every method fitting its own models "
            f"({alone - shared:.1f} s saved, {100 * (alone - shared) / max(alone, 1e-9):.0f}%).",
        ]
    return out
