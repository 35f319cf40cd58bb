"""Ax storage helpers: a registry bundle and an SQLite ``StorageConfig``.

Ax 1.3 keeps ONE SQLAlchemy engine per process (``ax.storage.sqa_store.db``):
every ``Client`` with a storage config reads and writes through it, whatever
URL its own ``StorageConfig`` names, and Ax ignores a second URL silently. Two
campaigns in one process therefore share one database file. This module never
rebinds that engine behind the user's back: :func:`sqlite_storage_config`
refuses a second file with a :class:`~botorch_demo.ax.StorageBindingError`
unless the caller asks for ``rebind=True`` (see :mod:`botorch_demo.ax.binding`
for the checks that keep a ``Client`` from writing into another file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ax.api.configs import StorageConfig
from ax.core.metric import Metric
from ax.core.runner import Runner
from ax.storage.json_store.registry import CORE_DECODER_REGISTRY, CORE_ENCODER_REGISTRY
from ax.storage.metric_registry import CORE_METRIC_REGISTRY
from ax.storage.registry_bundle import RegistryBundle
from ax.storage.runner_registry import CORE_RUNNER_REGISTRY
from ax.storage.sqa_store.db import (
    create_all_tables,
    get_engine,
    init_engine_and_session_factory,
)
from sqlalchemy.pool import StaticPool

from botorch_demo.ax.binding import (
    MEMORY_URL,
    StorageBindingError,
    bound_database_url,
    normalised_url,
    sqlite_url,
)
from botorch_demo.ax.registry import DECODER_ENTRIES, ENCODER_ENTRIES, register


def registry_bundle(
    metric_classes: Mapping[type[Metric], int | None] | None = None,
    runner_classes: Mapping[type[Runner], int | None] | None = None,
) -> RegistryBundle:
    """A ``RegistryBundle`` that can encode and decode DEMO generation strategies.

    Args:
        metric_classes: Custom ``Metric`` classes to register (see Ax's
            ``RegistryBundle``).
        runner_classes: Custom ``Runner`` classes to register.

    Returns:
        The bundle, for ``StorageConfig(registry_bundle=...)``, ``DBSettings``
        or Ax's ``sqa_store`` functions.
    """
    register()
    return RegistryBundle(
        # RegistryBundle registers ONLY the classes it is given; keep Ax's own.
        metric_clss={**CORE_METRIC_REGISTRY, **(metric_classes or {})},
        runner_clss={**CORE_RUNNER_REGISTRY, **(runner_classes or {})},
        json_encoder_registry={**CORE_ENCODER_REGISTRY, **ENCODER_ENTRIES},
        json_decoder_registry={**CORE_DECODER_REGISTRY, **DECODER_ENTRIES},
    )


def sqlite_storage_config(
    path: str | Path,
    *,
    rebind: bool = False,
    metric_classes: Mapping[type[Metric], int | None] | None = None,
    runner_classes: Mapping[type[Runner], int | None] | None = None,
) -> StorageConfig:
    """A ``StorageConfig`` for an SQLite file, with Ax's tables created.

    Ax keeps ONE database engine per process and silently ignores the URL of any
    later ``StorageConfig``. The first call binds that engine to ``path``; a call
    for the same file again is harmless, however it is spelled (a relative or
    absolute path, or a ``StorageConfig(url="sqlite:///...")`` that bound the
    engine first). A call for ANOTHER file raises :class:`StorageBindingError`,
    because every ``Client`` created with the first config would from then on
    write into the second file. Keep several campaigns in one file instead (Ax
    stores experiments by name), or run each campaign in its own process.

    Args:
        path: The SQLite file (created if missing), or ``":memory:"`` for an
            in-memory database that lives as long as the process (one
            connection shared by all threads; no file is created).
        rebind: Rebind Ax's engine to ``path`` even though it points at another
            database. A ``Client`` of the previous database then refuses to
            generate with this package's nodes (:func:`check_experiment_binding`)
            instead of writing into the new file.
        metric_classes: Custom ``Metric`` classes for the registry bundle.
        runner_classes: Custom ``Runner`` classes for the registry bundle.

    Returns:
        ``StorageConfig(url="sqlite:///<absolute path>", registry_bundle=...)``
        (``url="sqlite:///:memory:"`` for ``":memory:"``).

    Raises:
        StorageBindingError: If Ax's engine is bound to another database and
            ``rebind`` is False.
    """
    url = sqlite_url(path)
    bound = bound_database_url()
    engine_kwargs: dict[str, Any] = {}
    if url == MEMORY_URL:
        # One connection for the whole process: SQLAlchemy's default pool gives
        # every thread (and every recycled connection) a new, empty database.
        engine_kwargs = {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
            "pool_recycle": -1,
        }
    if bound is None:
        init_engine_and_session_factory(url=url, **engine_kwargs)
    elif normalised_url(bound) == url:
        pass
    elif rebind:
        init_engine_and_session_factory(url=url, force_init=True, **engine_kwargs)
    else:
        raise StorageBindingError(
            f"Ax's database engine is bound to {bound}; Ax 1.3 has one engine per "
            f"process, so a Client using {url} would write its trials into "
            f"{bound} instead. Keep both experiments in one database file (Ax "
            "stores experiments by name: pass the same path twice), run each "
            "campaign in its own process, or pass rebind=True once no Client of "
            f"{bound} will save again."
        )
    create_all_tables(get_engine())
    return StorageConfig(url=url, registry_bundle=registry_bundle(metric_classes, runner_classes))
