"""Ax storage helpers: a registry bundle and an SQLite ``StorageConfig``.

Ax 1.3 keeps ONE SQLAlchemy engine per process (``ax.storage.sqa_store.db``):
every ``Client`` with a storage config reads and writes through it, whatever
URL its own ``StorageConfig`` names, and Ax ignores a second URL silently. Two
campaigns in one process therefore share one database file. This module never
rebinds that engine behind the user's back: :func:`sqlite_storage_config`
refuses a second file with a :class:`StorageBindingError` unless the caller asks
for ``rebind=True``, and :func:`check_storage_binding` lets code that is about to
write for a ``Client`` verify that the engine points at the Client's database.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ax.api.configs import StorageConfig
from ax.core.metric import Metric
from ax.core.runner import Runner
from ax.exceptions.core import AxError
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


class StorageBindingError(AxError):
    """Ax's process-wide database engine points at another database than the one
    a campaign asked for; writing would put its trials in the wrong file."""


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


def bound_database_url() -> str | None:
    """The URL Ax's process-wide SQLAlchemy engine is bound to, or None."""
    try:
        engine = get_engine()
    except ValueError:  # Ax: "Engine must be initialized first."
        return None
    return engine.url.render_as_string(hide_password=False)


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
    for the same file again is harmless. A call for ANOTHER file raises
    :class:`StorageBindingError`, because every ``Client`` created with the first
    config would from then on write into the second file. Keep several
    campaigns in one file instead (Ax stores experiments by name), or run each
    campaign in its own process.

    Args:
        path: The SQLite file (created if missing).
        rebind: Rebind Ax's engine to ``path`` even though it points at another
            database. Only safe once no ``Client`` of the previous database will
            save anything again (e.g. between independent test cases).
        metric_classes: Custom ``Metric`` classes for the registry bundle.
        runner_classes: Custom ``Runner`` classes for the registry bundle.

    Returns:
        ``StorageConfig(url="sqlite:///<path>", registry_bundle=...)``.

    Raises:
        StorageBindingError: If Ax's engine is bound to another database and
            ``rebind`` is False.
    """
    url = f"sqlite:///{Path(path).resolve()}"
    bound = bound_database_url()
    if bound is None or bound == url:
        init_engine_and_session_factory(url=url)
    elif rebind:
        init_engine_and_session_factory(url=url, force_init=True)
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


def check_storage_binding(storage_url: str | None) -> None:
    """Raises unless Ax's engine is bound to ``storage_url`` (no-op for None).

    Args:
        storage_url: The URL of a ``Client``'s storage config.

    Raises:
        StorageBindingError: If Ax would write to another database.
    """
    if storage_url is None:
        return
    bound = bound_database_url()
    if bound is not None and _same_url(bound, storage_url):
        return
    raise StorageBindingError(
        f"This Client stores to {storage_url}, but Ax's process-wide database engine "
        f"is bound to {bound}: saving now would write into the wrong database. Use "
        "one database file per process (several experiments can share it)."
    )


def _same_url(a: str, b: str) -> bool:
    return _normalise(a) == _normalise(b)


def _normalise(url: str) -> Any:
    prefix = "sqlite:///"
    if url.startswith(prefix):
        return prefix + str(Path(url[len(prefix) :]).resolve())
    return url
