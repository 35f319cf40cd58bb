"""A GP whose prior mean is DEMO's surrogate: the GP models the residual.

DEMO's surrogate ``f_theta`` (an MLP trained on all observations by Eq. (5) of
the paper) knows the landscape far from the GP's training subset; an exact GP
knows its uncertainty. :func:`surrogate_prior_gp` combines them: the GP's prior
mean is ``m(x) = offset + scale * f_theta(x)`` (:class:`SurrogatePriorMean`),
with ``scale`` and ``offset`` fitted with the kernel's hyperparameters by the
marginal likelihood, so the GP models ``y - m(x)``. A useless surrogate is
scaled towards zero and the GP falls back to a constant mean; a good one leaves
the GP only the residual to learn.

The surrogate is frozen: its weights are not hyperparameters and no gradient
flows into it (``DEMO.predict`` runs without autograd). The mean is therefore
piecewise constant in the eyes of a gradient-based acquisition optimiser; the
campaign node that uses it scores a discrete pool of DEMO's edits
(``optimize_acqf_discrete``), which needs no gradients with respect to ``x``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP, SingleTaskGP
from botorch.models.transforms.input import Normalize
from gpytorch.means import Mean
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from botorch_demo.rows import distinct_in_order

#: Largest call (``n * d`` entries) whose designs and predictions the mean keeps.
_MAX_KEPT = 2**20

#: A frozen surrogate: ``n x d`` designs in the GP's raw input space to ``n``
#: predictions in the units of the GP's training targets.
Surrogate = Callable[[Tensor], Tensor]


class SurrogatePriorMean(Mean):
    """Prior mean ``offset + scale * f(x)`` of a GP, ``f`` a frozen surrogate.

    The GP normalises its inputs (BoTorch's ``Normalize`` with fixed bounds),
    so the mean receives normalised designs; it maps them back to the raw
    space, ``lower + x * width``, before calling the surrogate.

    Args:
        surrogate: Maps ``n x d`` raw designs to ``n`` predictions.
        lower: ``d`` lower bounds of the raw space (0 for unnormalised columns).
        width: ``d`` widths of the raw space (1 for unnormalised columns).
    """

    def __init__(self, surrogate: Surrogate, lower: Tensor, width: Tensor) -> None:
        super().__init__()
        if lower.shape != width.shape or lower.dim() != 1:
            raise ValueError(
                f"lower and width must be vectors of one shape, got {tuple(lower.shape)} "
                f"and {tuple(width.shape)}."
            )
        self._surrogate = surrogate
        self.register_buffer("lower", lower)
        self.register_buffer("width", width)
        self.register_parameter("scale", torch.nn.Parameter(torch.ones((), dtype=lower.dtype)))
        self.register_parameter("offset", torch.nn.Parameter(torch.zeros((), dtype=lower.dtype)))
        self._last: tuple[Tensor, Tensor] | None = None

    def forward(self, x: Tensor) -> Tensor:
        """The prior mean at ``... x d`` normalised designs, shaped ``...``.

        The surrogate runs once per distinct design: an acquisition function
        scoring ``b`` candidates with a baseline of ``n`` designs passes the
        baseline ``b`` times (``b x (n + q) x d``). Designs equal to the previous
        call's (every step of the marginal-likelihood fit passes the training
        designs again) reuse its predictions: the surrogate is frozen, so they
        are the same. Calls of more than ``2**20`` entries are not kept.
        """
        flat = x.detach().reshape(-1, x.shape[-1])
        return self.offset + self.scale * self._prior(flat).reshape(x.shape[:-1])

    def _prior(self, flat: Tensor) -> Tensor:
        """The surrogate's predictions at ``n x d`` normalised designs."""
        last = self._last
        if (
            last is not None
            and last[0].shape == flat.shape
            and last[0].dtype == flat.dtype
            and last[0].device == flat.device
            and torch.equal(last[0], flat)
        ):
            return last[1]
        distinct, position = distinct_in_order(flat)
        prior = self._surrogate(self.lower + distinct * self.width).to(flat)
        if position is not None:
            prior = prior[position]
        # Only small calls are kept (the training designs of the fit), so the
        # copy never doubles an acquisition function's batch in memory.
        self._last = (flat.clone(), prior) if flat.numel() <= _MAX_KEPT else None
        return prior


def surrogate_prior_gp(
    train_X: Tensor,
    train_Y: Tensor,
    surrogate: Surrogate,
    bounds: Tensor,
    cat_dims: Sequence[int] = (),
) -> SingleTaskGP:
    """Fits an exact GP whose prior mean is ``surrogate`` (scaled and shifted).

    The kernel is BoTorch's default for the space: ``SingleTaskGP``'s for
    numeric designs, ``MixedSingleTaskGP``'s (a categorical kernel on
    ``cat_dims``) otherwise. The numeric columns are normalised to the unit
    cube with the fixed ``bounds``; the categorical ones keep their codes. The
    targets are used as given (no outcome transform), because the surrogate
    predicts in their units.

    Args:
        train_X: ``n x d`` designs in the raw space.
        train_Y: ``n x 1`` targets, in the surrogate's units.
        surrogate: Frozen surrogate, ``m x d`` raw designs to ``m`` predictions.
        bounds: ``2 x d`` bounds of the raw space.
        cat_dims: Categorical columns.

    Returns:
        The fitted GP (in eval mode), taking raw designs.

    Raises:
        ValueError: For shapes that do not match or a column index out of range.
    """
    n, d = train_X.shape
    if train_Y.shape != (n, 1) or bounds.shape != (2, d):
        raise ValueError(
            f"Need train_Y of shape ({n}, 1) and bounds of shape (2, {d}), got "
            f"{tuple(train_Y.shape)} and {tuple(bounds.shape)}."
        )
    cat = sorted({int(j) for j in cat_dims})
    if any(not 0 <= j < d for j in cat):
        raise ValueError(f"cat_dims {cat} must lie in [0, {d}).")
    numeric = [j for j in range(d) if j not in cat]
    bounds = bounds.to(train_X)
    lower = torch.zeros(d, dtype=train_X.dtype, device=train_X.device)
    width = torch.ones_like(lower)
    span = bounds[1] - bounds[0]
    lower[numeric] = bounds[0, numeric]
    width[numeric] = torch.where(span[numeric] > 0, span[numeric], torch.ones_like(span[numeric]))
    transform = (
        Normalize(d=d, indices=numeric, bounds=torch.stack([lower, lower + width]))
        if numeric
        else None
    )
    mean = SurrogatePriorMean(surrogate, lower, width)
    if cat:
        model = MixedSingleTaskGP(
            train_X, train_Y, cat_dims=cat, outcome_transform=None, input_transform=transform
        )
        model.mean_module = mean
    else:
        model = SingleTaskGP(
            train_X, train_Y, mean_module=mean, outcome_transform=None, input_transform=transform
        )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model.eval()
