"""The BO-qEI baseline, run through Ax with the package's qEI preset.

One run per (task, seed):

1. An Ax ``Client`` experiment with one parameter per design column: a float
   ``RangeParameter`` on the task's bounds for continuous columns, an unordered
   int ``ChoiceParameter`` (``0..V-1``) for categorical ones; the objective ``y``
   is maximised.
2. The offline data is bulk-imported with
   :func:`botorch_demo.ax.attach_offline_data` (all rows; the ``smoke`` profile
   imports a small subset, see :class:`~botorch_demo.benchmarks.profiles.BOSettings`).
3. :func:`botorch_demo.ax.qei_generation_strategy` (an exact ``SingleTaskGP``
   on at most ``max_points`` observations with ``qLogExpectedImprovement``) is
   set as the strategy; the acquisition optimiser's budget comes from
   :class:`~botorch_demo.benchmarks.profiles.BOSettings`.
4. K candidates are asked for in ONE generator run (one GP fit; the preset
   builds the batch of K: by Kriging believer over the enumerated designs on
   discrete tasks, by Ax's acquisition optimiser on continuous ones), attached
   to the experiment as a batch trial, and read back as raw designs in the
   task's column order.

The ``Client`` in Ax 1.3 asks for one-arm trials only (each ``get_next_trials``
trial is a separate GP fit and optimisation, i.e. K = 256 fits), so the batch is
generated with the strategy's ``gen_single_trial`` on the Client's experiment.

Differences from the paper's BO-qEI (design-baselines): there, BO searches the
learned neural surrogate; here the GP is fit to the offline data itself, as
Ax users would run it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from botorch_demo.benchmarks.profiles import BOSettings
from botorch_demo.tasks.task import OfflineTask

METRIC = "y"


@dataclass(frozen=True)
class BOResult:
    """Output of :func:`bo_qei_candidates`.

    Attributes:
        candidates: ``q x d`` raw float64 designs.
        info: ``offline_rows`` (rows imported), ``arms`` (arms Ax returned
            before padding to K) and ``strategy`` (the Ax strategy's name).
    """

    candidates: Tensor
    info: dict[str, Any]


@contextlib.contextmanager
def quiet_ax() -> Iterator[None]:
    """Silence Ax's INFO logging and its deprecation warnings for one run."""
    loggers = [logging.getLogger(name) for name in ("ax", "botorch", "linear_operator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def parameter_name(column: int) -> str:
    """The Ax parameter name of a task's design column ``column`` (``x0``, ``x1``, ...)."""
    return f"x{column}"


def task_parameters(task: OfflineTask) -> list[Any]:
    """Ax parameter configs of a task's design space: a choice parameter per
    categorical column, a float range per continuous column.

    Args:
        task: The offline task.

    Returns:
        One ``ChoiceParameterConfig`` or ``RangeParameterConfig`` per column.
    """
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    params: list[Any] = []
    for col in range(task.dim):
        if col in task.categorical_features:
            values = list(range(task.categorical_features[col]))
            params.append(
                ChoiceParameterConfig(
                    name=parameter_name(col),
                    parameter_type="int",
                    values=values,
                    is_ordered=False,
                )
            )
        else:
            lo, hi = (float(v) for v in task.bounds[:, col])
            params.append(
                RangeParameterConfig(
                    name=parameter_name(col), parameter_type="float", bounds=(lo, hi)
                )
            )
    return params


#: Largest categorical space BO-qEI takes: the preset enumerates it and builds the
#: batch with Kriging-believer LogEI (botorch_demo.ax.subset's ``max_enumerate``).
MAX_ENUMERATED_DESIGNS = 2**20


def bo_qei_unsupported(task: str) -> str | None:
    """Why BO-qEI cannot run on a task, or ``None`` if it can.

    On a mixed space, or a categorical space of more than
    :data:`MAX_ENUMERATED_DESIGNS` designs, Ax optimises the acquisition with
    BoTorch's ``optimize_acqf_mixed_alternating``, which only builds a batch
    sequentially: K = 256 sequential optimisations ran for over 10 minutes on the
    ``smoke`` settings of one task, so those tasks are not run.

    Args:
        task: A task name.

    Returns:
        The reason, or ``None``.
    """
    from botorch_demo.tasks.registry import get_spec
    from botorch_demo.tasks.suite import SUITE_TASKS

    spec = get_spec(task)
    suite = SUITE_TASKS.get(spec.name)
    if suite is not None and suite.kind == "mixed":
        return "mixed continuous and categorical space (Ax's optimiser is sequential only)"
    if spec.num_categories is not None and spec.num_categories**spec.dim > MAX_ENUMERATED_DESIGNS:
        return (
            f"{spec.num_categories}^{spec.dim} designs, more than the 2^20 the preset "
            "enumerates (Ax's optimiser is sequential only)"
        )
    return None


def offline_subset(task: OfflineTask, rows: int | None, seed: int) -> Tensor:
    """Row indices of the offline data imported into Ax.

    Args:
        task: The task.
        rows: ``None`` for all rows; otherwise the best ``rows // 2`` rows plus a
            seeded uniform sample of the others, ``rows`` in all.
        seed: Seed of the sample.

    Returns:
        Sorted ``int64`` row indices.
    """
    n = task.train_X.shape[0]
    if rows is None or rows >= n:
        return torch.arange(n)
    order = torch.argsort(task.train_Y.squeeze(-1), descending=True, stable=True)
    top, rest = order[: rows // 2], order[rows // 2 :]
    gen = torch.Generator().manual_seed(seed)
    sample = rest[torch.randperm(rest.numel(), generator=gen)[: rows - top.numel()]]
    return torch.sort(torch.cat([top, sample])).values


def bo_qei_candidates(task: OfflineTask, q: int, settings: BOSettings, seed: int) -> BOResult:
    """Propose K designs with Ax's GP + qLogEI preset on the offline data.

    Args:
        task: The task (its offline data is imported into a fresh experiment).
        q: Number of candidates K.
        settings: GP subset size, imported rows and optimiser budget.
        seed: Seed of the Ax client, the GP subset and the optimiser.

    Returns:
        A :class:`BOResult` with ``q`` candidates (padded by repeating the
        returned arms if Ax returned fewer).
    """
    with quiet_ax():
        from ax.api.client import Client

        from botorch_demo.ax import attach_offline_data, qei_generation_strategy

        torch.manual_seed(seed)
        client = Client(random_seed=seed)
        client.configure_experiment(parameters=task_parameters(task), name=f"bench_{task.name}")
        client.configure_optimization(objective=METRIC)
        rows = offline_subset(task, settings.offline_rows, seed)
        attach_offline_data(
            client, task.train_X[rows].cpu().numpy(), task.train_Y[rows].cpu().numpy()
        )
        strategy = qei_generation_strategy(
            batch_size=q, max_points=settings.max_points, generator_kwargs={"subset_seed": seed}
        )
        optimizer_kwargs = {
            "num_restarts": settings.num_restarts,
            "raw_samples": settings.raw_samples,
            "sequential": settings.sequential,
            "options": {"maxiter": settings.maxiter},
        }
        for node in strategy.nodes_by_name.values():
            for spec in node.generator_specs:
                options = dict(spec.generator_gen_kwargs.get("model_gen_options") or {})
                options["optimizer_kwargs"] = optimizer_kwargs
                spec.generator_gen_kwargs["model_gen_options"] = options
        client.set_generation_strategy(strategy)
        # The Client's get_next_trials makes one-arm trials (one GP fit per arm),
        # so the batch comes from the strategy, which holds the Client's experiment.
        experiment = strategy.experiment
        run = strategy.gen_single_trial(experiment=experiment, n=q)
        experiment.new_batch_trial(generator_run=run).mark_running(no_runner_required=True)
        names = [parameter_name(c) for c in range(task.dim)]
        arms = [[float(arm.parameters[name]) for name in names] for arm in run.arms]
    if not arms:
        raise RuntimeError("Ax returned no candidates.")
    X = torch.tensor(arms, dtype=torch.float64)
    n_arms = X.shape[0]
    X = X[torch.arange(q) % n_arms]
    info = {
        "offline_rows": int(rows.numel()),
        "arms": int(n_arms),
        "strategy": strategy.name,
    }
    return BOResult(X, info)
