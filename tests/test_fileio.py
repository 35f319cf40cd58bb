"""Atomic file writes: whole files or none, never through a symlink, the umask's mode,
safe under concurrent writers; and the canonical JSON that hashes are taken of."""

from __future__ import annotations

import itertools
import json
import math
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import botorch_demo
from botorch_demo.fileio import (
    TEMP_SUFFIX,
    atomic_torch_save,
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    canonical_json,
    sha256_bytes,
)


def _temporary_files(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(TEMP_SUFFIX)]


# ------------------------------------------------------------ whole or none
def test_atomic_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old content, longer than the new one")
    before = path.stat().st_ino
    with path.open("rb") as reader:
        assert atomic_write_bytes(path, b"new") == path
        # A reader of the earlier file still sees it whole: the file was replaced,
        # not rewritten in place.
        assert reader.read() == b"old content, longer than the new one"
    assert path.read_bytes() == b"new"
    assert path.stat().st_ino != before
    assert os.listdir(tmp_path) == ["out.bin"]


def test_the_writers_create_the_folder_and_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    assert atomic_write_text(folder / "t.txt", "héllo") == folder / "t.txt"
    assert (folder / "t.txt").read_bytes() == "héllo".encode()
    atomic_write_json(folder / "d.json", {"b": [1, 2.5], "a": None})
    assert json.loads((folder / "d.json").read_text()) == {"b": [1, 2.5], "a": None}
    assert (folder / "d.json").read_text().endswith("\n")
    atomic_torch_save(folder / "w.pt", {"w": torch.arange(3)})
    assert torch.equal(torch.load(folder / "w.pt", weights_only=True)["w"], torch.arange(3))
    assert _temporary_files(folder) == []


class _Boom(Exception):
    pass


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
@pytest.mark.parametrize("earlier", [b"earlier", None], ids=["earlier file", "no file"])
def test_a_failing_write_leaves_the_earlier_file_and_no_temporary_file(
    error: type[BaseException], earlier: bytes | None, tmp_path: Path
) -> None:
    path = tmp_path / "out.bin"
    if earlier is not None:
        path.write_bytes(earlier)

    def half_then_fail(handle) -> None:
        handle.write(b"half a fi")
        handle.flush()
        raise error("interrupted")

    with pytest.raises(error):
        atomic_write(path, half_then_fail)
    if earlier is None:
        assert not path.exists()
        assert os.listdir(tmp_path) == []
    else:
        assert path.read_bytes() == earlier
        assert os.listdir(tmp_path) == ["out.bin"]


# ------------------------------------------------------------------ symlinks
def test_a_symlink_planted_at_the_path_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = tmp_path / "out.txt"
    path.symlink_to(victim)
    atomic_write_text(path, "written")
    assert not path.is_symlink()
    assert path.read_text() == "written"
    assert victim.read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["out.txt", "victim.txt"]


# ---------------------------------------------------------------------- mode
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000])
def test_the_file_mode_follows_the_umask(mask: int, tmp_path: Path, umask) -> None:
    mode = umask(mask)
    assert mode == 0o666 & ~mask
    path = atomic_write_bytes(tmp_path / "out.bin", b"x")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    # Replacing a file of another mode gives the new file the umask's mode too.
    os.chmod(path, 0o600 if mode != 0o600 else 0o640)
    atomic_write_bytes(path, b"y")
    assert stat.S_IMODE(path.stat().st_mode) == mode


# --------------------------------------------------------------- concurrency
WRITER = """
import sys, time
from pathlib import Path
from botorch_demo.fileio import atomic_write_bytes

path, value, control = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
payload = bytes([value]) * 1_000_000
(control / f"ready-{value}").touch()
while not (control / "go").exists():
    time.sleep(0.001)
for _ in range(40):
    atomic_write_bytes(path, payload)
"""


@pytest.mark.slow
def test_two_processes_writing_one_path_both_succeed_and_leave_one_whole_file(
    tmp_path: Path,
) -> None:
    out, control = tmp_path / "out", tmp_path / "control"
    out.mkdir()
    control.mkdir()
    path = out / "shared.bin"
    root = str(Path(botorch_demo.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(value), str(control)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for value in (1, 2)
    ]
    try:
        deadline = time.monotonic() + 300
        while not all((control / f"ready-{v}").exists() for v in (1, 2)):
            assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
            assert time.monotonic() < deadline, "the writers did not start"
            time.sleep(0.01)
        (control / "go").touch()
        # Every read while the two write is one writer's whole file.
        wholes = {bytes([v]) * 1_000_000 for v in (1, 2)}
        reads = 0
        while any(w.poll() is None for w in writers):
            if path.exists():
                assert path.read_bytes() in wholes
                reads += 1
        results = [w.communicate(timeout=300) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
    assert [w.returncode for w in writers] == [0, 0], results
    assert path.read_bytes() in wholes
    assert os.listdir(out) == ["shared.bin"]
    assert reads > 0


# ---------------------------------------------------------------------- JSON
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_atomic_write_json_refuses_nan_and_keeps_the_earlier_file(
    value: float, tmp_path: Path
) -> None:
    path = tmp_path / "out.json"
    atomic_write_json(path, {"score": 1.0})
    before = path.read_bytes()
    with pytest.raises(ValueError, match="not JSON compliant"):
        atomic_write_json(path, {"score": value})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.json"]


def test_canonical_json_is_byte_stable() -> None:
    items = [("b", 1), ("a", [1.5, "x", None]), ("c", {"z": True, "y": -2})]
    texts = {canonical_json(dict(order)) for order in itertools.permutations(items)}
    assert texts == {'{"a":[1.5,"x",null],"b":1,"c":{"y":-2,"z":true}}'}
    text = texts.pop()
    assert canonical_json(json.loads(text)) == text
    assert sha256_bytes(text.encode()) == sha256_bytes(canonical_json(dict(items)).encode())
    with pytest.raises(ValueError):
        canonical_json({"a": math.nan})
