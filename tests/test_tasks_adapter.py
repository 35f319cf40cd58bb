"""``task_from_design_bench``: an OfflineTask from a design-bench-like task object."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from botorch_demo.tasks import task_from_design_bench
from botorch_demo.tasks.sequences import encode_tokens
from botorch_demo.tasks.task import OfflineTask


class FakeDesignBenchTask:
    """Test double with design-bench's task interface (x, y, is_discrete, ...)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, table: np.ndarray | None):
        self.x, self.y = x, y
        self.is_discrete = table is not None
        self.num_classes = 4
        self._table = table
        self.calls = 0

    def predict(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self._table is not None:
            assert x.dtype == np.int32
            return self._table[encode_tokens(x, 4)][:, None].astype(np.float32)
        return -(x**2).sum(axis=1, keepdims=True).astype(np.float32)


def test_discrete_task(tfbind8_task: OfflineTask, tfbind8_arrays) -> None:
    tf8 = tfbind8_task
    x, y = tfbind8_arrays
    table = np.zeros(4**8, dtype=np.float32)
    table[encode_tokens(x, 4)] = y[:, 0]  # TF8 duplicates share their y
    x_off = tf8.train_X.numpy().astype(np.int32)
    y_off = tf8.train_Y.numpy().astype(np.float32)
    fake = FakeDesignBenchTask(x_off, y_off, table)
    task = task_from_design_bench(fake, name="TFBind8-Exact-v0")
    assert torch.equal(task.train_X, tf8.train_X)
    assert torch.equal(task.train_Y, tf8.train_Y)
    assert task.categorical_features == dict.fromkeys(range(8), 4)
    assert torch.equal(task.bounds, tf8.bounds)
    assert round(abs(task.d_best - tf8.d_best), 7) == 0
    X = torch.randint(0, 4, (300, 8)).double()
    assert torch.equal(task.oracle(X), tf8.oracle(X))
    assert fake.calls == 1  # one batched call, no loop
    with pytest.raises(ValueError, match="out of range"):
        task.oracle(X + 4)


def test_continuous_task() -> None:
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 5)).astype(np.float32)
    fake = FakeDesignBenchTask(x, -(x**2).sum(1, keepdims=True), None)
    task = task_from_design_bench(fake, name="custom", y_min=-5.0, y_max=0.0)
    assert task.categorical_features == {}
    assert torch.equal(task.bounds[0], task.train_X.min(0).values)
    Y = task.oracle(torch.zeros(3, 5, dtype=torch.float64))
    assert Y.dtype == torch.float64
    assert tuple(Y.shape) == (3, 1)
    assert task.normalize(0.0) == 1.0


def test_bad_objects() -> None:
    with pytest.raises(ValueError, match="predict"):
        task_from_design_bench(object(), name="tfbind8")
    x = np.zeros((5, 3), dtype=np.float32)
    fake = FakeDesignBenchTask(x, np.zeros((5, 1)), None)
    with pytest.raises(ValueError, match="y_min and y_max"):
        task_from_design_bench(fake, name="custom")
    fake = FakeDesignBenchTask(np.zeros((5, 3, 4)), np.zeros((5, 1)), None)
    with pytest.raises(ValueError, match="map_to_integers"):
        task_from_design_bench(fake, name="tfbind8")
