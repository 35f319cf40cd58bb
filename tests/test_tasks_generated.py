"""The robustness suite's generated data: samples, offline sets, optima, constants."""

from __future__ import annotations

import math

import pytest
import torch
from botorch.test_functions import synthetic

from botorch_demo.tasks import load_task, suite_tasks
from botorch_demo.tasks.generated import SAMPLE_SIZE, generate, sequence_model
from botorch_demo.tasks.oracles import MixedOracle
from botorch_demo.tasks.pairwise import pairwise_optimum
from botorch_demo.tasks.suite import SUITE_TASKS, space_size

ROBUSTNESS = suite_tasks("robustness")
SYNTHETIC = [n for n in ROBUSTNESS if SUITE_TASKS[n].kind == "synthetic"]


@pytest.mark.parametrize("name", ROBUSTNESS)
def test_shapes_offline_set_and_determinism(name: str) -> None:
    task = load_task(name)
    data = generate(name)
    n, d = task.train_X.shape
    assert d == SUITE_TASKS[name].dim
    assert task.train_X.dtype == torch.float64
    assert task.train_Y.shape == (n, 1)
    assert task.train_Y.dtype == torch.float64
    assert task.bounds.shape == (2, d)
    # the oracle reproduces the offline labels exactly
    assert torch.equal(task.oracle(task.train_X), task.train_Y)
    # the offline set is the worse half of the seeded sample
    assert task.info.n_full == data.X.shape[0]
    assert data.X.shape[0] >= SAMPLE_SIZE - 10
    median = data.Y.quantile(0.5)
    assert (task.train_Y <= median).all()
    assert n == int((data.Y <= median).sum())
    assert task.train_Y.max() < data.Y.max()
    # everything comes from the seed
    again = load_task(name)
    assert torch.equal(again.train_X, task.train_X)
    assert (again.y_min, again.y_max) == (task.y_min, task.y_max)
    # designs lie in the box, categorical columns hold integers
    assert ((task.train_X >= task.bounds[0]) & (task.train_X <= task.bounds[1])).all()
    for col, V in task.categorical_features.items():
        column = task.train_X[:, col]
        assert torch.equal(column, column.round())
        assert float(task.bounds[1, col]) == V - 1
    # normalisation: the optimum scores exactly 1 (up to the rounding of the
    # literature optima), the sample lies in [0, 1]
    assert round(abs(float(task.normalize(data.oracle(data.optimum))) - 1.0), 5) == 0
    normalised = task.normalize(data.Y)
    assert float(normalised.min()) >= 0.0
    assert float(normalised.max()) < 1.0 + 1e-9
    assert "Normalisation" in task.info.provenance


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_optima_match_botorch(name: str) -> None:
    spec = SUITE_TASKS[name]
    fn = getattr(synthetic, spec.function)(dim=spec.dim)
    task = load_task(name)
    assert task.y_max == -fn.optimal_value
    x = fn.optimizers[:1].to(torch.float64)
    assert round(abs(float(task.oracle(x)) - -fn.optimal_value), 4) == 0
    # maximised: a random design scores below the optimum
    assert (task.train_Y < task.y_max).all()
    assert task.y_min == float(generate(name).Y.min())


def test_known_values() -> None:
    # Closed forms checked independently of BoTorch.
    task = load_task("ackley-10")
    x = torch.full((1, 10), 1.0, dtype=torch.float64)
    ackley = (
        -20 * math.exp(-0.2 * 1.0) - math.exp(math.cos(2 * math.pi)) + 20 + math.e
    )  # at x = 1: sqrt(mean(x^2)) = 1, mean(cos(2 pi x)) = 1
    assert round(abs(float(task.oracle(x)) - -ackley), 10) == 0
    task = load_task("rastrigin-20")
    x = torch.zeros(1, 20, dtype=torch.float64)
    x[0, 0] = 1.0  # one coordinate at 1: 10 + 1 - 10 cos(2 pi) = 1
    assert round(abs(float(task.oracle(x)) - -1.0), 10) == 0


@pytest.mark.parametrize("name", ["seq-l6-v5", "seq-l8-v4"])
def test_enumerable_tasks_have_exact_normalisers(name: str, make_sequence_space) -> None:
    task = load_task(name)
    spec = SUITE_TASKS[name]
    y = task.oracle(make_sequence_space(spec.dim, spec.num_categories).to(torch.float64))
    assert task.y_max == float(y.max())
    assert round(abs(task.y_min - float(y.min())), 10) == 0
    assert space_size(name) == y.shape[0]


@pytest.mark.parametrize(
    "name", ["seq-l12-v4", "seq-l16-v8", "seq-l24-v20", "seq-l32-v20", "seq-l48-v20"]
)
def test_large_tasks_optimum_beats_the_sample(name: str) -> None:
    data = generate(name)
    assert float(data.oracle(data.optimum)) == data.y_max
    assert data.y_max > float(data.Y.max())
    assert data.y_min < float(data.Y.min())


def test_mixed_optimum_and_structure() -> None:
    task = load_task("mixed-10")
    data = generate("mixed-10")
    assert isinstance(data.oracle, MixedOracle)
    assert task.categorical_features == {6: 5, 7: 5, 8: 5, 9: 5}
    model = sequence_model(SUITE_TASKS["mixed-10"])
    value, tokens = pairwise_optimum(model)
    assert round(abs(task.y_max - value), 12) == 0
    # moving the continuous part off the centre lowers the score
    off = data.optimum.clone()
    off[0, 0] = off[0, 0] + 0.1
    assert float(data.oracle(off)) < task.y_max
    # the best categorical part with its own centre scores y_max
    assert torch.equal(data.optimum[0, 6:].long(), tokens)


def test_only_suite_tasks_are_generated() -> None:
    with pytest.raises(ValueError, match="Unknown suite task 'tfbind8'"):
        generate("tfbind8")
    with pytest.raises(ValueError, match="not a sequence or mixed task"):
        sequence_model(SUITE_TASKS["ackley-10"])
