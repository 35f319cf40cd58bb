"""Phase 1b: pseudo-target synthesis by gradient ascent on the surrogate (Eq. 6).

Every offline design is a starting point. Because the surrogate scores designs
independently, the gradient of ``sum_i f(x_i)`` with respect to the stacked
designs is the stack of per-design gradients, so one backward pass moves a whole
batch of designs at once: no Python loop over designs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm


def gradient_ascent(
    surrogate: nn.Module,
    X: Tensor,
    *,
    steps: int,
    step_size: float,
    optimizer: str = "sgd",
    batch_size: int = 16384,
    progress: bool = False,
) -> tuple[Tensor, Tensor]:
    """Run Eq. (6) from every row of ``X`` and label the results.

    ``x_{i,t} = x_{i,t-1} + eta * grad_x f_theta(x_{i,t-1})`` for ``t = 1..T``.

    Args:
        surrogate: Trained ``D -> 1`` network f_theta* (its parameters are not
            updated).
        X: ``N x D`` encoded starting designs.
        steps: T, the number of updates.
        step_size: eta.
        optimizer: ``"sgd"`` for Eq. (6) as written, ``"adam"`` for Adam on the
            designs (the authors' code; each design keeps its own moments since
            Adam is element-wise).
        batch_size: Designs updated together (memory knob only; the result does
            not depend on it).
        progress: Show a progress bar over batches.

    Returns:
        A tuple ``(X_T, y_T)``: the ``N x D`` synthetic designs (the dtype of
        ``X``) and their ``N`` surrogate predictions, the dataset D'.
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}.")
    p = next(surrogate.parameters())
    outs, preds = [], []
    starts = range(0, X.shape[0], batch_size)
    for lo in tqdm(
        starts,
        desc="DEMO gradient ascent (Eq. 6)",
        disable=None if progress else True,
        leave=False,
    ):
        x = X[lo : lo + batch_size].to(dtype=p.dtype, device=p.device).clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=step_size) if optimizer == "adam" else None
        for _ in range(steps):
            (grad,) = torch.autograd.grad(surrogate(x).sum(), x)
            if opt is None:
                with torch.no_grad():
                    x += step_size * grad
            else:
                x.grad = -grad
                opt.step()
        with torch.no_grad():
            preds.append(surrogate(x).squeeze(-1))
            outs.append(x.detach().to(X.dtype))
    return torch.cat(outs), torch.cat(preds)
