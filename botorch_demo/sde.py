"""The variance-preserving SDE of Eq. (7) and its closed-form marginals (Eq. 9).

``dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw`` on ``t in [0, 1]`` with a linear
schedule ``beta(t) = beta_min + t (beta_max - beta_min)``. Its transition kernel
is Gaussian: ``x_t | x_0 ~ N(alpha(t) x_0, sigma(t)^2 I)`` with
``alpha(t) = exp(-1/2 int_0^t beta)`` and ``sigma(t)^2 = 1 - alpha(t)^2``.

The paper's discrete form (Eq. 9) perturbs with ``sqrt(alpha_bar_m)`` and
``sqrt(1 - alpha_bar_m)`` over M noise levels. DDPM's discrete betas are
``beta_i = beta(i / M) / M``, so ``alpha_bar_m -> alpha(m / M)^2`` as M grows;
we use the continuous form, which is exact for any m / M.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class VPSDE:
    """Linear-schedule VP-SDE.

    Args:
        beta_min: ``beta(0)``.
        beta_max: ``beta(1)``.
    """

    beta_min: float = 0.1
    beta_max: float = 20.0

    def beta(self, t: Tensor) -> Tensor:
        """``beta(t)``."""
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def log_alpha(self, t: Tensor) -> Tensor:
        """``log alpha(t) = -1/2 (beta_min t + 1/2 (beta_max - beta_min) t^2)``."""
        return -0.5 * (self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t.square())

    def alpha(self, t: Tensor) -> Tensor:
        """Mean coefficient ``alpha(t)`` of the marginal (``sqrt(alpha_bar)``)."""
        return self.log_alpha(t).exp()

    def sigma(self, t: Tensor) -> Tensor:
        """Standard deviation ``sigma(t) = sqrt(1 - alpha(t)^2)`` of the marginal."""
        return (-torch.expm1(2.0 * self.log_alpha(t))).sqrt()

    def drift(self, x: Tensor, t: Tensor) -> Tensor:
        """Forward drift ``f(x, t) = -1/2 beta(t) x``."""
        return -0.5 * self.beta(t) * x

    def diffusion(self, t: Tensor) -> Tensor:
        """Forward diffusion coefficient ``g(t) = sqrt(beta(t))``."""
        return self.beta(t).sqrt()

    def perturb(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """Sample ``x_t`` given ``x_0`` in closed form (Eq. 9).

        Args:
            x0: ``n x D`` clean designs.
            t: Time(s), broadcastable to ``n x 1``.
            noise: ``n x D`` standard normal draws.

        Returns:
            ``alpha(t) x0 + sigma(t) noise``.
        """
        return self.alpha(t) * x0 + self.sigma(t) * noise
