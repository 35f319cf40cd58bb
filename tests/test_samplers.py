"""Reverse-SDE integrators: convergence order on a linear SDE with a known law."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

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


def test_heun_is_second_order() -> None:
    orders = _observed_orders(heun_step)
    for order in orders:
        assert order > 1.8
        assert order < 2.3


def test_euler_maruyama_is_first_order() -> None:
    orders = _observed_orders(euler_maruyama_step)
    assert orders[-1] > 0.9
    assert orders[-1] < 1.3


def test_heun_beats_euler_at_equal_steps() -> None:
    exact_mean, exact_var = _marginal(0.05)
    m_h, v_h = _propagate_law(heun_step, 40)
    m_e, v_e = _propagate_law(euler_maruyama_step, 40)
    err_h = abs(m_h - exact_mean) + abs(v_h - exact_var)
    err_e = abs(m_e - exact_mean) + abs(v_e - exact_var)
    assert err_h * 10 < err_e


def test_samples_match_the_marginal() -> None:
    gen = torch.Generator().manual_seed(0)
    mean1, var1 = _marginal(1.0)
    x = mean1 + math.sqrt(var1) * torch.randn(20000, 1, generator=gen, dtype=torch.float64)
    out = integrate_reverse_sde(SDE, _exact_score, x, 1.0, 0.05, 100, generator=gen)
    mean, var = _marginal(0.05)
    assert abs(out.mean().item() - mean) <= 0.02
    assert abs(out.var().item() - var) <= 0.02


def test_seeded_noise_is_reproducible_and_shape_preserving() -> None:
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
    assert outs[0].shape == x.shape
    assert torch.equal(outs[0], outs[1])
    assert not torch.equal(outs[0], outs[2])


def test_explicit_noise_and_empty_interval() -> None:
    x = torch.randn(4, 2, dtype=torch.float64)
    noise = torch.zeros(5, 4, 2, dtype=torch.float64)
    a = integrate_reverse_sde(SDE, _exact_score, x, 0.5, 0.01, 5, noise=noise)
    b = integrate_reverse_sde(SDE, _exact_score, x, 0.5, 0.01, 5, noise=noise)
    assert torch.equal(a, b)
    assert integrate_reverse_sde(SDE, _exact_score, x, 0.0, 0.01, 5) is x


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        integrate_reverse_sde(SDE, _exact_score, torch.zeros(1, 1), 1.0, 0.1, 2, method="rk4")
