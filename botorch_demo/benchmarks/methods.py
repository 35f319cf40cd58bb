"""The method registry of the benchmark harness.

A method is a name, the paper's label, the shared components it needs (see
:mod:`botorch_demo.benchmarks.components`) and a function from a
:class:`MethodContext` to K candidates. Adding a method is one
:func:`register_method` call:

    >>> def my_method(ctx: MethodContext) -> MethodOutput:
    ...     model = ctx.shared.surrogate_model()
    ...     X, pred = model.ascent_candidates(ctx.q)
    ...     return MethodOutput(X, pred)
    >>> register_method(Method("my-method", "Mine", "...", ("surrogate",), my_method))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from botorch_demo.benchmarks.components import COMPONENTS, PhaseCallback, SharedModels
from botorch_demo.benchmarks.profiles import BenchProfile
from botorch_demo.tasks.task import OfflineTask


@dataclass
class MethodContext:
    """What a method gets: the task, the seed, the profile and the shared models.

    Attributes:
        task: The offline task.
        seed: The cell's seed.
        profile: The benchmark profile (K, DEMO config, CMA-ES and BO budgets).
        shared: Lazily fitted models shared within this task and seed.
        device: Torch device for model-based methods.
        on_phase: Reports the current phase (shown in the progress bar).
    """

    task: OfflineTask
    seed: int
    profile: BenchProfile
    shared: SharedModels
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    on_phase: PhaseCallback = field(default=lambda _: None)

    @property
    def q(self) -> int:
        """Number of candidates K."""
        return self.profile.q


@dataclass(frozen=True)
class MethodOutput:
    """K candidates proposed by a method.

    Attributes:
        candidates: ``q x d`` raw designs (any device; stored as CPU float64).
        predicted: ``q`` surrogate predictions in raw units, or ``None``.
        info: Method-specific extras stored with the cell (JSON-friendly).
    """

    candidates: Tensor
    predicted: Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """A registered benchmark method.

    Attributes:
        name: Registry key, e.g. ``"demo"``.
        label: Name in the paper's tables, e.g. ``"DEMO"``.
        description: One line on what it does.
        components: Shared components it uses (for sharing and time attribution).
        run: The method itself.
        unsupported: Optional check of a task name: ``None`` if the method runs
            on the task, else the reason it does not (the harness then skips
            those cells and the tables show "–").
    """

    name: str
    label: str
    description: str
    components: tuple[str, ...]
    run: Callable[[MethodContext], MethodOutput] = field(repr=False)
    unsupported: Callable[[str], str | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.components) - set(COMPONENTS))
        if unknown:
            raise ValueError(
                f"Method {self.name!r} names unknown components {unknown}; known: {COMPONENTS}."
            )


METHODS: dict[str, Method] = {}

_PT = ("surrogate", "ascent", "pseudo_target_diffusion")
_OFFLINE = ("surrogate", "offline_diffusion")


def register_method(method: Method, *, overwrite: bool = False) -> None:
    """Add a method to the registry.

    Args:
        method: The method.
        overwrite: Replace a method of the same name instead of raising.

    Raises:
        ValueError: If the name is taken and ``overwrite`` is ``False``, or the
            name is empty or contains a comma or a path separator.
    """
    name = method.name
    if not name or any(c in name for c in ",/\\ ") or name != name.lower():
        raise ValueError(f"Method names must be lower-case words without ',/\\ ': {name!r}.")
    if name in METHODS and not overwrite:
        raise ValueError(f"A method named {name!r} is already registered.")
    METHODS[name] = method


def list_methods() -> list[str]:
    """Names of the registered methods, in registry order."""
    return list(METHODS)


def resolve_methods(names: Iterable[str] | str | None) -> list[Method]:
    """Validate method names (a list or a comma-separated string).

    Args:
        names: Method names; ``None`` or ``"all"`` selects every method.

    Returns:
        The methods, in registry order, without repeats.

    Raises:
        ValueError: For unknown or no names; the message lists the known ones.
    """
    if names is None or names == "all":
        return list(METHODS.values())
    if isinstance(names, str):
        names = names.split(",")
    wanted = [n.strip().lower() for n in names if n.strip()]
    if not wanted:
        raise ValueError(f"No methods given. Known methods: {list_methods()}.")
    unknown = [n for n in wanted if n not in METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}. Known methods: {list_methods()}.")
    return [m for m in METHODS.values() if m.name in wanted]


def needed_components(methods: Sequence[Method]) -> set[str]:
    """Union of the components the methods need."""
    return {c for m in methods for c in m.components}


# --------------------------------------------------------------------- methods
def _demo(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.pseudo_target_model()
    ctx.on_phase("editing the top designs (DEMO)")
    X, pred = model.generate(ctx.q, seed=ctx.seed)
    return MethodOutput(X, pred)


def _demo_no_editing(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.pseudo_target_model()
    ctx.on_phase("sampling from noise (DEMO w/o editing)")
    X, pred = model.generate(ctx.q, seed=ctx.seed, editing=False)
    return MethodOutput(X, pred)


def _grad(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.pseudo_target_model(diffusion=False)
    X, pred = model.ascent_candidates(ctx.q)
    return MethodOutput(X, pred)


def _demo_no_pseudo_target(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.offline_model()
    ctx.on_phase("editing with the offline diffusion model")
    X, pred = model.generate(ctx.q, seed=ctx.seed)
    return MethodOutput(X, pred)


def _ddom(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.offline_model()
    ctx.on_phase("sampling from noise with the offline diffusion model (DDOM)")
    X, pred = model.generate(ctx.q, seed=ctx.seed, editing=False)
    return MethodOutput(X, pred)


def _cma_es(ctx: MethodContext) -> MethodOutput:
    from botorch_demo.benchmarks.cmaes import cmaes_candidates

    model = ctx.shared.surrogate_model()
    ctx.on_phase("CMA-ES on the surrogate")
    result = cmaes_candidates(model, ctx.q, ctx.profile.cmaes, ctx.seed)
    return MethodOutput(result.candidates, result.predicted, result.info)


def _bo_qei_unsupported(task: str) -> str | None:
    from botorch_demo.benchmarks.bo_qei import bo_qei_unsupported

    return bo_qei_unsupported(task)


def _bo_qei(ctx: MethodContext) -> MethodOutput:
    from botorch_demo.benchmarks.bo_qei import bo_qei_candidates

    ctx.on_phase("BO-qEI through Ax")
    result = bo_qei_candidates(ctx.task, ctx.q, ctx.profile.bo, ctx.seed)
    return MethodOutput(result.candidates, None, result.info)


for _method in (
    Method(
        "demo",
        "DEMO",
        "edit the top-K offline designs with the diffusion model trained on D'",
        _PT,
        _demo,
    ),
    Method(
        "demo-no-pseudo-target",
        "DEMO w/o pseudo-target",
        "edit the top-K offline designs with a diffusion model trained on the offline data",
        _OFFLINE,
        _demo_no_pseudo_target,
    ),
    Method(
        "demo-no-editing",
        "DEMO w/o editing",
        "sample from N(0, I) with the diffusion model trained on D'",
        _PT,
        _demo_no_editing,
    ),
    Method(
        "ddom",
        "DDOM",
        "sample from N(0, I) with a diffusion model trained on the offline data",
        _OFFLINE,
        _ddom,
    ),
    Method(
        "grad",
        "Grad",
        "gradient ascent on the surrogate from the top-K offline designs",
        ("surrogate", "ascent"),
        _grad,
    ),
    Method(
        "cma-es",
        "CMA-ES",
        "CMA-ES on the surrogate in the encoded space; K best distinct designs seen",
        ("surrogate",),
        _cma_es,
    ),
    Method(
        "bo-qei",
        "BO-qEI",
        "Ax: exact GP on a subset of the offline data, qLogEI, one batch of K",
        (),
        _bo_qei,
        _bo_qei_unsupported,
    ),
):
    register_method(_method)
