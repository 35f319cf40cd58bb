"""Phase 1c (score model, Eqs. 4 and 8) and phase 2 (editing, Eq. 9)."""

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMOConfig
from botorch_demo.diffusion import ScoreNetwork, fit_score_network
from botorch_demo.editing import Guidance, edit_designs, sample_from_prior
from botorch_demo.sde import VPSDE

SDE = VPSDE(0.1, 20.0)


def _train(X: torch.Tensor, y: torch.Tensor, epochs: int = 40) -> tuple:
    cfg = DEMOConfig.smoke(diffusion_epochs=epochs, diffusion_hidden=128, diffusion_lr=3e-3)
    net = ScoreNetwork(X.shape[-1], cfg, generator=torch.Generator().manual_seed(0))
    stats = fit_score_network(net, X, y, SDE, cfg, generator=torch.Generator().manual_seed(1))
    return net, stats


class TestScoreNetwork(BotorchTestCase):
    def test_classifier_free_guidance_is_eq_4(self) -> None:
        net = ScoreNetwork(3, DEMOConfig.smoke(), generator=torch.Generator().manual_seed(0))
        x, t = torch.randn(5, 3), torch.tensor(0.3)
        ones, zeros = torch.ones(5), torch.zeros(5)
        cond = net(x, t.expand(5), 0.7 * ones, ones)
        uncond = net(x, t.expand(5), zeros, zeros)
        self.assertAllClose(net.guided_eps(x, t, 0.7, 2.0), 3.0 * cond - 2.0 * uncond, atol=1e-5)
        self.assertAllClose(net.guided_eps(x, t, 0.7, 0.0), cond)
        # A dropped label is ignored: only the keep flag matters.
        self.assertAllClose(net(x, t.expand(5), 5.0 * ones, zeros), uncond)

    def test_training_lowers_the_denoising_loss_and_learns_the_condition(self) -> None:
        # Two clusters whose label says which one: guided sampling must follow y.
        gen = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (1024,), generator=gen).float()
        X = (2 * y - 1)[:, None] * 2.0 + 0.3 * torch.randn(1024, 2, generator=gen)
        net, stats = _train(X, y, epochs=60)
        self.assertLess(stats.epoch_losses[-1], 0.8 * stats.epoch_losses[0])
        self.assertAlmostEqual(
            net.label_from_target(1.0), (1 - y.mean().item()) / y.std().item(), 4
        )
        for target, sign in ((1.0, 1.0), (0.0, -1.0)):
            guidance = Guidance(target, 1.0, generator=torch.Generator().manual_seed(2))
            out = sample_from_prior(net, SDE, 256, 2, num_steps=100, guidance=guidance)
            self.assertGreater((sign * out.mean(-1) > 0).float().mean().item(), 0.85)


class TestEditing(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        gen = torch.Generator().manual_seed(0)
        self.X = torch.randn(512, 3, generator=gen)
        self.net, _ = _train(self.X, self.X.sum(-1), epochs=10)

    def _edit(self, x0: torch.Tensor, m: int, seed: int = 0) -> torch.Tensor:
        return edit_designs(
            self.net,
            SDE,
            x0,
            m=m,
            M=1000,
            num_steps=None,
            guidance=Guidance(1.0, 2.0, generator=torch.Generator().manual_seed(seed)),
        )

    def test_m_zero_returns_the_designs(self) -> None:
        x0 = self.X[:8].double()
        out = self._edit(x0, 0)
        self.assertTrue(torch.equal(out, x0))

    def test_more_noise_moves_designs_further(self) -> None:
        x0 = self.X[:64]
        dist = [(self._edit(x0, m) - x0).norm(dim=-1).mean().item() for m in (50, 400, 900)]
        self.assertLess(dist[0], dist[1])
        self.assertLess(dist[1], dist[2])

    def test_seeded_and_dtype_preserving(self) -> None:
        x0 = self.X[:8].double()
        a, b, c = self._edit(x0, 300, 1), self._edit(x0, 300, 1), self._edit(x0, 300, 2)
        self.assertEqual(a.dtype, torch.float64)
        self.assertTrue(torch.equal(a, b))
        self.assertFalse(torch.equal(a, c))
