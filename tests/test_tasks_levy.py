"""The 60-d Levy task: bayeso-benchmarks' recipe and the closed-form oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from botorch_demo.tasks import load_task
from botorch_demo.tasks.task import OfflineTask


@pytest.fixture(scope="module")
def levy_task() -> OfflineTask:
    return load_task("levy")


@pytest.fixture(scope="module")
def bayeso_levy():
    from bayeso_benchmarks import Levy

    return Levy(dim_problem=60)


def test_sizes(levy_task: OfflineTask) -> None:
    t = levy_task
    assert tuple(t.train_X.shape) == (15000, 60)
    assert tuple(t.train_Y.shape) == (15000, 1)
    assert t.categorical_features == {}
    assert torch.equal(t.bounds[0], torch.full((60,), -10.0).double())
    assert torch.equal(t.bounds[1], torch.full((60,), 10.0).double())


def test_d_best(levy_task: OfflineTask) -> None:
    assert round(abs(levy_task.d_best - 0.6125), 4) == 0


def test_data_matches_bayeso_recipe(levy_task: OfflineTask, bayeso_levy) -> None:
    x = bayeso_levy.sample_uniform(30000, seed=123).astype(np.float32)
    x = np.clip(x, -10 + 1e-6, 10 - 1e-6).astype(np.float64)
    y = -bayeso_levy(x)[:, 0]
    keep = y <= np.percentile(y, 50)
    assert int(keep.sum()) == 15000
    np.testing.assert_array_equal(levy_task.train_X.numpy(), x[keep])
    np.testing.assert_allclose(levy_task.train_Y.numpy()[:, 0], y[keep], rtol=1e-13, atol=0)
    ymin, ymax = -1390.8297333608755, -363.8953536677948
    assert abs(y.min() - ymin) <= 1e-9
    assert abs(y.max() - ymax) <= 1e-9


def test_oracle_reproduces_offline_y(levy_task: OfflineTask) -> None:
    Y = levy_task.oracle(levy_task.train_X)
    assert torch.equal(Y, levy_task.train_Y)


def test_oracle_matches_bayeso_on_fresh_points(levy_task: OfflineTask, bayeso_levy) -> None:
    x = np.random.default_rng(0).uniform(-10, 10, size=(500, 60))
    x[0] = 1.0  # global minimiser: Levy = 0
    x[1] = -10.0
    x[2] = 10.0
    Y = levy_task.oracle(torch.from_numpy(x))
    np.testing.assert_allclose(Y.numpy(), -bayeso_levy(x), rtol=1e-13, atol=1e-12)
    assert round(abs(float(Y[0, 0]) - 0.0), 12) == 0


_ZEROS = torch.zeros(3, 60, dtype=torch.float64)


@pytest.mark.parametrize(
    ("fragment", "bad"),
    [
        ("[-10.0, 10.0]", _ZEROS + 10.5),
        ("NaN", _ZEROS.clone().index_fill_(1, torch.tensor([5]), float("nan"))),
        ("inf", _ZEROS.clone().index_fill_(1, torch.tensor([5]), float("inf"))),
        ("n x 60", torch.zeros(3, 59)),
    ],
)
def test_oracle_bad_inputs(levy_task: OfflineTask, fragment: str, bad: torch.Tensor) -> None:
    with pytest.raises(ValueError) as info:
        levy_task.oracle(bad)
    assert fragment in str(info.value)


def test_float32_input(levy_task: OfflineTask) -> None:
    X = levy_task.train_X[:4].float()
    assert torch.equal(levy_task.oracle(X), levy_task.train_Y[:4])


def test_no_data_dir() -> None:
    with pytest.raises(ValueError):
        load_task("levy", data_dir="/nonexistent")
