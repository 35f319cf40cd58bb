"""The sampler's divergence guard and the diagnostics of a generated batch."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from botorch_demo import DEMO, SamplerDivergenceWarning
from botorch_demo.diagnostics import CollapseWarning, SamplerGuard
from botorch_demo.samplers import integrate_reverse_sde
from botorch_demo.sde import VPSDE


def test_guard_counts_and_clamps() -> None:
    guard = SamplerGuard(torch.tensor([1.0, 2.0]))
    x = torch.tensor([[0.5, -1.0], [3.0, -5.0], [float("nan"), 0.0]])
    out = guard(x)
    assert guard.n_outside == 3
    assert guard.max_ratio == math.inf
    assert torch.equal(out, torch.tensor([[0.5, -1.0], [1.0, -2.0], [0.0, 0.0]]))
    passive = SamplerGuard(torch.tensor([1.0, 2.0]), clamp=False)
    assert torch.equal(passive(x[:2]), x[:2])
    assert passive.diverged


def test_a_diverging_sampler_stays_bounded() -> None:
    sde = VPSDE(0.01, 2.0)
    explode = lambda x, t: 50.0 * x  # noqa: E731  (a score pushing states outwards)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    free = integrate_reverse_sde(sde, explode, x, 0.4, 1e-3, 50)
    assert free.abs().max().item() > 1e3
    guard = SamplerGuard(torch.full((3,), 4.0))
    kept = integrate_reverse_sde(sde, explode, x, 0.4, 1e-3, 50, guard=guard)
    assert kept.abs().max().item() <= 4.0
    assert guard.diverged


def test_generate_warns_once_and_reports(continuous_model: DEMO) -> None:
    model = continuous_model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.generate(16, seed=0, sampler_bound=1e-3)
    div = [w for w in caught if issubclass(w.category, SamplerDivergenceWarning)]
    assert len(div) == 1
    assert "diverged" in str(div[0].message)
    d = model.diagnostics
    assert d.diverged and d.clamped
    assert d.max_state_ratio > 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.generate(16, seed=0, sampler_bound=1e-3, sampler_clamp=False)
    assert sum(issubclass(w.category, SamplerDivergenceWarning) for w in caught) == 1
    assert not model.diagnostics.clamped
    # The default bound is not hit on ordinary data, and nothing is reported.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.generate(16, seed=0)
    assert model.diagnostics.n_states_outside == 0
    assert model.diagnostics.messages == ()
    assert not any(issubclass(w.category, SamplerDivergenceWarning) for w in caught)


def test_a_diverging_sampler_without_the_clamp_names_the_fields(
    tiny_config, make_quadratic
) -> None:
    X, Y, bounds = make_quadratic()
    model = DEMO(tiny_config.replace(beta_max=1e300, sampler_clamp=False)).fit(X, Y, bounds, seed=0)
    with pytest.raises(RuntimeError, match=r"The reverse SDE diverged.*beta_max"):
        model.generate(4, seed=0)
    # With the guard's clamp (the default) the same sampler warns and stays finite.
    with pytest.warns(SamplerDivergenceWarning):
        cands, _ = model.generate(4, seed=0, sampler_clamp=True)
    assert torch.isfinite(cands).all()


def test_diagnostics_count_distinct_and_improvements(
    continuous_model: DEMO, make_continuous
) -> None:
    X = make_continuous()[0]
    model = continuous_model
    assert model.diagnostics is None
    model.generate(10, seed=0, m=0)  # m = 0 returns the sources unchanged
    d = model.diagnostics
    assert (d.q, d.n_distinct, d.n_distinct_raw) == (10, 10, 10)
    assert d.n_predicted_above_source == 0
    assert not d.collapsed
    _, pred = model.generate(10, seed=0, edit_source="offline")
    src = model.predict(X[model.ranked_rows[:10]]).squeeze(-1)
    assert model.diagnostics.n_predicted_above_source == int((pred > src).sum())
    model.generate(10, seed=0, editing=False)
    assert model.diagnostics.n_predicted_above_source is None


def test_collapse_is_flagged(smoke_config) -> None:
    # Two binary columns: 4 designs in the whole space, so 16 samples collapse.
    grid = torch.cartesian_prod(torch.arange(2.0), torch.arange(2.0)).double()
    X = grid.repeat(20, 1)
    Y = X.sum(-1, keepdim=True)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    model = DEMO(smoke_config).fit(X, Y, bounds, {0: 2, 1: 2}, seed=0)
    with pytest.warns(CollapseWarning, match="only [1-4] distinct designs among 16"):
        model.generate(16, seed=0, editing=False)
    assert model.diagnostics.collapsed
    assert model.diagnostics.n_distinct_raw <= 4
