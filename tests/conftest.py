"""Shared fixtures and data builders of the test suite.

Builders are plain functions behind fixtures so that a test asks for the data it
needs by name; the sections follow the package's layout.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from botorch_demo import DEMOConfig

# ------------------------------------------------------------------------ core
#: The smallest configuration that still trains every phase.
TINY = DEMOConfig.smoke(surrogate_epochs=2, diffusion_epochs=2, ascent_steps=5)


def quadratic_data(
    n: int = 120, d: int = 3, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` uniform designs in ``[0, 1]^d`` scored by ``-||x - 0.5||^2``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=dtype)
    Y = -(X - 0.5).pow(2).sum(-1, keepdim=True)
    bounds = torch.stack([torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)])
    return X, Y, bounds


def mixed_data(
    n: int = 300, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[int, int]]:
    """Two 4-way categorical columns around one continuous column."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.empty(n, 3, dtype=torch.float64)
    X[:, 0] = torch.randint(0, 4, (n,), generator=gen).double()
    X[:, 1] = torch.rand(n, generator=gen, dtype=torch.float64)
    X[:, 2] = torch.randint(0, 4, (n,), generator=gen).double()
    Y = (X[:, :1] == 2).double() + X[:, 1:2] - (X[:, 2:] - 1).abs()
    bounds = torch.tensor([[0.0, 0.0, 0.0], [3.0, 1.0, 3.0]], dtype=torch.float64)
    return X, Y, bounds, {0: 4, 2: 4}


@pytest.fixture
def tiny_config() -> DEMOConfig:
    """:data:`TINY`."""
    return TINY


@pytest.fixture
def make_quadratic() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`quadratic_data`."""
    return quadratic_data


@pytest.fixture
def make_mixed() -> Callable[..., tuple]:
    """:func:`mixed_data`."""
    return mixed_data
