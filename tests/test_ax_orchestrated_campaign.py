"""A whole campaign under Ax's Orchestrator (``Client.run_trials`` with an
``IRunner`` and ``IMetric``s, SQLite storage) on a mixed search space (float,
int, ordinal and string-choice parameters): offline data in (one-arm trials or
one ``BatchTrial``), no Sobol start, a DEMO batch in which one trial fails and
one is abandoned, a tracking metric, a reload in the middle of the batch, the
hand-off to the GP node, the best point, and the run to its number of trials."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.api.protocols.metric import IMetric
from ax.api.protocols.runner import IRunner
from ax.core.trial_status import TrialStatus

from botorch_demo.ax import attach_offline_data, demo_generation_strategy, sqlite_storage_config
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

K = 4
SIZES = [8, 16, 32, 64]
KINDS = ["a", "b", "c"]


def objective(p: Mapping[str, Any]) -> float:
    return (
        -((p["x"] - 0.6) ** 2)
        + 0.1 * p["k"]
        - 0.1 * abs(math.log2(p["size"]) - 4)
        + 0.3 * (p["kind"] == "b")
    )


def cost(p: Mapping[str, Any]) -> float:
    return p["k"] + p["x"]


class LabRunner(IRunner):
    """Evaluates at once; the trials named in ``outcomes`` end failed or abandoned."""

    outcomes: ClassVar[dict[int, TrialStatus]] = {}

    def run_trial(self, trial_index: int, parameterization: Mapping[str, Any]) -> dict[str, Any]:
        return {"f": objective(parameterization), "cost": cost(parameterization)}

    def poll_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> TrialStatus:
        return self.outcomes.get(trial_index, TrialStatus.COMPLETED)

    def stop_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {}


class LabMetric(IMetric):
    """Reads the value the runner stored under the metric's name (SEM 0)."""

    def fetch(
        self, trial_index: int, trial_metadata: Mapping[str, Any]
    ) -> tuple[int, float | tuple[float, float]]:
        return 0, (float(trial_metadata[self.name]), 0.0)


def offline_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.uniform(0, 1, n),
            "k": rng.integers(0, 7, n),
            "size": rng.choice(SIZES, n),
            "kind": rng.choice(KINDS, n),
        }
    )
    rows = frame.to_dict("records")
    frame["f"] = [objective(r) for r in rows]
    frame["cost"] = [cost(r) for r in rows]
    return frame


def new_client(storage) -> Client:
    client = Client(storage_config=storage, random_seed=0)
    client.configure_experiment(
        name="lab",
        parameters=[
            RangeParameterConfig(name="x", bounds=(0.0, 1.0), parameter_type="float"),
            RangeParameterConfig(name="k", bounds=(0, 6), parameter_type="int"),
            ChoiceParameterConfig(name="size", values=SIZES, parameter_type="int", is_ordered=True),
            ChoiceParameterConfig(
                name="kind", values=KINDS, parameter_type="str", is_ordered=False
            ),
        ],
    )
    client.configure_optimization(objective="f")
    client.configure_runner(LabRunner())
    client.configure_metrics([LabMetric(name="f"), LabMetric(name="cost")])
    return client


def run(client: Client, max_trials: int) -> None:
    # Two of the first three trials are given up on purpose.
    client.run_trials(
        max_trials=max_trials,
        parallelism=2,
        tolerated_trial_failure_rate=0.75,
        initial_seconds_between_polls=0,
    )


@pytest.mark.slow
@pytest.mark.parametrize("as_batch_trial", [False, True], ids=["one-arm-trials", "batch-trial"])
def test_orchestrated_campaign_with_given_up_designs_a_reload_and_a_hand_off(
    as_batch_trial: bool, ax_smoke, tmp_path
) -> None:
    storage = sqlite_storage_config(
        tmp_path / "lab.db",
        rebind=True,
        runner_classes={LabRunner: None},
        metric_classes={LabMetric: None},
    )
    client = new_client(storage)
    frame = offline_frame()
    offline = attach_offline_data(client, frame, as_batch_trial=as_batch_trial)
    first_new = max(offline) + 1
    LabRunner.outcomes = {first_new: TrialStatus.FAILED, first_new + 1: TrialStatus.ABANDONED}
    strategy = demo_generation_strategy(
        batch_size=K,
        seed=0,
        checkpoint_dir=str(tmp_path / "ckpt"),
        max_points=20,
        online_batch_size=1,
        **ax_smoke,
    )
    # A light acquisition optimisation for the GP node on this mixed space.
    online = strategy.nodes_by_name["GP_qLogNEI"].generator_specs[0]
    online.generator_gen_kwargs["model_gen_options"] = {
        "optimizer_kwargs": {"num_restarts": 2, "raw_samples": 32}
    }
    client.set_generation_strategy(strategy)
    run(client, 3)  # Three DEMO trials: one fails, one is abandoned.
    del client  # The process stops in the middle of the DEMO batch.

    client = Client.load_from_database("lab", storage_config=storage)
    run(client, 4)  # Three replacements (4 completed designs), then a GP trial.

    experiment = client_experiment(client)
    new = [t for t in experiment.trials.values() if t.index >= first_new]
    assert len(new) == 7
    nodes = [generation_node_name(t.generator_runs[0]) for t in new]
    assert nodes == ["DEMO"] * 6 + ["GP_qLogNEI"]
    statuses = [t.status for t in new]
    assert statuses[:2] == [TrialStatus.FAILED, TrialStatus.ABANDONED]
    assert statuses[2:] == [TrialStatus.COMPLETED] * 5
    # Replacements are new designs, not the given-up ones again; no repeats at all.
    designs = [tuple(a.parameters.values()) for t in experiment.trials.values() for a in t.arms]
    assert len(set(designs)) == len(designs)
    for trial in new:
        experiment.search_space.check_membership(trial.arms[0].parameters, raise_error=True)
    # One trained model for the whole batch: the resumed run loaded it.
    generator = (
        client_generation_strategy(client).nodes_by_name["DEMO"].generator_specs[0]
    ).fitted_adapter.generator
    assert (generator.num_trainings, generator.num_checkpoint_loads) == (0, 1)
    keys = {t.generator_runs[0].gen_metadata["demo_model"] for t in new[:6]}
    assert len(keys) == 1
    # The tracking metric was fetched for every completed trial.
    data = experiment.lookup_data().df
    completed = {t.index for t in new if t.status == TrialStatus.COMPLETED}
    assert set(data[data["metric_name"] == "cost"]["trial_index"]) >= completed
    # The best point, whichever trial type holds it.
    parameters, values, trial_index, _ = client.get_best_parameterization()
    experiment.search_space.check_membership(parameters, raise_error=True)
    assert {"f", "cost"} <= set(values)
    best_observed = max(frame["f"].max(), data[data["metric_name"] == "f"]["mean"].max())
    assert objective(parameters) <= best_observed + 1e-9
    assert trial_index in experiment.trials
