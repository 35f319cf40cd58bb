"""DEMO inside Ax's own benchmarking loop, next to Ax's Sobol + qLogNEI method.

``benchmark_replication`` runs a method through Ax's Orchestrator on a seeded
BoTorch test problem (Branin here). The DEMO method starts with Sobol trials
(the problem has no offline data), proposes one DEMO batch, then continues
with the GP node. It runs with one pending one-arm trial at a time (Ax's
default) and with ``BatchTrial``s.
"""

from __future__ import annotations

import logging

import pytest
from ax.benchmark.benchmark import benchmark_replication
from ax.benchmark.benchmark_method import BenchmarkMethod
from ax.benchmark.methods.modular_botorch import get_sobol_botorch_modular_acquisition
from ax.benchmark.problems.registry import get_benchmark_problem
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.models import SingleTaskGP

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import demo_generation_strategy
from botorch_demo.ax._ax_private import generation_node_name

SMOKE = {"config": "smoke", "config_overrides": {"surrogate_epochs": 2, "diffusion_epochs": 2}}


def _demo_method(batch_size: int, sobol: int, k: int) -> BenchmarkMethod:
    strategy = demo_generation_strategy(
        batch_size=k,
        initial_sobol_trials=sobol,
        max_points=50,
        online_batch_size=batch_size,
        seed=None,  # Follows the replication's seed.
        **SMOKE,
    )
    return BenchmarkMethod(name="DEMO", generation_strategy=strategy, batch_size=batch_size)


def _nodes(result) -> list[str]:
    return [
        generation_node_name(t.generator_runs[0])
        for t in sorted(result.experiment.trials.values(), key=lambda t: t.index)
    ]


@pytest.fixture
def replicate(caplog):
    """Runs a method on Branin; returns the result and the DEMO trainings logged."""

    def run(method: BenchmarkMethod, num_trials: int, seed: int = 0):
        problem = get_benchmark_problem("branin", num_trials=num_trials)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=generator_module.logger.name):
            result = benchmark_replication(problem=problem, method=method, seed=seed)
        logs = [r.getMessage() for r in caplog.records if r.name == generator_module.logger.name]
        return result, [line for line in logs if "Training DEMO" in line]

    return run


@pytest.mark.slow
def test_one_arm_trials_next_to_ax_method(replicate) -> None:
    demo, trainings = replicate(_demo_method(batch_size=1, sobol=4, k=3), num_trials=8)
    assert _nodes(demo) == ["Sobol"] * 4 + ["DEMO"] * 3 + ["GP_qLogNEI"]
    assert len(trainings) == 1  # One model for the 3 one-arm trials.
    assert len(demo.score_trace) == 8
    ax_method = get_sobol_botorch_modular_acquisition(
        model_cls=SingleTaskGP,
        acquisition_cls=qLogNoisyExpectedImprovement,
        num_sobol_trials=4,
    )
    problem = get_benchmark_problem("branin", num_trials=8)
    ax_result = benchmark_replication(problem=problem, method=ax_method, seed=0)
    assert len(ax_result.score_trace) == 8
    # Same seed, same Sobol start: DEMO's randomness follows the replication.
    first = [t.arm.parameters for t in demo.experiment.trials.values()][:4]
    again, _ = replicate(_demo_method(batch_size=1, sobol=4, k=3), num_trials=8)
    assert first == [t.arm.parameters for t in again.experiment.trials.values()][:4]
    demo_designs = [
        t.arm.parameters for t in again.experiment.trials.values() if t.index in (4, 5, 6)
    ]
    assert demo_designs == [
        t.arm.parameters for t in demo.experiment.trials.values() if t.index in (4, 5, 6)
    ]


@pytest.mark.slow
def test_batch_trials_count_designs(replicate) -> None:
    result, trainings = replicate(_demo_method(batch_size=3, sobol=2, k=3), num_trials=4)
    assert _nodes(result) == ["Sobol", "Sobol", "DEMO", "GP_qLogNEI"]
    arms = [len(t.arms) for t in result.experiment.trials.values()]
    assert arms == [3, 3, 3, 3]  # K = 3 designs: one BatchTrial.
    assert len(trainings) == 1
