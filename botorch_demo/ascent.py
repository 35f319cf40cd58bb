"""Phase 1b: pseudo-target synthesis by gradient ascent on the surrogate (Eq. 6).

Every offline design is a starting point. Because the surrogate scores designs
independently, the gradient of ``sum_i f(x_i)`` with respect to the stacked
designs is the stack of per-design gradients, so one backward pass moves a whole
batch of designs at once: no Python loop over designs. Repeated designs (repeat
measurements) are ascended once each, since equal starts reach equal points.

Three update rules are offered (``DEMOConfig.ascent_optimizer``), all in the
standardised design space:

* ``"sgd"``: Eq. (6) as printed, ``x <- x + eta * grad``. How far a design moves
  depends on the scale of the surrogate's gradient, which differs by orders of
  magnitude between tasks (``docs/robustness_choices.md``).
* ``"adam"``: Adam on the designs with learning rate ``eta``, which is what the
  authors' code does (their comments give 1e-1 for discrete and 1e-3 for
  continuous tasks, the paper's numbers). Adam's per-coordinate normalisation
  makes each step move every coordinate by about ``eta`` whatever the gradient's
  scale.
* ``"normalized"``: normalised gradient steps, ``x <- x + eta * g / rms(g)``
  where ``rms`` is the root mean square of the design's gradient, so every step
  moves a design by exactly ``eta`` standard units (root mean square over
  coordinates) along the steepest direction.

An optional trust region (``trust_radius``) projects each design back onto the
ball of root-mean-square radius ``trust_radius`` around its start after every
step, capping the reach in standardised units for any rule.

With ``units`` (one scale per coordinate, e.g. the encoder's
:meth:`~botorch_demo.encoding.DesignEncoder.design_units`) every rule runs in
those units instead: the designs are ``x = x_0 + units * u`` and the rule moves
``u``, so a step size eta moves each coordinate by about ``eta`` units. In design
units a categorical position of a 20-letter alphabet can change its letter as
readily as one of a 4-letter alphabet, where in standardised units it needs
about twice the reach.

With ``project`` (e.g. an encoder's decode-encode round trip) the surrogate is
evaluated at the projected designs and the gradient passes straight through the
projection to the continuous point, which accumulates the steps until a letter
changes; each design's result is the projected point with the highest
prediction along the way (its start included).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from botorch_demo.exceptions import DivergenceError
from botorch_demo.rows import distinct_in_order
from botorch_demo.runtime import autocast

ASCENT_OPTIMIZERS = ("sgd", "adam", "normalized")


def _project_to_trust_region(x: Tensor, x0: Tensor, radius: float) -> None:
    """Pull every row of ``x`` back within RMS distance ``radius`` of ``x0`` (in place)."""
    delta = x - x0
    rms = delta.square().mean(dim=-1, keepdim=True).sqrt()
    scale = (radius / rms.clamp_min(1e-12)).clamp(max=1.0)
    x.copy_(x0 + delta * scale)


def gradient_ascent(
    surrogate: nn.Module,
    X: Tensor,
    *,
    steps: int,
    step_size: float,
    optimizer: str = "sgd",
    trust_radius: float | None = None,
    batch_size: int = 8192,
    progress: bool = False,
    units: Tensor | None = None,
    autocast_dtype: torch.dtype | None = None,
    project: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Run Eq. (6) from every row of ``X`` and label the results.

    With ``optimizer="sgd"`` this is ``x_{i,t} = x_{i,t-1} + eta * grad_x
    f_theta(x_{i,t-1})`` for ``t = 1..T``; the other rules are described in the
    module docstring.

    Args:
        surrogate: Trained ``D -> 1`` network f_theta* (its parameters are not
            updated).
        X: ``N x D`` encoded starting designs.
        steps: T, the number of updates.
        step_size: eta (a plain step for ``"sgd"``, Adam's learning rate for
            ``"adam"``, the RMS length of each step for ``"normalized"``).
        optimizer: ``"sgd"``, ``"adam"`` or ``"normalized"``. Every design keeps
            its own Adam moments since Adam is element-wise.
        trust_radius: If set, after every step each design is projected onto the
            ball of root-mean-square radius ``trust_radius`` (standardised units
            per coordinate) around its starting point.
        batch_size: Designs updated together (memory knob only; the result does
            not depend on it).
        progress: Show a progress bar over batches.
        units: Optional ``D`` positive scales: the step size and the trust
            radius count in these units per coordinate (see the module
            docstring); ``None`` counts in standardised units.
        autocast_dtype: Run the surrogate's forward passes of the ascent under
            autocast to this dtype (e.g. ``torch.bfloat16``); the designs, their
            gradients, the update rule and the final labels stay in the
            surrogate's dtype. ``None``: no autocast.
        project: Optional map of ``n x D`` designs onto the designs that exist
            (e.g. decode then encode). With it, every step scores the projected
            designs with a straight-through gradient, and each design's result
            is its best projected point along the way (module docstring).

    Returns:
        A tuple ``(X_T, y_T)``: the ``N x D`` synthetic designs (the dtype of
        ``X``) and their ``N`` surrogate predictions, the dataset D'.
    """
    if optimizer not in ASCENT_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {ASCENT_OPTIMIZERS}, got {optimizer!r}.")
    if trust_radius is not None and not trust_radius > 0:
        raise ValueError(f"trust_radius must be > 0 or None, got {trust_radius!r}.")
    p = next(surrogate.parameters())
    if optimizer == "adam" and step_size > torch.finfo(p.dtype).max:
        raise DivergenceError(
            f"Gradient ascent diverged: step size {step_size} overflows the network's dtype "
            f"{p.dtype} (Adam computes in it)."
        )
    scale = None if units is None else units.to(dtype=p.dtype, device=p.device)
    distinct, inverse = distinct_in_order(X)
    outs, preds = [], []
    starts = range(0, distinct.shape[0], batch_size)
    for lo in tqdm(
        starts,
        desc="DEMO gradient ascent (Eq. 6)",
        disable=None if progress else True,
        leave=False,
    ):
        x0 = distinct[lo : lo + batch_size].to(dtype=p.dtype, device=p.device)
        x, y = _ascend_batch(
            surrogate, x0, steps, step_size, optimizer, trust_radius, scale, autocast_dtype, project
        )
        preds.append(y)
        outs.append(x.to(X.dtype))
    X_T, y_T = torch.cat(outs), torch.cat(preds)
    if inverse is not None:
        X_T, y_T = X_T[inverse], y_T[inverse]
    return X_T, y_T


def _ascend_batch(
    surrogate: nn.Module,
    x0: Tensor,
    steps: int,
    step_size: float,
    optimizer: str,
    trust_radius: float | None,
    scale: Tensor | None,
    autocast_dtype: torch.dtype | None = None,
    project: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Ascend one batch: the rule moves ``u``, from ``x0`` (no ``scale``) or from 0
    with the designs ``x = x0 + scale * u``; the final labels are computed
    without autocast."""
    origin = x0 if scale is None else torch.zeros_like(x0)
    u = origin.clone().requires_grad_(True)
    opt = torch.optim.Adam([u], lr=step_size) if optimizer == "adam" else None

    def designs(u: Tensor) -> Tensor:
        return u if scale is None else x0 + scale * u

    amp = autocast(autocast_dtype, x0.device)
    best = None if project is None else _BestProjected(surrogate, project, x0)
    for _ in range(steps):
        x = designs(u)
        if best is not None:
            onto = best.project(x.detach())
            x = x + (onto - x).detach()
        with amp:
            values = surrogate(x).squeeze(-1)
        if best is not None:
            best.offer(onto, values.detach())
        (grad,) = torch.autograd.grad(values.sum(), u)
        if opt is not None:
            u.grad = -grad
            opt.step()
        else:
            with torch.no_grad():
                if optimizer == "normalized":
                    rms = grad.square().mean(dim=-1, keepdim=True).sqrt()
                    grad = grad / rms.clamp_min(1e-12)
                u += step_size * grad
        if trust_radius is not None:
            with torch.no_grad():
                _project_to_trust_region(u, origin, trust_radius)
    with torch.no_grad():
        x = designs(u).detach()
        if best is not None:
            best.offer(best.project(x), None)
            return best.x, surrogate(best.x).squeeze(-1)
        return x, surrogate(x).squeeze(-1)


class _BestProjected:
    """Each design's projected point with the highest prediction seen so far."""

    def __init__(self, surrogate: nn.Module, project: Callable[[Tensor], Tensor], x0: Tensor):
        self.surrogate = surrogate
        self._project = project
        with torch.no_grad():
            self.x = self.project(x0)
            self.y = surrogate(self.x).squeeze(-1).float()

    def project(self, x: Tensor) -> Tensor:
        """``project(x)`` in ``x``'s dtype and device."""
        return self._project(x).to(dtype=x.dtype, device=x.device)

    def offer(self, x: Tensor, y: Tensor | None) -> None:
        """Keep the rows of ``x`` predicted higher than the best so far (``y``:
        their predictions if already computed)."""
        with torch.no_grad():
            y = (self.surrogate(x).squeeze(-1) if y is None else y).float()
            better = y > self.y
            self.x = torch.where(better.unsqueeze(-1), x, self.x)
            self.y = torch.where(better, y, self.y)
