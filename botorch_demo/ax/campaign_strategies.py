"""Generation strategies for closed-loop campaigns: an offline batch, then rounds.

A campaign starts from offline data attached to the experiment (see
:func:`botorch_demo.ax.attach_offline_data`); its first round proposes
``initial_batch_size`` designs, each later round ``batch_size``. Every function
here returns an Ax ``GenerationStrategy`` to set with
``Client.set_generation_strategy``; the strategies save and load through Ax's
JSON and SQL storage like :func:`~botorch_demo.ax.demo_generation_strategy`.

- :func:`qlognei_generation_strategy`: GP + qLogNEI from the first round (the
  online node of :func:`~botorch_demo.ax.demo_generation_strategy`, alone).
- :func:`demo_every_round_strategy`: a DEMO batch, then a DEMO node that
  retrains on all results before each round.
- :func:`demo_pool_qei_strategy`: a DEMO batch, then GP + qLogNEI choosing each
  round among DEMO's edits of the best observed designs
  (:class:`~botorch_demo.ax.pool_qei.DEMOPoolGenerator`); with
  ``prior_mean=True`` the GP's prior mean is DEMO's surrogate.
- :func:`demo_campaign_strategy`: the recommended campaign strategy (provisional:
  the pool strategy with the prior-mean GP and half of each batch from the GP).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ax.generation_strategy.generation_node import GenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.generator_spec import GeneratorSpec
from botorch.acquisition.logei import qLogNoisyExpectedImprovement

from botorch_demo.ax.arguments import (
    bool_argument,
    checked_config,
    fraction_argument,
    int_argument,
    seed_argument,
)
from botorch_demo.ax.config import ConfigSpec, config_to_kwargs
from botorch_demo.ax.keys import DEMOGenerators
from botorch_demo.ax.strategies import (
    checked_online_kwargs,
    demo_node,
    qei_generation_strategy,
)

#: Name of the online node of the pool strategy.
POOL_NODE = "GP_qLogNEI_DEMO_pool"


def qlognei_generation_strategy(
    batch_size: int = 16,
    max_points: int = 500,
    subset_seed: int = 0,
    node_name: str = "GP_qLogNEI",
    continuous_kriging_believer: bool = True,
) -> GenerationStrategy:
    """GP + qLogNEI from the first round: the online node of
    :func:`~botorch_demo.ax.demo_generation_strategy` without the DEMO batch.

    It is :func:`~botorch_demo.ax.qei_generation_strategy` with
    ``qLogNoisyExpectedImprovement``, so a campaign's baseline and its
    online rounds after DEMO use the same acquisition and subset policy.

    Args:
        batch_size: Batch built at once; one-arm trials are served from it.
        max_points: Largest training set of the GP.
        subset_seed: Seed of the random part of the GP's training subset.
        node_name: Name of the node.
        continuous_kriging_believer: Whether a batch on a continuous or mixed
            space is built by Kriging-believer LogEI
            (:func:`~botorch_demo.ax.batch_ei.kriging_believer_optimize`, about
            a second per design) rather than by Ax's qLogNEI optimiser (about
            7 s per design on hartmann-6 with 500 training points). A discrete
            space of at most 2**20 designs is enumerated either way; a larger
            one gives candidates by single-site mutation of the best designs.

    Returns:
        A one-node ``GenerationStrategy``.

    Raises:
        UserInputError: For counts that are not ints >= 1, a bad seed or a
            ``continuous_kriging_believer`` that is not a bool.
    """
    subset_seed = int_argument(subset_seed, "subset_seed", 0)
    continuous_kriging_believer = bool_argument(
        continuous_kriging_believer, "continuous_kriging_believer"
    )
    return qei_generation_strategy(
        batch_size=batch_size,
        max_points=max_points,
        generator_kwargs={
            "botorch_acqf_class": qLogNoisyExpectedImprovement,
            "subset_seed": subset_seed,
            "continuous_kriging_believer": continuous_kriging_believer,
        },
        node_name=node_name,
    )


def demo_every_round_strategy(
    initial_batch_size: int = 128,
    batch_size: int = 16,
    config: ConfigSpec = "default",
    config_overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    warm_start_fraction: float | None = 0.25,
) -> GenerationStrategy:
    """DEMO's batch of ``initial_batch_size``, then DEMO retrained on all data
    before each round of ``batch_size``.

    Two DEMO nodes (see :func:`~botorch_demo.ax.demo_node`): the first serves
    the offline batch and hands off once its designs have results; the second
    is a last DEMO node, which trains again on everything observed (its own
    results included) whenever its round is done. From its second round on,
    each retraining starts from the networks it trained the round before and
    trains ``warm_start_fraction`` of the epochs
    (``DEMOConfig.warm_start_fraction``); ``None`` retrains from fresh networks.

    Args:
        initial_batch_size: Designs of the first round (k0).
        batch_size: Designs of each later round. At most ``initial_batch_size``:
            the rounds of both nodes are read from the experiment, and a
            first round smaller than the later ones would look unfinished.
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        config_overrides: DEMOConfig fields replacing those of ``config``.
        seed: Seed of DEMO (None: drawn, see :func:`~botorch_demo.ax.demo_node`).
        checkpoint_dir: Directory for DEMO checkpoints.
        warm_start_fraction: Fraction of the epochs of a warm-started
            retraining, in (0, 1], or ``None`` for cold retraining. It replaces
            the field of ``config`` for the online node only.

    Returns:
        A two-node ``GenerationStrategy``.

    Raises:
        UserInputError: Naming the argument, for counts that are not ints >= 1,
            a ``batch_size`` above ``initial_batch_size``, a bad seed or a
            configuration that does not resolve.
    """
    initial_batch_size = int_argument(initial_batch_size, "initial_batch_size", 1)
    batch_size = int_argument(batch_size, "batch_size", 1, initial_batch_size)
    first = demo_node(
        batch_size=initial_batch_size,
        config=config,
        config_overrides=config_overrides,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        transition_to="DEMO_online",
        name="DEMO",
    )
    online = demo_node(
        batch_size=batch_size,
        config=config,
        config_overrides={**(config_overrides or {}), "warm_start_fraction": warm_start_fraction},
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        name="DEMO_online",
    )
    return GenerationStrategy(name="DEMO+DEMO_online", nodes=[first, online])


def demo_pool_node(
    batch_size: int = 16,
    pool_size: int = 256,
    config: ConfigSpec = "default",
    config_overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    max_points: int = 500,
    generator_kwargs: Mapping[str, Any] | None = None,
    name: str = POOL_NODE,
    prior_mean: bool = False,
    gp_candidates: bool = False,
    gp_share: float = 0.0,
    retrain_demo: bool = True,
) -> GenerationNode:
    """The online node that chooses each batch among DEMO's edits with qLogNEI
    (see :class:`~botorch_demo.ax.pool_qei.DEMOPoolGenerator`).

    Args:
        batch_size: Batch built at once; one-arm trials are served from it.
        pool_size: DEMO edits per round, among which the batch is chosen.
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        config_overrides: DEMOConfig fields replacing those of ``config``.
        seed: Seed of DEMO's training and edits (None: drawn).
        checkpoint_dir: Directory for DEMO checkpoints.
        max_points: Largest training set of the GP.
        generator_kwargs: Extra ``SubsetBoTorchGenerator`` arguments (e.g.
            ``n_top``, ``subset_seed``).
        name: Name of the node.
        prior_mean: Whether the GP that scores the pool has DEMO's surrogate
            as its prior mean (see :mod:`botorch_demo.ax.prior_mean`).
        gp_candidates: Whether the GP node's own batch over the whole search
            space joins DEMO's edits as candidates.
        gp_share: Fraction of each batch taken outright from the GP node's
            own batch, in [0, 1]; the rest is chosen among DEMO's edits.
        retrain_demo: Whether DEMO is retrained on all observations every
            round (``True``), or trained once on the observations no DEMO or
            DEMO-pool node proposed and kept (``False``; see
            :class:`~botorch_demo.ax.pool_qei.DEMOPoolGenerator`).

    Returns:
        The node (a last node: it serves one round after another).

    Raises:
        UserInputError: Naming the argument, for counts that are not ints >= 1,
            a bad seed, a ``prior_mean``, ``gp_candidates`` or
            ``retrain_demo`` that is not a bool, a ``gp_share`` outside [0, 1],
            a configuration
            that does not resolve or generator arguments the GP generator does
            not take.
    """
    batch_size = int_argument(batch_size, "batch_size", 1)
    pool_size = int_argument(pool_size, "pool_size", 1)
    max_points = int_argument(max_points, "max_points", 1)
    seed = seed_argument(seed)
    prior_mean = bool_argument(prior_mean, "prior_mean")
    gp_candidates = bool_argument(gp_candidates, "gp_candidates")
    gp_share = fraction_argument(gp_share, "gp_share")
    retrain_demo = bool_argument(retrain_demo, "retrain_demo")
    checked_config(config, config_overrides)
    extra = checked_online_kwargs(generator_kwargs)
    kwargs: dict[str, Any] = {
        "config": config_to_kwargs(config),
        "pool_size": pool_size,
        "demo_seed": seed,
        "max_points": max_points,
        "batch_size": batch_size,
        "botorch_acqf_class": qLogNoisyExpectedImprovement,
        **extra,
    }
    if prior_mean:
        kwargs["prior_mean"] = True
    if gp_candidates:
        kwargs["gp_candidates"] = True
    if gp_share:
        kwargs["gp_share"] = gp_share
    if not retrain_demo:
        kwargs["retrain_demo"] = False
    if config_overrides:
        kwargs["config_overrides"] = dict(config_overrides)
    if checkpoint_dir is not None:
        kwargs["checkpoint_dir"] = str(checkpoint_dir)
    return GenerationNode(
        name=name,
        generator_specs=[
            GeneratorSpec(generator_enum=DEMOGenerators.DEMO_POOL, generator_kwargs=kwargs)
        ],
    )


def demo_pool_qei_strategy(
    initial_batch_size: int = 128,
    batch_size: int = 16,
    pool_size: int = 256,
    config: ConfigSpec = "default",
    config_overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    max_points: int = 500,
    subset_seed: int = 0,
    prior_mean: bool = False,
    warm_start_fraction: float | None = 0.25,
    gp_candidates: bool = False,
    gp_share: float = 0.0,
    retrain_demo: bool = True,
) -> GenerationStrategy:
    """DEMO's batch of ``initial_batch_size``, then GP + qLogNEI choosing each
    round of ``batch_size`` among DEMO's edits of the best observed designs.

    With ``prior_mean=True`` the GP that scores the edits has DEMO's surrogate
    (retrained with DEMO each round) as its prior mean, scaled and shifted by
    the marginal likelihood, so it models the surrogate's residual. From the
    online node's second round on, DEMO's retraining starts from the networks
    it trained the round before and trains ``warm_start_fraction`` of the
    epochs, as in :func:`demo_every_round_strategy`. With
    ``gp_candidates=True`` the batch GP + qLogNEI would propose over the whole
    search space (as in :func:`qlognei_generation_strategy`) joins DEMO's edits
    as candidates, so the choice can fall on either. With ``gp_share > 0``
    that fraction of each online batch is the GP's own batch outright and the
    rest is chosen among DEMO's edits: a portfolio of the two proposers.
    With ``retrain_demo=False`` the online node does not retrain DEMO: it uses
    the model of the first batch (loaded from ``checkpoint_dir``, or trained
    once more on the same data without one) to edit the best designs observed
    so far, and the GP alone learns from the online results.

    Args:
        initial_batch_size: Designs of the first round (k0).
        batch_size: Designs of each later round.
        pool_size: DEMO edits per online round.
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        config_overrides: DEMOConfig fields replacing those of ``config``.
        seed: Seed of DEMO (None: drawn).
        checkpoint_dir: Directory for DEMO checkpoints.
        max_points: Largest training set of the GP.
        subset_seed: Seed of the random part of the GP's training subset.
        prior_mean: Whether the GP's prior mean is DEMO's surrogate.
        warm_start_fraction: Fraction of the epochs of a warm-started
            retraining, in (0, 1], or ``None`` for cold retraining. It replaces
            the field of ``config`` for the online node only, and only with
            ``retrain_demo``.
        gp_candidates: Whether the GP's own batch joins DEMO's edits.
        gp_share: Fraction of each online batch taken from the GP's own batch.
        retrain_demo: Whether the online node retrains DEMO on all
            observations every round.

    Returns:
        A two-node ``GenerationStrategy``.

    Raises:
        UserInputError: Naming the argument (see :func:`demo_pool_node` and
            :func:`~botorch_demo.ax.demo_node`).
    """
    subset_seed = int_argument(subset_seed, "subset_seed", 0)
    first = demo_node(
        batch_size=initial_batch_size,
        config=config,
        config_overrides=config_overrides,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        transition_to=POOL_NODE,
        name="DEMO",
    )
    retrain_demo = bool_argument(retrain_demo, "retrain_demo")
    online_overrides = dict(config_overrides or {})
    if retrain_demo:
        online_overrides["warm_start_fraction"] = warm_start_fraction
    online = demo_pool_node(
        batch_size=batch_size,
        pool_size=pool_size,
        config=config,
        # Without retraining, the online node's configuration is the first
        # node's, so that it finds that node's checkpoint.
        config_overrides=online_overrides or None,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        max_points=max_points,
        generator_kwargs={"subset_seed": subset_seed},
        prior_mean=prior_mean,
        gp_candidates=gp_candidates,
        gp_share=gp_share,
        retrain_demo=retrain_demo,
    )
    return GenerationStrategy(name=f"DEMO+{POOL_NODE}", nodes=[first, online])


def demo_campaign_strategy(
    initial_batch_size: int = 128,
    batch_size: int = 16,
    config: ConfigSpec = "default",
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    max_points: int = 500,
) -> GenerationStrategy:
    """The recommended strategy for a closed-loop campaign from offline data.

    Provisional: it returns the strategy the campaign benchmark's
    ``demo-split-qei-once`` runs, :func:`demo_pool_qei_strategy` with
    ``prior_mean=True``, ``gp_share=0.5`` and ``retrain_demo=False``: DEMO's
    batch, then each round half the batch GP + qLogNEI proposes over the whole
    space and half chosen among the first batch's DEMO model's edits of the
    best designs observed so far, by a GP whose prior mean is DEMO's surrogate.
    Over two seeds of hartmann-6 and TF Bind 8 it was within 0.003 of the
    variant that retrains DEMO every round, with online rounds of 30-34 s on
    average against 42-124 s. Over 8 seeds of six tasks
    (``docs/campaigns.md``) its mean best-so-far is at least that of ``qei``
    and of ``demo-then-qei`` after every round on TF Bind 8 and seq-l12-v4
    only: on continuous spaces (hartmann-6, Levy) DEMO's first batch trails
    the GP's, and on TF Bind 10, Levy and mixed-10 it trails
    ``demo-then-qei`` in single rounds, within one standard error. It ends
    above ``qei`` on all six. Pass ``checkpoint_dir``: the online node
    then loads the first node's model; without it, it trains the same model
    once more at its first round.

    Args:
        initial_batch_size: Designs of the first round (k0).
        batch_size: Designs of each later round.
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        seed: Seed of DEMO (None: drawn).
        checkpoint_dir: Directory for DEMO checkpoints.
        max_points: Largest training set of the GP.

    Returns:
        A ``GenerationStrategy``.

    Raises:
        UserInputError: Naming a bad argument.
    """
    return demo_pool_qei_strategy(
        initial_batch_size=initial_batch_size,
        batch_size=batch_size,
        pool_size=max(256, 4 * int_argument(batch_size, "batch_size", 1)),
        config=config,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        max_points=max_points,
        prior_mean=True,
        gp_share=0.5,
        retrain_demo=False,
    )
