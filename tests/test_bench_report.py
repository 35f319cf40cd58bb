"""The report: mean ranks, time attribution, the paper's numbers and the markdown tables."""

import pytest

from botorch_demo.benchmarks.paper import paper_d_best, paper_value
from botorch_demo.benchmarks.report import (
    attributed_seconds,
    markdown_text,
    mean_ranks,
    standalone_seconds,
    summarize,
)


def test_mean_ranks_with_ties() -> None:
    summary = [
        {"task": "a", "method": "x", "p100_mean": 0.9},
        {"task": "a", "method": "y", "p100_mean": 0.9},
        {"task": "a", "method": "z", "p100_mean": 0.1},
        {"task": "b", "method": "x", "p100_mean": 0.2},
        {"task": "b", "method": "y", "p100_mean": 0.5},
        {"task": "b", "method": "z", "p100_mean": 0.4},
    ]
    assert mean_ranks(summary) == {"x": (1.5 + 3) / 2, "y": 1.25, "z": 2.5}


def test_time_attribution() -> None:
    record = {
        "own_seconds": 1.0,
        "components": {"surrogate": 6.0, "ascent": 2.0},
        "shared_by": {"surrogate": 3, "ascent": 2},
    }
    assert attributed_seconds(record) == pytest.approx(1.0 + 2.0 + 1.0, abs=5e-8)
    assert standalone_seconds(record) == pytest.approx(9.0, abs=5e-8)


def test_paper_numbers() -> None:
    assert paper_value("p100", "demo", "tfbind10") == (0.762, 0.058)
    assert paper_value("p100", "demo-no-editing", "levy") == (0.990, 0.020)
    assert paper_value("p50", "ddom", "tfbind8") == (0.401, 0.008)
    assert paper_value("p50", "demo-no-editing", "levy") is None
    assert paper_d_best("levy") == 0.613
    assert paper_value("p100", "demo[m=200]", "levy") is None


def record(task: str, method: str, seed: int, p100: float) -> dict:
    """A cell record with every entry the report reads."""
    return {
        "task": task,
        "method": method,
        "label": {"demo": "DEMO", "demo[m=0]": "DEMO [m=0]"}[method],
        "seed": seed,
        "profile": "smoke",
        "q": 256,
        "p100": p100,
        "p50": p100 / 2,
        "proportion_above_d_best": 0.5,
        "d_best": 0.4,
        "n_distinct": 200 + seed,
        "own_seconds": 1.0,
        "components": {"surrogate": 4.0},
        "shared_by": {"surrogate": 2},
        "device": "cpu",
    }


def test_markdown_tables_of_variants_and_missing_cells() -> None:
    records = [
        record("levy", "demo", 0, 0.9),
        record("levy", "demo", 1, 1.1),
        record("levy", "demo[m=0]", 0, 0.4),
        record("seq-l6-v5", "demo", 0, 0.8),
    ]
    summary = summarize(records)
    labels = {"demo": "DEMO", "demo[m=0]": "DEMO [m=0]"}
    meta = {"profile": "smoke", "q": 256, "seeds": "2 (0, 1)", "device": "cpu", "created": "now"}
    text = markdown_text(
        summary, [], ["levy", "seq-l6-v5"], ["demo", "demo[m=0]"], labels, meta
    ).splitlines()
    assert "| method | levy (ours) | levy (paper) | seq-l6-v5 | mean rank (ours) |" in text
    assert "| D(best) | 0.400 | 0.613 | 0.400 |  |" in text
    assert "| DEMO | 1.000 ± 0.100 | 1.005 ± 0.020 | 0.800 | 1.0 |" in text
    assert "| DEMO [m=0] | 0.400 | – | – | 2.0 |" in text
    assert "| DEMO [m=0] | 0.500 | – |" in text  # proportion above D(best)
    assert "| DEMO | 200 | 200 |" in text  # distinct candidates, mean over seeds
    header = "| method | levy attributed | levy alone | seq-l6-v5 attributed | seq-l6-v5 alone |"
    index = text.index(header)
    assert text[index + 1] == "|" + "---|" * 5
    assert text[index + 2] == "| DEMO | 3.0 | 5.0 | 3.0 | 5.0 |"
    assert text[index + 3] == "| DEMO [m=0] | 3.0 | 5.0 | – | – |"
