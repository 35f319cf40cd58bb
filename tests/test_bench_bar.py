"""The bar a user applies: DEMO configurations against Grad and CMA-ES."""

from __future__ import annotations

from botorch_demo.benchmarks.bar import bar_checks, bar_markdown, is_demo
from botorch_demo.benchmarks.report import markdown_text

META = {"profile": "fast", "q": 256, "seeds": "8", "device": "cpu", "created": "now"}


def row(task: str, method: str, p100: float, p50: float, se: float | None = 0.01) -> dict:
    """A summary row (as :func:`summarize` writes it) with the given scores."""
    out = {"task": task, "method": method, "label": method, "n_seeds": 8, "seeds": []}
    for metric in ("proportion_above_d_best", "p100_k128", "p80", "diversity", "novelty"):
        out |= {f"{metric}_mean": 1.0, f"{metric}_se": 0.0}
    for name in ("seconds", "standalone_seconds", "own_seconds"):
        out[f"{name}_mean"] = 1.0
    out |= {"d_best": 0.5, "n_distinct_mean": 256.0, "p100_mean": p100, "p100_se": se}
    return out | {"p50_mean": p50, "p50_se": se}


SUMMARY = [
    # a: DEMO within one s.e. of CMA-ES's p100, median above Grad's.
    row("a", "demo", 0.795, 0.60),
    row("a", "grad", 0.70, 0.55),
    row("a", "cma-es", 0.80, 0.75),
    # b: the variant misses the bar by more than its s.e.; DEMO's median is below Grad's.
    row("b", "demo", 0.90, 0.40),
    row("b", "demo[m=200]", 0.85, 0.70),
    row("b", "grad", 0.88, 0.45),
    row("b", "cma-es", 0.87, 0.80),
    # c: no CMA-ES, so no bar.
    row("c", "demo", 0.5, 0.5),
    row("c", "grad", 0.9, 0.9),
    # An ablation is not checked.
    row("a", "demo-no-editing", 0.1, 0.1),
]


def test_checks_use_the_better_baseline_and_the_methods_own_standard_error() -> None:
    checks = {(c.task, c.method): c for c in bar_checks(SUMMARY)}
    assert set(checks) == {("a", "demo"), ("b", "demo"), ("b", "demo[m=200]")}
    a = checks[("a", "demo")]
    assert (a.bar, a.bar_method, a.meets_p100, a.meets_median) == (0.80, "cma-es", True, True)
    b = checks[("b", "demo")]
    assert (b.bar_method, b.meets_p100, b.meets_median) == ("grad", True, False)
    variant = checks[("b", "demo[m=200]")]
    assert (variant.meets_p100, variant.meets_median) == (False, True)


def test_one_seed_has_no_standard_error_to_spare() -> None:
    summary = [row("a", "demo", 0.795, 0.6, se=None), *SUMMARY[1:3]]
    (check,) = bar_checks(summary)
    assert not check.meets_p100


def test_demo_family() -> None:
    assert is_demo("demo") and is_demo("demo[edit_source=both]")
    assert not is_demo("demo-no-editing") and not is_demo("ddom") and not is_demo("grad")


def test_markdown_section_counts_and_sits_in_results_md() -> None:
    lines = bar_markdown(bar_checks(SUMMARY), ["a", "b", "c"], {"demo": "DEMO"})
    assert "| method | a | b | p100 met | median met |" in lines
    assert "| DEMO | yes / yes | yes / no | 2 of 2 | 1 of 2 |" in lines
    assert "| demo[m=200] | – | no / yes | 0 of 1 | 1 of 1 |" in lines
    assert bar_markdown([], ["a"], {}) == []
    methods = ["demo", "demo[m=200]", "grad", "cma-es", "demo-no-editing"]
    text = markdown_text(SUMMARY, [], ["a", "b", "c"], methods, {"demo": "DEMO"}, META)
    assert "## Against Grad and CMA-ES on the same surrogate" in text
    assert "| DEMO | yes / yes | yes / no | 2 of 2 | 1 of 2 |" in text
