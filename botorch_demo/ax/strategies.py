"""Generation strategy presets: DEMO then online BO, and the qEI baseline.

Both expect the offline data to be in the experiment already (see
:func:`botorch_demo.ax.attach_offline_data`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ax.adapter.registry import Generators
from ax.exceptions.core import UserInputError
from ax.generation_strategy.generation_node import GenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.generator_spec import GeneratorSpec
from ax.generation_strategy.transition_criterion import MinTrials
from botorch.acquisition.logei import (
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
)

from botorch_demo.ax.arguments import (
    bool_argument,
    checked_config,
    int_argument,
    seed_argument,
)
from botorch_demo.ax.config import ConfigSpec, config_to_kwargs
from botorch_demo.ax.criteria import RESOLVED, DEMOBatchLimit, DEMODesignsResolved
from botorch_demo.ax.keys import DEMOGenerators
from botorch_demo.ax.subset import SubsetBoTorchGenerator

#: Arguments of the online node's generator that the strategy sets itself.
_STRATEGY_SET = ("max_points", "batch_size")


def checked_online_kwargs(kwargs: object) -> dict[str, Any]:
    """The online node's extra generator arguments, checked against its signature."""
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise UserInputError(
            f"online_generator_kwargs must be a dict; got {type(kwargs).__name__}."
        )
    known = set(inspect.signature(SubsetBoTorchGenerator.__init__).parameters) - {"self"}
    unknown = sorted(str(k) for k in kwargs if k not in known)
    if unknown:
        raise UserInputError(
            f"online_generator_kwargs has unknown argument(s) {unknown}; "
            f"SubsetBoTorchGenerator takes {sorted(known)}."
        )
    for name in ("n_top", "n_recent"):
        if kwargs.get(name) is not None:
            int_argument(kwargs[name], f"online_generator_kwargs[{name!r}]", 0)
    if "subset_seed" in kwargs:
        int_argument(kwargs["subset_seed"], "online_generator_kwargs['subset_seed']", 0)
    for name in ("n_prescreen", "max_enumerate"):
        if name in kwargs:
            int_argument(kwargs[name], f"online_generator_kwargs[{name!r}]", 1)
    if "continuous_kriging_believer" in kwargs:
        bool_argument(
            kwargs["continuous_kriging_believer"],
            "online_generator_kwargs['continuous_kriging_believer']",
        )
    return dict(kwargs)


def demo_node(
    batch_size: int = 256,
    config: ConfigSpec = "default",
    config_overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    min_completed: int | None = None,
    transition_to: str | None = None,
    name: str = "DEMO",
) -> GenerationNode:
    """A ``GenerationNode`` that proposes a DEMO batch of ``batch_size`` designs.

    Composes with Ax's own nodes in a ``GenerationStrategy(nodes=[...])``: e.g.
    a Sobol node whose transition criterion points at ``name`` before it, and
    any BoTorch node (``transition_to``) after it. DEMO trains once, on the data
    the batch starts from, and serves its ``batch_size`` designs from that model
    however Ax asks for them (one-arm trials, ``BatchTrial``s, one pending trial
    at a time); a failed or abandoned design is replaced by the next one of the
    same model. Its criteria count designs (arms), not trials. The node hands
    off to ``transition_to`` once the batch is done (``min_completed`` designs
    completed, or every design served and none left in the search space); a
    last node (``transition_to=None``) then retrains on all results and serves
    the next batch.

    Args:
        batch_size: Designs proposed by DEMO (K).
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        config_overrides: DEMOConfig fields replacing those of ``config``.
        seed: Seed of DEMO's training and generation; None draws it from
            torch's global generator when the node's generator is built (so
            ``torch.manual_seed`` and ``benchmark_replication``'s seed control
            it). Pass the Client's ``random_seed`` here to tie them.
        checkpoint_dir: Directory for DEMO checkpoints, so that a resumed
            campaign reuses the trained model.
        min_completed: DEMO designs with results needed before the hand-off
            to ``transition_to``, or before a last node's next batch (default:
            ``batch_size``).
        transition_to: Name of the node to hand off to; None for a last node,
            which serves one batch after another.
        name: Name of the node.

    Returns:
        The node.

    Raises:
        UserInputError: Naming the argument, at construction (before any
            trial): a ``batch_size`` that is not an int >= 1, a
            ``min_completed`` that is not an int in ``[1, batch_size]`` (bools,
            floats such as ``2.5`` and strings such as ``"3"`` are not ints), a
            bad ``seed``, or a ``config``/``config_overrides`` that does not
            resolve to a valid ``DEMOConfig``.
    """
    batch_size = int_argument(batch_size, "batch_size", 1)
    min_completed = (
        batch_size
        if min_completed is None
        else int_argument(min_completed, "min_completed", 1, batch_size)
    )
    seed = seed_argument(seed)
    checked_config(config, config_overrides)
    demo_kwargs: dict[str, Any] = {
        "config": config_to_kwargs(config),
        "batch_size": batch_size,
        "seed": seed,
        "min_completed": min_completed,
    }
    if config_overrides:
        demo_kwargs["config_overrides"] = dict(config_overrides)
    if checkpoint_dir is not None:
        demo_kwargs["checkpoint_dir"] = str(checkpoint_dir)
    transitions = []
    if transition_to is not None:
        transitions.append(
            DEMODesignsResolved(
                threshold=min_completed, transition_to=transition_to, only_in_statuses=RESOLVED
            )
        )
    return GenerationNode(
        name=name,
        generator_specs=[
            GeneratorSpec(generator_enum=DEMOGenerators.DEMO, generator_kwargs=demo_kwargs)
        ],
        transition_criteria=transitions,
        pausing_criteria=[
            DEMOBatchLimit(
                threshold=batch_size, release_after=min_completed, repeat=transition_to is None
            )
        ],
    )


def sobol_node(
    num_trials: int,
    transition_to: str,
    seed: int | None = None,
    name: str = "Sobol",
) -> GenerationNode:
    """Ax's Sobol generator for ``num_trials`` trials, then ``transition_to``.

    The hand-off waits until all ``num_trials`` trials have results (DEMO
    trains on them); meanwhile no more than ``num_trials`` are generated.

    Args:
        num_trials: Sobol trials (at least 1).
        transition_to: The next node's name.
        seed: Seed of the Sobol sequence (None: random).
        name: Name of the node.

    Returns:
        The node.

    Raises:
        UserInputError: If ``num_trials`` is not an int >= 1 or ``seed`` is bad.
    """
    num_trials = int_argument(num_trials, "num_trials", 1)
    seed = seed_argument(seed)
    return GenerationNode(
        name=name,
        generator_specs=[
            GeneratorSpec(generator_enum=Generators.SOBOL, generator_kwargs={"seed": seed})
        ],
        transition_criteria=[
            MinTrials(threshold=num_trials, transition_to=transition_to, only_in_statuses=RESOLVED)
        ],
        pausing_criteria=[
            DEMOBatchLimit(threshold=num_trials, release_after=num_trials, count_arms=False)
        ],
    )


def demo_generation_strategy(
    batch_size: int = 256,
    config: ConfigSpec = "default",
    config_overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    min_completed: int | None = None,
    online_generator_kwargs: Mapping[str, Any] | None = None,
    max_points: int = 500,
    online_batch_size: int | None = None,
    demo_node_name: str = "DEMO",
    online_node_name: str = "GP_qLogNEI",
    initial_sobol_trials: int = 0,
) -> GenerationStrategy:
    """Optional Sobol trials, then DEMO proposes one batch, then GP BO online.

    The DEMO node (see :func:`demo_node`) generates at most ``batch_size``
    designs from a single trained model, as one-arm trials
    (``Client.get_next_trials``, ``Client.run_trials``) or inside
    ``BatchTrial``s, and hands off to the online node once ``min_completed`` of
    ITS OWN designs have results: the offline import (trials without a
    generation node) never triggers it. Asking for more while the DEMO batch is
    out raises Ax's ``DataRequiredError``; it does not start a second batch.

    The online node is a ``SingleTaskGP`` with ``qLogNoisyExpectedImprovement``
    trained on a subset of at most ``max_points`` observations (see
    :mod:`botorch_demo.ax.subset`).

    Args:
        batch_size: Designs proposed by DEMO (K).
        config: DEMO configuration: preset name, dict of fields or DEMOConfig.
        config_overrides: DEMOConfig fields replacing those of ``config``.
        seed: Seed of DEMO (and of the Sobol node); None draws DEMO's from
            torch's global generator (see :func:`demo_node`).
        checkpoint_dir: Directory for DEMO checkpoints, so that a resumed
            campaign reuses the trained model.
        min_completed: DEMO designs with results needed before the hand-off
            (default: ``batch_size``; failed trials are replaced by DEMO).
        online_generator_kwargs: Extra ``SubsetBoTorchGenerator`` kwargs for the
            online node (e.g. ``botorch_acqf_class``, ``n_top``).
        max_points: Largest training set of the online GP.
        online_batch_size: Batch the online node builds at once and serves
            trials from (default: ``batch_size``).
        demo_node_name: Name of the DEMO node.
        online_node_name: Name of the online node.
        initial_sobol_trials: Sobol trials before DEMO (0: none; DEMO then
            needs offline data). DEMO trains on their results.

    Returns:
        A ``GenerationStrategy`` of two (or three, with Sobol) nodes.

    Raises:
        UserInputError: Naming the argument, at construction (before any
            trial): counts that are not ints in range (``batch_size``,
            ``min_completed``, ``max_points``, ``online_batch_size`` >= 1,
            ``initial_sobol_trials`` >= 0; bools, floats and strings are not
            ints), a bad ``seed``, a ``config``/``config_overrides`` that does
            not resolve, or ``online_generator_kwargs`` that the online
            generator does not take (or that repeat ``max_points`` or
            ``batch_size``).
    """
    initial_sobol_trials = int_argument(initial_sobol_trials, "initial_sobol_trials", 0)
    max_points = int_argument(max_points, "max_points", 1)
    if online_batch_size is not None:
        online_batch_size = int_argument(online_batch_size, "online_batch_size", 1)
    online_generator_kwargs = checked_online_kwargs(online_generator_kwargs)
    repeated = sorted(k for k in _STRATEGY_SET if k in online_generator_kwargs)
    if repeated:
        raise UserInputError(
            f"online_generator_kwargs repeats {repeated}; pass them as the strategy's "
            "max_points and online_batch_size."
        )
    nodes = []
    if initial_sobol_trials:
        nodes.append(sobol_node(initial_sobol_trials, demo_node_name, seed=seed))
    nodes.append(
        demo_node(
            batch_size=batch_size,
            config=config,
            config_overrides=config_overrides,
            seed=seed,
            checkpoint_dir=checkpoint_dir,
            min_completed=min_completed,
            transition_to=online_node_name,
            name=demo_node_name,
        )
    )
    nodes.append(
        _gp_node(
            online_node_name,
            qLogNoisyExpectedImprovement,
            max_points,
            batch_size if online_batch_size is None else online_batch_size,
            online_generator_kwargs,
        )
    )
    name = "+".join(n.name for n in nodes)
    return GenerationStrategy(name=name, nodes=nodes)


def qei_generation_strategy(
    batch_size: int = 256,
    max_points: int = 500,
    generator_kwargs: Mapping[str, Any] | None = None,
    node_name: str = "GP_qLogEI",
) -> GenerationStrategy:
    """The side-by-side baseline: an exact ``SingleTaskGP`` with
    ``qLogExpectedImprovement``, trained on at most ``max_points`` observations.

    Args:
        batch_size: Batch built at once; successive one-arm trials (as
            ``Client.get_next_trials`` creates them) are served from it.
        max_points: Largest training set of the GP (see
            :func:`botorch_demo.ax.training_subset`).
        generator_kwargs: Extra ``SubsetBoTorchGenerator`` kwargs (e.g.
            ``botorch_acqf_class``, ``n_top``, ``subset_seed``).
        node_name: Name of the node.

    Returns:
        A one-node ``GenerationStrategy``.
    """
    batch_size = int_argument(batch_size, "batch_size", 1)
    max_points = int_argument(max_points, "max_points", 1)
    generator_kwargs = checked_online_kwargs(generator_kwargs)
    node = _gp_node(node_name, qLogExpectedImprovement, max_points, batch_size, generator_kwargs)
    return GenerationStrategy(name=node_name, nodes=[node])


def _gp_node(
    name: str,
    acqf_class: type,
    max_points: int,
    batch_size: int,
    extra_kwargs: Mapping[str, Any] | None,
) -> GenerationNode:
    if max_points < 1 or batch_size < 1:
        raise UserInputError(
            f"max_points and batch_size must be positive; got {max_points}, {batch_size}."
        )
    kwargs: dict[str, Any] = {
        "botorch_acqf_class": acqf_class,
        "max_points": max_points,
        "batch_size": batch_size,
        **(extra_kwargs or {}),
    }
    return GenerationNode(
        name=name,
        generator_specs=[
            GeneratorSpec(generator_enum=DEMOGenerators.SUBSET_BOTORCH, generator_kwargs=kwargs)
        ],
    )
