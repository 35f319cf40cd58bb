"""Phase 1a: the surrogate f_theta, an MLP regressor trained with MSE (Eq. 5)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from botorch_demo.config import DEMOConfig
from botorch_demo.networks import configured_mlp
from botorch_demo.training import TrainStats, train_network


def build_surrogate(
    dim: int,
    config: DEMOConfig,
    *,
    generator: torch.Generator | None,
    dtype: torch.dtype,
    device: torch.device | str | None,
) -> nn.Sequential:
    """The untrained surrogate MLP ``D -> 1`` (``surrogate_*`` fields).

    Args:
        dim: Width D of the encoded designs.
        config: Uses ``surrogate_hidden``, ``surrogate_layers`` and
            ``surrogate_activation``.
        generator: CPU generator for the initial weights.
        dtype: Parameter dtype.
        device: Parameter device.

    Returns:
        The network.
    """
    return configured_mlp(config, "surrogate", dim, 1, generator, dtype, device)


def fit_surrogate(
    net: nn.Module,
    X: Tensor,
    y: Tensor,
    config: DEMOConfig,
    *,
    generator: torch.Generator,
    autocast_dtype: torch.dtype | None = None,
) -> TrainStats:
    """Train f_theta on encoded designs by minimising Eq. (5).

    ``theta* = argmin_theta 1/N sum_i (f_theta(x_i) - y_i)^2``.

    Args:
        net: The surrogate (:func:`build_surrogate`); trained in place, then
            frozen in eval mode.
        X: ``N x D`` encoded (standardised) designs.
        y: ``N`` standardised scores.
        config: Uses the ``surrogate_*`` training fields.
        generator: Generator on ``X.device`` for the minibatch order.
        autocast_dtype: Mixed-precision dtype of the forward passes, or ``None``
            (``DEMOConfig.mixed_precision``); the loss is taken in ``y``'s dtype.

    Returns:
        The training stats.
    """
    dtype = next(net.parameters()).dtype
    Xf, yf = X.to(dtype), y.to(dtype)

    def loss_fn(idx: Tensor) -> Tensor:
        return (net(Xf[idx]).squeeze(-1).to(dtype) - yf[idx]).square().mean()

    return train_network(
        net,
        loss_fn,
        X.shape[0],
        config,
        "surrogate",
        generator=generator,
        device=X.device,
        autocast_dtype=autocast_dtype,
    )


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
