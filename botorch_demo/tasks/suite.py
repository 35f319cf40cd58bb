"""The task suites: the robustness suite's task definitions and the named task lists.

The robustness suite holds fourteen tasks with exact oracles and no downloads
(:data:`SUITE_TASKS`), registered beside the paper's (``load_task("ackley-10")``,
``list_tasks()``):

* six continuous BoTorch test functions (:mod:`botorch.test_functions.synthetic`),
  maximised (``y = -f(x)``), at 6 to 60 dimensions;
* seven categorical sequence tasks, ``seq-l<L>-v<V>``: a score that is a sum of
  per-position weights and pairwise weights of neighbours and of a few long-range
  position pairs, all drawn from a fixed seed
  (:class:`~botorch_demo.tasks.pairwise.PairwiseSequenceModel`); the two
  protein-like ones (20 letters, 32 and 48 positions) have long-range contacts
  up to 8 positions apart, few enough overlapping that the exact optimum stays
  cheap;
* one mixed task with continuous and categorical columns
  (:class:`~botorch_demo.tasks.oracles.MixedOracle`).

:mod:`botorch_demo.tasks.generated` builds their data, oracles and
normalisation constants from these definitions and registers them.

Suites (:data:`SUITES`) name task lists for the benchmark harness:
``"robustness"`` (these fourteen) and ``"paper"`` (TF Bind 8, TF Bind 10, Levy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botorch_demo.tasks.registry import get_spec


@dataclass(frozen=True)
class SuiteTask:
    """Definition of one suite task (see the module docstring).

    Attributes:
        name: Registered task name.
        kind: ``"synthetic"``, ``"sequence"`` or ``"mixed"``.
        dim: Number of design columns.
        seed: Seed of the weights (sequence, mixed) and of the random sample.
        function: BoTorch class name (synthetic tasks).
        num_categories: Alphabet size (sequence and mixed tasks).
        num_long_range: Long-range pairs (sequence and mixed tasks).
        max_span: Largest distance of a long-range pair (``None``: any).
        num_continuous: Continuous columns (mixed task).
        description: One line for ``task.info.provenance`` and the docs.
    """

    name: str
    kind: str
    dim: int
    seed: int
    function: str | None = None
    num_categories: int | None = None
    num_long_range: int = 0
    max_span: int | None = None
    num_continuous: int = 0
    description: str = field(default="", compare=False)


SUITE_TASKS: dict[str, SuiteTask] = {
    t.name: t
    for t in (
        SuiteTask("hartmann-6", "synthetic", 6, 101, function="Hartmann"),
        SuiteTask("ackley-10", "synthetic", 10, 102, function="Ackley"),
        SuiteTask("rastrigin-20", "synthetic", 20, 103, function="Rastrigin"),
        SuiteTask("styblinski-tang-30", "synthetic", 30, 104, function="StyblinskiTang"),
        SuiteTask("rosenbrock-40", "synthetic", 40, 105, function="Rosenbrock"),
        SuiteTask("griewank-60", "synthetic", 60, 106, function="Griewank"),
        SuiteTask("seq-l6-v5", "sequence", 6, 201, num_categories=5, num_long_range=1),
        SuiteTask("seq-l8-v4", "sequence", 8, 202, num_categories=4, num_long_range=2),
        SuiteTask("seq-l12-v4", "sequence", 12, 203, num_categories=4, num_long_range=3),
        SuiteTask("seq-l16-v8", "sequence", 16, 204, num_categories=8, num_long_range=3),
        SuiteTask("seq-l24-v20", "sequence", 24, 205, num_categories=20, num_long_range=2),
        SuiteTask(
            "seq-l32-v20", "sequence", 32, 206, num_categories=20, num_long_range=6, max_span=8
        ),
        SuiteTask(
            "seq-l48-v20", "sequence", 48, 207, num_categories=20, num_long_range=9, max_span=8
        ),
        SuiteTask(
            "mixed-10",
            "mixed",
            10,
            301,
            num_categories=5,
            num_long_range=1,
            num_continuous=6,
        ),
    )
}

#: Named task lists for ``run_benchmark(suite=...)`` and ``bench --suite``.
SUITES: dict[str, tuple[str, ...]] = {
    "paper": ("tfbind8", "tfbind10", "levy"),
    "robustness": tuple(SUITE_TASKS),
}


def list_suites() -> list[str]:
    """Names of the task suites, sorted."""
    return sorted(SUITES)


def suite_tasks(name: str) -> list[str]:
    """The task names of a suite.

    Args:
        name: ``"robustness"`` or ``"paper"`` (case-insensitive).

    Returns:
        The task names, in the suite's order.

    Raises:
        ValueError: For an unknown suite; the message lists the known ones.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SUITES:
        raise ValueError(f"Unknown suite {name!r}. Known suites: {', '.join(list_suites())}.")
    return list(SUITES[key])


def space_size(name: str) -> int | None:
    """Number of designs of a categorical suite task, ``None`` if continuous or mixed."""
    task = SUITE_TASKS[get_spec(name).name]
    if task.kind != "sequence":
        return None
    return task.num_categories**task.dim
