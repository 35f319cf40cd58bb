"""VP-SDE marginals and the closed-form perturbation of Eq. (9)."""

from __future__ import annotations

import torch

from botorch_demo.sde import VPSDE


def test_alpha_matches_integral_of_beta() -> None:
    sde = VPSDE(0.1, 20.0)
    t = torch.linspace(0, 1, 1001, dtype=torch.float64)
    integral = torch.cumulative_trapezoid(sde.beta(t), t)
    expected = torch.exp(-0.5 * integral)
    torch.testing.assert_close(sde.alpha(t[1:]), expected, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(
        sde.alpha(t) ** 2 + sde.sigma(t) ** 2, torch.ones_like(t), rtol=1e-5, atol=1e-8
    )


def test_continuous_alpha_is_the_ddpm_limit() -> None:
    # DDPM: beta_i = beta(i / M) / M; alpha_bar_m = prod(1 - beta_i).
    sde, M, m = VPSDE(0.1, 20.0), 1000, 400
    i = torch.arange(1, m + 1, dtype=torch.float64)
    alpha_bar = torch.prod(1 - sde.beta(i / M) / M)
    t = torch.tensor(m / M, dtype=torch.float64)
    assert abs(sde.alpha(t).item() ** 2 - alpha_bar.item()) <= 2e-3


def test_perturbation_has_closed_form_mean_and_variance() -> None:
    sde = VPSDE(0.01, 2.0)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64).expand(200000, 3)
    t = torch.tensor(0.4, dtype=torch.float64)
    noise = torch.randn(x0.shape, generator=gen, dtype=torch.float64)
    xt = sde.perturb(x0, t, noise)
    torch.testing.assert_close(xt.mean(0), sde.alpha(t) * x0[0], rtol=1e-5, atol=6e-3)
    torch.testing.assert_close(xt.var(0), (sde.sigma(t) ** 2).expand(3), rtol=1e-5, atol=4e-3)


def test_ddom_schedule_does_not_reach_the_prior() -> None:
    t1 = torch.tensor(1.0)
    assert round(VPSDE(0.01, 2.0).alpha(t1).item() - 0.605, 3) == 0
    assert VPSDE(0.1, 20.0).alpha(t1).item() < 0.01
