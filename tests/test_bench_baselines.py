"""The baselines of the benchmark: CMA-ES on the surrogate and BO-qEI through Ax."""

import importlib.util

import pytest
import torch

from botorch_demo.benchmarks.cmaes import cmaes_candidates
from botorch_demo.benchmarks.components import SharedModels
from botorch_demo.benchmarks.profiles import CMAESSettings, get_profile
from botorch_demo.tasks import load_task

HAS_AX = importlib.util.find_spec("botorch_demo.ax") is not None


def test_cmaes_candidates_are_valid_and_seeded() -> None:
    task = load_task("tfbind8")
    surrogate = SharedModels(
        task, 0, get_profile("smoke").demo, needed=("surrogate",)
    ).surrogate_model()
    # A narrow search finds fewer than K distinct designs (53 here), a wide one
    # more: both branches of the result are checked, each unconditionally.
    narrow = CMAESSettings(popsize=64, iterations=6, sigma0=0.5)
    wide = CMAESSettings(popsize=128, iterations=6, sigma0=2.0)
    a = cmaes_candidates(surrogate, 256, narrow, seed=1)
    b = cmaes_candidates(surrogate, 256, narrow, seed=1)
    assert torch.equal(a.candidates, b.candidates)
    for result, evaluations in ((a, 6 * 64), (cmaes_candidates(surrogate, 256, wide, 1), 768)):
        X, info = result.candidates, result.info
        assert X.shape == (256, 8)
        assert ((X >= 0) & (X <= 3)).all()
        assert torch.equal(X, X.round())
        assert (info["iterations"], info["evaluations"]) == (6, evaluations)
        n = info["distinct"]
        assert n == int(torch.unique(X, dim=0).shape[0])
        # the first n rows are the distinct designs, best predicted first ...
        assert int(torch.unique(X[:n], dim=0).shape[0]) == n
        assert (result.predicted[: n - 1] >= result.predicted[1:n]).all()
        # ... the predictions are the surrogate's, and the list repeats to K
        assert torch.allclose(result.predicted, surrogate.predict(X).squeeze(-1), atol=1e-6)
        assert torch.equal(X, X[torch.arange(256) % n])
    assert a.info["distinct"] < 256
    assert result.info["distinct"] == 256


def test_bo_qei_declines_large_categorical_and_mixed_tasks() -> None:
    from botorch_demo.benchmarks.bo_qei import bo_qei_unsupported

    for task in ("tfbind8", "tfbind10", "levy", "seq-l6-v5", "seq-l8-v4", "ackley-10"):
        assert bo_qei_unsupported(task) is None, task
    assert "4^12" in bo_qei_unsupported("seq-l12-v4")
    assert "mixed" in bo_qei_unsupported("mixed-10")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_AX, reason="botorch_demo.ax is not available")
def test_bo_qei_through_ax() -> None:
    from botorch_demo.benchmarks.bo_qei import bo_qei_candidates

    task = load_task("levy")
    settings = get_profile("smoke").bo
    result = bo_qei_candidates(task, 256, settings, seed=0)
    X = result.candidates
    assert X.shape == (256, 60)
    assert ((X >= task.bounds[0]) & (X <= task.bounds[1])).all()
    assert result.info["offline_rows"] == 100
    assert result.info["arms"] <= 256
