"""The finished rounds of one campaign cell, so that a killed campaign resumes.

A campaign cell (task, strategy, seed) lives in the harness's
:class:`~botorch_demo.benchmarks.store.CellStore`: it is claimed with the
store's lock file, and once every round is done its record and tensors are the
cell's ``seed<k>.json`` and ``seed<k>.pt`` (with their integrity hashes). While
it runs, each finished round ``r`` is stored beside them::

    cells/<task>/<strategy>/seed<k>/round<r>.pt       every design and score so far
    cells/<task>/<strategy>/seed<k>/round<r>.json     the round's row and hashes
    cells/<task>/<strategy>/seed<k>/round<r>.ax.json  the Ax Client (JSON snapshot)
    demo_ckpt/<task>/seed<k>/                         DEMO's checkpoints

The DEMO checkpoints of a task and seed are shared by its strategies. A
checkpoint's name is the hash of everything the model depends on (training
data, direction, configuration, seed; see
:func:`botorch_demo.ax.model_cache.fingerprint`), and it is verified when
loaded, so a strategy loads the model another one trained on the same data
instead of training it again: round 0 (the offline batch) is trained once per
task and seed for all DEMO strategies.

Every file goes through :mod:`botorch_demo.fileio` (atomic writes); the
``.json`` is written last and carries the SHA-256 of the tensors, of the Ax
snapshot and of itself, so a round counts as finished only when all three are
intact. The snapshot of round ``r`` replaces that of round ``r - 1`` (it is
removed once round ``r`` is stored): a campaign resumes from its latest
finished round by loading its Client, with its experiment and generation
strategy, through Ax's public JSON storage.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from botorch_demo.benchmarks.store import (
    CellKey,
    CellStore,
    CorruptCell,
    save_cell_files,
    verify_cell_files,
)
from botorch_demo.fileio import atomic_write_bytes, sha256_bytes

#: Suffix of a round's Ax snapshot.
SNAPSHOT_SUFFIX = ".ax.json"


@dataclass(frozen=True)
class RoundState:
    """The state of a campaign after its latest finished round.

    Attributes:
        round: The latest finished round (0 is the offline batch).
        rows: One record per finished round, in order.
        X: ``n x d`` every design proposed so far, in the order proposed.
        y: ``n`` their oracle scores.
        snapshot: The Ax Client's JSON snapshot after that round.
    """

    round: int
    rows: list[dict[str, Any]]
    X: Tensor
    y: Tensor
    snapshot: bytes


class RoundStore:
    """The per-round files of one campaign cell.

    Args:
        store: The run's cell store.
        key: The cell (its ``method`` is the strategy's name).
    """

    def __init__(self, store: CellStore, key: CellKey) -> None:
        self.store = store
        self.key = key
        self.folder = store.json_path(key).with_suffix("")

    @property
    def checkpoint_dir(self) -> Path:
        """Folder of the DEMO checkpoints of the cell's task and seed (shared by
        its strategies)."""
        return self.store.root / "demo_ckpt" / self.key.task / f"seed{self.key.seed}"

    def paths(self, r: int) -> tuple[Path, Path, Path]:
        """The record, tensors and snapshot paths of round ``r``."""
        base = self.folder / f"round{r}"
        return (
            base.with_suffix(".json"),
            base.with_suffix(".pt"),
            base.with_name(base.name + SNAPSHOT_SUFFIX),
        )

    def save(
        self,
        r: int,
        row: dict[str, Any],
        X: Tensor,
        y: Tensor,
        snapshot: bytes,
    ) -> dict[str, Any]:
        """Store finished round ``r``: snapshot, then tensors, then the record.

        Args:
            r: The round.
            row: The round's JSON-friendly row (see the campaign's results).
            X: Every design proposed so far.
            y: Their scores.
            snapshot: The Ax Client's JSON snapshot after the round.

        Returns:
            The record as stored.
        """
        json_path, tensor_path, snap_path = self.paths(r)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(snap_path, snapshot)
        record = {**row, "snapshot_sha256": sha256_bytes(snapshot)}
        stored = save_cell_files(
            json_path, tensor_path, record, {"X": X.detach().cpu(), "y": y.detach().cpu()}
        )
        if r > 0:
            self.paths(r - 1)[2].unlink(missing_ok=True)
        return stored

    def latest(self, fingerprint: str) -> RoundState | None:
        """The latest finished round whose files are intact and consistent.

        Rounds are read from 0 upwards; each must verify (record and tensors
        against their hashes, this fingerprint, rows that continue the previous
        round's). The latest one's snapshot must match its hash.

        Returns:
            The state, or ``None`` when no round is finished.

        Raises:
            CorruptCell: Naming the round and what is wrong (the caller starts
                the cell again).
        """
        rows: list[dict[str, Any]] = []
        X = y = None
        r = 0
        while self.paths(r)[0].is_file():
            json_path, tensor_path, _ = self.paths(r)
            try:
                record = verify_cell_files(json_path, tensor_path)
            except CorruptCell as err:
                raise CorruptCell(f"campaign {self.key} round {r}: {err}") from None
            if record.get("fingerprint") != fingerprint or record.get("round") != r:
                raise CorruptCell(
                    f"campaign {self.key} round {r}: written by another configuration "
                    f"(fingerprint {record.get('fingerprint')}, round {record.get('round')})"
                )
            tensors = torch.load(tensor_path, weights_only=True)
            new_X, new_y = tensors["X"], tensors["y"]
            n = int(record.get("n_evaluated", -1))
            if new_X.shape[0] != n or new_y.shape[0] != n:
                raise CorruptCell(
                    f"campaign {self.key} round {r}: {new_X.shape[0]} designs stored, "
                    f"the record says {n}"
                )
            if X is not None and not (
                torch.equal(new_X[: X.shape[0]], X) and torch.equal(new_y[: y.shape[0]], y)
            ):
                raise CorruptCell(f"campaign {self.key} round {r}: does not continue round {r - 1}")
            rows.append({k: v for k, v in record.items() if k not in ("integrity",)})
            X, y = new_X, new_y
            r += 1
        if not rows:
            return None
        last = r - 1
        snap_path = self.paths(last)[2]
        try:
            snapshot = snap_path.read_bytes()
        except OSError as err:
            raise CorruptCell(
                f"campaign {self.key} round {last}: snapshot {snap_path.name} is unreadable "
                f"({err.strerror or err})"
            ) from None
        if sha256_bytes(snapshot) != rows[-1].get("snapshot_sha256"):
            raise CorruptCell(
                f"campaign {self.key} round {last}: snapshot {snap_path.name} does not match "
                "its hash"
            )
        return RoundState(last, rows, X, y, snapshot)

    def clear(self) -> None:
        """Remove every round file (a cell started again from scratch)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.is_file() and path.name.startswith("round"):
                path.unlink(missing_ok=True)


def client_snapshot(client: Any) -> bytes:
    """The Ax Client's JSON snapshot, through Ax's public ``save_to_json_file``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "client.json"
        client.save_to_json_file(str(path))
        return path.read_bytes()


def load_client(snapshot: bytes, storage_config: Any = None) -> Any:
    """An Ax Client from a snapshot written by :func:`client_snapshot`.

    Imports :mod:`botorch_demo.ax` first: its import registers this package's
    generators and criteria with Ax's JSON decoder, which a fresh process (a
    resumed run, a worker) has not done yet.
    """
    from ax.api.client import Client

    import botorch_demo.ax  # noqa: F401  (registers the decoders)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "client.json"
        path.write_bytes(snapshot)
        return Client.load_from_json_file(str(path), storage_config=storage_config)
