"""The benchmark harness: bad input, skipped pairs, one look at each cell, a smoke run, resume."""

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch

from botorch_demo.benchmarks import harness, store
from botorch_demo.benchmarks.harness import resolve_seeds, resolve_tasks, run_benchmark
from botorch_demo.benchmarks.methods import Method, MethodOutput, list_methods, resolve_methods
from botorch_demo.benchmarks.profiles import get_profile
from botorch_demo.benchmarks.report import CSV_COLUMNS, recompute_record
from botorch_demo.benchmarks.store import CellKey, CellStore, OutputFolderConflict
from botorch_demo.tasks import load_task

HAS_AX = importlib.util.find_spec("botorch_demo.ax") is not None
TASKS = ["tfbind8", "levy"]
SEEDS = 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def top_offline(ctx):
    """The best K offline designs, as a trivial method."""
    rows = ctx.task.train_Y.squeeze(-1).argsort(descending=True)[: ctx.q]
    return MethodOutput(ctx.task.train_X[rows])


# ------------------------------------------------------------------ bad input
def test_unknown_method_lists_known_ones(bench_methods) -> None:
    with pytest.raises(ValueError) as info:
        run_benchmark(tasks=["tfbind8"], methods=["demo", "nope"], out="unused")
    msg = str(info.value)
    assert "nope" in msg
    for name in bench_methods:
        assert name in msg
    assert not Path("unused").exists()


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        run_benchmark(tasks=["tfbind9"], methods=["demo"], out="unused")
    for name in ("tfbind8", "tfbind10", "levy"):
        assert name in str(info.value)


def test_task_without_oracle_is_refused() -> None:
    with pytest.raises(ValueError, match="no oracle"):
        resolve_tasks(["superconductor"])
    # the refusal lists the suite's tasks among the usable ones
    with pytest.raises(ValueError, match="seq-l8-v4"):
        resolve_tasks(["ant"])


def test_other_bad_arguments() -> None:
    with pytest.raises(ValueError, match="Known profiles"):
        get_profile("turbo")
    with pytest.raises(ValueError, match="seeds"):
        resolve_seeds(0)
    with pytest.raises(ValueError, match="workers"):
        run_benchmark(tasks=["levy"], methods=["grad"], workers=0, out="unused")
    with pytest.raises(ValueError, match="No methods"):
        resolve_methods(" , ")
    with pytest.raises(ValueError, match="Valid fields"):
        run_benchmark(tasks=["levy"], methods=["demo[nope=1]"], out="unused")
    assert not Path("unused").exists()


def test_an_unknown_suite_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="Known suites"):
        run_benchmark(suite="nope", methods=["grad"], out="unused")
    assert not Path("unused").exists()


# ------------------------------------------------------------------ skipped pairs
def test_unsupported_pairs_are_skipped_not_run(tmp_path, temp_method) -> None:
    temp_method(
        Method(
            "top-offline",
            "Top offline",
            "the best K offline designs",
            (),
            top_offline,
            lambda task: "too long" if task == "seq-l8-v4" else None,
        )
    )
    result = run_benchmark(
        tasks=["seq-l6-v5", "seq-l8-v4"],
        methods=["top-offline"],
        seeds=1,
        profile="smoke",
        out=tmp_path,
        progress=False,
    )
    assert result.computed == [CellKey("seq-l6-v5", "top-offline", 0)]
    assert result.not_run == ["top-offline on seq-l8-v4: too long"]
    (row,) = result.results["summary"]
    assert row["task"] == "seq-l6-v5"
    assert row["p100_mean"] == pytest.approx(load_task("seq-l6-v5").d_best, abs=5e-8)
    assert row["novelty_mean"] == 0.0  # offline designs are not novel
    text = result.files["markdown"].read_text()
    assert "| Top offline | 0.520 | – |" in text


# ------------------------------------------------------------------ one look per cell
def test_each_cell_key_is_built_once_and_each_stored_cell_verified_once(
    tmp_path, temp_method, monkeypatch
) -> None:
    temp_method(Method("top-a-test", "Top A", "offline rows", (), top_offline))
    temp_method(Method("top-b-test", "Top B", "offline rows", (), top_offline))
    kw = dict(tasks=["levy"], methods="top-a-test,top-b-test", seeds=2, progress=False)
    keys = sorted(CellKey("levy", m, s) for m in ("top-a-test", "top-b-test") for s in (0, 1))
    built, verified = [], []

    def counting_key(*args):
        built.append(CellKey(*args))
        return built[-1]

    def counting_verify(json_path, tensor_path, _verify=store.verify_cell_files):
        verified.append(json_path)
        return _verify(json_path, tensor_path)

    monkeypatch.setattr(harness, "CellKey", counting_key)
    monkeypatch.setattr(store, "verify_cell_files", counting_verify)
    first = run_benchmark(profile="smoke", out=tmp_path, **kw)
    assert sorted(first.computed) == keys
    # Computed cells are not read back: the workers return their records.
    assert (sorted(built), verified) == (keys, [])
    built.clear()
    second = run_benchmark(profile="smoke", out=tmp_path, **kw)
    assert sorted(second.skipped) == keys and second.computed == []
    assert sorted(built) == keys
    assert sorted(verified) == sorted(CellStore(tmp_path).json_path(k) for k in keys)
    assert [c["p100"] for c in second.results["cells"]] == [
        c["p100"] for c in first.results["cells"]
    ]


# ------------------------------------------------------------------ the smoke run
def smoke_methods() -> list[str]:
    """Every registered method; bo-qei needs the Ax package."""
    return [m for m in list_methods() if HAS_AX or m != "bo-qei"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run of two tasks, all methods and two seeds, shared by the tests."""
    tmp = tmp_path_factory.mktemp("smoke")
    methods = smoke_methods()
    result = run_benchmark(
        tasks=TASKS, methods=methods, seeds=SEEDS, profile="smoke", out=tmp / "results"
    )
    return tmp, result, methods, len(TASKS) * len(methods) * SEEDS


@pytest.mark.slow
def test_every_cell_computed_once(smoke) -> None:
    _, result, _, n_cells = smoke
    assert len(result.computed) == n_cells
    assert result.skipped == []
    assert len(set(result.computed)) == n_cells


@pytest.mark.slow
def test_results_json(smoke) -> None:
    tmp, _, methods, n_cells = smoke
    data = json.loads((tmp / "results" / "results.json").read_text())
    assert data["tasks"] == TASKS
    assert data["methods"] == methods
    assert data["seeds"] == list(range(SEEDS))
    assert len(data["cells"]) == n_cells
    assert len(data["summary"]) == len(TASKS) * len(methods)
    config = data["configuration"]
    assert config["profile"]["name"] == "smoke"
    assert config["profile"]["q"] == 256
    assert "surrogate_hidden" in config["profile"]["demo"]
    assert "popsize" in config["profile"]["cmaes"]
    assert "max_points" in config["profile"]["bo"]
    assert set(config["method_settings"]) == set(methods)
    assert "torch" in config["environment"]["versions"]
    assert "cpu_count" in config["environment"]
    assert set(data["mean_rank"]["p100"]) == set(methods)
    for cell in data["cells"]:
        for key in ("p100", "p50", "proportion_above_d_best", "own_seconds"):
            assert isinstance(cell[key], float)
        assert cell["q"] == 256
        assert cell["p100"] >= cell["p50"]
        assert 0.0 <= cell["proportion_above_d_best"] <= 1.0
    for row in data["sharing"]:
        assert row["standalone_seconds"] >= row["seconds"]


@pytest.mark.slow
def test_results_csv(smoke) -> None:
    tmp, _, methods, n_cells = smoke
    with (tmp / "results" / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_cells
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = {(r["task"], r["method"], int(r["seed"])) for r in rows}
    assert cells == {(t, m, s) for t in TASKS for m in methods for s in range(SEEDS)}
    for r in rows:
        float(r["p100"]), float(r["p50"]), float(r["seconds"])
        assert float(r["standalone_seconds"]) >= float(r["seconds"]) - 1e-6


@pytest.mark.slow
def test_results_markdown(smoke) -> None:
    tmp, result, _, _ = smoke
    text = (tmp / "results" / "results.md").read_text()
    assert "## 100th percentile" in text
    assert "## 50th percentile" in text
    assert "## Against Grad and CMA-ES on the same surrogate" in text
    assert "| method | tfbind8 (ours) | tfbind8 (paper) | levy (ours) | levy (paper)" in text
    assert "0.980 ± 0.004" in text  # the paper's DEMO on TF Bind 8
    assert "1.005 ± 0.020" in text  # the paper's DEMO on Levy
    for row in result.results["summary"]:
        assert f"{row['p100_mean']:.3f} ± {row['p100_se']:.3f}" in text
    for label in ("DEMO", "DEMO w/o pseudo-target", "DEMO w/o editing", "DDOM", "Grad"):
        assert f"| {label} |" in text


@pytest.mark.slow
def test_plots_are_png(smoke) -> None:
    tmp = smoke[0]
    for name in ("reliability.png", "score_distributions.png"):
        data = (tmp / "results" / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        assert len(data) > 1000


@pytest.mark.slow
def test_stored_candidates(smoke) -> None:
    tmp, result, _, _ = smoke
    cells = CellStore(tmp / "results")
    for key in result.computed:
        tensors = cells.load_tensors(key)
        task = load_task(key.task)
        assert tensors["candidates"].shape == (256, task.dim)
        assert tensors["candidates"].dtype == torch.float64
        assert tensors["y_normalized"].shape == (256, 1)
    assert list((tmp / "results").rglob("*.tmp")) == []


@pytest.mark.slow
def test_table_numbers_equal_recomputed_oracle_scores(smoke) -> None:
    tmp, result, _, _ = smoke
    cells = CellStore(tmp / "results")
    tasks = {t: load_task(t) for t in TASKS}
    by_cell = {}
    for key in result.computed:
        record = cells.load_record(key)
        again = recompute_record(cells, key, tasks[key.task])
        for metric, value in again.items():
            assert record[metric] == value, f"{key} {metric}"
        by_cell[key] = again
    for row in result.results["summary"]:
        values = [by_cell[CellKey(row["task"], row["method"], s)]["p100"] for s in range(SEEDS)]
        assert row["p100_mean"] == pytest.approx(sum(values) / len(values), abs=5e-13)


@pytest.mark.slow
def test_resume_skips_finished_cells(smoke) -> None:
    tmp, result, methods, n_cells = smoke
    out = tmp / "resume"
    shutil.copytree(tmp / "results", out)
    cells = CellStore(out)
    keys = sorted(result.computed)
    mtimes = {k: cells.json_path(k).stat().st_mtime_ns for k in keys}
    # A killed run: one cell lost, and a stray temp file left behind.
    lost = CellKey("levy", "grad", 1)
    cells.json_path(lost).unlink()
    (cells.json_path(lost).parent / ".seed1.json.abc.tmp").write_text("{")
    kw = dict(tasks=TASKS, methods=methods, seeds=SEEDS, profile="smoke", out=out, progress=False)
    again = run_benchmark(**kw)
    assert again.computed == [lost]
    assert len(again.skipped) == n_cells - 1
    for k in keys:
        if k != lost:
            assert cells.json_path(k).stat().st_mtime_ns == mtimes[k], str(k)
    # Recomputed alone (no DEMO in its group), the lost cell is the same as before.
    before = CellStore(tmp / "results")
    assert torch.equal(
        cells.load_tensors(lost)["candidates"], before.load_tensors(lost)["candidates"]
    )
    assert cells.load_record(lost)["p100"] == before.load_record(lost)["p100"]
    # Nothing left to do.
    third = run_benchmark(**kw)
    assert third.computed == []
    assert len(third.skipped) == n_cells


@pytest.mark.slow
def test_another_profile_in_the_same_folder_is_refused(smoke) -> None:
    with pytest.raises(OutputFolderConflict, match="another configuration"):
        run_benchmark(
            tasks=["levy"], methods=["grad"], seeds=1, profile="fast", out=smoke[0] / "results"
        )


@pytest.mark.slow
def test_workers_give_the_same_cells(tmp_path) -> None:
    kw = dict(tasks=["levy"], methods=["grad", "cma-es"], seeds=2, profile="smoke", progress=False)
    serial = run_benchmark(out=tmp_path / "serial", workers=1, **kw)
    parallel = run_benchmark(out=tmp_path / "parallel", workers=2, **kw)
    assert sorted(serial.computed) == sorted(parallel.computed)
    for key in serial.computed:
        a = CellStore(serial.out).load_tensors(key)["candidates"]
        b = CellStore(parallel.out).load_tensors(key)["candidates"]
        assert torch.allclose(a, b, atol=1e-6), str(key)
