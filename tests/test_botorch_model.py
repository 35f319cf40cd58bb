"""The fitted surrogate as a BoTorch Model."""

from __future__ import annotations

import torch
from botorch.acquisition.analytic import PosteriorMean
from botorch.optim import optimize_acqf_discrete

from botorch_demo import DEMO, surrogate_model


def test_surrogate_is_a_deterministic_botorch_model(constrained_model: DEMO) -> None:
    surrogate = surrogate_model(constrained_model)
    pool, predicted = constrained_model.generate(12, seed=0)
    posterior = surrogate.posterior(pool.unsqueeze(1))
    torch.testing.assert_close(posterior.mean.reshape(-1), predicted)
    assert float(posterior.variance.abs().max()) == 0.0
    best, _ = optimize_acqf_discrete(PosteriorMean(surrogate), q=1, choices=pool)
    torch.testing.assert_close(best[0], pool[predicted.argmax()])
