"""The one place where this package and its benchmarks touch private Ax
attributes (the tutorials use public Ax API only, e.g. ``Client.summarize``).

Ax 1.3.1 offers no public accessor for these:

- a ``Client``'s experiment and generation strategy (its ``_experiment`` and
  ``_generation_strategy`` properties raise when none is set):
  :func:`client_experiment` and :func:`client_generation_strategy` read
  ``Client._maybe_experiment`` and ``Client._maybe_generation_strategy``;
- the optimization config and the experiment an ``Adapter`` was built with:
  :func:`adapter_optimization_config` and :func:`adapter_experiment` read
  ``Adapter._optimization_config`` and ``Adapter._experiment`` for
  ``DEMOAdapter`` (overriding ``__init__`` instead is not possible: Ax filters
  the keyword arguments it passes to an adapter class by that class's own
  signature);
- the generation node that made a generator run:
  :func:`generation_node_name` reads ``GeneratorRun._generation_node_name``.

``tests/test_ax_private_api.py`` fails loudly if Ax renames or removes any of
them, and checks that no other module, benchmark or tutorial reads a private Ax
or BoTorch attribute. Everything else goes through public Ax API:
``Client.db_settings`` / ``db_settings_set`` and
``ax.storage.sqa_store.save.save_or_update_trials`` for saving,
``GenerationStrategy.experiment`` and ``nodes_by_name``, and
``GeneratorSetup(adapter_class=...)`` with the ``Adapter._fit`` hook that every
Ax adapter overrides.
"""

from __future__ import annotations

from typing import Any

from ax.adapter.base import Adapter
from ax.api.client import Client
from ax.core.experiment import Experiment
from ax.core.generator_run import GeneratorRun
from ax.core.optimization_config import OptimizationConfig
from ax.exceptions.core import AxError
from ax.generation_strategy.generation_strategy import GenerationStrategy


def client_experiment(client: Client) -> Experiment | None:
    """The ``Client``'s experiment, or None if it has none yet."""
    return _private(client, Client, "_maybe_experiment")


def client_generation_strategy(client: Client) -> GenerationStrategy | None:
    """The ``Client``'s generation strategy, or None if it has none yet."""
    return _private(client, Client, "_maybe_generation_strategy")


def adapter_optimization_config(adapter: Adapter) -> OptimizationConfig | None:
    """The optimization config an ``Adapter`` was built with."""
    return _private(adapter, Adapter, "_optimization_config")


def adapter_experiment(adapter: Adapter) -> Experiment:
    """The experiment an ``Adapter`` was built for."""
    return _private(adapter, Adapter, "_experiment")


def generation_node_name(generator_run: GeneratorRun) -> str | None:
    """The name of the generation node that made ``generator_run`` (None for a
    run made outside a generation strategy, e.g. an offline import)."""
    return _private(generator_run, GeneratorRun, "_generation_node_name")


def _private(obj: Any, owner: type, name: str) -> Any:
    """``obj.<name>``, a private attribute of Ax's class ``owner``.

    Raises:
        AxError: If this Ax version does not have the attribute.
    """
    if not hasattr(obj, name):  # pragma: no cover - only with another Ax
        raise AxError(
            f"botorch_demo.ax reads `{owner.__name__}.{name}`, which this Ax version does "
            "not have; please report this incompatibility to botorch-demo."
        )
    return getattr(obj, name)
