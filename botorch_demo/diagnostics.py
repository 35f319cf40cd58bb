"""Guards and diagnostics that make DEMO's failure modes visible to users.

* :class:`SamplerGuard` watches the reverse-SDE states. A guided reverse SDE
  started off the support of its training data can diverge (states growing to
  thousands of standard units), after which argmax decoding lands on a few
  arbitrary designs. The guard counts states outside a bounded multiple of the
  training range, optionally clamps them, and :class:`DEMO.generate
  <botorch_demo.model.DEMO.generate>` issues one
  :class:`SamplerDivergenceWarning` per call.
* :class:`GenerationDiagnostics` is what ``model.diagnostics`` holds after
  ``generate``: distinct designs, how many candidates the surrogate predicts
  above the design they were edited from, and a collapse flag (with a
  :class:`CollapseWarning`) when the raw batch is mostly copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from botorch_demo.reach import Reach

COLLAPSE_FRACTION = 0.5
"""A batch whose raw edits hold fewer than this fraction of distinct designs
(relative to the number of candidates) is reported as collapsed."""


class SamplerDivergenceWarning(RuntimeWarning):
    """The reverse SDE left a bounded multiple of its training range."""


class CollapseWarning(UserWarning):
    """Most candidates of a generated batch are copies of each other."""


class SamplerGuard:
    """Counts (and optionally clamps) reverse-SDE states outside ``+- bound``.

    Args:
        bound: ``D`` positive per-coordinate bounds in the network's space.
        clamp: Whether to clamp states into ``[-bound, bound]``.
    """

    def __init__(self, bound: Tensor, clamp: bool = True) -> None:
        self.bound = bound
        self.clamp = clamp
        # Accumulated on the states' device; read once, through the properties,
        # so the sampler loop never waits on a device-to-host copy.
        self._n_outside: Tensor | None = None
        self._max_ratio: Tensor | None = None

    def __call__(self, x: Tensor) -> Tensor:
        """Inspect one state; return it, clamped if ``clamp``.

        Args:
            x: ``n x D`` states.

        Returns:
            ``x`` or its clamped copy. Non-finite entries count as outside.
        """
        if x.numel() == 0:
            return x
        bound = self.bound.to(x)
        ratio = x.abs() / bound
        outside = ~(ratio <= 1.0)  # NaN counts as outside
        n_out = outside.sum()
        worst = torch.where(outside, torch.nan_to_num(ratio, nan=float("inf")), 0.0).max()
        if self._n_outside is None:
            self._n_outside, self._max_ratio = n_out, worst
        else:
            self._n_outside = self._n_outside + n_out
            self._max_ratio = torch.maximum(self._max_ratio, worst)
        if self.clamp:  # a no-op on states inside the bound
            x = torch.nan_to_num(x, nan=0.0)
            x = torch.maximum(torch.minimum(x, bound), -bound)
        return x

    @property
    def n_outside(self) -> int:
        """State entries seen outside the bound (summed over calls)."""
        return 0 if self._n_outside is None else int(self._n_outside)

    @property
    def max_ratio(self) -> float:
        """Largest ``|x| / bound`` among the entries outside (0 when none)."""
        return 0.0 if self._max_ratio is None else float(self._max_ratio)

    @property
    def diverged(self) -> bool:
        """Whether any state left the bound."""
        return self.n_outside > 0


@dataclass(frozen=True)
class GenerationDiagnostics:
    """What the last :meth:`DEMO.generate <botorch_demo.model.DEMO.generate>` did.

    Attributes:
        q: Number of candidates returned.
        n_distinct: Distinct designs among the returned candidates.
        n_distinct_raw: Distinct designs among the first proposal, before any
            de-duplication or exclusion fallback (``unique``/``exclude``).
        n_predicted_above_source: Candidates whose surrogate prediction exceeds
            that of the design they were edited from; ``None`` without editing.
        n_states_outside: Reverse-SDE state entries (summed over steps) that
            left the divergence bound.
        max_state_ratio: Largest ``|x| / bound`` seen (0 when never outside).
        clamped: Whether those states were clamped back.
        collapsed: Whether ``n_distinct_raw < COLLAPSE_FRACTION * q``.
        messages: The warnings issued, as text.
        reach: How far the candidates lie from the designs they were edited
            from (``None`` without editing).
    """

    q: int
    n_distinct: int
    n_distinct_raw: int
    n_predicted_above_source: int | None
    n_states_outside: int
    max_state_ratio: float
    clamped: bool
    collapsed: bool
    messages: tuple[str, ...] = field(default_factory=tuple)
    reach: Reach | None = None

    @property
    def diverged(self) -> bool:
        """Whether the sampler left its bound."""
        return self.n_states_outside > 0


def divergence_message(guard: SamplerGuard) -> str:
    """Text of the divergence warning."""
    action = "clamped back" if guard.clamp else "left as they were (sampler_clamp=False)"
    return (
        f"DEMO's reverse SDE diverged: {guard.n_outside} state entries left the bound of "
        f"sampler_bound x (training range) (up to {guard.max_ratio:.3g}x the bound) and were "
        f"{action}. The edited designs start far from the data the diffusion model was "
        "trained on; consider a smaller ascent reach (ascent_trust_radius), "
        "diffusion_standardize=True, or a lower guidance_weight / target_score."
    )


def collapse_message(n_distinct: int, q: int) -> str:
    """Text of the collapse warning."""
    return (
        f"DEMO's batch collapsed: only {n_distinct} distinct designs among {q} raw edits. "
        "The candidates are mostly copies; pass unique=True to refill them, and consider a "
        "smaller ascent reach or a lower target_score."
    )
