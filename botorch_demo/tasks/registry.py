"""Registry of the offline-MBO tasks: names, on-disk layout and constants.

Every task is described by a :class:`TaskSpec`. The loaders in
:mod:`botorch_demo.tasks.loaders` read a spec to find and shape the data, so
adding a task that design-bench ships as ``<folder>/<prefix>-{x,y}-<i>.npy`` shards
only needs a new :class:`TaskSpec` (see :func:`register_task`). The paper's tasks
are :data:`PAPER_TASKS`; ``import botorch_demo.tasks`` registers them
(:func:`register_paper_tasks`) and the robustness suite's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from botorch_demo.tasks.task import OfflineTask

OracleKind = Literal["lookup", "levy", "unavailable", "generated"]

# Full-dataset min and max of y for the seven tasks of the DEMO paper, from the
# DEMO authors' public files (the table in docs/tasks.md). Normalised score =
# (y - y_min) / (y_max - y_min). Keyed by design-bench task id.
NORMALIZATION_CONSTANTS: dict[str, tuple[float, float]] = {
    "TFBind8-Exact-v0": (0.0, 1.0),
    "TFBind10-Exact-v0": (-1.8585268, 2.1287067),
    "Levy-Exact-v0": (-1390.8297333608755, -363.8953536677948),
    "Superconductor-RandomForest-v0": (0.00021, 185.0),
    "AntMorphology-Exact-v0": (-386.90036, 590.24445),
    "DKittyMorphology-Exact-v0": (-880.4585, 340.90985),
    "CIFARNAS-Exact-v0": (59.3, 69.63),
}


@dataclass(frozen=True)
class TaskSpec:
    """Static description of one offline-MBO task.

    Attributes:
        name: Short name used by :func:`load_task`, e.g. ``"tfbind8"``.
        design_bench_name: design-bench task id; keys the normalisation constants.
        dim: Number of design variables.
        num_categories: Categories per column for a discrete task, else ``None``.
        folder: design-bench data sub-folder, e.g. ``"tf_bind_8-SIX6_REF_R1"``;
            ``None`` for a generated task.
        prefix: Shard file prefix, e.g. ``"tf_bind_8"`` for ``tf_bind_8-x-0.npy``.
        compact_file: Optional compact file name (``codes`` and ``y`` arrays) that
            may stand in for the shard folder, e.g. ``"tf_bind_10-pho4.npz"``.
        embedded_file: Optional file in ``botorch_demo/data`` (``x`` uint8 tokens
            and ``y`` float32) used when no ``data_dir`` is given.
        max_percentile: design-bench's offline rule: keep rows with y at or below
            this percentile of all rows.
        sort_stride: If set, the kept rows are sorted by y (stable, ascending) and
            every ``sort_stride``-th row from row 0 is taken (DEMO's TF Bind 10).
        max_samples: If set, keep at most this many rows after the stride.
        oracle_kind: ``"lookup"`` (exact table over the full data), ``"levy"``
            (closed form), ``"generated"`` (built by ``builder``) or
            ``"unavailable"`` (the oracle raises ``NotImplementedError``).
        provenance: One-line description of where the data comes from.
        builder: For a task the package generates itself (the robustness suite,
            :mod:`botorch_demo.tasks.generated`): a function of the spec that returns
            the whole :class:`OfflineTask`, normalisation constants included.
    """

    name: str
    design_bench_name: str
    dim: int
    num_categories: int | None
    folder: str | None
    prefix: str | None
    compact_file: str | None = None
    embedded_file: str | None = None
    max_percentile: float = 50.0
    sort_stride: int | None = None
    max_samples: int | None = None
    oracle_kind: OracleKind = "unavailable"
    provenance: str = ""
    builder: Callable[[TaskSpec], OfflineTask] | None = None

    @property
    def y_min(self) -> float:
        """Full-dataset minimum of y used for normalisation."""
        return NORMALIZATION_CONSTANTS[self.design_bench_name][0]

    @property
    def y_max(self) -> float:
        """Full-dataset maximum of y used for normalisation."""
        return NORMALIZATION_CONSTANTS[self.design_bench_name][1]


TASK_SPECS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> None:
    """Add a task to the registry so that :func:`load_task` can find it.

    Args:
        spec: The task description. Unless it has a ``builder`` (which computes
            its own constants), ``spec.design_bench_name`` must have an entry in
            :data:`NORMALIZATION_CONSTANTS`.

    Raises:
        ValueError: If the name is taken or the normalisation constants are unknown.
    """
    if not spec.name or spec.name != spec.name.strip().lower():
        raise ValueError(f"Task names must be lower-case and non-empty: {spec.name!r}.")
    if spec.name in TASK_SPECS:
        raise ValueError(f"A task named {spec.name!r} is already registered.")
    if spec.builder is None and spec.design_bench_name not in NORMALIZATION_CONSTANTS:
        raise ValueError(
            f"No normalisation constants for {spec.design_bench_name!r}; add "
            "(y_min, y_max) to NORMALIZATION_CONSTANTS first."
        )
    TASK_SPECS[spec.name] = spec


def register_tasks(specs: Iterable[TaskSpec]) -> None:
    """Register each spec unless that same spec is already registered.

    Calling it twice with the same specs registers them once.

    Args:
        specs: Task descriptions (see :func:`register_task`).

    Raises:
        ValueError: If a name is taken by a different spec, or as :func:`register_task`.
    """
    for spec in specs:
        if TASK_SPECS.get(spec.name) != spec:
            register_task(spec)


def list_tasks() -> list[str]:
    """Return the names accepted by :func:`load_task`, sorted."""
    return sorted(TASK_SPECS)


def get_spec(name: str) -> TaskSpec:
    """Look up a task by short name or design-bench id (case-insensitive).

    Args:
        name: E.g. ``"tfbind8"``, ``"TFBind8"`` or ``"TFBind8-Exact-v0"``.

    Returns:
        The registered :class:`TaskSpec`.

    Raises:
        ValueError: If no task matches; the message lists the known names.
    """
    if not isinstance(name, str):
        raise ValueError(f"Task name must be a string, got {type(name).__name__}.")
    key = name.strip().lower()
    for spec in TASK_SPECS.values():
        if key in (spec.name, spec.design_bench_name.lower()):
            return spec
    raise ValueError(
        f"Unknown task {name!r}. Known tasks: {', '.join(list_tasks())} "
        "(design-bench ids such as 'TFBind8-Exact-v0' are accepted too)."
    )


def _tf_bind(length: int, factor: str, provenance: str, **offline_rule: Any) -> TaskSpec:
    """A design-bench TF Bind task: DNA ``length``-mers with an exact lookup oracle.

    Args:
        length: Sequence length (8 or 10); the tokens are the 4 bases.
        factor: The transcription factor in design-bench's folder name, e.g. ``"pho4"``.
        provenance: One line on the data.
        **offline_rule: Further :class:`TaskSpec` fields (files, offline subset).
    """
    return TaskSpec(
        name=f"tfbind{length}",
        design_bench_name=f"TFBind{length}-Exact-v0",
        dim=length,
        num_categories=4,
        folder=f"tf_bind_{length}-{factor}",
        prefix=f"tf_bind_{length}",
        max_percentile=50.0,
        oracle_kind="lookup",
        provenance=provenance,
        **offline_rule,
    )


def _user_supplied(folder: str, title: str, oracle: str, **fields: Any) -> TaskSpec:
    """A continuous design-bench task read from the user's folder, without an oracle.

    Args:
        folder: The task's sub-folder of shards, also their file prefix.
        title: The task's name in design-bench's paper, e.g. ``"Ant Morphology"``.
        oracle: What its oracle is or needs, which is why it does not run here.
        **fields: ``name``, ``design_bench_name``, ``dim`` and ``max_percentile``.
    """
    return TaskSpec(
        num_categories=None,
        folder=folder,
        prefix=folder,
        provenance=f"design-bench {title} (user-supplied files); its oracle {oracle}, "
        "not available here.",
        **fields,
    )


_NEEDS_MUJOCO = "needs MuJoCo and pretrained policies"

#: The DEMO paper's tasks (NAS aside), in registration order.
PAPER_TASKS: tuple[TaskSpec, ...] = (
    _tf_bind(
        8,
        "SIX6_REF_R1",
        "design-bench TF Bind 8 (SIX6_REF_R1): all 4^8 DNA 8-mers with binding "
        "scores; the full 65,792-row set is the exact oracle.",
        embedded_file="tfbind8.npz",
    ),
    _tf_bind(
        10,
        "pho4",
        "design-bench TF Bind 10 (pho4): 8,321,066 rows over all 4^10 DNA "
        "10-mers; exact lookup oracle keeps the last row per sequence; DEMO's "
        "50,000-design offline subset.",
        compact_file="tf_bind_10-pho4.npz",
        sort_stride=83,
        max_samples=50_000,
    ),
    TaskSpec(
        name="levy",
        design_bench_name="Levy-Exact-v0",
        dim=60,
        num_categories=None,
        folder=None,
        prefix=None,
        max_percentile=50.0,
        oracle_kind="levy",
        provenance=(
            "bayeso-benchmarks Levy(dim_problem=60) on [-10, 10]^60, y = -Levy(x); "
            "30,000 points from sample_uniform(seed=123), float32, clipped."
        ),
    ),
    _user_supplied(
        "superconductor",
        "Superconductor",
        "is a random forest trained by design-bench",
        name="superconductor",
        design_bench_name="Superconductor-RandomForest-v0",
        dim=86,
        max_percentile=80.0,
    ),
    _user_supplied(
        "ant_morphology",
        "Ant Morphology",
        _NEEDS_MUJOCO,
        name="ant",
        design_bench_name="AntMorphology-Exact-v0",
        dim=60,
        max_percentile=40.0,
    ),
    _user_supplied(
        "dkitty_morphology",
        "D'Kitty Morphology",
        _NEEDS_MUJOCO,
        name="dkitty",
        design_bench_name="DKittyMorphology-Exact-v0",
        dim=56,
        max_percentile=40.0,
    ),
)


def register_paper_tasks() -> None:
    """Register :data:`PAPER_TASKS`; calling it again is a no-op."""
    register_tasks(PAPER_TASKS)
