"""The DEMO node's adapter: validates the problem and lets DEMO train in ``fit``.

Ax's ``TorchAdapter`` passes the objective's direction to the generator's
``gen`` only, so a generator that needs it for training would have to train
inside ``gen`` (which Ax then reports as generation time). ``DEMOAdapter`` is a
``TorchAdapter`` (registered as the DEMO generator's ``adapter_class`` in a
``GeneratorSetup``, Ax's extension point) that reads the optimization config it
was built with and, before every fit, gives the generator that direction.
It also turns the problems DEMO cannot handle into clear errors before Ax's
data conversion runs: no data at all, several objectives, outcome constraints.
"""

from __future__ import annotations

from typing import Any

from ax.adapter.torch import TorchAdapter
from ax.core.arm import Arm
from ax.core.experiment import Experiment
from ax.core.generator_run import GeneratorRun
from ax.core.observation import ObservationFeatures
from ax.core.optimization_config import MultiObjectiveOptimizationConfig, OptimizationConfig
from ax.core.search_space import SearchSpace
from ax.core.trial import Trial
from ax.core.types import TModelPredictArm
from ax.exceptions.core import DataRequiredError, UnsupportedError, UserInputError
from ax.generators.types import TConfig
from ax.service.utils.best_point import get_best_by_raw_objective_with_trial_index
from ax.utils.common.logger import get_logger

from botorch_demo.ax._ax_private import adapter_experiment, adapter_optimization_config
from botorch_demo.ax.binding import check_experiment_binding
from botorch_demo.ax.rounds import arms_without_results, current_batch, recorded_seed

logger = get_logger(__name__)

NO_DATA_MESSAGE = (
    "DEMO needs offline data before it can propose designs: attach observed "
    "designs first (`botorch_demo.ax.attach_offline_data(client, frame)`), or "
    "start the strategy with Sobol trials (`demo_generation_strategy("
    "initial_sobol_trials=...)`)."
)


def objective_sign(optimization_config: OptimizationConfig | None) -> float:
    """+1 if DEMO's single objective is maximised, -1 if minimised.

    Raises:
        UserInputError: Without an optimization config.
        UnsupportedError: For several objectives, a scalarized objective or
            outcome constraints, each with its own message.
    """
    if optimization_config is None:
        raise UserInputError("DEMO needs an optimization config with one objective.")
    if isinstance(optimization_config, MultiObjectiveOptimizationConfig):
        raise UnsupportedError(
            "DEMO optimises a single objective; this experiment has a multi-objective "
            f"optimization config ({optimization_config.objective}). Use one objective "
            "metric, or Ax's multi-objective methods."
        )
    if optimization_config.outcome_constraints:
        raise UnsupportedError(
            "DEMO does not support outcome constraints; this experiment has "
            f"{optimization_config.outcome_constraints}. Remove them (or encode them in "
            "the objective)."
        )
    objective = optimization_config.objective
    if len(objective.metric_names) != 1:
        raise UnsupportedError(
            "DEMO optimises a single objective metric; this objective combines "
            f"{sorted(objective.metric_names)}."
        )
    return -1.0 if objective.minimize else 1.0


def check_problem(experiment: Experiment) -> None:
    """Raises unless DEMO can optimise ``experiment``: a single objective, no
    outcome constraints (see :func:`objective_sign`)."""
    objective_sign(experiment.optimization_config)


class DEMOAdapter(TorchAdapter):
    """``TorchAdapter`` for :class:`~botorch_demo.ax.generator.DEMOGenerator`.

    Takes exactly ``TorchAdapter``'s arguments.

    Raises:
        UnsupportedError: For several objectives or outcome constraints.
        DataRequiredError: When the experiment has no observations yet.
    """

    def _fit(self, search_space: SearchSpace, experiment_data: Any, **kwargs: Any) -> None:
        # Ax's TorchAdapter fails with KeyError('mean') on an empty frame.
        if experiment_data.observation_data.empty:
            raise DataRequiredError(NO_DATA_MESSAGE)
        experiment = adapter_experiment(self)
        check_experiment_binding(experiment)
        config = adapter_optimization_config(self)
        generator = self.generator
        generator.objective_sign = objective_sign(config)
        generator.objective_name = config.objective.metric_signatures[0]
        batch, _ = current_batch(experiment, generator.min_completed)
        generator.start_request(batch)
        generator.adopt_seed(recorded_seed(experiment))
        super()._fit(search_space=search_space, experiment_data=experiment_data, **kwargs)
        arms = arms_without_results(experiment)
        if arms:
            features = [ObservationFeatures(parameters=a.parameters) for a in arms]
            generator.unobserved_X = self.transform_observation_features(features)

    def gen(
        self,
        n: int,
        search_space: SearchSpace | None = None,
        optimization_config: OptimizationConfig | None = None,
        pending_observations: dict[str, list[ObservationFeatures]] | None = None,
        fixed_features: ObservationFeatures | None = None,
        model_gen_options: TConfig | None = None,
    ) -> GeneratorRun:
        """Ax's ``gen``, asking for no more designs than the DEMO batch has left
        (a ``BatchTrial`` of ``n`` arms under a cap of fewer), so that Ax does
        not report the shorter run as one with repeated designs. The arguments
        are spelled out: Ax passes an adapter only the keywords its ``gen``
        names."""
        left = self.generator.designs_left()
        return super().gen(
            n=n if left is None else max(1, min(n, left)),
            search_space=search_space,
            optimization_config=optimization_config,
            pending_observations=pending_observations,
            fixed_features=fixed_features,
            model_gen_options=model_gen_options,
        )

    def model_best_point(
        self,
        search_space: SearchSpace | None = None,
        optimization_config: OptimizationConfig | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[Arm, TModelPredictArm | None] | None:
        """The best OBSERVED arm of the experiment, with its observed values.

        DEMO's surrogate is deterministic and its cross-validation in-sample, so
        ranking designs by it could report one that is worse than a design
        already measured (also because Ax does not refit the adapter before a
        best-point query, so results that came in since the last generation
        would be missed). The raw best of the experiment's current data is
        returned instead.
        """
        experiment = adapter_experiment(self)
        config = optimization_config or adapter_optimization_config(self)
        best = best_observed_arm(experiment, config)
        if best is not None:
            logger.info(
                "DEMO reports the best observed design; its surrogate does not rank "
                "observed designs."
            )
        return best


def best_observed_arm(
    experiment: Experiment, config: OptimizationConfig | None
) -> tuple[Arm, TModelPredictArm | None] | None:
    """The arm with the best observed objective and its observed values (Ax's
    ``get_best_by_raw_objective_with_trial_index``), or None."""
    best = get_best_by_raw_objective_with_trial_index(
        experiment=experiment, optimization_config=config
    )
    if best is None:
        return None
    trial_index, parameters, predictions = best
    for arm in experiment.trials[trial_index].arms:
        if arm.parameters == parameters:
            return arm, predictions
    return None


def held_by_a_trial(experiment: Experiment, arm: Arm) -> bool:
    """Whether the first trial that holds ``arm`` (the one Ax reports for it) is
    a one-arm ``Trial``, which ``Client.get_best_parameterization`` can name."""
    for trial in experiment.trials.values():
        if any(a.signature == arm.signature for a in trial.arms):
            return isinstance(trial, Trial)
    return False


class SubsetAdapter(TorchAdapter):
    """``TorchAdapter`` for the GP nodes
    (:class:`~botorch_demo.ax.subset.SubsetBoTorchGenerator`).

    Takes exactly ``TorchAdapter``'s arguments. Before each fit it refuses an
    experiment saved to another database than the bound one (see
    :func:`~botorch_demo.ax.check_experiment_binding`). Its model-based best
    point is the GP's, unless that design is held only by a ``BatchTrial``
    (offline data imported as one): ``Client.get_best_parameterization`` can
    only name a ``Trial``, so the best observed design is reported then.
    """

    def _fit(self, search_space: SearchSpace, experiment_data: Any, **kwargs: Any) -> None:
        check_experiment_binding(adapter_experiment(self))
        super()._fit(search_space=search_space, experiment_data=experiment_data, **kwargs)

    def model_best_point(
        self,
        search_space: SearchSpace | None = None,
        optimization_config: OptimizationConfig | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[Arm, TModelPredictArm | None] | None:
        best = super().model_best_point(search_space, optimization_config, *args, **kwargs)
        experiment = adapter_experiment(self)
        if best is None or held_by_a_trial(experiment, best[0]):
            return best
        config = optimization_config or adapter_optimization_config(self)
        observed = best_observed_arm(experiment, config)
        if observed is None or not held_by_a_trial(experiment, observed[0]):
            return best
        logger.info(
            "The GP's best design is held by a BatchTrial, which "
            "Client.get_best_parameterization cannot name; reporting the best observed "
            "design instead."
        )
        return observed
