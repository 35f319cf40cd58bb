"""Phase 2: existing design editing (Eq. 9)."""

from __future__ import annotations

import pytest
import torch

from botorch_demo.diffusion import ScoreNetwork
from botorch_demo.editing import Guidance, edit_designs
from botorch_demo.sde import VPSDE

SDE = VPSDE(0.1, 20.0)


@pytest.fixture(scope="module")
def designs() -> torch.Tensor:
    """512 standard normal designs in 3 dimensions."""
    return torch.randn(512, 3, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def net(designs: torch.Tensor, make_score_network) -> ScoreNetwork:
    """A score network trained 10 epochs on ``designs`` labelled by their sum (read-only)."""
    return make_score_network(designs, designs.sum(-1), SDE, epochs=10)[0]


def _edit(net: ScoreNetwork, x0: torch.Tensor, m: int, seed: int = 0) -> torch.Tensor:
    return edit_designs(
        net,
        SDE,
        x0,
        m=m,
        M=1000,
        num_steps=None,
        guidance=Guidance(1.0, 2.0, generator=torch.Generator().manual_seed(seed)),
    )


def test_m_zero_returns_the_designs(net: ScoreNetwork, designs: torch.Tensor) -> None:
    x0 = designs[:8].double()
    out = _edit(net, x0, 0)
    assert torch.equal(out, x0)


@pytest.mark.slow
def test_more_noise_moves_designs_further(net: ScoreNetwork, designs: torch.Tensor) -> None:
    x0 = designs[:64]
    dist = [(_edit(net, x0, m) - x0).norm(dim=-1).mean().item() for m in (50, 400, 900)]
    assert dist[0] < dist[1]
    assert dist[1] < dist[2]


@pytest.mark.slow
def test_seeded_and_dtype_preserving(net: ScoreNetwork, designs: torch.Tensor) -> None:
    x0 = designs[:8].double()
    a, b, c = _edit(net, x0, 300, 1), _edit(net, x0, 300, 1), _edit(net, x0, 300, 2)
    assert a.dtype == torch.float64
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
