"""Phase 1a (surrogate, Eq. 5) and phase 1b (gradient ascent, Eq. 6)."""

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMOConfig
from botorch_demo.ascent import gradient_ascent
from botorch_demo.surrogate import build_surrogate, fit_surrogate, predict_batched


def _quadratic_data(n: int = 512, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen)
    y = -(X - 0.5).square().sum(-1)
    return X, (y - y.mean()) / y.std()


def _fit(X: torch.Tensor, y: torch.Tensor, **overrides) -> tuple:
    cfg = DEMOConfig.smoke(surrogate_epochs=60, surrogate_hidden=64, surrogate_lr=3e-3, **overrides)
    net = build_surrogate(
        X.shape[-1],
        cfg,
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float32,
        device="cpu",
    )
    stats = fit_surrogate(net, X, y, cfg, generator=torch.Generator().manual_seed(1))
    return net, stats


class TestSurrogate(BotorchTestCase):
    def test_fits_a_smooth_function(self) -> None:
        X, y = _quadratic_data()
        net, stats = _fit(X, y)
        self.assertEqual(len(stats.epoch_losses), 60)
        self.assertLess(stats.epoch_losses[-1], 0.2 * stats.epoch_losses[0])
        X_test, y_test = _quadratic_data(seed=1)
        pred = predict_batched(net, X_test, batch_size=100)
        corr = torch.corrcoef(torch.stack([pred, y_test]))[0, 1]
        self.assertGreater(corr.item(), 0.9)
        self.assertFalse(any(p.requires_grad for p in net.parameters()))

    def test_seeded_fit_is_deterministic(self) -> None:
        X, y = _quadratic_data(n=128)
        a, _ = _fit(X, y)
        b, _ = _fit(X, y)
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            self.assertTrue(torch.equal(pa, pb))


class TestGradientAscent(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        X, y = _quadratic_data()
        self.X = X
        self.net, _ = _fit(X, y)

    def test_raises_every_prediction(self) -> None:
        for optimizer, step in (("sgd", 0.05), ("adam", 0.05)):
            with self.subTest(optimizer=optimizer):
                X_T, y_T = gradient_ascent(
                    self.net, self.X, steps=50, step_size=step, optimizer=optimizer
                )
                before = predict_batched(self.net, self.X)
                self.assertEqual(X_T.shape, self.X.shape)
                self.assertAllClose(y_T, predict_batched(self.net, X_T))
                self.assertGreater((y_T > before).double().mean().item(), 0.95)
                self.assertGreater((y_T - before).mean().item(), 0.1)

    def test_sgd_step_is_eq_6(self) -> None:
        x = self.X[:3].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.net(x).sum(), x)
        X_1, _ = gradient_ascent(self.net, self.X[:3], steps=1, step_size=0.1)
        self.assertAllClose(X_1, self.X[:3] + 0.1 * grad)

    def test_batches_are_independent(self) -> None:
        a, ya = gradient_ascent(self.net, self.X, steps=20, step_size=0.05, batch_size=7)
        b, yb = gradient_ascent(self.net, self.X, steps=20, step_size=0.05, batch_size=512)
        self.assertAllClose(a, b, atol=1e-5, rtol=1e-4)
        self.assertAllClose(ya, yb, atol=1e-5, rtol=1e-4)

    def test_zero_steps_is_identity_and_dtype_is_kept(self) -> None:
        X64 = self.X.double()
        X_0, _ = gradient_ascent(self.net, X64, steps=0, step_size=0.1)
        self.assertEqual(X_0.dtype, torch.float64)
        self.assertAllClose(X_0, X64, atol=1e-7)

    def test_unknown_optimizer(self) -> None:
        with self.assertRaisesRegex(ValueError, "optimizer must be"):
            gradient_ascent(self.net, self.X, steps=1, step_size=0.1, optimizer="lbfgs")
