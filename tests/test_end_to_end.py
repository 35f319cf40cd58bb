"""End-to-end: DEMO beats the best offline design under the true function."""

import os

import pytest
import torch
from botorch.test_functions import Levy
from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMOConfig, gen_candidates_demo
from botorch_demo.tasks import load_task

# Small but real: a few seconds per phase on two CPU cores.
TINY = DEMOConfig.smoke(
    surrogate_hidden=128,
    surrogate_epochs=20,
    diffusion_hidden=128,
    diffusion_epochs=30,
    num_steps=50,
)


@pytest.mark.slow
class TestEndToEnd(BotorchTestCase):
    def test_continuous_levy_offline_worse_half(self) -> None:
        d = 8
        f = Levy(dim=d, negate=True).to(torch.float64)
        bounds = f.bounds.to(torch.float64)
        gen = torch.Generator().manual_seed(0)
        X = bounds[0] + (bounds[1] - bounds[0]) * torch.rand(4000, d, generator=gen).double()
        Y = f(X).unsqueeze(-1)
        worse = Y.squeeze(-1) <= Y.median()
        X, Y = X[worse], Y[worse]
        cands, _pred = gen_candidates_demo(X, Y, bounds, q=64, config=TINY, seed=0)
        true = f(cands)
        self.assertEqual(cands.shape, (64, d))
        self.assertGreater(true.max().item(), Y.max().item())
        # Not one lucky draw: a good share of the batch beats the offline best.
        self.assertGreater((true > Y.max()).double().mean().item(), 0.1)

    def test_categorical_tf_bind_8(self) -> None:
        task = load_task("tfbind8")
        cands, _ = gen_candidates_demo(
            task.train_X,
            task.train_Y,
            task.bounds,
            q=128,
            categorical_features=task.categorical_features,
            config=TINY,
            seed=0,
        )
        scores = task.normalize(task.oracle(cands))
        self.assertTrue(torch.equal(cands, cands.round()))
        self.assertGreater(scores.max().item(), task.d_best)
        self.assertGreater((scores > task.d_best).double().mean().item(), 0.1)


@pytest.mark.skipif(os.environ.get("BOTORCH_DEMO_DATA") is None, reason="TF Bind 10 data not set")
@pytest.mark.slow
class TestEndToEndTFBind10(BotorchTestCase):
    def test_categorical_tf_bind_10(self) -> None:
        task = load_task("tfbind10")
        cands, _ = gen_candidates_demo(
            task.train_X,
            task.train_Y,
            task.bounds,
            q=64,
            categorical_features=task.categorical_features,
            config=TINY,
            seed=0,
        )
        self.assertGreater(task.normalize(task.oracle(cands)).max().item(), task.d_best)
