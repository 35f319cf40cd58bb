"""The one place where this package touches private Ax attributes.

- Ax 1.3.1's ``Client`` has no public accessor for its experiment (its
  ``_experiment`` property raises when none is configured, and the public API
  offers nothing else), so :func:`client_experiment` reads
  ``Client._maybe_experiment``.
- An ``Adapter`` keeps the optimization config and the experiment it was built
  with in ``_optimization_config`` and ``_experiment`` and exposes no public
  property for them; :func:`adapter_optimization_config` and
  :func:`adapter_experiment` read them for ``DEMOAdapter``. (Overriding
  ``__init__`` instead is not possible: Ax filters the keyword arguments it
  passes to an adapter class by that class's own signature.)

``tests/test_ax_private_api.py`` fails loudly if Ax renames or removes either.
Everything else goes through public Ax API:
``Client.db_settings`` / ``db_settings_set`` and
``ax.storage.sqa_store.save.save_or_update_trials`` for saving, and
``GeneratorSetup(adapter_class=...)`` with the ``Adapter._fit`` hook that every
Ax adapter overrides.
"""

from __future__ import annotations

from ax.adapter.base import Adapter
from ax.api.client import Client
from ax.core.experiment import Experiment
from ax.core.optimization_config import OptimizationConfig
from ax.exceptions.core import AxError


def client_experiment(client: Client) -> Experiment | None:
    """The ``Client``'s experiment, or None if it has none yet.

    Raises:
        AxError: If this Ax version no longer has ``Client._maybe_experiment``.
    """
    try:
        return client._maybe_experiment
    except AttributeError as err:  # pragma: no cover - only with another Ax
        raise AxError(
            "botorch_demo.ax reads `Client._maybe_experiment`, which this Ax version "
            "does not have; please report this incompatibility to botorch-demo."
        ) from err


def adapter_optimization_config(adapter: Adapter) -> OptimizationConfig | None:
    """The optimization config an ``Adapter`` was built with.

    Raises:
        AxError: If this Ax version no longer has ``Adapter._optimization_config``.
    """
    if not hasattr(adapter, "_optimization_config"):  # pragma: no cover
        raise AxError(
            "botorch_demo.ax reads `Adapter._optimization_config`, which this Ax "
            "version does not have; please report this incompatibility to botorch-demo."
        )
    return adapter._optimization_config


def adapter_experiment(adapter: Adapter) -> Experiment:
    """The experiment an ``Adapter`` was built for.

    Raises:
        AxError: If this Ax version no longer has ``Adapter._experiment``.
    """
    if not hasattr(adapter, "_experiment"):  # pragma: no cover
        raise AxError(
            "botorch_demo.ax reads `Adapter._experiment`, which this Ax version does "
            "not have; please report this incompatibility to botorch-demo."
        )
    return adapter._experiment
