"""Data of the robustness suite: samples, oracles, constants and registration.

Every task of :data:`~botorch_demo.tasks.suite.SUITE_TASKS` is generated here
from its seed, with no downloads; :func:`register_suite_tasks` registers them so
that ``load_task`` finds them by name.

Offline set: a seeded uniform random sample of the design space
(:data:`SAMPLE_SIZE` designs, distinct for the sequence tasks), of which the
rows at or below the 50th percentile of y are kept (design-bench's rule, as for
the paper's tasks).

Normalisation (``(y - y_min) / (y_max - y_min)``):

* ``y_max`` is the optimum for every task: BoTorch's known optimum of the test
  function (exact for Ackley, Rastrigin, Rosenbrock and Griewank; for Hartmann-6
  and Styblinski-Tang the rounded literature values, within 1e-5 of the true
  optimum); for the sequence and mixed tasks the maximum of the pairwise model,
  computed exactly by variable elimination
  (:func:`~botorch_demo.tasks.pairwise.pairwise_optimum`).
* ``y_min`` is the exact minimum for the sequence tasks (variable elimination),
  and the minimum over the full seeded sample (the offline set's source, as the
  paper uses the full dataset's minimum) for the continuous and mixed tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from botorch.test_functions import synthetic
from torch import Tensor

from botorch_demo.tasks.offline import offline_indices
from botorch_demo.tasks.oracles import MixedOracle, Oracle, SequenceOracle, SyntheticOracle
from botorch_demo.tasks.pairwise import PairwiseSequenceModel, pairwise_optimum
from botorch_demo.tasks.registry import TaskSpec, register_tasks
from botorch_demo.tasks.suite import SUITE_TASKS, SuiteTask
from botorch_demo.tasks.task import OfflineTask, TaskInfo

#: Designs in each task's seeded random sample; the offline set is its worse half.
SAMPLE_SIZE = 10_000
#: Percentile of the sample kept as the offline set (design-bench's rule).
OFFLINE_PERCENTILE = 50.0
#: The sample of a task is drawn from the seed ``task.seed + SAMPLE_SEED_OFFSET``.
SAMPLE_SEED_OFFSET = 10_000
#: Spaces up to this size are sampled without replacement by a permutation of codes.
_PERMUTE_LIMIT = 1 << 20

_SAMPLE_MIN = "minimum of the seeded sample"
_EXACT_MAX = "exact maximum (variable elimination)"
_EXACT_MIN = "exact minimum (variable elimination)"


@dataclass(frozen=True)
class SuiteData:
    """Everything generated for one suite task (see :func:`generate`).

    Attributes:
        X: ``n x d`` float64 full seeded sample (the offline set is its worse half).
        Y: ``n x 1`` float64 oracle scores of ``X``.
        oracle: The exact oracle.
        bounds: ``2 x d`` float64 box.
        categorical_features: ``{column: categories}``; empty if continuous.
        optimum: ``1 x d`` float64 design attaining ``y_max`` (for Hartmann-6 the
            literature optimiser, rounded to 6 decimals).
        y_min: Normalisation minimum.
        y_max: Normalisation maximum (the exact optimum).
        y_min_source: How ``y_min`` was obtained.
        y_max_source: How ``y_max`` was obtained.
    """

    X: Tensor
    Y: Tensor
    oracle: Oracle
    bounds: Tensor
    categorical_features: dict[int, int]
    optimum: Tensor
    y_min: float
    y_max: float
    y_min_source: str
    y_max_source: str


def sequence_model(task: SuiteTask) -> PairwiseSequenceModel:
    """The pairwise model of a sequence or mixed suite task (from its seed)."""
    if task.num_categories is None:
        raise ValueError(f"{task.name} is not a sequence or mixed task.")
    length = task.dim - task.num_continuous
    return PairwiseSequenceModel.from_seed(
        length, task.num_categories, task.num_long_range, task.seed, max_span=task.max_span
    )


def generate(name: str) -> SuiteData:
    """Generate a suite task's full sample, oracle, optimum and constants.

    Args:
        name: A suite task name, e.g. ``"seq-l8-v4"``.

    Returns:
        :class:`SuiteData`; deterministic (everything comes from the task's seed).

    Raises:
        ValueError: If ``name`` is not a suite task.
    """
    if name not in SUITE_TASKS:
        raise ValueError(f"Unknown suite task {name!r}. Suite tasks: {', '.join(SUITE_TASKS)}.")
    task = SUITE_TASKS[name]
    gen = torch.Generator().manual_seed(task.seed + SAMPLE_SEED_OFFSET)
    make = {
        "synthetic": _generate_synthetic,
        "sequence": _generate_sequence,
        "mixed": _generate_mixed,
    }[task.kind]
    return make(task, gen)


def _generate_synthetic(task: SuiteTask, gen: torch.Generator) -> SuiteData:
    """A BoTorch test function, maximised, on a uniform sample of its box."""
    fn = getattr(synthetic, task.function)(dim=task.dim)
    lo, hi = (float(v) for v in fn.bounds[:, 0])
    X = lo + (hi - lo) * torch.rand(SAMPLE_SIZE, task.dim, generator=gen, dtype=torch.float64)
    return _scored(
        X,
        SyntheticOracle(task.name, fn, (lo, hi)),
        bounds=torch.tensor([[lo], [hi]], dtype=torch.float64).expand(2, task.dim).clone(),
        categorical_features={},
        optimum=fn.optimizers[:1].to(torch.float64).clone(),
        # ``0.0 -`` turns a zero optimum into +0.0 rather than -0.0.
        y_max=(0.0 - float(fn.optimal_value), "known optimum of the test function"),
        y_min=(None, _SAMPLE_MIN),
    )


def _generate_sequence(task: SuiteTask, gen: torch.Generator) -> SuiteData:
    """A pairwise model on distinct uniformly drawn sequences; exact constants."""
    model = sequence_model(task)
    V = model.num_categories
    best_value, best = _exact_optimum(model, maximize=True)
    worst_value, _ = _exact_optimum(model, maximize=False)
    X = _sample_sequences(model.length, V, SAMPLE_SIZE, gen).to(torch.float64)
    return _scored(
        X,
        SequenceOracle(task.name, model),
        bounds=torch.tensor([[0.0], [V - 1.0]], dtype=torch.float64).expand(2, task.dim).clone(),
        categorical_features=_categorical_columns(task, model),
        optimum=best[None].to(torch.float64),
        y_max=(best_value, _EXACT_MAX),
        y_min=(worst_value, _EXACT_MIN),
    )


def _generate_mixed(task: SuiteTask, gen: torch.Generator) -> SuiteData:
    """A rippled bowl on continuous columns plus a pairwise model on categories.

    The few categorical combinations are drawn with replacement beside ``x``.
    """
    model = sequence_model(task)
    V, c = model.num_categories, task.num_continuous
    best_value, best = _exact_optimum(model, maximize=True)
    tokens = torch.randint(V, (SAMPLE_SIZE, model.length), generator=gen)
    centres = 0.2 + 0.6 * torch.rand(V, c, generator=gen, dtype=torch.float64)
    x = torch.rand(SAMPLE_SIZE, c, generator=gen, dtype=torch.float64)
    lower = torch.zeros(task.dim, dtype=torch.float64)
    upper = torch.cat([torch.ones(c), torch.full((model.length,), V - 1.0)])
    return _scored(
        torch.cat([x, tokens.to(torch.float64)], dim=-1),
        MixedOracle(task.name, c, model, centres),
        bounds=torch.stack([lower, upper.to(torch.float64)]),
        categorical_features=_categorical_columns(task, model),
        optimum=torch.cat([centres[best[0]], best.to(torch.float64)])[None],
        y_max=(best_value, _EXACT_MAX),
        y_min=(None, _SAMPLE_MIN),
    )


def _exact_optimum(model: PairwiseSequenceModel, maximize: bool) -> tuple[float, Tensor]:
    """The model's score of its exact optimiser, and the optimiser."""
    _, tokens = pairwise_optimum(model, maximize)
    return float(model(tokens[None])), tokens


def _categorical_columns(task: SuiteTask, model: PairwiseSequenceModel) -> dict[int, int]:
    """The last ``model.length`` columns, each with ``V`` categories."""
    return dict.fromkeys(range(task.dim - model.length, task.dim), model.num_categories)


def _scored(
    X: Tensor,
    oracle: Oracle,
    bounds: Tensor,
    categorical_features: dict[int, int],
    optimum: Tensor,
    y_max: tuple[float, str],
    y_min: tuple[float | None, str],
) -> SuiteData:
    """Score the sample; ``y_min`` of ``None`` means the sample's minimum.

    ``y_max`` and ``y_min`` are ``(value, how it was obtained)``.
    """
    Y = oracle(X)
    return SuiteData(
        X=X,
        Y=Y,
        oracle=oracle,
        bounds=bounds,
        categorical_features=categorical_features,
        optimum=optimum,
        y_min=float(Y.min()) if y_min[0] is None else y_min[0],
        y_max=y_max[0],
        y_min_source=y_min[1],
        y_max_source=y_max[1],
    )


def _sample_sequences(length: int, V: int, n: int, gen: torch.Generator) -> Tensor:
    """Up to ``n`` distinct uniformly drawn sequences as ``m x L`` long tokens.

    Spaces of at most :data:`_PERMUTE_LIMIT` designs: the first ``min(n, V**L)``
    codes of a random permutation. Larger spaces: ``n`` uniform draws with the
    (rare) repeats removed, so ``m`` can be slightly below ``n``.
    """
    size = V**length
    if size <= _PERMUTE_LIMIT:
        codes = torch.randperm(size, generator=gen)[: min(n, size)]
        powers = V ** torch.arange(length - 1, -1, -1)
        return (codes.unsqueeze(-1) // powers) % V
    tokens = torch.randint(V, (n, length), generator=gen)
    return torch.unique(tokens, dim=0)


def _build(spec: TaskSpec) -> OfflineTask:
    """Builder registered with every suite task's :class:`TaskSpec`."""
    data = generate(spec.name)
    task = SUITE_TASKS[spec.name]
    rows = torch.from_numpy(offline_indices(data.Y.numpy(), OFFLINE_PERCENTILE))
    info = TaskInfo(
        name=task.name,
        design_bench_name=spec.design_bench_name,
        dim=task.dim,
        num_categories=task.num_categories,
        n_train=int(rows.numel()),
        n_full=int(data.X.shape[0]),
        source="generated by botorch_demo.tasks.suite",
        provenance=(
            f"{spec.provenance} Normalisation: y_max = {data.y_max_source}, "
            f"y_min = {data.y_min_source}."
        ),
        has_oracle=True,
    )
    return OfflineTask(
        train_X=data.X[rows],
        train_Y=data.Y[rows],
        bounds=data.bounds,
        categorical_features=data.categorical_features,
        oracle=data.oracle,
        y_min=data.y_min,
        y_max=data.y_max,
        info=info,
    )


def _describe(task: SuiteTask) -> str:
    """One line on how a suite task is generated (its provenance)."""
    if task.kind == "synthetic":
        return (
            f"BoTorch {task.function}(dim={task.dim}), maximised (y = -f); uniform sample "
            f"of {SAMPLE_SIZE} designs from seed {task.seed + SAMPLE_SEED_OFFSET}."
        )
    length = task.dim - task.num_continuous
    text = (
        f"pairwise sequence model, L = {length}, V = {task.num_categories}, neighbours and "
        f"{task.num_long_range} long-range pairs"
        + ("" if task.max_span is None else f" at most {task.max_span} apart")
        + f", weights from seed {task.seed}"
    )
    if task.kind == "mixed":
        return (
            f"mixed: {task.num_continuous} continuous columns in [0, 1] (rippled bowl "
            f"centred by the first categorical column) + {text}."
        )
    return f"{text}; {SAMPLE_SIZE} distinct random sequences."


def suite_task_spec(task: SuiteTask) -> TaskSpec:
    """The registry entry of a suite task; :func:`generate` builds its data."""
    return TaskSpec(
        name=task.name,
        design_bench_name=f"suite:{task.name}",
        dim=task.dim,
        num_categories=task.num_categories if task.kind == "sequence" else None,
        folder=None,
        prefix=None,
        oracle_kind="generated",
        provenance=f"Robustness suite: {_describe(task)}",
        builder=_build,
    )


def register_suite_tasks() -> None:
    """Register every suite task with the task registry; calling it again is a no-op."""
    register_tasks(suite_task_spec(task) for task in SUITE_TASKS.values())
