"""A DEMO batch's state as read from the experiment, and the admissible designs
a discrete search space has left."""

from __future__ import annotations

from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.core.arm import Arm
from ax.core.generator_run import GeneratorRun

from botorch_demo.ax._ax_private import client_experiment
from botorch_demo.ax.rounds import (
    DEMO_MODEL_KEY,
    DEMO_ROUND_KEY,
    arms_without_results,
    open_design_count,
    round_state,
)


def discrete_experiment():
    """x0, x1 integers in [0, 2] with x0 + x1 <= 2, and a string choice."""
    client = Client()
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="x0", bounds=(0, 2), parameter_type="int"),
            RangeParameterConfig(name="x1", bounds=(0, 2), parameter_type="int"),
            ChoiceParameterConfig(name="s", values=["a", "b"], parameter_type="str"),
        ],
        parameter_constraints=["x0 + x1 <= 2"],
    )
    client.configure_optimization(objective="f")
    return client_experiment(client)


def demo_batch(experiment, designs, round_index=0):
    run = GeneratorRun(
        arms=[Arm(parameters=dict(zip(["x0", "x1", "s"], d, strict=True))) for d in designs],
        gen_metadata={DEMO_MODEL_KEY: "key", DEMO_ROUND_KEY: round_index},
    )
    return experiment.new_batch_trial(generator_run=run)


def test_open_designs_of_a_constrained_space_with_a_string_choice() -> None:
    experiment = discrete_experiment()
    # 6 integer pairs meet the constraint, times two strings.
    assert open_design_count(experiment, at_most=100) == 12
    demo_batch(experiment, [(0, 0, "a"), (1, 1, "b")])
    assert open_design_count(experiment, at_most=100) == 10
    assert open_design_count(experiment, at_most=3) == 3


def test_round_state_counts_completed_given_up_and_live_designs() -> None:
    experiment = discrete_experiment()
    first = demo_batch(experiment, [(0, 0, "a"), (0, 1, "a"), (1, 0, "a")])
    first.mark_running(no_runner_required=True)
    first.mark_arm_abandoned(first.arms[0].name)
    state = round_state(experiment)
    assert (state.index, state.completed, state.given_up, state.live) == (0, 0, 1, 2)
    first.mark_completed()
    second = demo_batch(experiment, [(2, 0, "b")], round_index=1)
    second.mark_running(no_runner_required=True)
    second.mark_failed()
    state = round_state(experiment)
    assert (state.index, state.completed, state.given_up, state.live) == (1, 0, 1, 0)
    # The abandoned arm of the completed batch and the failed trial's arm.
    assert sorted(a.parameters["x0"] for a in arms_without_results(experiment)) == [0, 2]
