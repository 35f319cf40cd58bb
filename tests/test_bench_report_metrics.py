"""The benchmark report's columns for the metrics beyond the paper's."""

from __future__ import annotations

from botorch_demo.benchmarks.report import EXTRA_METRICS, csv_text, markdown_text, summarize

META = {"profile": "smoke", "q": 256, "seeds": "2", "device": "cpu", "created": "now"}


def cell_record(seed: int, **extra: float) -> dict:
    """A stored cell of Grad on seq-l8-v4, with ``extra`` metrics."""
    record = {
        "task": "seq-l8-v4",
        "method": "grad",
        "label": "Grad",
        "seed": seed,
        "profile": "smoke",
        "q": 256,
        "p100": 0.5 + seed,
        "p50": 0.4,
        "proportion_above_d_best": 0.1,
        "d_best": 0.55,
        "n_distinct": 256,
        "own_seconds": 1.0,
        "components": {},
        "shared_by": {},
        "device": "cpu",
    }
    record.update(extra)
    return record


def test_extra_metric_columns_in_summary_csv_and_markdown() -> None:
    metrics = {"p100_k128": 0.7, "p80": 0.6, "diversity": 3.0, "novelty": 1.5}
    records = [cell_record(0, **metrics), cell_record(1, **{**metrics, "novelty": 2.5})]
    (row,) = summarize(records)
    assert row["novelty_mean"] == 2.0
    assert round(abs(row["novelty_se"] - 0.5), 7) == 0
    header = csv_text(records).splitlines()[0].split(",")
    for metric in ("p100", "p50", *EXTRA_METRICS):
        assert metric in header
    text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, META)
    assert "## 100th percentile at K = 128" in text
    assert "| Grad | 0.700 ± 0.000 |" in text
    assert "| Grad | 2.000 ± 0.500 |" in text
    assert "seq-l8-v4 (paper)" not in text


def test_cells_without_the_extra_metrics_still_report() -> None:
    (row,) = summarize([cell_record(0), cell_record(1)])
    assert row["p80_mean"] is None
    text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, META)
    assert "## 80th percentile" in text


def test_reach_of_d_prime_and_of_the_edits_in_summary_csv_and_markdown() -> None:
    def reach(positions: float, sd: float | None = None) -> dict:
        return {"positions_changed": positions, "sd_moved": sd, "unchanged": 0.0}

    records = [
        cell_record(s, info={"reach_ascent": reach(1.0 + s), "reach_edits": reach(3.0, 0.5)})
        for s in (0, 1)
    ]
    (row,) = summarize(records)
    assert row["reach_ascent_positions_changed"] == 1.5
    assert row["reach_ascent_sd_moved"] is None
    assert row["reach_edits_sd_moved"] == 0.5
    lines = csv_text(records).splitlines()
    header = lines[0].split(",")
    assert header[-4:] == [
        "reach_ascent_positions_changed",
        "reach_ascent_sd_moved",
        "reach_edits_positions_changed",
        "reach_edits_sd_moved",
    ]
    assert lines[1].split(",")[-4:] == ["1.0", "", "3.0", "0.5"]
    text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, META)
    assert "## Reach (how far the designs moved)" in text
    assert "| Grad | 1.50 pos | 3.00 pos, 0.50 SD |" in text


def test_no_reach_table_without_reaches() -> None:
    (row,) = summarize([cell_record(0)])
    text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, META)
    assert "## Reach" not in text
