"""Threads and devices: one policy for the command line, workers and remote jobs."""

import pytest
import torch

from botorch_demo.runtime import (
    allocated_threads,
    idle_threads,
    resolve_device,
    threads_per_worker,
)


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [(2, 0.0, 2), (2, 0.4, 2), (2, 0.9, 1), (2, 5.0, 1), (16, 4.2, 12), (1, 0.0, 1)],
)
def test_idle_threads_are_the_idle_cores_at_least_one(cores, load, expected):
    assert idle_threads(cores, load) == expected


def test_idle_threads_reads_this_machine():
    assert idle_threads() >= 1


@pytest.mark.parametrize(
    ("workers", "cores", "expected"), [(1, 2, 2), (2, 2, 1), (4, 2, 1), (3, 16, 5)]
)
def test_threads_per_worker_split_the_cores(workers, cores, expected):
    assert threads_per_worker(workers, cores=cores) == expected


def test_slurm_allocation_wins(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    assert allocated_threads(3) == 3
    assert allocated_threads(None) is None
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "7")
    assert allocated_threads(3) == 7


def test_auto_device_follows_the_visible_gpus():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    ("name", "here", "fragment"),
    [
        ("foo", False, "unknown --device 'foo'"),
        ("xla", False, "unsupported --device 'xla'"),
        ("cuda:99", True, "--device 'cuda:99'"),
    ],
)
def test_bad_devices_are_named(name, here, fragment):
    if name.startswith("cuda") and torch.cuda.device_count() > 99:
        pytest.skip("a machine with 100 GPUs")
    with pytest.raises(ValueError, match=fragment):
        resolve_device(name, here=here, what="--device")


def test_remote_devices_are_checked_by_name_only():
    assert resolve_device("cuda:3", here=False) == torch.device("cuda", 3)
