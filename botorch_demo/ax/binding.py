"""Which database Ax's one SQLAlchemy engine is bound to, and refusals to
write into another campaign's database.

Ax 1.3 keeps ONE SQLAlchemy engine per process (``ax.storage.sqa_store.db``):
every ``Client`` with a storage config reads and writes through it, whatever
URL its own ``StorageConfig`` names. :func:`check_storage_binding` verifies that
the engine points at a ``Client``'s database before this package writes for it;
:func:`check_experiment_binding` refuses to generate for an experiment that was
saved to another database than the bound one (a ``Client`` created before the
engine was rebound). URLs are compared in one normalised form
(:func:`normalised_url`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ax.core.experiment import Experiment
from ax.exceptions.core import AxError
from ax.storage.sqa_store.db import get_engine, session_scope
from ax.storage.sqa_store.sqa_classes import SQAExperiment
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: The canonical URL of an in-memory SQLite database.
MEMORY_URL = "sqlite:///:memory:"


class StorageBindingError(AxError):
    """Ax's process-wide database engine points at another database than the one
    a campaign asked for; writing would put its trials in the wrong file."""


def bound_database_url() -> str | None:
    """The URL Ax's process-wide SQLAlchemy engine is bound to, or None."""
    try:
        engine = get_engine()
    except ValueError:  # Ax: "Engine must be initialized first."
        return None
    return engine.url.render_as_string(hide_password=False)


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of an SQLite file (resolved to an absolute path), or of
    an in-memory database for ``":memory:"``."""
    if str(path) == ":memory:":
        return MEMORY_URL
    return f"sqlite:///{Path(path).resolve()}"


def normalised_url(url: str) -> str:
    """``url`` in one canonical form, so that two spellings of one database
    compare equal: SQLite file paths resolved to absolute paths, and
    ``sqlite://`` and ``sqlite:///:memory:`` both as :data:`MEMORY_URL`. Other
    URLs are rendered by SQLAlchemy unchanged."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() != "sqlite":
        return parsed.render_as_string(hide_password=False)
    database = parsed.database
    if database in (None, "", ":memory:"):
        return MEMORY_URL
    return f"sqlite:///{Path(database).resolve()}"


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
    if bound is not None and normalised_url(bound) == normalised_url(storage_url):
        return
    raise StorageBindingError(
        f"This Client stores to {storage_url}, but Ax's process-wide database engine "
        f"is bound to {bound}: saving now would write into the wrong database. Use "
        "one database file per process (several experiments can share it)."
    )


def check_experiment_binding(experiment: Experiment) -> None:
    """Raises if ``experiment`` was saved to a database that Ax's engine no
    longer points at (no-op for an experiment that was never saved).

    A saved experiment knows its row id in its database, not the database. After
    the engine is rebound to another file, Ax would save a ``Client``'s new
    trials under that row id of the OTHER file, i.e. into another campaign's
    experiment. This looks the row up in the bound database and refuses unless
    it is this experiment (same name and creation time).

    Raises:
        StorageBindingError: If the bound database holds another experiment (or
            none) under this experiment's id.
    """
    db_id = experiment.db_id
    if db_id is None:
        return
    bound = bound_database_url()
    if bound is None:
        return
    with session_scope() as session:
        row = (
            session.query(SQAExperiment.name, SQAExperiment.time_created)
            .filter(SQAExperiment.id == db_id)
            .one_or_none()
        )
    if (
        row is not None
        and row.name == experiment.name
        and _same_second(row.time_created, experiment.time_created)
    ):
        return
    raise StorageBindingError(
        f"Experiment {experiment.name!r} was saved to another database than the one "
        f"Ax's process-wide engine is bound to now ({bound}): the engine was rebound "
        "(e.g. `sqlite_storage_config(..., rebind=True)`) after this Client was "
        "created, and saving its trials now would write them into another "
        "campaign's records. Reload the campaign with `Client.load_from_database` "
        "from its own file after binding the engine to it, or use one database "
        "file per process."
    )


def _same_second(stored: datetime | None, original: datetime | None) -> bool:
    """Whether two creation times agree to the second (Ax stores seconds)."""
    if stored is None or original is None:
        return stored is original
    return int(stored.timestamp()) == int(original.timestamp())
