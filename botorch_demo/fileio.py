"""Atomic file writes and content hashes: the one way this package writes files.

Every file (DEMO checkpoints, the Ax node's model cache, benchmark cells,
results and plots) is written to a fresh temporary file in the target's folder
and renamed over the target. So:

* a killed or failing write never leaves a half-written file, and the earlier
  file at the path (if any) stays as it was;
* the temporary name is unique (:func:`tempfile.mkstemp`), so two processes
  writing the same path never collide: the last rename wins, and both files are
  whole;
* the final name is never opened for writing: :func:`os.replace` replaces a
  symlink planted at the path instead of writing through it;
* the file gets the mode of a normally created file, ``0o666 & ~umask`` (0644
  with the usual umask 022), so a team sharing a folder can read it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import torch

#: Suffix of the temporary files of :func:`atomic_write`.
TEMP_SUFFIX = ".tmp"


@cache
def file_mode() -> int:
    """Mode of a normally created file here: ``0o666 & ~umask`` (read once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file atomically: a unique temporary file, then a rename.

    Args:
        path: The file to write; its folder is created if missing.
        write: Called with the temporary file opened for binary writing.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: From creating, writing or renaming the file (then nothing at
            ``path`` has changed and the temporary file is removed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (no NaN) to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def torch_bytes(obj: Any) -> bytes:
    """``torch.save`` of ``obj`` into memory."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def atomic_torch_save(path: str | Path, obj: Any) -> Path:
    """``torch.save`` of ``obj`` to ``path`` atomically."""
    return atomic_write(path, lambda handle: torch.save(obj, handle))


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(data: Any) -> str:
    """Compact JSON with sorted keys and no NaN: the text that hashes are taken of."""
    return json.dumps(data, sort_keys=True, allow_nan=False, separators=(",", ":"))
