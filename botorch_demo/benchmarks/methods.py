"""The method registry of the benchmark harness, and method variants.

A method is a name, the paper's label, the shared components it needs (see
:mod:`botorch_demo.benchmarks.components`) and a function from a
:class:`MethodContext` to K candidates. Adding a method is one
:func:`register_method` call:

    >>> def my_method(ctx: MethodContext) -> MethodOutput:
    ...     model = ctx.shared.surrogate_model()
    ...     X, pred = model.ascent_candidates(ctx.q)
    ...     return MethodOutput(X, pred)
    >>> register_method(Method("my-method", "Mine", "...", ("surrogate",), my_method))

**Variants.** ``demo[m=200,guidance_weight=3]`` names the registered method
``demo`` run with ``profile.demo.replace(m=200, guidance_weight=3.0)``. Values
are read as JSON scalars (ints, floats, ``true``/``false``, ``null``); anything
else is a string. The canonical name lists the fields sorted, with the values
the configuration holds (``demo[guidance_weight=3.0,m=200]``); it is the cell's
method key and folder name, and the label is ``DEMO [guidance_weight=3.0,m=200]``.
A variant shares the fits of every method with the same phase-1 configuration;
its phase-2 fields (:data:`~botorch_demo.config.GENERATION_FIELDS`) reach
``generate`` through :meth:`MethodContext.generate`, so ``demo[m=0]`` to
``demo[m=1000]`` share one fit.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from botorch_demo.benchmarks.components import COMPONENTS, PhaseCallback, SharedModels
from botorch_demo.benchmarks.profiles import BenchProfile
from botorch_demo.config import ONE_EDIT_PER_DESIGN, DEMOConfig
from botorch_demo.model import DEMO
from botorch_demo.tasks.task import OfflineTask

#: DEMOConfig fields a variant may set (``progress`` changes no result).
VARIANT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(DEMOConfig) if f.name != "progress"
)


@dataclass
class MethodContext:
    """What a method gets: the task, the seed, the profile and the shared models.

    Attributes:
        task: The offline task.
        seed: The cell's seed.
        profile: The benchmark profile (K, DEMO config, CMA-ES and BO budgets);
            for a variant, its ``demo`` is the variant's configuration.
        shared: Lazily fitted models shared within this task and seed (the fits
            of this method's phase-1 configuration).
        device: Torch device for model-based methods.
        on_phase: Reports the current phase (shown in the progress bar).
        generation: Phase-2 fields in which the method's configuration differs
            from its fits; :meth:`generate` passes them on.
    """

    task: OfflineTask
    seed: int
    profile: BenchProfile
    shared: SharedModels
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    on_phase: PhaseCallback = field(default=lambda _: None)
    generation: dict[str, Any] = field(default_factory=dict)

    @property
    def q(self) -> int:
        """Number of candidates K."""
        return self.profile.q

    def generate(self, model: DEMO, **overrides: Any) -> tuple[Tensor, Tensor]:
        """``model.generate(K, seed=seed)`` with the method's phase-2 fields.

        Args:
            model: A shared fitted model.
            **overrides: Phase-2 fields the method itself fixes (e.g.
                ``editing=False``); they win over a variant's.
        """
        return model.generate(self.q, seed=self.seed, **{**self.generation, **overrides})


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
    """A registered benchmark method, or a variant of one.

    Attributes:
        name: Registry key, e.g. ``"demo"``; for a variant its canonical name,
            e.g. ``"demo[m=200]"``.
        label: Name in the paper's tables, e.g. ``"DEMO"`` (``"DEMO [m=200]"``).
        description: One line on what it does.
        components: Shared components it uses (for sharing and time attribution).
        run: The method itself.
        unsupported: Optional check of a task name: ``None`` if the method runs
            on the task, else the reason it does not (the harness then skips
            those cells and the tables show "–").
        overrides: A variant's ``DEMOConfig`` fields, sorted by name; empty for
            a registered method.
    """

    name: str
    label: str
    description: str
    components: tuple[str, ...]
    run: Callable[[MethodContext], MethodOutput] = field(repr=False)
    unsupported: Callable[[str], str | None] | None = field(default=None, repr=False)
    overrides: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.components) - set(COMPONENTS))
        if unknown:
            raise ValueError(
                f"Method {self.name!r} names unknown components {unknown}; known: {COMPONENTS}."
            )

    @property
    def base_name(self) -> str:
        """The registered method a variant runs (its own name otherwise)."""
        return self.name.partition("[")[0]

    def config(self, base: DEMOConfig) -> DEMOConfig:
        """The DEMO configuration the method runs with: ``base`` with its overrides."""
        return base.replace(**dict(self.overrides)) if self.overrides else base

    def variant(self, overrides: Mapping[str, Any], base: DEMOConfig) -> Method:
        """This method with ``DEMOConfig`` fields replaced.

        Args:
            overrides: Field values (at least one).
            base: The configuration they replace fields of (validates them and
                gives their canonical form, e.g. ``3`` -> ``3.0`` for a float).

        Raises:
            ValueError: For a method that uses no DEMO fit, an unknown field or
                a bad value; the message names the variant and lists the fields.
        """
        text = _variant_text(self.name, overrides)
        if not self.components:
            raise ValueError(
                f"Method variant {text!r}: {self.name!r} uses no DEMO fit, so DEMOConfig "
                "fields do not change it."
            )
        unknown = sorted(set(overrides) - set(VARIANT_FIELDS))
        problem = f"unknown DEMOConfig field(s) {unknown}." if unknown else None
        if problem is None:
            try:
                config = base.replace(**overrides)
            except (TypeError, ValueError) as err:
                problem = str(err)
        if problem is not None:
            raise ValueError(
                f"Method variant {text!r}: {problem} Valid fields: {', '.join(VARIANT_FIELDS)}."
            )
        items = tuple((k, getattr(config, k)) for k in sorted(overrides))
        fields = _variant_text("", dict(items))
        return dataclasses.replace(
            self, name=f"{self.name}{fields}", label=f"{self.label} {fields}", overrides=items
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
            name is empty, is not lower-case, or contains one of ``,/\\ []=``.
    """
    name = method.name
    if not name or any(c in name for c in ",/\\ []=") or name != name.lower():
        raise ValueError(f"Method names must be lower-case words without ',/\\ []=': {name!r}.")
    if name in METHODS and not overwrite:
        raise ValueError(f"A method named {name!r} is already registered.")
    METHODS[name] = method


def list_methods() -> list[str]:
    """Names of the registered methods, in registry order."""
    return list(METHODS)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _variant_text(name: str, overrides: Mapping[str, Any]) -> str:
    return name + "[" + ",".join(f"{k}={_value_text(v)}" for k, v in overrides.items()) + "]"


def _parse_value(text: str) -> Any:
    """A JSON scalar (int, float, bool, null, quoted string), else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if value is None or isinstance(value, (bool, int, float, str)) else text


def split_methods(text: str) -> list[str]:
    """Split a comma-separated method list, keeping the commas inside ``[...]``.

    Raises:
        ValueError: For unbalanced brackets.
    """
    names, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            raise ValueError(f"Unbalanced brackets in the method list {text!r}.")
        if char == "," and depth == 0:
            names.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"Unbalanced brackets in the method list {text!r}.")
    names.append(text[start:])
    return [n.strip() for n in names if n.strip()]


_VARIANT = re.compile(r"^([^\[\]]+?)\s*(?:\[(.*)\])?$", re.DOTALL)


def parse_method_name(text: str) -> tuple[str, dict[str, Any]]:
    """``"demo[m=200,guidance_weight=3]"`` -> ``("demo", {"m": 200, "guidance_weight": 3})``.

    Raises:
        ValueError: For text that is not ``name`` or ``name[field=value,...]``,
            a pair without ``=``, a repeated field or empty brackets.
    """
    match = _VARIANT.match(text.strip())
    if match is None:
        raise ValueError(f"Bad method name {text!r}; use name or name[field=value,...].")
    base, inside = match.group(1).strip().lower(), match.group(2)
    overrides: dict[str, Any] = {}
    if inside is None:
        return base, overrides
    if not inside.strip():
        raise ValueError(f"Method variant {text!r} sets no field; use name[field=value,...].")
    for pair in inside.split(","):
        key, eq, value = (part.strip() for part in pair.partition("="))
        if not eq or not key:
            raise ValueError(f"Method variant {text!r}: {pair.strip()!r} is not field=value.")
        if key in overrides:
            raise ValueError(f"Method variant {text!r} sets {key!r} twice.")
        overrides[key] = _parse_value(value)
    return base, overrides


def resolve_methods(
    names: Iterable[str] | str | None, config: DEMOConfig | None = None
) -> list[Method]:
    """Validate method names and variants (a list or a comma-separated string).

    Args:
        names: Method names, each possibly a variant ``name[field=value,...]``;
            ``None`` or ``"all"`` selects every registered method.
        config: The DEMO configuration variants replace fields of (the
            profile's); default ``DEMOConfig()``.

    Returns:
        The methods without repeats (by canonical name): registered methods in
        registry order, each followed by its variants in the order given.

    Raises:
        ValueError: For unknown or no names (the message lists the known ones),
            or a bad variant (see :meth:`Method.variant`).
    """
    if names is None or names == "all":
        return list(METHODS.values())
    if isinstance(names, str):
        names = [names]
    parsed = [parse_method_name(n) for item in names for n in split_methods(item)]
    if not parsed:
        raise ValueError(f"No methods given. Known methods: {list_methods()}.")
    unknown = list(dict.fromkeys(base for base, _ in parsed if base not in METHODS))
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}. Known methods: {list_methods()}.")
    base_config = config if config is not None else DEMOConfig()
    chosen: dict[str, Method] = {}
    for base, overrides in parsed:
        method = METHODS[base]
        if overrides:
            method = method.variant(overrides, base_config)
        chosen.setdefault(method.name, method)
    order = list(METHODS)
    return sorted(chosen.values(), key=lambda m: (order.index(m.base_name), bool(m.overrides)))


# --------------------------------------------------------------------- methods
def _sampling(
    model: str, editing: bool, phase: str, fixed: Mapping[str, Any] | None = None
) -> Callable[[MethodContext], MethodOutput]:
    """A method that generates K candidates with one of the shared diffusion models.

    Args:
        model: ``"pseudo_target"`` (the diffusion model on D') or ``"offline"``.
        editing: Edit the top-K designs (``True``; the model's ``edit_source``
            says which) or sample from N(0, I).
        phase: Progress text while it generates.
        fixed: Phase-2 fields the method itself fixes (they win over a
            variant's), or ``None``.

    The cell's ``info`` holds the guards' counts of ``model.diagnostics``, the
    reach of the edits from their sources (``reach_edits``) and of D' from the
    offline designs (``reach_ascent``; :mod:`botorch_demo.reach`).
    """

    def run(ctx: MethodContext) -> MethodOutput:
        shared = ctx.shared
        fitted = shared.offline_model() if model == "offline" else shared.pseudo_target_model()
        ctx.on_phase(phase)
        X, pred = ctx.generate(fitted, **(fixed or {}), **({} if editing else {"editing": False}))
        d = fitted.diagnostics
        diagnostics = {
            "n_distinct_raw": d.n_distinct_raw,
            "n_predicted_above_source": d.n_predicted_above_source,
            "n_states_outside": d.n_states_outside,
            "collapsed": d.collapsed,
        }
        info: dict[str, Any] = {"diagnostics": diagnostics, **_ascent_reach(fitted)}
        if d.reach is not None:
            info["reach_edits"] = d.reach.to_dict()
        return MethodOutput(X, pred, info)

    return run


def _ascent_reach(fitted: Any) -> dict[str, Any]:
    """``{"reach_ascent": ...}``: how far D' lies from the offline designs, if fitted."""
    reach = fitted.fit_stats.get("ascent")
    return {} if reach is None else {"reach_ascent": reach.to_dict()}


def _grad(ctx: MethodContext) -> MethodOutput:
    model = ctx.shared.pseudo_target_model(diffusion=False)
    X, pred = model.ascent_candidates(ctx.q)
    return MethodOutput(X, pred, _ascent_reach(model))


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
        "edit the top-K designs (with the default edit_source, offline designs and their "
        "D' points alternately) with the diffusion model trained on D'",
        _PT,
        _sampling("pseudo_target", True, "editing the top designs (DEMO)"),
    ),
    Method(
        "demo-no-pseudo-target",
        "DEMO w/o pseudo-target",
        "edit the top-K offline designs with a diffusion model trained on the offline data",
        _OFFLINE,
        _sampling("offline", True, "editing with the offline diffusion model"),
    ),
    Method(
        "demo-no-editing",
        "DEMO w/o editing",
        "sample from N(0, I) with the diffusion model trained on D'",
        _PT,
        _sampling("pseudo_target", False, "sampling from noise (DEMO w/o editing)"),
    ),
    Method(
        "ddom",
        "DDOM",
        "sample from N(0, I) with a diffusion model trained on the offline data, one "
        "sample per slot as DDOM does",
        _OFFLINE,
        _sampling(
            "offline",
            False,
            "sampling from noise with the offline diffusion model (DDOM)",
            ONE_EDIT_PER_DESIGN,
        ),
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
