"""Trained components shared by the methods of one (task, seed) group.

Three DEMO fits cover every model-based method, and each is built lazily, only
when a requested method needs it:

* **pseudo-target model** -- ``DEMO(config).fit(...)``: the surrogate (Eq. 5),
  the gradient-ascent dataset D' (Eq. 6) and the diffusion model trained on D'.
  DEMO = ``generate()``, DEMO w/o editing = ``generate(editing=False)``,
  Grad = ``ascent_candidates()``. If no requested method samples from this
  diffusion model (e.g. Grad alone), its training stops after one epoch.
* **offline model** -- ``DEMO(config.replace(pseudo_target=False)).fit(...,
  reuse_surrogate=...)``: a diffusion model trained on the offline data, reusing
  the shared surrogate. DEMO w/o pseudo-target = ``generate()``,
  DDOM = ``generate(editing=False)``.
* **surrogate** -- the pseudo-target model's surrogate when that model is needed
  anyway (DEMO, its no-editing ablation, Grad); otherwise a fit that stops right
  after the surrogate (one diffusion epoch, discarded). Both give bit-identical
  surrogate weights for a seed, because every network draws from seeded streams
  of its own (:func:`~botorch_demo.fitting.seeded_generator`), so a cell's
  numbers never depend on which other methods ran in the same group. CMA-ES
  uses it, and the offline model reuses it.

Seconds are recorded per component: ``surrogate``, ``ascent``,
``pseudo_target_diffusion`` and ``offline_diffusion``.

A group may run methods under several DEMO configurations (method variants such
as ``demo[ascent_optimizer=sgd]``): :class:`GroupModels` keeps one
:class:`SharedModels` per phase-1 configuration, that is the configuration with
its phase-2 fields (:data:`~botorch_demo.config.GENERATION_FIELDS`) reset to the
profile's. Configurations that differ only in those fields share one set of
fits, and their differences are passed to ``generate``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import torch

from botorch_demo.config import GENERATION_FIELDS, DEMOConfig
from botorch_demo.model import DEMO
from botorch_demo.tasks.task import OfflineTask

#: Component names, in build order.
COMPONENTS = ("surrogate", "ascent", "pseudo_target_diffusion", "offline_diffusion")

PhaseCallback = Callable[[str], None]


class SharedModels:
    """Lazily fitted DEMO models for one task and seed.

    Args:
        task: The offline task.
        seed: Seed of every fit (weights, minibatches, noise).
        config: DEMO configuration of the pseudo-target model; the offline model
            uses ``config.replace(pseudo_target=False)``.
        device: Torch device of the fits.
        needed: Components the requested methods need (see :data:`COMPONENTS`);
            decides whether the surrogate comes from the full pseudo-target fit.
        on_phase: Called with a short description before each fit.
    """

    def __init__(
        self,
        task: OfflineTask,
        seed: int,
        config: DEMOConfig,
        device: torch.device | str = "cpu",
        needed: Iterable[str] = COMPONENTS,
        on_phase: PhaseCallback | None = None,
    ) -> None:
        self.task = task
        self.seed = int(seed)
        self.config = config
        self.device = torch.device(device)
        self.needed = frozenset(needed)
        unknown = sorted(self.needed - set(COMPONENTS))
        if unknown:
            raise ValueError(f"Unknown components {unknown}; known: {list(COMPONENTS)}.")
        self.on_phase = on_phase or (lambda _: None)
        self.seconds: dict[str, float] = {}
        self._pseudo_target: DEMO | None = None
        self._surrogate_only: DEMO | None = None
        self._offline: DEMO | None = None

    def _fit_args(self) -> tuple:
        t = self.task
        return (
            t.train_X.to(self.device),
            t.train_Y.to(self.device),
            t.bounds.to(self.device),
            t.categorical_features or None,
        )

    @property
    def _wants_pseudo_target(self) -> bool:
        return bool(self.needed & {"ascent", "pseudo_target_diffusion"})

    def pseudo_target_model(self, diffusion: bool = True) -> DEMO:
        """The pseudo-target DEMO fit (surrogate, D' and its diffusion model).

        When no requested method needs the diffusion model on D' (e.g. Grad
        alone), its training stops after one epoch: the surrogate and D' are the
        same, and that epoch's seconds are counted under ``ascent``.

        Args:
            diffusion: Whether the caller uses the diffusion model (then
                ``"pseudo_target_diffusion"`` must be among ``needed``).
        """
        if diffusion and "pseudo_target_diffusion" not in self.needed:
            raise RuntimeError(
                "The diffusion model on D' was not declared as needed: add "
                "'pseudo_target_diffusion' to the method's components."
            )
        if self._pseudo_target is None:
            full = "pseudo_target_diffusion" in self.needed
            config = self.config if full else self.config.replace(diffusion_epochs=1)
            what = "surrogate, ascent, diffusion on D'" if full else "surrogate, ascent"
            self.on_phase(f"fitting DEMO ({what})")
            model = DEMO(config).fit(*self._fit_args(), seed=self.seed)
            self.seconds["surrogate"] = model.fit_seconds["surrogate"]
            self.seconds["ascent"] = model.fit_seconds["ascent"]
            if full:
                self.seconds["pseudo_target_diffusion"] = model.fit_seconds["diffusion"]
            else:
                self.seconds["ascent"] += model.fit_seconds["diffusion"]
            self._pseudo_target = model
        return self._pseudo_target

    def surrogate_model(self) -> DEMO:
        """A fitted DEMO whose ``surrogate`` and ``encoder`` are the shared surrogate."""
        if self._pseudo_target is not None or self._wants_pseudo_target:
            return self.pseudo_target_model(diffusion=False)
        if self._surrogate_only is None:
            self.on_phase("fitting the surrogate")
            config = self.config.replace(pseudo_target=False, diffusion_epochs=1)
            tic = time.perf_counter()
            model = DEMO(config).fit(*self._fit_args(), seed=self.seed)
            self.seconds["surrogate"] = time.perf_counter() - tic
            self._surrogate_only = model
        return self._surrogate_only

    def offline_model(self) -> DEMO:
        """The diffusion model trained on the offline data (shared surrogate)."""
        if self._offline is None:
            surrogate = self.surrogate_model()
            self.on_phase("fitting the diffusion model on the offline data")
            tic = time.perf_counter()
            model = DEMO(self.config.replace(pseudo_target=False)).fit(
                *self._fit_args(), seed=self.seed, reuse_surrogate=surrogate
            )
            self.seconds["offline_diffusion"] = time.perf_counter() - tic
            self._offline = model
        return self._offline


def split_config(config: DEMOConfig, base: DEMOConfig) -> tuple[DEMOConfig, dict[str, Any]]:
    """Split a method's configuration into the fit it needs and its phase-2 overrides.

    Args:
        config: The configuration the method runs with.
        base: The profile's configuration.

    Returns:
        ``(fit, generation)``: ``config`` with its phase-2 fields reset to
        ``base``'s (the key of its fits), and the phase-2 fields in which
        ``config`` differs from that fit (to pass to ``generate``). The
        configuration's cross-field checks only relate phase-2 fields to each
        other (``m <= M``, ``edit_source`` with ``editing``), so ``base``'s
        phase-2 values always validate with ``config``'s other fields.
    """
    fit = config.replace(**{name: getattr(base, name) for name in GENERATION_FIELDS})
    generation = {
        name: getattr(config, name)
        for name in GENERATION_FIELDS
        if getattr(config, name) != getattr(fit, name)
    }
    return fit, generation


class GroupModels:
    """The shared fits of one (task, seed) group: a :class:`SharedModels` per fit.

    Every method of the group is declared with :meth:`add` before the first fit,
    so that each set of fits knows which components its methods need and how
    many methods share each of them (for the time attribution of the cells).

    Args:
        task: The offline task.
        seed: Seed of every fit.
        base: The profile's DEMO configuration.
        device: Torch device of the fits.
        on_phase: Called with a short description before each fit.
    """

    def __init__(
        self,
        task: OfflineTask,
        seed: int,
        base: DEMOConfig,
        device: torch.device | str = "cpu",
        on_phase: PhaseCallback | None = None,
    ) -> None:
        self.task = task
        self.seed = int(seed)
        self.base = base
        self.device = torch.device(device)
        self.on_phase = on_phase
        self._users: dict[DEMOConfig, Counter[str]] = {}
        self._models: dict[DEMOConfig, SharedModels] = {}

    def add(self, config: DEMOConfig, components: Iterable[str]) -> None:
        """Declare a method that uses ``components`` of the fits of ``config``.

        Raises:
            RuntimeError: If those fits were already built.
        """
        fit, _ = split_config(config, self.base)
        if fit in self._models:
            raise RuntimeError("Declare every method of a group before its first fit.")
        self._users.setdefault(fit, Counter()).update(components)

    def models(self, config: DEMOConfig) -> tuple[SharedModels, dict[str, Any]]:
        """The shared models for ``config`` and the phase-2 overrides of its ``generate``."""
        fit, generation = split_config(config, self.base)
        if fit not in self._models:
            needed = self._users.get(fit, Counter()).keys()
            self._models[fit] = SharedModels(
                self.task, self.seed, fit, self.device, needed, self.on_phase
            )
        return self._models[fit], generation

    def shared_by(self, config: DEMOConfig, components: Iterable[str]) -> dict[str, int]:
        """How many declared methods share each of ``components`` of ``config``'s fits."""
        users = self._users.get(split_config(config, self.base)[0], Counter())
        return {c: users[c] for c in components}
