"""Multi-layer perceptrons shared by the surrogate and the score network."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "silu": nn.SiLU}


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: int,
    layers: int,
    activation: str = "relu",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """Build ``in -> hidden (x layers) -> out`` with seeded initialisation.

    The weights follow PyTorch's default ``nn.Linear`` initialisation (uniform in
    ``+-1/sqrt(fan_in)``), but are drawn from ``generator`` so that fitting is
    reproducible without touching the global RNG.

    Args:
        in_dim: Input width.
        out_dim: Output width.
        hidden: Hidden width.
        layers: Number of hidden layers (the paper's "3-layer MLP" is 2).
        activation: ``"relu"`` or ``"silu"``.
        generator: Seeded generator for the initial weights.
        dtype: Parameter dtype.
        device: Parameter device.

    Returns:
        The network as an ``nn.Sequential``.
    """
    widths = [in_dim] + [hidden] * layers + [out_dim]
    modules: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        linear = nn.Linear(fan_in, fan_out, dtype=dtype, device=device)
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            for p in (linear.weight, linear.bias):
                noise = torch.rand(p.shape, generator=generator, dtype=dtype, device="cpu")
                p.copy_((noise * 2.0 - 1.0) * bound)
        modules.append(linear)
        if i < layers:
            modules.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*modules)


def configured_mlp(
    config: object,
    prefix: str,
    in_dim: int,
    out_dim: int,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """:func:`mlp` shaped by ``config``'s ``<prefix>_hidden``, ``_layers`` and
    ``_activation`` fields (``prefix`` is ``"surrogate"`` or ``"diffusion"``)."""
    return mlp(
        in_dim,
        out_dim,
        hidden=getattr(config, f"{prefix}_hidden"),
        layers=getattr(config, f"{prefix}_layers"),
        activation=getattr(config, f"{prefix}_activation"),
        generator=generator,
        dtype=dtype,
        device=device,
    )


def count_matmul_flops(net: nn.Sequential, n_samples: int, backward: bool = True) -> float:
    """Floating-point operations of the linear layers for ``n_samples`` rows.

    A forward pass costs ``2 * fan_in * fan_out`` per row and layer; the
    backward pass twice that (gradients for inputs and weights).

    Args:
        net: The MLP.
        n_samples: Rows pushed through it.
        backward: Whether to count the backward pass too.

    Returns:
        The FLOP count.
    """
    macs = sum(m.in_features * m.out_features for m in net if isinstance(m, nn.Linear))
    return 2.0 * macs * n_samples * (3.0 if backward else 1.0)


def as_float(x: Tensor, like: nn.Module) -> Tensor:
    """Cast ``x`` to the dtype and device of ``like``'s parameters."""
    p = next(like.parameters())
    return x.to(dtype=p.dtype, device=p.device)
