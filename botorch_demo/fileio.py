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
  with the usual umask 022), so a team sharing a folder can read it;
* a write killed before its rename leaves its temporary file
  (``.<name>.<pid>@<host>.<random>.tmp``); the next write of the same file
  removes such orphans (see :func:`clean_orphaned_temps`), never the temporary
  file of a live writer.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import torch

#: Suffix of the temporary files of :func:`atomic_write`.
TEMP_SUFFIX = ".tmp"
#: A temporary file older than this (seconds since its last write) whose owner
#: cannot be checked is an orphan. A live write touches its file continuously.
TEMP_GRACE_SECONDS = 3600.0
#: ``.<name>.<pid>@<host>.<random>.tmp``; older writers left ``.<name>.<random>.tmp``.
_TEMP_NAME = re.compile(
    r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.)?[A-Za-z0-9_]{6,}"
    + re.escape(TEMP_SUFFIX)
    + "$"
)


@cache
def _host_tag() -> str:
    """8 hex digits naming this host in temporary file names."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def clean_orphaned_temps(
    folder: str | Path,
    name: str | None = None,
    grace: float = TEMP_GRACE_SECONDS,
    recursive: bool = False,
) -> list[Path]:
    """Remove temporary files that killed writes of :func:`atomic_write` left behind.

    A temporary file is an orphan when its name has this writer's pattern and
    either it names a process of this host that no longer runs, or it was not
    written for ``grace`` seconds. Temporary files of live writers (their
    process runs, or their owner is on another host and they are recent) and
    every other file are left alone.

    Args:
        folder: Where to look.
        name: Only the temporary files of this target name (``None``: all).
        grace: Age in seconds after which a temporary file whose owner cannot
            be checked counts as orphaned.
        recursive: Also look in subfolders.

    Returns:
        The removed files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = folder.rglob(f"*{TEMP_SUFFIX}") if recursive else folder.glob(f"*{TEMP_SUFFIX}")
    removed = []
    now = time.time()
    for tmp in found:
        match = _TEMP_NAME.match(tmp.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            info = tmp.lstat()
        except OSError:
            continue
        if match["pid"] is not None and match["host"] == _host_tag():
            orphan = int(match["pid"]) != os.getpid() and not _pid_alive(int(match["pid"]))
        else:
            orphan = now - info.st_mtime > grace
        if orphan:
            try:
                tmp.unlink()
            except OSError:
                continue
            removed.append(tmp)
    return removed


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
        ValueError: If ``path`` names no file (``""``, ``"."``, a trailing ``/``).
        OSError: From creating, writing or renaming the file (then nothing at
            ``path`` has changed and the temporary file is removed); a full
            disk is reported as ``ENOSPC`` naming ``path``.
    """
    text = os.fspath(path)
    path = Path(path)
    if not path.name or path.name in (".", "..") or text.endswith(("/", os.sep)):
        raise ValueError(f"path {text!r} names no file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_orphaned_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}@{_host_tag()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, Exception) and _disk_full(err, path.parent):
            raise OSError(errno.ENOSPC, "No space left on device", str(path)) from err
        raise
    return path


def _disk_full(err: BaseException, folder: Path) -> bool:
    """Whether a failed write was a full disk.

    ``torch.save`` reports a failed write as a ``RuntimeError`` ("unexpected
    pos"); then the free space of ``folder`` decides.
    """
    seen: BaseException | None = err
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    if isinstance(err, RuntimeError) and "unexpected pos" in str(err):
        try:
            stats = os.statvfs(folder)
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize < 1 << 20
    return False


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
