"""The robustness suite: offline-MBO tasks the package builds itself.

Twelve tasks with exact oracles and no downloads, registered beside the paper's
(``load_task("ackley-10")``, ``list_tasks()``):

* six continuous BoTorch test functions (:mod:`botorch.test_functions.synthetic`),
  maximised (``y = -f(x)``), at 6 to 60 dimensions;
* five categorical sequence tasks, ``seq-l<L>-v<V>``: a score that is a sum of
  per-position weights and pairwise weights of neighbours and of a few long-range
  position pairs, all drawn from a fixed seed (:class:`PairwiseSequenceModel`);
* one mixed task with continuous and categorical columns (:class:`MixedOracle`).

Offline set: a seeded uniform random sample of the design space
(:data:`SAMPLE_SIZE` designs, distinct for the sequence tasks), of which the
rows at or below the 50th percentile of y are kept (design-bench's rule, as for
the paper's tasks).

Normalisation (``(y - y_min) / (y_max - y_min)``):

* ``y_max`` is the optimum for every task: BoTorch's known optimum of the test
  function (exact for Ackley, Rastrigin, Rosenbrock and Griewank; for Hartmann-6
  and Styblinski-Tang the rounded literature values, within 1e-5 of the true
  optimum); for the sequence and mixed tasks the maximum of the pairwise model,
  computed exactly by variable elimination (:func:`pairwise_optimum`).
* ``y_min`` is the exact minimum for the sequence tasks (variable elimination),
  and the minimum over the full seeded sample (the offline set's source, as the
  paper uses the full dataset's minimum) for the continuous and mixed tasks.

Suites (:data:`SUITES`) name task lists for the benchmark harness:
``"robustness"`` (these twelve) and ``"paper"`` (TF Bind 8, TF Bind 10, Levy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from botorch.test_functions import synthetic
from torch import Tensor

from botorch_demo.tasks.offline import offline_indices
from botorch_demo.tasks.oracles import Oracle
from botorch_demo.tasks.registry import TaskSpec, get_spec, register_task
from botorch_demo.tasks.task import OfflineTask, TaskInfo

#: Designs in each task's seeded random sample; the offline set is its worse half.
SAMPLE_SIZE = 10_000
#: Percentile of the sample kept as the offline set (design-bench's rule).
OFFLINE_PERCENTILE = 50.0
#: Spaces up to this size are sampled without replacement by a permutation of codes.
_PERMUTE_LIMIT = 1 << 20


# ------------------------------------------------------------ pairwise sequences
@dataclass(frozen=True)
class PairwiseSequenceModel:
    """Score of a sequence: per-position weights plus pairwise weights.

    ``f(x) = sum_i unary[i, x_i] + sum_p pair_weights[p, x_{i_p}, x_{j_p}]`` for
    the position pairs ``pairs[p] = (i_p, j_p)`` (all neighbours and a few
    long-range pairs).

    Attributes:
        unary: ``L x V`` float64 per-position weights.
        pairs: ``P x 2`` long position pairs with ``i_p < j_p``.
        pair_weights: ``P x V x V`` float64 interaction weights.
    """

    unary: Tensor
    pairs: Tensor
    pair_weights: Tensor

    @property
    def length(self) -> int:
        """Sequence length ``L``."""
        return self.unary.shape[0]

    @property
    def num_categories(self) -> int:
        """Alphabet size ``V``."""
        return self.unary.shape[1]

    @classmethod
    def from_seed(
        cls,
        length: int,
        num_categories: int,
        num_long_range: int,
        seed: int,
        pair_scale: float = 0.7,
    ) -> PairwiseSequenceModel:
        """Draw the weights from a fixed seed.

        Unary weights are standard normal; pairwise weights are normal with
        standard deviation ``pair_scale``. The long-range pairs are distinct
        position pairs at least 3 apart, drawn uniformly.

        Args:
            length: ``L >= 2``.
            num_categories: ``V >= 2``.
            num_long_range: Number of long-range pairs (0 allowed).
            seed: Seed of the ``torch.Generator`` that draws everything.
            pair_scale: Standard deviation of the pairwise weights.

        Returns:
            The model (CPU, float64).

        Raises:
            ValueError: On an invalid size, or more long-range pairs than exist.
        """
        if length < 2 or num_categories < 2:
            raise ValueError(
                f"Need length >= 2 and num_categories >= 2, got {length}, {num_categories}."
            )
        far = [(i, j) for i in range(length) for j in range(i + 3, length)]
        if not 0 <= num_long_range <= len(far):
            raise ValueError(
                f"num_long_range must be in 0..{len(far)} for length {length}, "
                f"got {num_long_range}."
            )
        gen = torch.Generator().manual_seed(seed)
        unary = torch.randn(length, num_categories, generator=gen, dtype=torch.float64)
        chosen = torch.randperm(len(far), generator=gen)[:num_long_range].sort().values
        pairs = [(i, i + 1) for i in range(length - 1)] + [far[k] for k in chosen.tolist()]
        weights = pair_scale * torch.randn(
            len(pairs), num_categories, num_categories, generator=gen, dtype=torch.float64
        )
        return cls(unary, torch.tensor(pairs, dtype=torch.long), weights)

    def __call__(self, tokens: Tensor) -> Tensor:
        """Score ``n x L`` integer tokens; returns ``n`` float64 on their device."""
        tokens = tokens.long()
        unary = self.unary.to(tokens.device)
        pairs = self.pairs.to(tokens.device)
        weights = self.pair_weights.to(tokens.device)
        positions = torch.arange(self.length, device=tokens.device)
        y = unary[positions, tokens].sum(dim=-1)
        index = torch.arange(pairs.shape[0], device=tokens.device)
        return y + weights[index, tokens[:, pairs[:, 0]], tokens[:, pairs[:, 1]]].sum(dim=-1)


def pairwise_optimum(model: PairwiseSequenceModel, maximize: bool = True) -> tuple[float, Tensor]:
    """Exact maximum (or minimum) of a pairwise model and a sequence attaining it.

    Variable elimination (max-sum) in position order ``0..L-1``: each factor is a
    table over a sorted tuple of positions; eliminating a position adds the
    factors that involve it and maximises it out, keeping the argmax table for
    the back-substitution. The cost grows as ``V`` to the power of the number of
    positions a step involves (2 plus the long-range pairs spanning it), so it is
    exact and cheap for chains with a few long-range pairs.

    Args:
        model: The pairwise sequence model.
        maximize: ``False`` for the minimum.

    Returns:
        ``(value, tokens)``: the optimum and an ``L`` long tensor attaining it.
    """
    sign = 1.0 if maximize else -1.0
    V = model.num_categories
    factors: list[tuple[tuple[int, ...], Tensor]] = [
        ((i,), sign * model.unary[i]) for i in range(model.length)
    ]
    for (i, j), w in zip(model.pairs.tolist(), model.pair_weights, strict=True):
        factors.append(((i, j), sign * w))
    choices: list[tuple[tuple[int, ...], Tensor]] = []
    for pos in range(model.length):
        involved = [f for f in factors if pos in f[0]]
        factors = [f for f in factors if pos not in f[0]]
        union = tuple(sorted({v for f in involved for v in f[0]}))
        total = torch.zeros((1,) * len(union), dtype=torch.float64)
        for variables, table in involved:
            total = total + table.reshape([V if u in variables else 1 for u in union])
        # Every other position of ``union`` comes after ``pos``, so pos is axis 0.
        best, arg = total.max(dim=0)
        factors.append((union[1:], best))
        choices.append((union[1:], arg))
    value = sign * sum(float(table) for _, table in factors)
    tokens = torch.zeros(model.length, dtype=torch.long)
    for pos in reversed(range(model.length)):
        others, arg = choices[pos]
        tokens[pos] = arg[tuple(int(tokens[o]) for o in others)]
    return value, tokens


def pairwise_extremum(model: PairwiseSequenceModel, maximize: bool = True) -> float:
    """The exact maximum (or minimum) of a pairwise model (see :func:`pairwise_optimum`)."""
    return pairwise_optimum(model, maximize)[0]


# --------------------------------------------------------------------- oracles
class SequenceOracle(Oracle):
    """Exact oracle of a categorical sequence task (a :class:`PairwiseSequenceModel`).

    Args:
        name: Task name.
        model: The pairwise model.
    """

    def __init__(self, name: str, model: PairwiseSequenceModel) -> None:
        super().__init__(name, model.length, num_categories=model.num_categories)
        self.model = model

    def _evaluate(self, X: Tensor) -> Tensor:
        return self.model(X).unsqueeze(-1)


class SyntheticOracle(Oracle):
    """``y = -f(x)`` for a BoTorch synthetic test function ``f`` (maximised).

    Args:
        name: Task name.
        function: The BoTorch test function (noise-free values are used).
        bounds: ``(lower, upper)`` of its box (the same for every column).
    """

    def __init__(
        self, name: str, function: synthetic.SyntheticTestFunction, bounds: tuple[float, float]
    ) -> None:
        super().__init__(name, function.dim, bounds=bounds)
        self.function = function

    def _evaluate(self, X: Tensor) -> Tensor:
        f = self.function.to(device=X.device, dtype=torch.float64)
        return -f.evaluate_true(X.to(torch.float64)).unsqueeze(-1)


class MixedOracle(Oracle):
    """Mixed task: continuous columns in ``[0, 1]`` and categorical columns.

    ``y = g(c) - sum_j (3 z_j^2 + 0.5 (1 - cos(8 pi z_j)))`` with
    ``z = x - centres[c_0]``: ``g`` is a :class:`PairwiseSequenceModel` on the
    categorical columns ``c`` and the first categorical column moves the optimum
    of the continuous part (a rippled bowl, minimum 0 at ``z = 0``). The centres
    lie in ``[0.2, 0.8]``, so ``max y = max g`` exactly.

    Args:
        name: Task name.
        num_continuous: Number of continuous columns (the first columns).
        model: Pairwise model of the categorical columns (the last columns).
        centres: ``V x num_continuous`` optimum of the continuous part per
            category of the first categorical column.
    """

    def __init__(
        self, name: str, num_continuous: int, model: PairwiseSequenceModel, centres: Tensor
    ) -> None:
        super().__init__(name, num_continuous + model.length)
        self.num_continuous = num_continuous
        self.model = model
        self.centres = centres

    def validate(self, X: Tensor) -> None:
        """Base checks, then ``[0, 1]`` continuous and integer categorical columns.

        Raises:
            TypeError: If ``X`` is not a tensor.
            ValueError: With a message naming the problem.
        """
        super().validate(X)
        x, c = X[:, : self.num_continuous], X[:, self.num_continuous :]
        if not torch.isfinite(X).all() or (x < 0).any() or (x > 1).any():
            raise ValueError(
                f"{self.name}: continuous columns 0..{self.num_continuous - 1} must lie in "
                "[0, 1] (clamp to task.bounds)."
            )
        V = self.model.num_categories
        if (c != torch.round(c)).any() or (c < 0).any() or (c > V - 1).any():
            raise ValueError(
                f"{self.name}: columns {self.num_continuous}..{self.dim - 1} are categorical: "
                f"every entry must be an integer in 0..{V - 1}."
            )

    def _evaluate(self, X: Tensor) -> Tensor:
        X = X.to(torch.float64)
        x, c = X[:, : self.num_continuous], X[:, self.num_continuous :].long()
        z = x - self.centres.to(X.device)[c[:, 0]]
        bowl = (3.0 * z**2 + 0.5 * (1.0 - torch.cos(8.0 * math.pi * z))).sum(dim=-1)
        return (self.model(c) - bowl).unsqueeze(-1)


# ------------------------------------------------------------------ task specs
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


def sequence_model(task: SuiteTask) -> PairwiseSequenceModel:
    """The pairwise model of a sequence or mixed suite task (from its seed)."""
    if task.num_categories is None:
        raise ValueError(f"{task.name} is not a sequence or mixed task.")
    length = task.dim - task.num_continuous
    return PairwiseSequenceModel.from_seed(
        length, task.num_categories, task.num_long_range, task.seed
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
    gen = torch.Generator().manual_seed(task.seed + 10_000)
    categorical: dict[int, int] = {}
    if task.kind == "synthetic":
        fn = getattr(synthetic, task.function)(dim=task.dim)
        lo, hi = (float(v) for v in fn.bounds[:, 0])
        oracle: Oracle = SyntheticOracle(task.name, fn, (lo, hi))
        X = lo + (hi - lo) * torch.rand(SAMPLE_SIZE, task.dim, generator=gen, dtype=torch.float64)
        bounds = torch.tensor([[lo], [hi]], dtype=torch.float64).expand(2, task.dim).clone()
        optimum = torch.tensor(fn._optimizers[:1], dtype=torch.float64)
        y_max, max_source = 0.0 - float(fn.optimal_value), "known optimum of the test function"
        y_min, min_source = None, "minimum of the seeded sample"
    else:
        model = sequence_model(task)
        V = model.num_categories
        _, best = pairwise_optimum(model)
        y_max, max_source = float(model(best[None])), "exact maximum (variable elimination)"
        if task.kind == "sequence":
            oracle = SequenceOracle(task.name, model)
            X = _sample_sequences(model.length, V, SAMPLE_SIZE, gen).to(torch.float64)
            bounds = torch.tensor([[0.0], [V - 1.0]], dtype=torch.float64).expand(2, task.dim)
            optimum = best[None].to(torch.float64)
            _, worst = pairwise_optimum(model, maximize=False)
            y_min = float(model(worst[None]))
            min_source = "exact minimum (variable elimination)"
        else:  # few categorical combinations: drawn with replacement beside x
            c = task.num_continuous
            tokens = torch.randint(V, (SAMPLE_SIZE, model.length), generator=gen)
            centres = 0.2 + 0.6 * torch.rand(V, c, generator=gen, dtype=torch.float64)
            oracle = MixedOracle(task.name, c, model, centres)
            x = torch.rand(SAMPLE_SIZE, c, generator=gen, dtype=torch.float64)
            X = torch.cat([x, tokens.to(torch.float64)], dim=-1)
            lower = torch.zeros(task.dim, dtype=torch.float64)
            upper = torch.cat([torch.ones(c), torch.full((model.length,), V - 1.0)])
            bounds = torch.stack([lower, upper.to(torch.float64)])
            optimum = torch.cat([centres[best[0]], best.to(torch.float64)])[None]
            y_min, min_source = None, "minimum of the seeded sample"
        bounds = bounds.clone()
        categorical = dict.fromkeys(range(task.dim - model.length, task.dim), V)
    Y = oracle(X)
    return SuiteData(
        X=X,
        Y=Y,
        oracle=oracle,
        bounds=bounds,
        categorical_features=categorical,
        optimum=optimum,
        y_min=float(Y.min()) if y_min is None else y_min,
        y_max=y_max,
        y_min_source=min_source,
        y_max_source=max_source,
    )


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
    if task.kind == "synthetic":
        return (
            f"BoTorch {task.function}(dim={task.dim}), maximised (y = -f); uniform sample "
            f"of {SAMPLE_SIZE} designs from seed {task.seed + 10_000}."
        )
    length = task.dim - task.num_continuous
    text = (
        f"pairwise sequence model, L = {length}, V = {task.num_categories}, neighbours and "
        f"{task.num_long_range} long-range pairs, weights from seed {task.seed}"
    )
    if task.kind == "mixed":
        return (
            f"mixed: {task.num_continuous} continuous columns in [0, 1] (rippled bowl "
            f"centred by the first categorical column) + {text}."
        )
    return f"{text}; {SAMPLE_SIZE} distinct random sequences."


def space_size(name: str) -> int | None:
    """Number of designs of a categorical suite task, ``None`` if continuous or mixed."""
    task = SUITE_TASKS[get_spec(name).name]
    if task.kind != "sequence":
        return None
    return task.num_categories**task.dim


for _task in SUITE_TASKS.values():
    register_task(
        TaskSpec(
            name=_task.name,
            design_bench_name=f"suite:{_task.name}",
            dim=_task.dim,
            num_categories=_task.num_categories if _task.kind == "sequence" else None,
            folder=None,
            prefix=None,
            oracle_kind="generated",
            provenance=f"Robustness suite: {_describe(_task)}",
            builder=_build,
        )
    )
