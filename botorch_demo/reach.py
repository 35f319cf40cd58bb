"""How far designs moved: positions changed and offline standard deviations.

DEMO's two phases each move designs: the ascent moves every offline design to
its D' point (Eq. 6), and editing moves each top design to its candidate (Eq.
9). :func:`measure_reach` says how far, in the design space rather than in the
networks' standardised space: the categorical positions that changed, and the
continuous columns' move in offline standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Reach:
    """How far a set of designs moved from their starting points.

    Attributes:
        positions_changed: Mean number of categorical columns whose value
            changed per design (``None`` without categorical columns).
        fraction_changed: ``positions_changed`` over the number of categorical
            columns (``None`` without them).
        sd_moved: Mean over designs of the root-mean-square move of the
            continuous columns, in offline standard deviations (``None``
            without continuous columns).
        unchanged: Fraction of designs identical to their starting point.
    """

    positions_changed: float | None
    fraction_changed: float | None
    sd_moved: float | None
    unchanged: float

    def to_dict(self) -> dict[str, float | None]:
        """JSON-friendly form."""
        return {
            "positions_changed": self.positions_changed,
            "fraction_changed": self.fraction_changed,
            "sd_moved": self.sd_moved,
            "unchanged": self.unchanged,
        }


def measure_reach(
    start: Tensor, end: Tensor, categorical_features: dict[int, int], offline_sd: Tensor
) -> Reach:
    """How far each row of ``end`` lies from the same row of ``start``.

    Args:
        start: ``n x d`` raw designs before the move.
        end: ``n x d`` raw designs after it.
        categorical_features: ``{column: n_categories}``.
        offline_sd: ``d`` standard deviations of the offline designs per column
            (only the continuous columns are read).

    Returns:
        The :class:`Reach` (all ``None``/0 for no rows).
    """
    d = start.shape[-1]
    cats = sorted(categorical_features)
    cont = [j for j in range(d) if j not in categorical_features]
    n = start.shape[0]
    if n == 0:
        return Reach(None, None, None, 0.0)
    end = end.to(start)
    positions = fraction = sd = None
    if cats:
        changed = (start[:, cats] != end[:, cats]).sum(-1).to(torch.float64)
        positions = float(changed.mean())
        fraction = positions / len(cats)
    if cont:
        scale = offline_sd[cont].to(start).clamp_min(torch.finfo(start.dtype).tiny)
        move = ((end[:, cont] - start[:, cont]) / scale).square().mean(-1).sqrt()
        sd = float(move.mean())
    unchanged = float((start == end).all(-1).to(torch.float64).mean())
    return Reach(positions, fraction, sd, unchanged)
