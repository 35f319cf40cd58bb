"""How far designs moved (reach.py), and where the fit and generate report it."""

from __future__ import annotations

import math

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.reach import Reach, measure_reach


def test_positions_and_standard_deviations_are_counted_per_design():
    start = torch.tensor([[0.0, 1.0, 0.5, 2.0], [1.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    end = torch.tensor([[1.0, 1.0, 0.5, 2.0], [2.0, 0.0, 3.0, 4.0]], dtype=torch.float64)
    sd = torch.tensor([9.0, 9.0, 1.0, 2.0], dtype=torch.float64)
    reach = measure_reach(start, end, {0: 3, 1: 2}, sd)
    assert reach.positions_changed == pytest.approx(1.5)  # 1 and 2 columns changed
    assert reach.fraction_changed == pytest.approx(0.75)
    # second design: moves of 3 and 2 SDs, RMS sqrt((9 + 4) / 2); the first does not move
    assert reach.sd_moved == pytest.approx(math.sqrt(6.5) / 2)
    assert reach.unchanged == 0.0
    assert reach.to_dict()["positions_changed"] == pytest.approx(1.5)


def test_columns_of_one_kind_only_and_no_rows():
    X = torch.rand(5, 3, dtype=torch.float64)
    reach = measure_reach(X, X.clone(), {}, torch.ones(3, dtype=torch.float64))
    assert reach == Reach(None, None, 0.0, 1.0)
    assert measure_reach(X[:0], X[:0], {}, torch.ones(3)) == Reach(None, None, None, 0.0)


def test_fit_reports_the_reach_of_d_prime_and_generate_that_of_the_edits(tiny_config, make_mixed):
    X, Y, bounds, cats = make_mixed()
    model = DEMO(tiny_config).fit(X, Y, bounds, cats, seed=0)
    d_prime = model.fit_stats["ascent"]
    assert isinstance(d_prime, Reach)
    assert d_prime.sd_moved is not None and d_prime.sd_moved > 0
    model.generate(8, seed=0)
    edits = model.diagnostics.reach
    assert edits is not None and edits.positions_changed is not None
    model.generate(8, seed=0, editing=False)
    assert model.diagnostics.reach is None
    assert (
        "ascent"
        not in DEMO(tiny_config.replace(pseudo_target=False))
        .fit(X, Y, bounds, cats, seed=0)
        .fit_stats
    )
