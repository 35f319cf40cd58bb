"""Warm-started refits: an earlier model's weights start the training, which runs
a fraction of the epochs; the Ax model cache warm-starts its next training."""

from __future__ import annotations

import pytest
import torch

from botorch_demo import DEMO, DEMOConfig
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import ModelCache, split_observations
from botorch_demo.fitting import warm_config

BOUNDS = torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.float64)


def _data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.rand(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return X, -(X - 0.6).square().sum(-1, keepdim=True)


@pytest.fixture(scope="module")
def earlier() -> DEMO:
    return DEMO(DEMOConfig.smoke()).fit(*_data(200, 0), BOUNDS, seed=0)


@pytest.mark.parametrize(
    ("fraction", "epochs"), [(None, (5, 5)), (0.2, (1, 1)), (0.5, (3, 3)), (1.0, (5, 5))]
)
def test_a_warm_fit_trains_the_fraction_of_the_epochs(fraction, epochs):
    cfg = warm_config(DEMOConfig.smoke(warm_start_fraction=fraction))
    assert (cfg.surrogate_epochs, cfg.diffusion_epochs) == epochs


def test_the_earlier_weights_start_the_training_and_stay_unchanged(earlier):
    before = {k: v.clone() for k, v in earlier.surrogate.state_dict().items()}
    # With a vanishing learning rate the trained weights are the starting ones.
    cfg = DEMOConfig.smoke(warm_start_fraction=0.4, surrogate_lr=1e-12, diffusion_lr=1e-12)
    warm = DEMO(cfg).fit(*_data(300, 1), BOUNDS, seed=5, warm_start=earlier)
    for name, value in warm.surrogate.state_dict().items():
        torch.testing.assert_close(value, before[name], atol=1e-9, rtol=0)
        assert torch.equal(earlier.surrogate.state_dict()[name], before[name])
    score_before = earlier.score_net.net.state_dict()
    for name, value in warm.score_net.net.state_dict().items():
        torch.testing.assert_close(value, score_before[name], atol=1e-9, rtol=0)
    assert len(warm.fit_stats["surrogate"].epoch_losses) == 2
    cold = DEMO(cfg).fit(*_data(300, 1), BOUNDS, seed=5)
    assert not torch.allclose(cold.surrogate[0].weight, earlier.surrogate[0].weight)


def test_a_warm_fit_beats_a_cold_fit_of_the_same_epochs(earlier):
    # The same function on other designs: the earlier networks are a head start.
    cfg = DEMOConfig.smoke(warm_start_fraction=0.6)
    data = _data(300, 2)
    warm = DEMO(cfg).fit(*data, BOUNDS, seed=0, warm_start=earlier)
    cold = DEMO(warm_config(cfg)).fit(*data, BOUNDS, seed=0)
    for phase in ("surrogate", "diffusion"):
        warm_losses = warm.fit_stats[phase].epoch_losses
        assert len(warm_losses) == len(cold.fit_stats[phase].epoch_losses) == 3
        assert warm_losses[-1] < cold.fit_stats[phase].epoch_losses[-1]
    candidates, _ = warm.generate(8, seed=0)
    assert torch.isfinite(candidates).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"surrogate_hidden": 32}, r"\['surrogate_hidden'\] differ"),
        ({"diffusion_activation": "relu"}, r"\['diffusion_activation'\] differ"),
    ],
)
def test_other_networks_cannot_start_a_fit(earlier, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DEMO(DEMOConfig.smoke(**kwargs)).fit(*_data(50, 3), BOUNDS, warm_start=earlier)


def test_another_design_space_or_an_unfitted_model_cannot_start_a_fit(earlier):
    wider = torch.tensor([[0.0] * 4, [1.0] * 4], dtype=torch.float64)
    X = torch.rand(50, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="encoded width"):
        DEMO(DEMOConfig.smoke()).fit(X, X.sum(-1, keepdim=True), wider, warm_start=earlier)
    with pytest.raises(ValueError, match="must be a fitted DEMO"):
        DEMO(DEMOConfig.smoke()).fit(*_data(50, 3), BOUNDS, warm_start=DEMO())
    with pytest.raises(ValueError, match="not both"):
        DEMO(DEMOConfig.smoke()).fit(
            *_data(200, 0), BOUNDS, seed=0, reuse_surrogate=earlier, warm_start=earlier
        )


def test_a_failed_warm_fit_leaves_the_model_as_it_was(earlier):
    model = DEMO(DEMOConfig.smoke(surrogate_hidden=32)).fit(*_data(60, 4), BOUNDS, seed=0)
    weights = model.surrogate[0].weight.clone()
    with pytest.raises(ValueError):
        model.fit(*_data(60, 5), BOUNDS, warm_start=earlier)
    assert torch.equal(model.surrogate[0].weight, weights)


def _training_data(n: int):
    X, Y = _data(n, n)
    encoding = DesignEncoding(bounds=BOUNDS, categorical_values={}, ordinal_values={})
    return split_observations(X, Y, encoding, torch.zeros(n, dtype=torch.bool))[1]


@pytest.mark.parametrize("fraction", [None, 0.5])
def test_the_model_cache_warm_starts_from_its_previous_model(fraction):
    cache = ModelCache(DEMOConfig.smoke(warm_start_fraction=fraction), 0, 0, None)
    first = cache.get(_training_data(100), 1.0)
    cache.get(_training_data(120), 1.0)
    assert (cache.num_trainings, cache.num_warm_starts) == (2, 0 if fraction is None else 1)
    cache.get(_training_data(140), -1.0)  # Another direction: a cold start.
    assert (cache.num_trainings, cache.num_warm_starts) == (3, 0 if fraction is None else 1)
    assert first is not cache.model
