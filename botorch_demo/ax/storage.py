"""Ax storage helpers: a registry bundle and an SQLite ``StorageConfig``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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


def sqlite_storage_config(path: str | Path) -> StorageConfig:
    """A ``StorageConfig`` for an SQLite file, with its tables created.

    Ax keeps ONE global SQLAlchemy engine per process and ignores later URLs;
    this helper (re)binds that engine to ``path`` and creates Ax's tables, so a
    ``Client(storage_config=...)`` really writes to this file.

    Args:
        path: The SQLite file (created if missing).

    Returns:
        ``StorageConfig(url="sqlite:///<path>", registry_bundle=registry_bundle())``.
    """
    url = f"sqlite:///{Path(path).resolve()}"
    init_engine_and_session_factory(url=url, force_init=True)
    create_all_tables(get_engine())
    return StorageConfig(url=url, registry_bundle=registry_bundle())
