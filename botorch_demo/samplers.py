"""Reverse-time integrators for the VP-SDE (the denoising half of Eq. 9).

The reverse SDE is ``dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw_bar`` run from
``t_start`` down to ``t_end``. Writing ``b(x, t) = f(x, t) - g(t)^2 s(x, t)`` and
``h > 0`` for the step, with one standard normal draw ``z`` per step:

* Euler-Maruyama: ``x' = x - b(x, t) h + g(t) sqrt(h) z``.
* Stochastic Heun (the paper's second-order sampler): an Euler predictor
  ``x~ = x - b(x, t) h + g(t) sqrt(h) z``, then the trapezoidal corrector
  ``x' = x - (b(x, t) + b(x~, t - h)) h / 2 + (g(t) + g(t - h)) sqrt(h) z / 2``,
  reusing the same ``z``. The noise is additive (``g`` does not depend on x), so
  this scheme has weak order 2 where Euler-Maruyama has weak order 1, and it is
  exactly Heun's second-order method on the drift. The authors' code computes
  the corrector's drift but never uses it, i.e. it runs Euler-Maruyama.

Each step costs one score evaluation (Euler) or two (Heun).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from tqdm.auto import tqdm

from botorch_demo.sde import VPSDE

ScoreFn = Callable[[Tensor, Tensor], Tensor]
"""``score_fn(x, t) -> s(x, t)`` for ``n x D`` designs and a scalar time tensor."""


def _reverse_drift(sde: VPSDE, score_fn: ScoreFn, x: Tensor, t: Tensor) -> Tensor:
    return sde.drift(x, t) - sde.beta(t) * score_fn(x, t)


def euler_maruyama_step(
    sde: VPSDE, score_fn: ScoreFn, x: Tensor, t: Tensor, h: Tensor, z: Tensor
) -> Tensor:
    """One Euler-Maruyama step of the reverse SDE from ``t`` to ``t - h``.

    Args:
        sde: The forward process.
        score_fn: The (guided) score.
        x: ``n x D`` current state.
        t: Scalar tensor, current time.
        h: Scalar tensor, positive step.
        z: ``n x D`` standard normal noise.

    Returns:
        The state at ``t - h``.
    """
    return x - _reverse_drift(sde, score_fn, x, t) * h + sde.diffusion(t) * h.sqrt() * z


def heun_step(sde: VPSDE, score_fn: ScoreFn, x: Tensor, t: Tensor, h: Tensor, z: Tensor) -> Tensor:
    """One stochastic Heun step of the reverse SDE from ``t`` to ``t - h``.

    Takes the arguments of :func:`euler_maruyama_step`; the noise ``z`` is shared
    by the predictor and the corrector.

    Returns:
        The state at ``t - h``.
    """
    s = t - h
    sqrt_h = h.sqrt()
    d1 = _reverse_drift(sde, score_fn, x, t)
    x_pred = x - d1 * h + sde.diffusion(t) * sqrt_h * z
    d2 = _reverse_drift(sde, score_fn, x_pred, s)
    return x - 0.5 * (d1 + d2) * h + 0.5 * (sde.diffusion(t) + sde.diffusion(s)) * sqrt_h * z


_STEPS = {"heun": heun_step, "euler": euler_maruyama_step}


def integrate_reverse_sde(
    sde: VPSDE,
    score_fn: ScoreFn,
    x: Tensor,
    t_start: float,
    t_end: float,
    num_steps: int,
    *,
    method: str = "heun",
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    progress: bool = False,
    guard: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Integrate the reverse SDE on a uniform grid from ``t_start`` to ``t_end``.

    Args:
        sde: The forward process.
        score_fn: The (guided) score.
        x: ``n x D`` states at ``t_start``.
        t_start: Start time (larger).
        t_end: End time (smaller, > 0).
        num_steps: Number of steps.
        method: ``"heun"`` or ``"euler"``.
        generator: Seeded generator on ``x.device`` for the step noise.
        noise: Optional ``num_steps x n x D`` noise to use instead of drawing it
            (set to zeros to integrate the drift alone).
        progress: Show a progress bar over steps.
        guard: Optional callable applied to the state after every step (e.g. a
            :class:`~botorch_demo.diagnostics.SamplerGuard` that records and
            clamps diverging states); it returns the state to continue from.

    Returns:
        The ``n x D`` states at ``t_end``.
    """
    if method not in _STEPS:
        raise ValueError(f"method must be one of {sorted(_STEPS)}, got {method!r}.")
    if t_start <= t_end or num_steps < 1:
        return x
    step = _STEPS[method]
    kw = dict(dtype=x.dtype, device=x.device)
    h = torch.tensor((t_start - t_end) / num_steps, **kw)
    bar = tqdm(
        range(num_steps),
        desc=f"DEMO denoising ({method})",
        disable=None if progress else True,
        leave=False,
    )
    for k in bar:
        t = torch.tensor(t_start, **kw) - k * h
        z = noise[k] if noise is not None else torch.randn(x.shape, generator=generator, **kw)
        x = step(sde, score_fn, x, t, h, z)
        if guard is not None:
            x = guard(x)
    return x
