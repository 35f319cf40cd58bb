"""The on-disk store of finished benchmark cells and their locks (resumable runs).

Layout under the output folder::

    run.json                              profile fingerprint of the folder
    cells/<task>/<method>/seed<k>.pt      candidates, oracle scores, predictions
    cells/<task>/<method>/seed<k>.json    metrics, seconds, settings

    cells/<task>/<method>/seed<k>.lock    present while a worker computes the cell

Every file is written through :mod:`botorch_demo.fileio` (a unique temporary
name in the same folder, then a rename), so a killed run never leaves a
half-written file. The ``.pt`` file is written first and the ``.json`` last: a
cell counts as finished only when its ``.json`` exists, so an interrupted run
loses at most the cell in flight.

**Integrity.** The ``.json`` carries ``integrity``: the SHA-256 of the ``.pt``
file's bytes and of the record itself (canonical JSON without the
``integrity`` entry). :meth:`CellStore.status` checks both before a cell is
trusted; a truncated or edited ``.pt``, an edited metric in the ``.json`` or a
cell written without these hashes is reported as corrupt, and the harness
recomputes it (and says so).

**Shared state of a cluster run.** The folder may sit on a shared file system
(NFS, Lustre...) and be written by many workers on many machines. Before
computing a cell, a worker claims it by creating ``seed<k>.lock`` with
``O_CREAT | O_EXCL`` (atomic on POSIX and NFSv3+ file systems); the lock holds
the owner's host, pid and start time, and its mtime is refreshed every
``heartbeat`` seconds while the cell is computed. A worker that cannot claim a
cell leaves it to its owner. A lock is stale, and is broken, when its owner
process is gone (same host) or its mtime is older than ``stale_after`` seconds
(a killed job on another machine stops refreshing it). Breaking renames the
lock aside and checks that it was the stale one, so two workers breaking the
same lock cannot both win.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from botorch_demo.fileio import (
    atomic_write_bytes,
    atomic_write_json,
    canonical_json,
    file_mode,
    sha256_bytes,
    torch_bytes,
)

#: How often a worker refreshes the lock of the cell it computes (seconds).
LOCK_HEARTBEAT = 60.0
#: A lock not refreshed for this long is stale (seconds).
LOCK_STALE_AFTER = 600.0


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


class CorruptCell(ValueError):
    """A stored cell failed its integrity check or could not be read."""


def record_digest(record: dict[str, Any]) -> str:
    """SHA-256 of a cell record's canonical JSON, without its ``integrity`` entry."""
    body = {k: v for k, v in record.items() if k != "integrity"}
    return sha256_bytes(canonical_json(body).encode())


@dataclass(frozen=True)
class CellStatus:
    """What :meth:`CellStore.status` found for a cell.

    Attributes:
        state: ``"done"`` (verified, this fingerprint), ``"missing"`` (no
            ``.json``), ``"other-profile"`` (verified, another fingerprint) or
            ``"corrupt"``.
        record: The verified record (``done`` and ``other-profile``), else ``None``.
        reason: What is wrong with a corrupt cell, else ``None``.
    """

    state: str
    record: dict[str, Any] | None = None
    reason: str | None = None

    @property
    def done(self) -> bool:
        """Whether the cell is finished, verified, under the asked fingerprint."""
        return self.state == "done"

    def __str__(self) -> str:
        return f"corrupt: {self.reason}" if self.state == "corrupt" else self.state


def save_cell_files(
    json_path: Path, tensor_path: Path, record: dict[str, Any], tensors: dict[str, Any]
) -> dict[str, Any]:
    """Write a cell: the tensors first, then the record (the marker) with its hashes.

    The record is stored with an ``integrity`` entry: the SHA-256 of the
    tensors file and of the record (see :func:`verify_cell_files`).

    Args:
        json_path: The record's path.
        tensor_path: The tensors' path.
        record: JSON-friendly metrics and metadata.
        tensors: ``torch.save``-able tensors.

    Returns:
        The record as stored, with its ``integrity`` entry.
    """
    data = torch_bytes(tensors)
    atomic_write_bytes(tensor_path, data)
    record = {k: v for k, v in record.items() if k != "integrity"}
    record["integrity"] = {
        "tensors_sha256": sha256_bytes(data),
        "record_sha256": record_digest(record),
    }
    atomic_write_json(json_path, record)
    return record


def verify_cell_files(json_path: Path, tensor_path: Path) -> dict[str, Any]:
    """Check a record and its tensors file against the hashes in the record.

    Returns:
        The verified record.

    Raises:
        CorruptCell: Naming what is wrong: an unreadable or missing file, no
            hashes, or a hash mismatch.
    """
    path = json_path
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CorruptCell(f"{path.name} is unreadable ({err})") from None
    if not isinstance(record, dict):
        raise CorruptCell(f"{path.name} does not hold a cell record")
    integrity = record.get("integrity")
    if not isinstance(integrity, dict):
        raise CorruptCell(f"{path.name} carries no integrity hashes (written before them?)")
    if integrity.get("record_sha256") != record_digest(record):
        raise CorruptCell(f"{path.name} was edited after it was written (hash mismatch)")
    try:
        data = tensor_path.read_bytes()
    except OSError as err:
        raise CorruptCell(f"{tensor_path.name} is unreadable ({err})") from None
    if integrity.get("tensors_sha256") != sha256_bytes(data):
        raise CorruptCell(
            f"{tensor_path.name} does not match its hash (truncated or altered, {len(data)} bytes)"
        )
    return record


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CellLock:
    """A claimed cell: the lock file and the thread that keeps it fresh.

    Use as a context manager; :meth:`release` removes the lock file.
    """

    def __init__(self, path: Path, token: str, heartbeat: float) -> None:
        self.path = path
        self.token = token
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(heartbeat,), daemon=True, name=f"lock {path.name}"
        )
        self._thread.start()

    def _beat(self, heartbeat: float) -> None:
        while not self._stop.wait(heartbeat):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self) -> None:
        """Stop the heartbeat and remove the lock file (if it is still ours)."""
        self._stop.set()
        self._thread.join()
        try:
            owner = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if owner.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> CellLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class CellStore:
    """Finished cells in an output folder.

    Args:
        root: The output folder (created if missing).
        stale_after: Seconds after which a lock that was not refreshed is stale.
        heartbeat: Seconds between refreshes of a held lock.
    """

    def __init__(
        self,
        root: str | Path,
        stale_after: float = LOCK_STALE_AFTER,
        heartbeat: float = LOCK_HEARTBEAT,
    ) -> None:
        self.root = Path(root).expanduser()
        self.stale_after = float(stale_after)
        self.heartbeat = float(heartbeat)

    def json_path(self, key: CellKey) -> Path:
        """Path of a cell's metrics file."""
        return self.root / "cells" / key.task / key.method / f"seed{key.seed}.json"

    def tensor_path(self, key: CellKey) -> Path:
        """Path of a cell's candidates file."""
        return self.json_path(key).with_suffix(".pt")

    def lock_path(self, key: CellKey) -> Path:
        """Path of a cell's lock file (present while a worker computes it)."""
        return self.json_path(key).with_suffix(".lock")

    def status(self, key: CellKey, fingerprint: str) -> CellStatus:
        """Check a stored cell before trusting it (its files are hashed once here).

        Returns:
            A :class:`CellStatus`; for a verified cell it holds the record, so
            the caller need not read or verify the cell again.
        """
        if not self.json_path(key).is_file():
            return CellStatus("missing")
        try:
            record = self.verify(key)
        except CorruptCell as err:
            return CellStatus("corrupt", reason=err.args[0])
        state = "done" if record.get("fingerprint") == fingerprint else "other-profile"
        return CellStatus(state, record)

    def verify(self, key: CellKey) -> dict[str, Any]:
        """Check a cell's record and tensors against the hashes in its record.

        Returns:
            The verified record.

        Raises:
            CorruptCell: Naming what is wrong (see :func:`verify_cell_files`).
        """
        return verify_cell_files(self.json_path(key), self.tensor_path(key))

    def save(self, key: CellKey, record: dict[str, Any], tensors: dict[str, Any]) -> dict[str, Any]:
        """Store a finished cell with its integrity hashes (see :func:`save_cell_files`).

        Args:
            key: The cell.
            record: JSON-friendly metrics and metadata.
            tensors: Candidates, scores and predictions (``torch.save``-able).

        Returns:
            The record as stored.
        """
        return save_cell_files(self.json_path(key), self.tensor_path(key), record, tensors)

    def load_record(self, key: CellKey) -> dict[str, Any]:
        """The metrics of a finished cell.

        Raises:
            CorruptCell: If the file is unreadable (naming the cell).
        """
        try:
            return json.loads(self.json_path(key).read_text())
        except (OSError, ValueError) as err:
            raise CorruptCell(f"Cell {key}: {self.json_path(key)} is unreadable: {err}") from None

    def load_tensors(self, key: CellKey) -> dict[str, Any]:
        """The candidates (and scores) of a finished cell.

        Raises:
            CorruptCell: If the file cannot be loaded (naming the cell and path).
        """
        path = self.tensor_path(key)
        try:
            return torch.load(path, weights_only=True)
        except Exception as err:
            raise CorruptCell(f"Cell {key}: {path} cannot be loaded: {err}") from None

    # ------------------------------------------------------------------ locks
    def claim(self, key: CellKey, owner: dict[str, Any] | None = None) -> CellLock | None:
        """Claim a cell for computing it, or return ``None`` if another worker holds it.

        Creates the cell's lock file with ``O_CREAT | O_EXCL``; a stale lock (its
        process gone on this host, or not refreshed for ``stale_after`` seconds)
        is broken first.

        Args:
            key: The cell.
            owner: Extra JSON-friendly owner information (e.g. the executor).

        Returns:
            The held :class:`CellLock`, or ``None``.
        """
        path = self.lock_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.time(),
            "token": token,
            **(owner or {}),
        }
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, file_mode())
            except FileExistsError:
                if not self._break_if_stale(path):
                    return None
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(info, f)
            return CellLock(path, token, self.heartbeat)
        return None

    def lock_owner(self, key: CellKey) -> dict[str, Any] | None:
        """The owner information of a cell's lock, or ``None`` when unlocked."""
        try:
            return json.loads(self.lock_path(key).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    def _is_stale(self, path: Path) -> tuple[bool, str | None]:
        try:
            mtime = path.stat().st_mtime
            owner = json.loads(path.read_text())
        except FileNotFoundError:
            return False, None
        except (OSError, ValueError):
            # Half-written by a process killed between create and write.
            return time.time() - mtime > min(self.stale_after, 60.0), None
        token = owner.get("token")
        if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
            if not _pid_alive(owner["pid"]):
                return True, token
        return time.time() - mtime > self.stale_after, token

    def _break_if_stale(self, path: Path) -> bool:
        """Remove a stale lock; ``True`` if the caller may try to create it again."""
        stale, token = self._is_stale(path)
        if not stale:
            return not path.exists()
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.stale")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return True  # someone else broke it; race for the new one
        try:
            moved = json.loads(aside.read_text()).get("token")
        except (OSError, ValueError):
            moved = None
        if moved != token:
            # A fresh lock was created between our check and the rename: put it back.
            try:
                os.link(aside, path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return False
        aside.unlink(missing_ok=True)
        return True

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
