"""A pairwise sequence model and its exact optimum.

The score of a sequence of ``L`` tokens in ``0..V-1`` is a sum of per-position
weights and of pairwise weights of neighbours and of a few long-range position
pairs (:class:`PairwiseSequenceModel`). Its exact maximum and minimum come from
variable elimination (:func:`pairwise_optimum`). The robustness suite's sequence
and mixed tasks score designs with it (:mod:`botorch_demo.tasks.oracles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class PairwiseSequenceModel:
    """Score of a sequence: per-position weights plus pairwise weights.

    ``f(x) = sum_i unary[i, x_i] + sum_p pair_weights[p, x_{i_p}, x_{j_p}]`` for
    the position pairs ``pairs[p] = (i_p, j_p)`` (all neighbours and a few
    long-range pairs).

    Attributes:
        unary: ``L x V`` float64 per-position weights.
        pairs: ``P x 2`` long position pairs with ``i_p < j_p``.
        pair_weights: ``P x V x V`` float64 interaction weights.
    """

    unary: Tensor
    pairs: Tensor
    pair_weights: Tensor

    @property
    def length(self) -> int:
        """Sequence length ``L``."""
        return self.unary.shape[0]

    @property
    def num_categories(self) -> int:
        """Alphabet size ``V``."""
        return self.unary.shape[1]

    @classmethod
    def from_seed(
        cls,
        length: int,
        num_categories: int,
        num_long_range: int,
        seed: int,
        pair_scale: float = 0.7,
        max_span: int | None = None,
    ) -> PairwiseSequenceModel:
        """Draw the weights from a fixed seed.

        Unary weights are standard normal; pairwise weights are normal with
        standard deviation ``pair_scale``. The long-range pairs are distinct
        position pairs at least 3 apart, drawn uniformly.

        Args:
            length: ``L >= 2``.
            num_categories: ``V >= 2``.
            num_long_range: Number of long-range pairs (0 allowed).
            seed: Seed of the ``torch.Generator`` that draws everything.
            pair_scale: Standard deviation of the pairwise weights.
            max_span: If set, long-range pairs are at most this far apart (contacts
                that are far in the sequence but near in space, as in a folded
                protein, while the exact optimum stays cheap).

        Returns:
            The model (CPU, float64).

        Raises:
            ValueError: On an invalid size, or more long-range pairs than exist.
        """
        if length < 2 or num_categories < 2:
            raise ValueError(
                f"Need length >= 2 and num_categories >= 2, got {length}, {num_categories}."
            )
        last = length if max_span is None else max_span + 1
        far = [(i, j) for i in range(length) for j in range(i + 3, min(length, i + last))]
        if not 0 <= num_long_range <= len(far):
            raise ValueError(
                f"num_long_range must be in 0..{len(far)} for length {length}, "
                f"got {num_long_range}."
            )
        gen = torch.Generator().manual_seed(seed)
        unary = torch.randn(length, num_categories, generator=gen, dtype=torch.float64)
        chosen = torch.randperm(len(far), generator=gen)[:num_long_range].sort().values
        pairs = [(i, i + 1) for i in range(length - 1)] + [far[k] for k in chosen.tolist()]
        weights = pair_scale * torch.randn(
            len(pairs), num_categories, num_categories, generator=gen, dtype=torch.float64
        )
        return cls(unary, torch.tensor(pairs, dtype=torch.long), weights)

    def __call__(self, tokens: Tensor) -> Tensor:
        """Score ``n x L`` integer tokens; returns ``n`` float64 on their device."""
        tokens = tokens.long()
        unary = self.unary.to(tokens.device)
        pairs = self.pairs.to(tokens.device)
        weights = self.pair_weights.to(tokens.device)
        positions = torch.arange(self.length, device=tokens.device)
        y = unary[positions, tokens].sum(dim=-1)
        index = torch.arange(pairs.shape[0], device=tokens.device)
        return y + weights[index, tokens[:, pairs[:, 0]], tokens[:, pairs[:, 1]]].sum(dim=-1)


def pairwise_optimum(model: PairwiseSequenceModel, maximize: bool = True) -> tuple[float, Tensor]:
    """Exact maximum (or minimum) of a pairwise model and a sequence attaining it.

    Variable elimination (max-sum) in position order ``0..L-1``: each factor is a
    table over a sorted tuple of positions; eliminating a position adds the
    factors that involve it and maximises it out, keeping the argmax table for
    the back-substitution. The cost grows as ``V`` to the power of the number of
    positions a step involves (2 plus the long-range pairs spanning it), so it is
    exact and cheap for chains with a few long-range pairs.

    Args:
        model: The pairwise sequence model.
        maximize: ``False`` for the minimum.

    Returns:
        ``(value, tokens)``: the optimum and an ``L`` long tensor attaining it.
    """
    sign = 1.0 if maximize else -1.0
    V = model.num_categories
    factors: list[tuple[tuple[int, ...], Tensor]] = [
        ((i,), sign * model.unary[i]) for i in range(model.length)
    ]
    for (i, j), w in zip(model.pairs.tolist(), model.pair_weights, strict=True):
        factors.append(((i, j), sign * w))
    choices: list[tuple[tuple[int, ...], Tensor]] = []
    for pos in range(model.length):
        involved = [f for f in factors if pos in f[0]]
        factors = [f for f in factors if pos not in f[0]]
        union = tuple(sorted({v for f in involved for v in f[0]}))
        total = torch.zeros((1,) * len(union), dtype=torch.float64)
        for variables, table in involved:
            total = total + table.reshape([V if u in variables else 1 for u in union])
        # Every other position of ``union`` comes after ``pos``, so pos is axis 0.
        best, arg = total.max(dim=0)
        factors.append((union[1:], best))
        choices.append((union[1:], arg))
    value = sign * sum(float(table) for _, table in factors)
    tokens = torch.zeros(model.length, dtype=torch.long)
    for pos in reversed(range(model.length)):
        others, arg = choices[pos]
        tokens[pos] = arg[tuple(int(tokens[o]) for o in others)]
    return value, tokens
