"""Reverse-SDE integrators: convergence order on a linear SDE with a known law."""

import itertools
import math

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.samplers import euler_maruyama_step, heun_step, integrate_reverse_sde
from botorch_demo.sde import VPSDE

SDE = VPSDE(0.1, 20.0)
MU, S2 = 1.0, 0.25  # data distribution N(MU, S2): every marginal is Gaussian


def _marginal(t: float) -> tuple[float, float]:
    tt = torch.tensor(t, dtype=torch.float64)
    a = SDE.alpha(tt)
    return (a * MU).item(), (a * a * S2 + SDE.sigma(tt) ** 2).item()


def _exact_score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    a = SDE.alpha(t)
    return -(x - a * MU) / (a * a * S2 + SDE.sigma(t) ** 2)


def _propagate_law(step, n_steps: int, t0: float = 1.0, t1: float = 0.05) -> tuple[float, float]:
    """Push the exact mean and variance at t0 through the scheme.

    With a linear score the step is affine, x' = A x + c + B z, so the law of
    the numerical solution is Gaussian and its mean and variance follow
    exactly: no Monte Carlo noise in the error estimate.
    """
    mean, var = _marginal(t0)
    kw = dict(dtype=torch.float64)
    h = torch.tensor((t0 - t1) / n_steps, **kw)
    zero, one = torch.zeros(1, 1, **kw), torch.ones(1, 1, **kw)
    for k in range(n_steps):
        t = torch.tensor(t0, **kw) - k * h
        c = step(SDE, _exact_score, zero, t, h, zero)
        A = step(SDE, _exact_score, one, t, h, zero) - c
        B = step(SDE, _exact_score, zero, t, h, one) - c
        mean = (A * mean + c).item()
        var = (A * A * var + B * B).item()
    return mean, var


def _observed_orders(step) -> list[float]:
    exact_mean, exact_var = _marginal(0.05)
    errors = []
    for n in (20, 40, 80, 160):
        mean, var = _propagate_law(step, n)
        errors.append(abs(mean - exact_mean) + abs(var - exact_var))
    return [math.log2(a / b) for a, b in itertools.pairwise(errors)]


class TestConvergenceOrder(BotorchTestCase):
    def test_heun_is_second_order(self) -> None:
        orders = _observed_orders(heun_step)
        for order in orders:
            self.assertGreater(order, 1.8)
            self.assertLess(order, 2.3)

    def test_euler_maruyama_is_first_order(self) -> None:
        orders = _observed_orders(euler_maruyama_step)
        self.assertGreater(orders[-1], 0.9)
        self.assertLess(orders[-1], 1.3)

    def test_heun_beats_euler_at_equal_steps(self) -> None:
        exact_mean, exact_var = _marginal(0.05)
        m_h, v_h = _propagate_law(heun_step, 40)
        m_e, v_e = _propagate_law(euler_maruyama_step, 40)
        err_h = abs(m_h - exact_mean) + abs(v_h - exact_var)
        err_e = abs(m_e - exact_mean) + abs(v_e - exact_var)
        self.assertLess(err_h * 10, err_e)


class TestIntegrateReverseSDE(BotorchTestCase):
    def test_samples_match_the_marginal(self) -> None:
        gen = torch.Generator().manual_seed(0)
        mean1, var1 = _marginal(1.0)
        x = mean1 + math.sqrt(var1) * torch.randn(20000, 1, generator=gen, dtype=torch.float64)
        out = integrate_reverse_sde(SDE, _exact_score, x, 1.0, 0.05, 100, generator=gen)
        mean, var = _marginal(0.05)
        self.assertAlmostEqual(out.mean().item(), mean, delta=0.02)
        self.assertAlmostEqual(out.var().item(), var, delta=0.02)

    def test_seeded_noise_is_reproducible_and_shape_preserving(self) -> None:
        x = torch.randn(7, 3)
        outs = [
            integrate_reverse_sde(
                SDE,
                _exact_score,
                x,
                0.4,
                0.001,
                10,
                method=method,
                generator=torch.Generator().manual_seed(3),
            )
            for method in ("heun", "heun", "euler")
        ]
        self.assertEqual(outs[0].shape, x.shape)
        self.assertTrue(torch.equal(outs[0], outs[1]))
        self.assertFalse(torch.equal(outs[0], outs[2]))

    def test_explicit_noise_and_empty_interval(self) -> None:
        x = torch.randn(4, 2, dtype=torch.float64)
        noise = torch.zeros(5, 4, 2, dtype=torch.float64)
        a = integrate_reverse_sde(SDE, _exact_score, x, 0.5, 0.01, 5, noise=noise)
        b = integrate_reverse_sde(SDE, _exact_score, x, 0.5, 0.01, 5, noise=noise)
        self.assertTrue(torch.equal(a, b))
        self.assertIs(integrate_reverse_sde(SDE, _exact_score, x, 0.0, 0.01, 5), x)

    def test_unknown_method(self) -> None:
        with self.assertRaisesRegex(ValueError, "method must be one of"):
            integrate_reverse_sde(SDE, _exact_score, torch.zeros(1, 1), 1.0, 0.1, 2, method="rk4")
