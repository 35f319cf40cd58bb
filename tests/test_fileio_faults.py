"""File faults: orphaned temporary files, full disks, bad paths and devices,
forged cells, and two processes writing one output folder."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import TINY, quadratic_data

import botorch_demo
from botorch_demo import DEMO, DEMOConfig
from botorch_demo.benchmarks.store import CellKey, CellStore, CorruptCell
from botorch_demo.diffusion import reweighting_weights
from botorch_demo.fileio import (
    TEMP_SUFFIX,
    _host_tag,
    atomic_torch_save,
    atomic_write,
    atomic_write_bytes,
    clean_orphaned_temps,
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------ orphaned temps
def test_orphans_of_killed_writes_are_removed_by_the_next_write(tmp_path: Path) -> None:
    host = _host_tag()
    dead = tmp_path / f".model.pt.{_dead_pid()}@{host}.abc123xy{TEMP_SUFFIX}"
    live = tmp_path / f".model.pt.{os.getppid()}@{host}.abc123xz{TEMP_SUFFIX}"
    remote_new = tmp_path / f".model.pt.1@00000000.abc123x0{TEMP_SUFFIX}"
    remote_old = tmp_path / f".model.pt.1@00000000.abc123x1{TEMP_SUFFIX}"
    legacy_old = tmp_path / f".model.pt.k2j4h5g6{TEMP_SUFFIX}"
    other_name = tmp_path / f".other.pt.{_dead_pid()}@{host}.abc123x2{TEMP_SUFFIX}"
    foreign = tmp_path / f"notes{TEMP_SUFFIX}"
    for path in (dead, live, remote_new, remote_old, legacy_old, other_name, foreign):
        path.write_bytes(b"")
    old = time.time() - 7200
    for path in (remote_old, legacy_old, foreign):
        os.utime(path, (old, old))
    atomic_torch_save(tmp_path / "model.pt", {"w": torch.ones(1)})
    left = {p.name for p in tmp_path.iterdir()}
    # Gone: the dead writer's, and those of unknown owners older than the grace period.
    assert not {dead.name, remote_old.name, legacy_old.name} & left
    # Kept: a live writer's, a recent one of another host, another file's, a foreign file.
    assert {live.name, remote_new.name, other_name.name, foreign.name} <= left
    removed = clean_orphaned_temps(tmp_path, recursive=True)
    assert removed == [other_name]


# ---------------------------------------------------------------- bad paths
@pytest.mark.parametrize("path", ["", ".", "folder/"])
def test_a_path_naming_no_file_is_refused_by_name(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="names no file"):
        atomic_write_bytes(path, b"x")


def _full_disk_write(handle) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_reported_as_such_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No space left on device") as info:
        atomic_write(tmp_path / "x.bin", _full_disk_write)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "x.bin")
    assert list(tmp_path.iterdir()) == []


def test_torch_s_unexpected_pos_on_a_full_disk_says_no_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(handle) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:778] . unexpected pos 64 vs 0")

    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(os, "statvfs", lambda folder: Full())
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write(tmp_path / "m.pt", failing)


@pytest.fixture(scope="module")
def small_model() -> DEMO:
    X, Y, bounds = quadratic_data(n=16, d=2)
    return DEMO(TINY).fit(X, Y, bounds, seed=0)


def test_save_to_an_empty_path_names_the_path(small_model: DEMO) -> None:
    with pytest.raises(ValueError, match="names no file"):
        small_model.save("")


@pytest.mark.parametrize("device", ["bogus", "cuda:99", 3.5])
def test_load_with_a_bad_map_location_blames_the_device_not_the_file(
    device: object, small_model: DEMO, tmp_path: Path
) -> None:
    if device == "cuda:99" and torch.cuda.device_count() > 99:
        pytest.skip("that many GPUs")
    small_model.save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="map_location") as info:
        DEMO.load(tmp_path / "m.pt", map_location=device)
    assert "checkpoint" not in str(info.value)


# -------------------------------------------------------------- config bits
@pytest.mark.parametrize("data", [None, [1, 2], "fast", {1: 2}])
def test_from_dict_names_what_it_needs(data: object) -> None:
    with pytest.raises(TypeError, match=r"DEMOConfig\.from_dict"):
        DEMOConfig.from_dict(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_tiny_reweight_temperature_puts_all_weight_on_the_top_bin(dtype) -> None:
    y = torch.linspace(0, 1, 50, dtype=dtype)
    w = reweighting_weights(y, temperature=1e-300)
    assert torch.isfinite(w).all() and float(w.mean()) == pytest.approx(1.0)
    assert float(w[-1]) > 0 and float(w[0]) == 0.0


# -------------------------------------------------------------- forged cells
@dataclass
class Payload:
    """Not a tensor: unpickling it needs arbitrary code."""

    command: str = "echo owned"


def test_a_forged_cell_with_valid_hashes_is_corrupt_and_named(tmp_path: Path) -> None:
    store = CellStore(tmp_path)
    key = CellKey("levy", "grad", 0)
    store.save(key, {"fingerprint": "fp", "metric": 1.0}, {"evil": Payload()})
    status = store.status(key, "fp")
    assert status.state == "corrupt"
    assert "seed0.pt" in status.reason and "weights_only" not in status.reason
    with pytest.raises(CorruptCell) as info:
        store.load_tensors(key)
    assert "seed0.pt" in str(info.value) and "weights_only" not in str(info.value)


# -------------------------------------------------- two processes, one --out
WRITER = """
import sys, time
from pathlib import Path
import matplotlib.pyplot as plt
import torch
from botorch_demo.benchmarks import plots
from botorch_demo.benchmarks.store import CellKey, CellStore

out, value, control = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
store = CellStore(out)
key = CellKey("levy", "grad", 0)
(control / f"ready-{value}").touch()
while not (control / "go").exists():
    time.sleep(0.001)
for _ in range(6):
    fig, ax = plt.subplots()
    ax.plot([0, value])
    plots._save(fig, out / "reliability.png")
    store.save(key, {"fingerprint": "fp", "writer": value}, {"x": torch.full((50, 8), value)})
"""


@pytest.mark.slow
def test_two_processes_writing_plots_and_cells_of_one_out_do_not_collide(
    tmp_path: Path,
) -> None:
    out, control = tmp_path / "out", tmp_path / "control"
    out.mkdir()
    control.mkdir()
    root = str(Path(botorch_demo.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(out), str(v), str(control)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for v in (1, 2)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((control / f"ready-{v}").exists() for v in (1, 2)):
            assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
            assert time.monotonic() < deadline, "the writers did not start"
            time.sleep(0.01)
        (control / "go").touch()
        results = [w.communicate(timeout=120) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
    assert [w.returncode for w in writers] == [0, 0], results
    assert (out / "reliability.png").read_bytes().startswith(b"\x89PNG")
    leftovers = [p for p in out.rglob(f"*{TEMP_SUFFIX}")]
    assert leftovers == []
    # The cell holds one writer's record and tensors... or the other's: each
    # file is whole, and the pair verifies when the last writer's files agree.
    store = CellStore(out)
    assert store.load_tensors(CellKey("levy", "grad", 0))["x"].shape == (50, 8)
