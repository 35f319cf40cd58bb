"""Benchmark profiles: one named bundle of every setting of a benchmark run.

A profile fixes the DEMO configuration (shared by DEMO, its ablations, Grad,
DDOM and CMA-ES's surrogate), the CMA-ES budget and the BO-qEI budget, and the
number of candidates K. Four are built in:

* ``fast`` -- the CPU default: :meth:`DEMOConfig.fast` and budgets that keep a
  (task, seed) group at a few minutes on two cores.
* ``default`` -- what a user gets from ``DEMOConfig()``, with the ``fast``
  search budgets for CMA-ES and BO-qEI (so that only DEMO's training and
  sampling differ from ``fast``: more epochs and m Heun steps instead of 100).
* ``paper`` -- :meth:`DEMOConfig.paper` (the paper's Section 5.4 values) and
  larger search budgets; meant for a GPU (``--device cuda``; the DEMO fits and
  CMA-ES run there, BO-qEI's GP runs on the CPU in every profile).
* ``smoke`` -- tiny, for tests and CI: :meth:`DEMOConfig.smoke`, a few CMA-ES
  generations, and a GP on ~100 points.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botorch_demo.config import DEMOConfig
from botorch_demo.tasks.protocol import DEFAULT_BUDGET


@dataclass(frozen=True)
class CMAESSettings:
    """CMA-ES on the surrogate (see :mod:`botorch_demo.benchmarks.cmaes`).

    Attributes:
        popsize: Candidates per generation (lambda); each generation is scored
            with one vectorised surrogate call.
        iterations: Generations (CMA-ES may stop earlier on its own tolerances).
        sigma0: Initial step size in the standardised encoded space (the offline
            designs have unit standard deviation per feature there).
    """

    popsize: int = 256
    iterations: int = 100
    sigma0: float = 0.5

    def __post_init__(self) -> None:
        for name in ("popsize", "iterations"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CMAESSettings.{name} must be a positive int, got {value!r}.")
        if not self.sigma0 > 0:
            raise ValueError(f"CMAESSettings.sigma0 must be > 0, got {self.sigma0!r}.")


@dataclass(frozen=True)
class BOSettings:
    """BO-qEI through Ax (see :mod:`botorch_demo.benchmarks.bo_qei`).

    Attributes:
        max_points: Largest training set of the exact GP (the Ax preset picks the
            subset: best observations plus a seeded random sample).
        offline_rows: Offline rows imported into the Ax experiment: ``None``
            imports all of them (the protocol); an int imports the best half of
            that many plus a seeded random sample of the rest (smoke runs only,
            to keep Ax's per-arm bookkeeping cheap).
        num_restarts: Restarts of Ax's acquisition optimiser. The optimiser
            settings apply where Ax optimises the acquisition (continuous tasks);
            on enumerable discrete tasks the preset picks the batch itself.
        raw_samples: Raw samples that seed the restarts.
        maxiter: L-BFGS-B iterations per optimisation.
        sequential: ``True``: sequential greedy qLogEI (K optimisations of one
            point each, conditioning on the previous ones); ``False``: one joint
            optimisation of all K points (much cheaper for K = 256).
    """

    max_points: int = 500
    offline_rows: int | None = None
    num_restarts: int = 2
    raw_samples: int = 32
    maxiter: int = 50
    sequential: bool = False

    def __post_init__(self) -> None:
        for name in ("max_points", "num_restarts", "raw_samples", "maxiter"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"BOSettings.{name} must be a positive int, got {value!r}.")
        if self.offline_rows is not None and self.offline_rows < 2:
            raise ValueError(
                f"BOSettings.offline_rows must be >= 2 or None, got {self.offline_rows}."
            )


@dataclass(frozen=True)
class BenchProfile:
    """Everything that determines the numbers of a benchmark cell.

    Attributes:
        name: Profile name.
        demo: DEMO configuration (progress bars are switched off by the harness).
        cmaes: CMA-ES settings.
        bo: BO-qEI settings.
        q: Candidates per method and seed, K (256 in the paper).
    """

    name: str
    demo: DEMOConfig
    cmaes: CMAESSettings
    bo: BOSettings
    q: int = DEFAULT_BUDGET

    def __post_init__(self) -> None:
        if not isinstance(self.q, int) or isinstance(self.q, bool) or self.q < 1:
            raise ValueError(f"BenchProfile.q must be a positive int, got {self.q!r}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of every setting."""
        return {
            "name": self.name,
            "q": self.q,
            "demo": self.demo.to_dict(),
            "cmaes": dataclasses.asdict(self.cmaes),
            "bo": dataclasses.asdict(self.bo),
        }

    def fingerprint(self) -> str:
        """Short hash of the settings that change results (not ``progress``)."""
        data = self.to_dict()
        data["demo"].pop("progress", None)
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


#: The search budgets of each built-in profile; its DEMO configuration is the
#: :class:`DEMOConfig` preset of the same name (progress bars off).
_FAST_BUDGETS = (
    CMAESSettings(popsize=256, iterations=100, sigma0=0.5),
    BOSettings(max_points=500, num_restarts=2, raw_samples=32, maxiter=50),
)
_BUDGETS: dict[str, tuple[CMAESSettings, BOSettings]] = {
    "fast": _FAST_BUDGETS,
    "default": _FAST_BUDGETS,
    "paper": (
        CMAESSettings(popsize=256, iterations=500, sigma0=0.5),
        BOSettings(max_points=1000, num_restarts=4, raw_samples=64, maxiter=100),
    ),
    "smoke": (
        CMAESSettings(popsize=256, iterations=5, sigma0=0.5),
        BOSettings(max_points=100, offline_rows=100, num_restarts=1, raw_samples=8, maxiter=15),
    ),
}


def _builtin(name: str) -> BenchProfile:
    cmaes, bo = _BUDGETS[name]
    return BenchProfile(name, DEMOConfig.preset(name, progress=False), cmaes, bo)


PROFILES: dict[str, Callable[[], BenchProfile]] = {
    name: functools.partial(_builtin, name) for name in _BUDGETS
}


def get_profile(profile: str | BenchProfile) -> BenchProfile:
    """Resolve a profile name (or pass a :class:`BenchProfile` through).

    Args:
        profile: ``"fast"``, ``"default"``, ``"paper"``, ``"smoke"`` or a custom
            profile.

    Returns:
        The profile.

    Raises:
        ValueError: For an unknown name; the message lists the known ones.
    """
    if isinstance(profile, BenchProfile):
        return profile
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}. Known profiles: {sorted(PROFILES)}.")
    return PROFILES[profile]()
