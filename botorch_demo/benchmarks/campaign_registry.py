"""The strategies of the campaign benchmark and the settings of a campaign.

Each strategy is a name, a label and a builder that returns the Ax
``GenerationStrategy`` a campaign cell sets on its ``Client`` (the builders call
the public presets of :mod:`botorch_demo.ax`). :class:`CampaignSettings` holds
what fixes a campaign's numbers besides the task, strategy and seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botorch_demo.benchmarks.profiles import BenchProfile

#: A strategy builder: ``(settings, seed, checkpoint_dir) -> GenerationStrategy``.
StrategyBuilder = Callable[["CampaignSettings", int, str], Any]


@dataclass(frozen=True)
class CampaignSettings:
    """What fixes a campaign's numbers, besides the task, strategy and seed.

    Attributes:
        profile: The benchmark profile (DEMO configuration, GP subset size,
            offline rows imported).
        k0: Designs of round 0 (the offline batch).
        batch: Designs of each later round.
    """

    profile: BenchProfile
    k0: int
    batch: int

    def fingerprint(self) -> str:
        """Short hash of the settings that change results (the number of
        rounds is not one: a campaign may be extended)."""
        data = {"profile": self.profile.fingerprint(), "k0": self.k0, "batch": self.batch}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def designs(self, r: int) -> int:
        """Designs asked for in round ``r``."""
        return self.k0 if r == 0 else self.batch

    def evaluated(self, r: int) -> int:
        """Oracle calls after round ``r``."""
        return self.k0 + r * self.batch


#: Largest ``k0``, ``batch`` and ``rounds`` a campaign takes.
MAX_DESIGNS = 100_000
MAX_ROUNDS = 1_000


@dataclass(frozen=True)
class CampaignStrategy:
    """A strategy of the campaign benchmark.

    Attributes:
        name: Its name on the command line.
        label: Display label.
        description: One line.
        build: ``(settings, seed, checkpoint_dir) -> GenerationStrategy``.
        batch_at_most_k0: Whether ``batch`` must not exceed ``k0``.
    """

    name: str
    label: str
    description: str
    build: StrategyBuilder
    batch_at_most_k0: bool = False


def _qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    from botorch_demo.ax.campaign_strategies import qlognei_generation_strategy

    return qlognei_generation_strategy(
        batch_size=settings.batch,
        max_points=settings.profile.bo.max_points,
        subset_seed=seed,
    )


def _demo_then_qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    from botorch_demo.ax import demo_generation_strategy

    return demo_generation_strategy(
        batch_size=settings.k0,
        config=settings.profile.demo,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        online_generator_kwargs={"subset_seed": seed, "continuous_kriging_believer": True},
        max_points=settings.profile.bo.max_points,
        online_batch_size=settings.batch,
    )


def _demo_every_round(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _every_round(settings, seed, checkpoint_dir, warm_start_fraction=0.25)


def _demo_every_round_cold(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _every_round(settings, seed, checkpoint_dir, warm_start_fraction=None)


def _every_round(
    settings: CampaignSettings, seed: int, checkpoint_dir: str, warm_start_fraction: float | None
) -> Any:
    from botorch_demo.ax.campaign_strategies import demo_every_round_strategy

    return demo_every_round_strategy(
        initial_batch_size=settings.k0,
        batch_size=settings.batch,
        config=settings.profile.demo,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        warm_start_fraction=warm_start_fraction,
    )


def _demo_pool_qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _pool(settings, seed, checkpoint_dir, prior_mean=False)


def _demo_prior_qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _pool(settings, seed, checkpoint_dir, prior_mean=True)


def _demo_hybrid_qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _pool(settings, seed, checkpoint_dir, prior_mean=True, gp_candidates=True)


def _demo_split_qei(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _pool(settings, seed, checkpoint_dir, prior_mean=True, gp_share=0.5)


def _demo_split_qei_once(settings: CampaignSettings, seed: int, checkpoint_dir: str) -> Any:
    return _pool(settings, seed, checkpoint_dir, prior_mean=True, gp_share=0.5, retrain_demo=False)


def _pool(
    settings: CampaignSettings,
    seed: int,
    checkpoint_dir: str,
    prior_mean: bool,
    gp_candidates: bool = False,
    gp_share: float = 0.0,
    retrain_demo: bool = True,
) -> Any:
    from botorch_demo.ax.campaign_strategies import demo_pool_qei_strategy

    return demo_pool_qei_strategy(
        initial_batch_size=settings.k0,
        batch_size=settings.batch,
        pool_size=max(settings.k0, 4 * settings.batch),
        config=settings.profile.demo,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        max_points=settings.profile.bo.max_points,
        subset_seed=seed,
        prior_mean=prior_mean,
        gp_candidates=gp_candidates,
        gp_share=gp_share,
        retrain_demo=retrain_demo,
    )


#: The strategies, in table order.
STRATEGIES: dict[str, CampaignStrategy] = {
    s.name: s
    for s in (
        CampaignStrategy(
            "qei",
            "GP + qLogNEI",
            "GP + qLogNEI (training-subset policy) from round 0",
            _qei,
        ),
        CampaignStrategy(
            "demo-then-qei",
            "DEMO, then GP + qLogNEI",
            "DEMO's batch of k0, then GP + qLogNEI (demo_generation_strategy)",
            _demo_then_qei,
        ),
        CampaignStrategy(
            "demo-every-round",
            "DEMO every round",
            "DEMO's batch of k0, then DEMO retrained on all data before each round, "
            "from the previous round's networks for a quarter of the epochs",
            _demo_every_round,
            batch_at_most_k0=True,
        ),
        CampaignStrategy(
            "demo-every-round-cold",
            "DEMO every round, cold",
            "as demo-every-round, but each retraining starts from fresh networks "
            "and runs all the epochs",
            _demo_every_round_cold,
            batch_at_most_k0=True,
        ),
        CampaignStrategy(
            "demo-pool-qei",
            "DEMO, then qLogNEI over DEMO's edits",
            "DEMO's batch of k0, then each round GP + qLogNEI chooses among DEMO's "
            "edits of the best designs (DEMO retrained on all data, warm-started from the "
            "previous round's networks for a quarter of the epochs)",
            _demo_pool_qei,
        ),
        CampaignStrategy(
            "demo-prior-qei",
            "DEMO, then qLogNEI over DEMO's edits, GP with DEMO's prior mean",
            "as demo-pool-qei, but the GP that scores the edits has DEMO's surrogate "
            "as its prior mean (it models the residual)",
            _demo_prior_qei,
        ),
        CampaignStrategy(
            "demo-hybrid-qei",
            "DEMO, then qLogNEI over DEMO's edits and the GP's batch, GP with DEMO's prior mean",
            "as demo-prior-qei, but the batch GP + qLogNEI proposes over the whole space "
            "joins DEMO's edits as candidates",
            _demo_hybrid_qei,
        ),
        CampaignStrategy(
            "demo-split-qei",
            "DEMO, then half the GP's batch, half qLogNEI over DEMO's edits, prior-mean GP",
            "DEMO's batch of k0, then each round half the batch GP + qLogNEI proposes over "
            "the whole space and half chosen among DEMO's edits by the prior-mean GP",
            _demo_split_qei,
        ),
        CampaignStrategy(
            "demo-split-qei-once",
            "DEMO, then half the GP's batch, half qLogNEI over DEMO's edits, DEMO not retrained",
            "as demo-split-qei, but DEMO is not retrained online: round 0's model edits "
            "the best designs observed so far",
            _demo_split_qei_once,
        ),
    )
}


def get_strategy(name: str) -> CampaignStrategy:
    """The strategy named ``name``.

    Raises:
        ValueError: For an unknown name; the message lists the known ones.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; known: {', '.join(STRATEGIES)}.")
    return STRATEGIES[name]


def resolve_strategies(strategies: Sequence[str] | str | None) -> list[str]:
    """Strategy names (``None``: all), checked, without repeats, in order.

    Raises:
        ValueError: For an unknown name or an empty list.
    """
    if strategies is None:
        return list(STRATEGIES)
    if isinstance(strategies, str):
        strategies = strategies.split(",")
    names: list[str] = []
    for name in strategies:
        name = str(name).strip()
        if not name:
            continue
        get_strategy(name)
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("No strategies given.")
    return names


def _count(value: object, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must lie in [{minimum}, {maximum}], got {value}.")
    return value


def check_campaign(
    strategies: Sequence[str], k0: int, rounds: int, batch: int, prefix: str = ""
) -> tuple[int, int, int]:
    """Check the sizes of a campaign against each other and the strategies.

    Args:
        strategies: Strategy names.
        k0: Designs of round 0.
        rounds: Online rounds.
        batch: Designs per online round.
        prefix: Put before the names in messages (``"--"`` on the command line).

    Returns:
        ``(k0, rounds, batch)``.

    Raises:
        ValueError: Naming the bad value (``k0`` and ``batch`` in
            ``[1, MAX_DESIGNS]``, ``rounds`` in ``[0, MAX_ROUNDS]``, ``batch``
            at most ``k0`` for strategies that need it).
    """
    k0 = _count(k0, f"{prefix}k0", 1, MAX_DESIGNS)
    rounds = _count(rounds, f"{prefix}rounds", 0, MAX_ROUNDS)
    batch = _count(batch, f"{prefix}batch", 1, MAX_DESIGNS)
    needs = [s for s in strategies if get_strategy(s).batch_at_most_k0]
    if batch > k0 and needs:
        raise ValueError(
            f"{prefix}batch {batch} must not exceed {prefix}k0 {k0} for {', '.join(needs)}: "
            "its DEMO rounds are read from the experiment, and a first round smaller than the "
            "later ones would look unfinished."
        )
    return k0, rounds, batch
