"""Smoke campaigns of every strategy through Ax: equal oracle calls, monotone
best-so-far, resume after a kill; and the new strategies meeting a failed and an
abandoned trial and a reload from SQLite mid-round."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from ax.api.client import Client
from ax.core.trial_status import TrialStatus

from botorch_demo.ax import (
    attach_offline_data,
    demo_every_round_strategy,
    demo_pool_qei_strategy,
    sqlite_storage_config,
)
from botorch_demo.ax._ax_private import client_experiment, generation_node_name
from botorch_demo.benchmarks import campaign_cell
from botorch_demo.benchmarks.campaign import STRATEGIES, run_campaign
from botorch_demo.benchmarks.campaign_store import client_snapshot
from botorch_demo.benchmarks.executors import CellFailed
from botorch_demo.benchmarks.store import CellKey, CellStore

TASK = "seq-l6-v5"
SIZES = {"k0": 8, "batch": 4}


class Killed(RuntimeError):
    """Stands for the process dying in the middle of a round."""


# demo-every-round-cold differs from demo-every-round only in a DEMOConfig field;
# demo-pool-qei and demo-prior-qei differ from demo-hybrid-qei only in generator
# arguments (prior_mean, gp_candidates) that demo-hybrid-qei sets; demo-split-qei
# differs from demo-split-qei-once only in retraining, which demo-hybrid-qei does.
_SKIPPED = ("demo-every-round-cold", "demo-pool-qei", "demo-prior-qei", "demo-split-qei")


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s not in _SKIPPED])
def test_campaign_runs_resumes_after_a_kill_and_extends(
    strategy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    args = {"tasks": [TASK], "strategies": [strategy], "seeds": 1, "profile": "smoke"}
    real_round = campaign_cell._round

    def dies_in_round_1(client, task, settings, names, r):
        if r == 1:
            raise Killed("killed in round 1")
        return real_round(client, task, settings, names, r)

    monkeypatch.setattr(campaign_cell, "_round", dies_in_round_1)
    with pytest.raises(CellFailed, match="killed in round 1"):
        run_campaign(**args, **SIZES, rounds=1, out=out, progress=False)
    key = CellKey(TASK, strategy, 0)
    folder = CellStore(out).json_path(key).with_suffix("")
    assert (folder / "round0.json").is_file() and not (folder / "round1.json").exists()
    first = torch.load(folder / "round0.pt", weights_only=True)

    monkeypatch.setattr(campaign_cell, "_round", real_round)
    result = run_campaign(**args, **SIZES, rounds=1, out=out, progress=False)
    assert result.computed == [key]
    # A longer campaign continues the finished one from its last round.
    result = run_campaign(**args, **SIZES, rounds=2, out=out, progress=False)
    assert result.computed == [key]
    rows = [r for r in result.results["rows"] if r["strategy"] == strategy]
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [r["n_evaluated"] for r in rows] == [8, 12, 16]  # the same for every strategy
    best = [r["best_so_far"] for r in rows]
    assert best == sorted(best)
    stored = CellStore(out).load_tensors(key)
    assert stored["X"].shape[0] == 16 and torch.equal(stored["X"][:8], first["X"])
    assert len({tuple(x) for x in stored["X"].tolist()}) == 16
    nodes = [r["nodes"] for r in rows]
    if strategy == "qei":
        assert nodes == [["GP_qLogNEI"]] * 3
    else:
        assert nodes[0] == ["DEMO"] and "DEMO" not in nodes[1] + nodes[2]
    assert rows[0]["best_so_far"] == pytest.approx(rows[0]["round_best"])
    for name in ("results.csv", "results.md", "results.json", f"best_so_far_{TASK}.png"):
        assert (out / name).is_file()
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert {"task", "strategy", "seed", "round", "n_evaluated", "best_so_far"} <= set(header)
    assert json.loads((out / "run.json").read_text())["profile"] == "smoke"
    # A third run finds the cell finished.
    again = run_campaign(**args, **SIZES, rounds=2, out=out, progress=False)
    assert again.skipped == [key] and again.computed == []


# The pool strategy with every option on (the prior-mean GP, the GP's own batch
# among the candidates), as demo-hybrid-qei runs it; the pool strategy without
# retraining, as demo-split-qei-once runs it; DEMO every round.
_FAULT_CASES = {
    "pool-hybrid": (
        demo_pool_qei_strategy,
        {"pool_size": 16, "prior_mean": True, "gp_candidates": True},
    ),
    "pool-split-once": (
        demo_pool_qei_strategy,
        {"pool_size": 16, "prior_mean": True, "gp_share": 0.5, "retrain_demo": False},
    ),
    "every-round": (demo_every_round_strategy, {}),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(_FAULT_CASES))
def test_strategy_survives_failed_and_abandoned_trials_and_a_reload_mid_round(
    case, make_tf8_client, tf8_frame, complete_all, tf8_design, ax_smoke, tmp_path: Path
) -> None:
    build, extra = _FAULT_CASES[case]
    storage = sqlite_storage_config(tmp_path / "ax.db", rebind=True)
    client = make_tf8_client(storage_config=storage)
    attach_offline_data(client, tf8_frame(300))
    client.set_generation_strategy(
        build(
            initial_batch_size=4,
            batch_size=4,
            seed=0,
            checkpoint_dir=str(tmp_path / "ckpt"),
            **extra,
            **ax_smoke,
        )
    )
    first = client.get_next_trials(max_trials=4)
    failed, *rest = sorted(first)
    client.mark_trial_failed(failed)
    complete_all(client, {i: first[i] for i in rest})
    replacement = client.get_next_trials(max_trials=1)  # DEMO replaces the failed design
    complete_all(client, replacement)

    online = client.get_next_trials(max_trials=2)
    abandoned, kept = sorted(online)
    client.mark_trial_abandoned(abandoned)
    del client  # The process dies mid-round, one design out.

    client = Client.load_from_database("tf8", storage_config=storage)
    more = client.get_next_trials(max_trials=3)
    assert len(more) == 3
    complete_all(client, {kept: online[kept], **more})
    experiment = client_experiment(client)
    ours = [t for t in experiment.trials.values() if t.generator_runs]
    ours = [t for t in ours if generation_node_name(t.generator_runs[0]) is not None]
    nodes = [generation_node_name(t.generator_runs[0]) for t in ours]
    assert nodes[:5] == ["DEMO"] * 5
    assert len(nodes) == 5 + 2 + 3 and "DEMO" not in nodes[5:]
    statuses = [t.status for t in ours]
    assert statuses.count(TrialStatus.FAILED) == 1
    assert statuses.count(TrialStatus.ABANDONED) == 1
    # No design twice, except that an online (GP) round may retry a failed one,
    # as Ax's nodes do: Ax does not count failed designs as pending.
    trials = experiment.trials.values()
    designs = [tf8_design(t.arm.parameters) for t in trials if t.status != TrialStatus.FAILED]
    assert len(set(designs)) == len(designs)


@pytest.mark.slow
def test_cells_run_on_an_executor(tmp_path: Path) -> None:
    threads = torch.get_num_threads()  # the worker sets its own, in this process
    try:
        with ThreadPoolExecutor(max_workers=1) as executor:
            result = run_campaign(
                tasks=[TASK],
                strategies=["demo-every-round", "demo-then-qei"],
                seeds=[3],
                profile="smoke",
                k0=8,
                batch=4,
                rounds=0,
                out=tmp_path,
                progress=False,
                executor=executor,
                threads_per_cell=1,
            )
    finally:
        torch.set_num_threads(threads)
    key = CellKey(TASK, "demo-every-round", 3)
    other = CellKey(TASK, "demo-then-qei", 3)
    assert result.computed == [key, other]
    store = CellStore(tmp_path)
    record = store.verify(key)
    assert record["executor"] == "ThreadPoolExecutor" and record["torch_threads"] == 1
    assert [row["n_evaluated"] for row in record["rows"]] == [8]
    # Both strategies' offline batch comes from one model, trained once and
    # loaded by the second strategy from the task and seed's shared folder.
    models = [
        p for p in (tmp_path / "demo_ckpt" / TASK / "seed3").iterdir() if ".targets" not in p.name
    ]
    assert len(models) == 1
    first, second = (torch.load(store.tensor_path(k), weights_only=True) for k in (key, other))
    assert torch.equal(first["X"], second["X"])


@pytest.mark.slow
def test_a_snapshot_loads_in_a_fresh_process(
    make_tf8_client, tf8_frame, ax_smoke, tmp_path: Path
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(50))
    client.set_generation_strategy(
        demo_pool_qei_strategy(initial_batch_size=4, batch_size=2, **ax_smoke)
    )
    path = tmp_path / "snapshot.json"
    path.write_bytes(client_snapshot(client))
    code = (
        "import sys; from botorch_demo.benchmarks.campaign_store import load_client; "
        "c = load_client(open(sys.argv[1], 'rb').read()); "
        "from botorch_demo.ax._ax_private import client_generation_strategy; "
        "print(list(client_generation_strategy(c).nodes_by_name))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "['DEMO', 'GP_qLogNEI_DEMO_pool']" in out.stdout
