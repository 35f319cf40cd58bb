"""The DEMO checkpoint format: a versioned payload with a content hash, read safely.

A checkpoint is one ``torch.save`` file holding a plain dict:

* ``format_version`` (:data:`FORMAT_VERSION`), ``config`` (``DEMOConfig.to_dict()``),
  ``categorical_features``, ``n_train``, ``network_dtype`` and ``has_synthetic``:
  what is needed to build an empty model of the right shape;
* ``state_dict``: every tensor of the model;
* ``content_sha256``: SHA-256 over the entries above (:func:`content_hash`).

:func:`read_checkpoint` unpickles plain tensors and containers only
(``weights_only=True``) and checks the version, the entries and the hash before
anything is built from the file. This module knows the format, not the model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from botorch_demo.exceptions import CheckpointError
from botorch_demo.fileio import atomic_torch_save

#: Version of the payload layout that :func:`write_checkpoint` writes and
#: :func:`read_checkpoint` reads.
FORMAT_VERSION = 2

#: The metadata entries of a payload, in the order they are hashed.
META_KEYS = (
    "config",
    "categorical_features",
    "n_train",
    "network_dtype",
    "has_synthetic",
)

#: Names of the network dtypes a checkpoint may hold.
NETWORK_DTYPES = {"float32": torch.float32, "float64": torch.float64}

# What torch.load raises on a file that is not a readable torch.save payload:
# random bytes reach torch's legacy unpickler, which fails in many ways
# (UnpicklingError, EOFError, IndexError, struct.error, MemoryError...), so any
# error while reading an existing file means "not a checkpoint".
_UNREADABLE = (Exception,)


def content_hash(meta: dict[str, Any], state: dict[str, Tensor]) -> str:
    """SHA-256 over a checkpoint's metadata (config included) and every tensor.

    Args:
        meta: The metadata entries, ``format_version`` included.
        state: The model's ``state_dict``.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256(b"botorch-demo-checkpoint")
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for key in sorted(state):
        t = state[key]
        digest.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def write_checkpoint(path: str | Path, meta: dict[str, Any], state: dict[str, Tensor]) -> None:
    """Write a checkpoint atomically (an interrupted write keeps any earlier file).

    Args:
        path: The file to write.
        meta: The entries of :data:`META_KEYS`.
        state: The model's ``state_dict``.
    """
    meta = {"format_version": FORMAT_VERSION, **{k: meta[k] for k in META_KEYS}}
    payload = {**meta, "state_dict": state, "content_sha256": content_hash(meta, state)}
    atomic_torch_save(path, payload)


def read_checkpoint(
    path: str | Path, map_location: str | torch.device | None = None
) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Read and verify a checkpoint written by :func:`write_checkpoint`.

    Args:
        path: The file.
        map_location: Device to load the tensors onto (default: where they were saved).

    Returns:
        ``(meta, state_dict)``: the verified metadata (with ``format_version``)
        and tensors.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If ``map_location`` is not a device (or a device this
            machine lacks); checked before the file is read, so a bad device is
            never reported as a bad file.
        CheckpointError: If the file is not a DEMO checkpoint (empty, truncated,
            random bytes, another object), has another format version, or its
            content does not match its hash. The message names the path and never
            suggests unpickling unsafely.
    """
    path = Path(path)
    _check_map_location(map_location)
    if not path.is_file():
        raise FileNotFoundError(f"DEMO checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except _UNREADABLE as err:
        # torch's own message may suggest weights_only=False, which must never be
        # followed for an untrusted file: only the error type is reported.
        raise CheckpointError(
            f"{path} is not a DEMO checkpoint: torch.load cannot read it "
            f"({type(err).__name__}); the file is empty, truncated, corrupted or "
            "not written by DEMO.save."
        ) from None
    return _verified(payload, path)


def _check_map_location(map_location: object) -> None:
    """Refuse a ``map_location`` that names no usable device (dicts and callables pass)."""
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return
    if not isinstance(map_location, (str, torch.device)):
        raise ValueError(
            "map_location must be a device string, a torch.device, a dict or a callable, got "
            f"{type(map_location).__name__}."
        )
    try:
        torch.empty(0, device=torch.device(map_location))
    except (RuntimeError, AssertionError, ValueError) as err:
        raise ValueError(
            f"map_location {str(map_location)!r} is not a device available here "
            f"({str(err).splitlines()[0] if str(err) else type(err).__name__})."
        ) from None


def _verified(payload: Any, path: Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Check a loaded payload's layout and hash; return its metadata and tensors."""

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{path} is not a DEMO checkpoint: {why}.")

    if not isinstance(payload, dict):
        raise bad(f"it holds a {type(payload).__name__}, not DEMO.save's dict")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise bad(
            f"format_version is {version!r}, this version reads {FORMAT_VERSION} "
            "(re-create it with fit() and save())"
        )
    missing = [k for k in (*META_KEYS, "state_dict", "content_sha256") if k not in payload]
    if missing:
        raise bad(f"it lacks the entries {missing}")
    state = payload["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(t, Tensor) for t in state.values()):
        raise bad("its state_dict is not a dict of tensors")
    meta = {k: payload[k] for k in META_KEYS}
    meta["format_version"] = version
    if content_hash(meta, state) != payload["content_sha256"]:
        raise CheckpointError(
            f"{path}: the checkpoint's content does not match its hash: the file "
            "is corrupted or was edited after saving. Re-create it with fit() and save()."
        )
    if meta["network_dtype"] not in NETWORK_DTYPES:
        raise bad(
            f"unknown network_dtype {meta['network_dtype']!r}; known: {sorted(NETWORK_DTYPES)}"
        )
    return meta, state


def checkpoint_error(path: str | Path, err: Exception) -> CheckpointError:
    """The error for a verified payload whose content does not fit a DEMO model."""
    why = f"its content does not fit a DEMO model ({type(err).__name__}: {err})"
    return CheckpointError(f"{Path(path)} is not a DEMO checkpoint: {why}.")
