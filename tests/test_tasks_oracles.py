"""Oracles: the suite's oracles on their own, input checks, devices and dtypes."""

from __future__ import annotations

import math

import pytest
import torch
from botorch.test_functions.synthetic import Hartmann

from botorch_demo.tasks import load_task
from botorch_demo.tasks.oracles import MixedOracle, SequenceOracle, SyntheticOracle
from botorch_demo.tasks.pairwise import PairwiseSequenceModel, pairwise_optimum


# ------------------------------------------------------------ each oracle alone
def test_sequence_oracle_scores_with_its_model(make_sequence_space) -> None:
    model = PairwiseSequenceModel.from_seed(5, 3, 1, seed=3)
    oracle = SequenceOracle("toy", model)
    assert (oracle.dim, oracle.num_categories) == (5, 3)
    X = make_sequence_space(5, 3).to(torch.float64)
    Y = oracle(X)
    assert (Y.shape, Y.dtype) == ((3**5, 1), torch.float64)
    assert torch.equal(Y[:, 0], model(X))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        oracle(torch.full((1, 5), 3.0))
    with pytest.raises(ValueError, match="integer"):
        oracle(torch.full((1, 5), 0.5))


def test_synthetic_oracle_is_minus_the_test_function() -> None:
    fn = Hartmann(dim=6)
    oracle = SyntheticOracle("hartmann", fn, (0.0, 1.0))
    assert oracle.dim == 6
    X = torch.rand(20, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(oracle(X), -fn.evaluate_true(X).unsqueeze(-1))
    y32 = oracle(X.float())
    assert y32.dtype == torch.float64
    assert torch.equal(y32, -fn.evaluate_true(X.float().double()).unsqueeze(-1))
    with pytest.raises(ValueError, match="must lie in"):
        oracle(torch.full((1, 6), 1.5))


@pytest.fixture
def mixed_oracle() -> MixedOracle:
    """Two continuous columns and a 3-position, 4-category pairwise model."""
    model = PairwiseSequenceModel.from_seed(3, 4, 0, seed=5)
    centres = torch.tensor([[0.3, 0.7], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]], dtype=torch.float64)
    return MixedOracle("mixed", 2, model, centres)


def test_mixed_oracle_is_the_model_minus_a_bowl_around_the_centre(
    mixed_oracle: MixedOracle,
) -> None:
    model, centres = mixed_oracle.model, mixed_oracle.centres
    assert mixed_oracle.dim == 5
    value, best = pairwise_optimum(model)
    at_optimum = torch.cat([centres[best[0]], best.to(torch.float64)])[None]
    assert float(mixed_oracle(at_optimum)) == float(model(best[None]))
    assert round(abs(float(mixed_oracle(at_optimum)) - value), 12) == 0
    off = at_optimum.clone()
    off[0, :2] += 0.1
    bowl = 2 * (3.0 * 0.1**2 + 0.5 * (1.0 - math.cos(8.0 * math.pi * 0.1)))
    assert round(abs(float(mixed_oracle(off)) - (float(model(best[None])) - bowl)), 12) == 0


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [(0, 1.5, r"\[0, 1\]"), (1, -0.1, r"\[0, 1\]"), (2, 0.5, "categorical"), (4, 4.0, r"0\.\.3")],
)
def test_mixed_oracle_checks_each_kind_of_column(
    mixed_oracle: MixedOracle, column: int, value: float, match: str
) -> None:
    X = torch.tensor([[0.5, 0.5, 0.0, 1.0, 2.0]], dtype=torch.float64)
    mixed_oracle(X)
    X[0, column] = value
    with pytest.raises(ValueError, match=match):
        mixed_oracle(X)


# ------------------------------------------------------- the tasks' oracles
def test_suite_oracles_reject_bad_designs() -> None:
    seq = load_task("seq-l8-v4")
    with pytest.raises(ValueError, match=r"0\.\.3"):
        seq.oracle(torch.full((1, 8), 4.0))
    with pytest.raises(ValueError, match="integer"):
        seq.oracle(torch.full((1, 8), 0.5))
    mixed = load_task("mixed-10")
    good = mixed.train_X[:1].clone()
    bad = good.clone()
    bad[0, 0] = 1.5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mixed.oracle(bad)
    bad = good.clone()
    bad[0, -1] = 0.5
    with pytest.raises(ValueError, match="categorical"):
        mixed.oracle(bad)
    with pytest.raises(ValueError, match="n x 10"):
        mixed.oracle(good[:, :9])
    ackley = load_task("ackley-10")
    with pytest.raises(ValueError, match="must lie in"):
        ackley.oracle(torch.full((1, 10), 40.0))


@pytest.mark.parametrize("name", ["hartmann-6", "seq-l12-v4", "mixed-10"])
def test_suite_oracles_follow_the_device_and_return_float64(
    name: str, tasks_device: torch.device
) -> None:
    task = load_task(name)
    y = task.oracle(task.train_X[:5].to(tasks_device, torch.float32))
    assert (y.shape, y.dtype, y.device.type) == ((5, 1), torch.float64, tasks_device.type)


@pytest.mark.parametrize("name", ["tfbind8", "levy"])
def test_paper_oracles_stay_on_the_device(name: str, tasks_device: torch.device) -> None:
    task = load_task(name)
    X = task.train_X[:64]
    Y = task.oracle(X.to(tasks_device))
    assert Y.device.type == tasks_device.type
    torch.testing.assert_close(Y.cpu(), task.oracle(X), rtol=1e-12, atol=1e-9)
