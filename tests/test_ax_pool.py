"""The DEMO node's served batch: admissible designs, smaller asks, top-ups."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.exceptions.core import SearchSpaceExhausted

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_experiment
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import split_observations
from botorch_demo.ax.pool import (
    CONTINUOUS_STEP,
    TOP_UP_ATTEMPTS,
    Admissibility,
    CandidatePool,
    candidates,
)
from botorch_demo.config import DEMOConfig
from botorch_demo.diagnostics import SamplerDivergenceWarning
from botorch_demo.editing import raised_noise_level
from botorch_demo.exceptions import CandidateShortfallError
from botorch_demo.rows import first_occurrences


class StingyDEMO:
    """Like DEMO near saturation: at most 3 new designs per call."""

    diagnostics = None  # DEMO's attribute after generate; nothing to report here.

    def generate(self, q, seed, exclude, unique, **overrides):
        if q > 3:
            raise CandidateShortfallError("no more", requested=q, missing=1)
        g = torch.Generator().manual_seed(seed)
        return torch.randint(0, 4, (q, 8), generator=g).to(exclude), None

    def predict(self, Z):
        return Z.sum(-1, keepdim=True)


class RepeatingDEMO:
    """Proposes one design per call (``q`` copies of it), drawn from ``seed``;
    records each call's ``q``, seed and noise level ``m``."""

    diagnostics = None

    def __init__(self, designs: torch.Tensor | None = None) -> None:
        self.designs = designs  # Fixed designs to propose instead of random ones.
        self.calls: list[tuple[int, int, int | None]] = []

    def generate(self, q, seed, exclude, unique, **overrides):
        self.calls.append((q, seed, overrides.get("m")))
        if self.designs is not None:
            return self.designs[:q].clone(), None
        row = torch.rand(1, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.double)
        return row.expand(q, 3).clone(), None

    def predict(self, Z):
        return Z.sum(-1, keepdim=True)


def _continuous(n: int = 30):
    X = torch.rand(n, 3, generator=torch.Generator().manual_seed(0), dtype=torch.double)
    bounds = torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.double)
    encoding = DesignEncoding(bounds=bounds, categorical_values={}, ordinal_values={})
    no_demo = torch.zeros(n, dtype=torch.bool)
    return split_observations(X, X.sum(-1, keepdim=True), encoding, no_demo)


def test_shortfall_of_new_designs_asks_for_smaller_batches(tf8_generator_inputs) -> None:
    dataset, digest, _ = tf8_generator_inputs
    encoding = DesignEncoding.from_digest(digest, dtype=torch.double, device=torch.device("cpu"))
    no_demo = torch.zeros(dataset.X.shape[0], dtype=torch.bool)
    _, data = split_observations(dataset.X, dataset.Y, encoding, no_demo)
    observed = data.Z
    Z, pred = candidates(StingyDEMO(), data, 8, 0, observed, Admissibility({}, None))
    assert Z.shape[0] == 8
    assert int(first_occurrences(torch.cat([observed, Z])).sum()) == len(observed) + 8
    assert torch.equal(pred, pred.sort(descending=True).values)


def test_top_ups_raise_the_noise_from_m_to_big_m_then_neighbours_fill() -> None:
    observed, data = _continuous()
    config = DEMOConfig.smoke()
    model = RepeatingDEMO()
    pool = CandidatePool(batch_size=8, config=config)
    Z, pred = pool.serve(6, model, data, observed, None, Admissibility({}, None), seed=10)
    # One new design per generation: the pool's own and four top-ups ...
    assert [seed for _, seed, _ in model.calls] == [10, 11, 12, 13, 14]
    levels = [m for _, _, m in model.calls]
    assert levels[0] is None  # The pool itself: the configured m.
    expected = [raised_noise_level(config.m, config.M, a, TOP_UP_ATTEMPTS) for a in range(1, 5)]
    assert levels[1:] == expected
    assert expected == sorted(set(expected)) and expected[-1] == config.M
    # ... and the sixth design is an unseen neighbour of one of them, one small
    # continuous step away in one column.
    assert Z.shape[0] == 6
    assert int(first_occurrences(torch.cat([data.Z, Z])).sum()) == data.Z.shape[0] + 6
    from_demo = pool.Z[:5]
    steps = (Z.unsqueeze(1) - from_demo.unsqueeze(0)).abs()
    one_step = ((steps > 1e-12).sum(-1) == 1) & ((steps - CONTINUOUS_STEP).abs() < 1e-9).any(-1)
    assert int(one_step.any(dim=1).sum()) >= 1
    assert pred.shape == (6,)


class GridModel:
    """A stand-in model of a small discrete space: proposes its best training
    designs again (all observed)."""

    diagnostics = None

    def __init__(self, train_X: torch.Tensor) -> None:
        self.train_X = train_X
        self.ranked_rows = torch.arange(train_X.shape[0])

    def generate(self, q, seed, **kwargs):
        return self.train_X[:q].clone(), None

    def predict(self, Z):
        return Z.sum(-1, keepdim=True)


def _binary_cube(observed: int):
    """Three binary columns, the first ``observed`` of the 8 designs observed."""
    cube = torch.cartesian_prod(*[torch.tensor([0.0, 1.0], dtype=torch.double)] * 3)
    X = cube[:observed]
    bounds = torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.double)
    values = {j: torch.tensor([0.0, 1.0], dtype=torch.double) for j in range(3)}
    encoding = DesignEncoding(bounds=bounds, categorical_values={}, ordinal_values=values)
    no_demo = torch.zeros(observed, dtype=torch.bool)
    return split_observations(X, X.sum(-1, keepdim=True), encoding, no_demo), cube


def test_unseen_designs_of_a_small_space_are_served_nearest_first() -> None:
    (observed, data), cube = _binary_cube(5)
    pool = CandidatePool(batch_size=4, config=DEMOConfig.smoke())
    Z, _ = pool.serve(4, GridModel(data.Z), data, observed, None, Admissibility({}, None), 0)
    # Only three designs are unseen: all of them, nothing observed.
    assert sorted(map(tuple, Z.tolist())) == sorted(map(tuple, cube[5:].tolist()))


def test_a_fully_observed_space_is_search_space_exhausted() -> None:
    (observed, data), _ = _binary_cube(8)
    pool = CandidatePool(batch_size=4, config=DEMOConfig.smoke())
    with pytest.raises(SearchSpaceExhausted, match="no admissible design"):
        pool.serve(2, GridModel(data.Z), data, observed, None, Admissibility({}, None), seed=0)


def test_edits_past_a_constraint_are_served_on_its_boundary() -> None:
    """Designs beyond ``x0 + x1 <= 1`` are projected onto it, not rejected."""
    observed, data = _continuous()
    beyond = torch.tensor([[0.9, 0.8, 0.5], [0.7, 0.7, 0.1]], dtype=torch.double)
    A = torch.tensor([[1.0, 1.0, 0.0]], dtype=torch.double)
    rules = Admissibility({}, (A, torch.tensor([1.0], dtype=torch.double)))
    pool = CandidatePool(batch_size=2, config=DEMOConfig.smoke())
    Z, _ = pool.serve(2, RepeatingDEMO(designs=beyond), data, observed, None, rules, seed=0)
    assert Z.shape[0] == 2
    torch.testing.assert_close(Z[:, 0] + Z[:, 1], torch.ones(2, dtype=torch.double))


def _boundary_client(n: int = 200) -> Client:
    """Continuous x1, x2 in [0, 1] with x1 + x2 <= 1; the optimum is on the edge."""
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="x1", bounds=(0.0, 1.0), parameter_type="float"),
            RangeParameterConfig(name="x2", bounds=(0.0, 1.0), parameter_type="float"),
            RangeParameterConfig(name="k", bounds=(0, 5), parameter_type="int"),
        ],
        parameter_constraints=["x1 + x2 <= 1.0", "x2 + k <= 4.5"],
    )
    client.configure_optimization(objective="f")
    rng = np.random.default_rng(0)
    x1, x2 = rng.uniform(0, 1, (2, 4 * n))
    k = rng.integers(0, 5, 4 * n)
    ok = (x1 + x2 <= 1.0) & (x2 + k <= 4.5)
    frame = pd.DataFrame({"x1": x1[ok][:n], "x2": x2[ok][:n], "k": k[ok][:n]})
    frame["f"] = 3 * frame["x1"] + 2 * frame["x2"] + frame["k"]
    attach_offline_data(client, frame)
    return client


def test_every_design_satisfies_the_linear_constraints(ax_smoke) -> None:
    """Linear constraints and integer columns hold by construction."""
    client = _boundary_client()
    client.set_generation_strategy(demo_generation_strategy(batch_size=12, seed=0, **ax_smoke))
    trials = client.get_next_trials(max_trials=12)
    assert len(trials) == 12
    space = client_experiment(client).search_space
    for parameters in trials.values():
        space.check_membership(parameters, raise_error=True)
        assert parameters["x1"] + parameters["x2"] <= 1.0 + 1e-8
        assert isinstance(parameters["k"], int)


def test_mixed_search_space_fixed_features_and_bounds(ax_smoke) -> None:
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="x", bounds=(-2.0, 3.0), parameter_type="float"),
            RangeParameterConfig(
                name="lr", bounds=(1e-4, 1e-1), parameter_type="float", scaling="log"
            ),
            RangeParameterConfig(name="k", bounds=(1, 9), parameter_type="int"),
            ChoiceParameterConfig(
                name="size", values=[8, 16, 32, 64], parameter_type="int", is_ordered=True
            ),
            ChoiceParameterConfig(
                name="kind", values=["a", "b", "c"], parameter_type="str", is_ordered=False
            ),
        ]
    )
    client.configure_optimization(objective="f")
    rng = np.random.default_rng(0)
    n = 200
    rows = {
        "x": rng.uniform(-2, 3, n),
        "lr": 10 ** rng.uniform(-4, -1, n),
        "k": rng.integers(1, 10, n),
        "size": rng.choice([8, 16, 32, 64], n),
        "kind": rng.choice(["a", "b", "c"], n),
    }
    score = -((rows["x"] - 1) ** 2) + (rows["kind"] == "b") + np.log10(rows["lr"]) / 4
    frame = pd.DataFrame({**rows, "f": score})
    attach_offline_data(client, frame)
    client.set_generation_strategy(demo_generation_strategy(batch_size=8, **ax_smoke))
    trials = client.get_next_trials(max_trials=3, fixed_parameters={"kind": "c"})
    assert len(trials) == 3
    space = client_experiment(client).search_space
    for parameters in trials.values():
        space.check_membership(parameters, raise_error=True)
        assert parameters["kind"] == "c"
        assert isinstance(parameters["k"], int)
        assert parameters["size"] in [8, 16, 32, 64]


class WarningDEMO(RepeatingDEMO):
    """A RepeatingDEMO whose every generation warns as a diverging sampler does."""

    def generate(self, q, seed, exclude, unique, **overrides):
        warnings.warn(f"diverged at seed {seed}", SamplerDivergenceWarning, stacklevel=2)
        warnings.warn("something else", UserWarning, stacklevel=2)
        return super().generate(q, seed, exclude, unique, **overrides)


def test_one_divergence_warning_per_request() -> None:
    observed, data = _continuous()
    pool = CandidatePool(batch_size=8, config=DEMOConfig.smoke())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool.serve(6, WarningDEMO(), data, observed, None, Admissibility({}, None), seed=10)
    divergence = [w for w in caught if w.category is SamplerDivergenceWarning]
    assert len(divergence) == 1  # Five DEMO calls (the pool and four top-ups).
    assert "diverged at seed 10" in str(divergence[0].message)
    assert "5 DEMO calls" in str(divergence[0].message)
    # Other warnings are not swallowed.
    assert sum(w.category is UserWarning for w in caught) == 5
