"""The DEMO node's served batch: admissible designs, smaller asks, top-ups."""

from __future__ import annotations

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
from botorch_demo.ax.pool import TOP_UP_ATTEMPTS, Admissibility, CandidatePool, candidates
from botorch_demo.config import DEMOConfig
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


def test_top_ups_raise_the_noise_from_m_to_big_m(caplog) -> None:
    observed, data = _continuous()
    config = DEMOConfig.smoke()
    model = RepeatingDEMO()
    pool = CandidatePool(batch_size=8, config=config)
    Z, pred = pool.serve(6, model, data, observed, None, Admissibility({}, None), seed=10)
    # One new design per generation: the pool's own and four top-ups.
    assert Z.shape[0] == 1 + TOP_UP_ATTEMPTS
    assert [seed for _, seed, _ in model.calls] == [10, 11, 12, 13, 14]
    levels = [m for _, _, m in model.calls]
    assert levels[0] is None  # The pool itself: the configured m.
    expected = [raised_noise_level(config.m, config.M, a, TOP_UP_ATTEMPTS) for a in range(1, 5)]
    assert levels[1:] == expected
    assert expected == sorted(set(expected)) and expected[-1] == config.M
    assert int(first_occurrences(torch.cat([data.Z, Z])).sum()) == data.Z.shape[0] + 5
    assert pred.shape == (5,)
    assert "DEMO proposes 5 designs; 6 were requested." in caplog.text


def test_no_admissible_new_design_is_search_space_exhausted() -> None:
    observed, data = _continuous()
    model = RepeatingDEMO(designs=data.Z)  # Only ever proposes training designs.
    pool = CandidatePool(batch_size=4, config=DEMOConfig.smoke())
    with pytest.raises(SearchSpaceExhausted, match="no admissible design"):
        pool.serve(2, model, data, observed, None, Admissibility({}, None), seed=0)


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
    """Linear constraints hold by construction, the optimum on the boundary."""
    client = _boundary_client()
    client.set_generation_strategy(demo_generation_strategy(batch_size=12, seed=0, **ax_smoke))
    trials = client.get_next_trials(max_trials=12)
    assert len(trials) == 12
    space = client_experiment(client).search_space
    for parameters in trials.values():
        space.check_membership(parameters, raise_error=True)
        assert parameters["x1"] + parameters["x2"] <= 1.0 + 1e-8
        assert isinstance(parameters["k"], int)
    # Edits pushed past the boundary (towards the optimum) are projected ONTO it
    # rather than rejected: some designs lie on a constraint's boundary, which
    # rejection of continuous edits never produces.
    slack = [min(1.0 - p["x1"] - p["x2"], 4.5 - p["x2"] - p["k"]) for p in trials.values()]
    assert sum(abs(s) < 1e-6 for s in slack) > 0


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
