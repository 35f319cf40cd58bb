"""The on-disk store of finished benchmark cells (resumable runs).

Layout under the output folder::

    run.json                              profile fingerprint of the folder
    cells/<task>/<method>/seed<k>.pt      candidates, oracle scores, predictions
    cells/<task>/<method>/seed<k>.json    metrics, seconds, settings

Every file is written to a temporary name in the same folder and renamed into
place, so a killed run never leaves a half-written file. The ``.pt`` file is
written first and the ``.json`` last: a cell counts as finished only when its
``.json`` exists, so an interrupted run loses at most the cell in flight.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


class OutputFolderConflict(ValueError):
    """The output folder holds results of another benchmark configuration."""


@dataclass(frozen=True, order=True)
class CellKey:
    """One benchmark cell: a task, a method and a seed."""

    task: str
    method: str
    seed: int

    def __str__(self) -> str:
        return f"{self.task}/{self.method}/seed{self.seed}"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text))


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def atomic_torch_save(path: str | Path, obj: Any) -> None:
    """``torch.save`` atomically."""
    _atomic_write(Path(path), lambda tmp: torch.save(obj, tmp))


class CellStore:
    """Finished cells in an output folder.

    Args:
        root: The output folder (created if missing).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def json_path(self, key: CellKey) -> Path:
        """Path of a cell's metrics file."""
        return self.root / "cells" / key.task / key.method / f"seed{key.seed}.json"

    def tensor_path(self, key: CellKey) -> Path:
        """Path of a cell's candidates file."""
        return self.json_path(key).with_suffix(".pt")

    def is_done(self, key: CellKey, fingerprint: str) -> bool:
        """Whether the cell is finished under the given profile fingerprint."""
        path = self.json_path(key)
        if not path.is_file() or not self.tensor_path(key).is_file():
            return False
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError:
            return False
        return record.get("fingerprint") == fingerprint

    def save(self, key: CellKey, record: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Store a finished cell: tensors first, then the metrics (the marker).

        Args:
            key: The cell.
            record: JSON-friendly metrics and metadata.
            tensors: Candidates, scores and predictions (``torch.save``-able).
        """
        atomic_torch_save(self.tensor_path(key), tensors)
        atomic_write_json(self.json_path(key), record)

    def load_record(self, key: CellKey) -> dict[str, Any]:
        """The metrics of a finished cell."""
        return json.loads(self.json_path(key).read_text())

    def load_tensors(self, key: CellKey) -> dict[str, Any]:
        """The candidates (and scores) of a finished cell."""
        return torch.load(self.tensor_path(key), weights_only=True)

    def check_fingerprint(self, fingerprint: str, profile_name: str, overwrite: bool) -> None:
        """Record the folder's profile, refusing to mix profiles in one folder.

        Args:
            fingerprint: The profile fingerprint of this run.
            profile_name: Its name (for the message and ``run.json``).
            overwrite: Accept a folder written with another profile; its cells
                are then recomputed as they come up.

        Raises:
            OutputFolderConflict: If the folder holds results of another
                configuration and ``overwrite`` is ``False``.
        """
        path = self.root / "run.json"
        if path.is_file() and not overwrite:
            old = json.loads(path.read_text())
            if old.get("fingerprint") != fingerprint:
                raise OutputFolderConflict(
                    f"{self.root} holds results of another configuration (profile "
                    f"{old.get('profile')!r}, fingerprint {old.get('fingerprint')}); this run "
                    f"is profile {profile_name!r} ({fingerprint}). Use another output folder, "
                    "or overwrite=True (--overwrite) to recompute its cells."
                )
        atomic_write_json(path, {"profile": profile_name, "fingerprint": fingerprint})
