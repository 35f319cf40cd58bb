"""The m-sweep as harness cells: outputs, shared fits, resume, integrity, direct generate."""

import concurrent.futures as cf
import dataclasses
import json

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.benchmarks.profiles import get_profile
from botorch_demo.benchmarks.store import CellKey, CellStore
from botorch_demo.benchmarks.sweep import run_m_sweep, sweep_methods
from botorch_demo.tasks import load_task

TASK = "seq-l6-v5"
MS = [0, 200, 400]


@pytest.fixture
def sweep(tmp_path, tiny_profile):
    """A sweep of seq-l6-v5 over two seeds and three noise levels (tiny profile)."""
    out = tmp_path / "sweep"
    kw = dict(tasks=[TASK], seeds=2, profile=tiny_profile, out=out, ms=MS, progress=False)
    return run_m_sweep(**kw), kw


def test_the_sweep_cells_are_demo_variants_sharing_one_fit(sweep) -> None:
    result, kw = sweep
    assert sweep_methods(MS) == ["demo[m=0]", "demo[m=200]", "demo[m=400]"]
    keys = sorted(CellKey(TASK, f"demo[m={m}]", s) for m in MS for s in (0, 1))
    assert sorted(result.cells.computed) == keys
    assert result.computed == [(TASK, 0), (TASK, 1)] and result.skipped == []
    assert sorted(p.name for p in (kw["out"] / "cells" / TASK).iterdir()) == sweep_methods(MS)
    cells = json.loads(result.files["json"].read_text())["cells"]
    assert len(cells) == 6
    for seed in (0, 1):
        records = [c for c in cells if c["seed"] == seed]
        assert {c["shared_by"]["pseudo_target_diffusion"] for c in records} == {3}
        assert len({json.dumps(c["components"]) for c in records}) == 1
    assert {c["label"] for c in cells} == {"DEMO [m=0]", "DEMO [m=200]", "DEMO [m=400]"}


def test_the_cells_equal_generate_with_m_on_the_profile_fit(sweep, tiny_profile) -> None:
    _, kw = sweep
    task = load_task(TASK)
    cells = CellStore(kw["out"])
    for seed in (0, 1):
        model = DEMO(tiny_profile.demo).fit(
            task.train_X, task.train_Y, task.bounds, task.categorical_features or None, seed=seed
        )
        for m in MS:
            X, _ = model.generate(tiny_profile.q, seed=seed, m=m)
            stored = cells.load_tensors(CellKey(TASK, f"demo[m={m}]", seed))["candidates"]
            assert torch.equal(X.to("cpu", torch.float64), stored), (seed, m)


def test_the_sweep_files(sweep) -> None:
    result, kw = sweep
    out = kw["out"]
    data = json.loads((out / "m_sweep.json").read_text())
    assert data["ms"] == MS
    assert data["methods"] == sweep_methods(MS)
    assert [(r["task"], r["m"], r["n_seeds"]) for r in data["summary"]] == [
        (TASK, m, 2) for m in MS
    ]
    by_m = {m: [c for c in data["cells"] if c["method"] == f"demo[m={m}]"] for m in MS}
    for row in data["summary"]:
        values = [c["p100"] for c in sorted(by_m[row["m"]], key=lambda c: c["seed"])]
        assert row["p100_mean"] == pytest.approx(sum(values) / 2, abs=5e-13)
    lines = (out / "m_sweep.csv").read_text().splitlines()
    assert lines[0] == "task,seed,m,p100,p50,proportion_above_d_best,d_best"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        [TASK, str(s), str(m)] for s in (0, 1) for m in MS
    ]
    assert (out / "m_sweep.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert result.files == {
        "json": out / "m_sweep.json",
        "csv": out / "m_sweep.csv",
        "plot": out / "m_sweep.png",
    }


def test_a_sweep_resumes_its_cells(sweep) -> None:
    _, kw = sweep
    cells = CellStore(kw["out"])
    lost = CellKey(TASK, "demo[m=200]", 1)
    before = cells.load_tensors(lost)["candidates"]
    cells.json_path(lost).unlink()
    again = run_m_sweep(**kw)
    assert again.cells.computed == [lost]
    assert (again.computed, again.skipped) == ([(TASK, 1)], [(TASK, 0)])
    assert torch.equal(cells.load_tensors(lost)["candidates"], before)
    third = run_m_sweep(**kw)
    assert (third.computed, len(third.skipped), len(third.cells.skipped)) == ([], 2, 6)
    # A wider sweep computes only the new noise level.
    wider = run_m_sweep(**{**kw, "ms": [*MS, 1000]})
    assert sorted(wider.cells.computed) == [CellKey(TASK, "demo[m=1000]", s) for s in (0, 1)]
    assert [r["m"] for r in wider.results["summary"]] == [*MS, 1000]


def test_corrupt_sweep_cells_are_recomputed(sweep, flip_bytes) -> None:
    result, kw = sweep
    cells = CellStore(kw["out"])
    bad = CellKey(TASK, "demo[m=0]", 0)
    flip_bytes(cells.tensor_path(bad), offset_from_end=100, n=4)
    with pytest.warns(UserWarning, match=r"seq-l6-v5/demo\[m=0\]/seed0 .* corrupt"):
        again = run_m_sweep(**kw)
    assert again.cells.computed == [bad]
    assert [k for k, _ in again.cells.corrupt] == [bad]
    assert again.results["summary"] == result.results["summary"]


def test_a_sweep_on_an_executor_gives_the_same_cells(
    tmp_path, sweep, tiny_profile, assert_same_cells
) -> None:
    result, kw = sweep
    with cf.ThreadPoolExecutor(1) as pool:
        other = run_m_sweep(**{**kw, "out": tmp_path / "pool", "executor": pool})
    keys = sorted(result.cells.computed)
    assert sorted(other.cells.computed) == keys
    assert_same_cells(CellStore(kw["out"]), CellStore(tmp_path / "pool"), keys)
    assert {c["executor"] for c in other.results["cells"]} == {"ThreadPoolExecutor"}


def test_noise_levels_outside_the_range_are_refused(tmp_path, tiny_profile) -> None:
    with pytest.raises(ValueError, match="M="):
        run_m_sweep(tasks=[TASK], seeds=1, profile=tiny_profile, out=tmp_path, ms=[2000])
    with pytest.raises(ValueError, match="M="):
        run_m_sweep(tasks=[TASK], seeds=1, profile=tiny_profile, out=tmp_path, ms=[])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_m_sweep(tmp_path) -> None:
    out = tmp_path / "sweep"
    # Offline edits, as in the paper's Figure 4, so that m = 0 gives D(best).
    smoke = get_profile("smoke")
    profile = dataclasses.replace(smoke, demo=smoke.demo.replace(edit_source="offline"))
    kw = dict(tasks=["tfbind8"], seeds=2, profile=profile, out=out, ms=[0, 400, 1000])
    result = run_m_sweep(**kw, progress=False)
    assert sorted(result.computed) == [("tfbind8", 0), ("tfbind8", 1)]
    data = json.loads((out / "m_sweep.json").read_text())
    assert data["ms"] == [0, 400, 1000]
    assert len(data["summary"]) == 3
    at_zero = next(r for r in data["summary"] if r["m"] == 0)
    # m = 0 returns the top-K offline designs unchanged: the best is D(best).
    assert at_zero["p100_mean"] == pytest.approx(load_task("tfbind8").d_best, abs=5e-7)
    lines = (out / "m_sweep.csv").read_text().splitlines()
    assert lines[0] == "task,seed,m,p100,p50,proportion_above_d_best,d_best"
    assert len(lines) == 1 + 2 * 3
    assert (out / "m_sweep.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    again = run_m_sweep(**kw, progress=False)
    assert again.computed == []
    assert len(again.skipped) == 2
    with pytest.raises(ValueError, match="M="):
        run_m_sweep(tasks=["tfbind8"], seeds=1, profile="smoke", out=out, ms=[2000])
