"""Phase 2: existing design editing (Eq. 9), and its "w/o editing" ablation.

Editing perturbs the top designs to time ``m / M`` in closed form and denoises
them back to ``t ~ 0`` with the guided score conditioned on the target. The
ablation starts from the prior ``N(0, I)`` at ``t = 1`` instead. Both run in
the score network's own space (:meth:`ScoreNetwork.to_net
<botorch_demo.diffusion.ScoreNetwork.to_net>`), which is the encoder's space
re-standardised with the diffusion training data's statistics when
``diffusion_standardize`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from botorch_demo.diagnostics import SamplerGuard
from botorch_demo.diffusion import T_EPS, ScoreNetwork
from botorch_demo.samplers import ScoreFn, integrate_reverse_sde
from botorch_demo.sde import VPSDE


def raised_noise_level(m: int, M: int, attempt: int, attempts: int) -> int:
    """Noise level of a retried edit: ``m`` raised linearly to ``M`` over the retries.

    An edit that keeps landing on a design that is already known needs more
    noise, not just new noise: retry ``attempt`` (``1..attempts``) edits at
    ``m + ceil((M - m) * attempt / attempts)``, capped at ``M``. Not in the paper,
    whose protocol keeps repeats.

    Args:
        m: The configured noise level of Eq. (9).
        M: The number of noise levels.
        attempt: The retry, from 1.
        attempts: The retry at which the noise level reaches ``M``.

    Returns:
        The noise level of this retry.
    """
    return min(M, m + -(-(M - m) * attempt // max(attempts, 1)))


def guided_score_fn(score_net: ScoreNetwork, sde: VPSDE, target: float, w: float) -> ScoreFn:
    """Build ``s(x, t) = -eps_guided(x, t, y~) / sigma(t)`` (Eqs. 4 and 8).

    Args:
        score_net: Trained noise predictor.
        sde: The forward process.
        target: Target label in the network's units.
        w: Guidance weight.

    Returns:
        A score function for :func:`integrate_reverse_sde`.
    """

    def score_fn(x: Tensor, t: Tensor) -> Tensor:
        return -score_net.guided_eps(x, t, target, w) / sde.sigma(t)

    return score_fn


@dataclass(frozen=True)
class Guidance:
    """How the guided reverse SDE runs (the sampling half of Eqs. 4 and 9).

    Attributes:
        target_score: Min-max normalised target (1 = the reference training
            label, see ``DEMOConfig.target_score``).
        guidance_weight: w in Eq. (4).
        method: ``"heun"`` or ``"euler"``.
        generator: Seeded generator on the network's device for the noise.
        progress: Show a progress bar.
        guard: Optional divergence guard applied after every step.
    """

    target_score: float = 1.0
    guidance_weight: float = 2.0
    method: str = "heun"
    generator: torch.Generator | None = None
    progress: bool = False
    guard: SamplerGuard | None = None


@torch.no_grad()
def denoise(
    score_net: ScoreNetwork,
    sde: VPSDE,
    x: Tensor,
    t_start: float,
    num_steps: int,
    guidance: Guidance,
) -> Tensor:
    """Run the guided reverse SDE from ``t_start`` down to ``T_EPS``.

    Args:
        score_net: Trained noise predictor.
        sde: The forward process.
        x: ``n x D`` states at ``t_start`` (in the network's dtype and device).
        t_start: Start time in [0, 1]; at or below ``T_EPS`` nothing happens.
        num_steps: Integration steps.
        guidance: Target, weight, integrator, noise and guard.

    Returns:
        The ``n x D`` denoised states (network space).
    """
    target = score_net.label_from_target(guidance.target_score)
    score_fn = guided_score_fn(score_net, sde, target, guidance.guidance_weight)
    return integrate_reverse_sde(
        sde,
        score_fn,
        x,
        t_start,
        T_EPS,
        num_steps,
        method=guidance.method,
        generator=guidance.generator,
        progress=guidance.progress,
        guard=guidance.guard,
    )


@torch.no_grad()
def edit_designs(
    score_net: ScoreNetwork,
    sde: VPSDE,
    x0: Tensor,
    *,
    m: int,
    M: int,
    num_steps: int | None,
    guidance: Guidance,
) -> Tensor:
    """Edit designs: perturb to ``m / M`` (Eq. 9), then denoise towards the target.

    Args:
        score_net: Trained noise predictor.
        sde: The forward process.
        x0: ``n x D`` encoded designs to edit.
        m: Noise level; ``m = 0`` returns ``x0`` unchanged.
        M: Number of noise levels.
        num_steps: Denoising steps; ``None`` means ``m`` (one per level).
        guidance: Target, weight, integrator, noise (on ``x0.device``) and guard.

    Returns:
        The ``n x D`` edited designs (encoder space), in ``x0``'s dtype.
    """
    p = next(score_net.parameters())
    t_edit = m / M
    if t_edit <= T_EPS:
        return x0.clone()
    x = score_net.to_net(x0.to(dtype=p.dtype, device=p.device))
    noise = torch.randn(x.shape, generator=guidance.generator, dtype=x.dtype, device=x.device)
    x = sde.perturb(x, torch.tensor(t_edit, dtype=x.dtype, device=x.device), noise)
    x = denoise(score_net, sde, x, t_edit, num_steps or m, guidance)
    return score_net.from_net(x).to(x0.dtype)


@torch.no_grad()
def sample_from_prior(
    score_net: ScoreNetwork, sde: VPSDE, n: int, dim: int, *, num_steps: int, guidance: Guidance
) -> Tensor:
    """Generate from ``N(0, I)`` at ``t = 1`` (the "w/o editing" ablation, DDOM).

    Args:
        score_net: Trained noise predictor.
        sde: The forward process.
        n: Number of designs.
        dim: Encoded width D.
        num_steps: Denoising steps over [T_EPS, 1].
        guidance: Target, weight, integrator, noise (on the network's device)
            and guard.

    Returns:
        ``n x D`` designs (encoder space) in the network's dtype.
    """
    p = next(score_net.parameters())
    x = torch.randn(n, dim, generator=guidance.generator, dtype=p.dtype, device=p.device)
    x = denoise(score_net, sde, x, 1.0, num_steps, guidance)
    return score_net.from_net(x)
