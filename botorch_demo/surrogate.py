"""Phase 1a: the surrogate f_theta, an MLP regressor trained with MSE (Eq. 5)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from botorch_demo.config import DEMOConfig
from botorch_demo.networks import mlp
from botorch_demo.training import TrainStats, train_minibatch


def fit_surrogate(
    X: Tensor,
    y: Tensor,
    config: DEMOConfig,
    *,
    init_generator: torch.Generator,
    generator: torch.Generator,
    dtype: torch.dtype,
) -> tuple[nn.Sequential, TrainStats]:
    """Train f_theta on encoded designs by minimising Eq. (5).

    ``theta* = argmin_theta 1/N sum_i (f_theta(x_i) - y_i)^2``.

    Args:
        X: ``N x D`` encoded (standardised) designs.
        y: ``N`` standardised scores.
        config: Uses the ``surrogate_*`` fields.
        init_generator: CPU generator for the initial weights.
        generator: Generator on ``X.device`` for the minibatch order.
        dtype: Network dtype.

    Returns:
        The trained network (``D -> 1``) in eval mode, and its training stats.
    """
    net = mlp(
        X.shape[-1],
        1,
        hidden=config.surrogate_hidden,
        layers=config.surrogate_layers,
        activation=config.surrogate_activation,
        generator=init_generator,
        dtype=dtype,
        device=X.device,
    )
    Xf, yf = X.to(dtype), y.to(dtype)

    def loss_fn(idx: Tensor) -> Tensor:
        return (net(Xf[idx]).squeeze(-1) - yf[idx]).square().mean()

    stats = train_minibatch(
        loss_fn,
        net.parameters(),
        X.shape[0],
        epochs=config.surrogate_epochs,
        batch_size=config.surrogate_batch_size,
        lr=config.surrogate_lr,
        weight_decay=config.surrogate_weight_decay,
        generator=generator,
        device=X.device,
        desc="DEMO surrogate (Eq. 5)",
        progress=config.progress,
    )
    net.eval()
    net.requires_grad_(False)
    return net, stats


@torch.no_grad()
def predict_batched(net: nn.Module, X: Tensor, batch_size: int = 65536) -> Tensor:
    """Evaluate a scalar-output network on many rows without a memory spike.

    Args:
        net: ``D -> 1`` network.
        X: ``N x D`` inputs (cast to the network's dtype).
        batch_size: Rows per forward pass.

    Returns:
        ``N`` predictions in the network's dtype.
    """
    p = next(net.parameters())
    X = X.to(dtype=p.dtype, device=p.device)
    return torch.cat(
        [net(X[i : i + batch_size]).squeeze(-1) for i in range(0, X.shape[0], batch_size)]
    )
