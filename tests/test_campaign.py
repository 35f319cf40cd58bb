"""The campaign benchmark without running a campaign: the per-round store and its
checks, the arguments, the strategies' JSON round trip, the tables and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ax.exceptions.core import UserInputError
from ax.storage.json_store.decoder import object_from_json
from ax.storage.json_store.encoder import object_to_json

from botorch_demo.ax import DEMOPoolGenerator, demo_campaign_strategy
from botorch_demo.benchmarks import campaign_report
from botorch_demo.benchmarks.campaign_registry import (
    STRATEGIES,
    CampaignSettings,
    check_campaign,
    resolve_strategies,
)
from botorch_demo.benchmarks.campaign_store import RoundStore
from botorch_demo.benchmarks.profiles import get_profile
from botorch_demo.benchmarks.store import CellKey, CellStore, CorruptCell
from botorch_demo.cli import main

KEY = CellKey("seq-l6-v5", "qei", 0)
FINGERPRINT = "f" * 16


def _row(r: int, n: int) -> dict:
    return {"round": r, "n_evaluated": n, "fingerprint": FINGERPRINT, "best_so_far": 0.1 * r}


@pytest.fixture
def rounds(tmp_path: Path) -> RoundStore:
    """A round store with rounds 0 (4 designs) and 1 (6 designs) saved."""
    store = RoundStore(CellStore(tmp_path), KEY)
    X = torch.arange(12, dtype=torch.float64).reshape(6, 2)
    y = torch.arange(6, dtype=torch.float64)
    store.save(0, _row(0, 4), X[:4], y[:4], b'{"round": 0}')
    store.save(1, _row(1, 6), X, y, b'{"round": 1}')
    return store


def test_round_store_resumes_at_the_latest_round(rounds: RoundStore) -> None:
    state = rounds.latest(FINGERPRINT)
    assert state.round == 1
    assert [row["round"] for row in state.rows] == [0, 1]
    assert state.X.shape == (6, 2) and state.snapshot == b'{"round": 1}'
    # Only the latest round keeps its Ax snapshot.
    assert not rounds.paths(0)[2].exists() and rounds.paths(1)[2].exists()


def test_round_store_finds_nothing_in_an_empty_folder(tmp_path: Path) -> None:
    assert RoundStore(CellStore(tmp_path), KEY).latest(FINGERPRINT) is None


@pytest.mark.parametrize(
    "damage, message",
    [
        ("tensors", "does not match its hash"),
        ("record", "edited after it was written"),
        ("snapshot", "snapshot round1.ax.json does not match"),
        ("missing snapshot", "is unreadable"),
    ],
)
def test_round_store_refuses_damaged_rounds(rounds: RoundStore, damage: str, message: str) -> None:
    json_path, tensor_path, snap_path = rounds.paths(1)
    if damage == "tensors":
        tensor_path.write_bytes(tensor_path.read_bytes()[:-5])
    elif damage == "record":
        record = json.loads(json_path.read_text())
        record["best_so_far"] = 9.0
        json_path.write_text(json.dumps(record))
    elif damage == "snapshot":
        snap_path.write_bytes(b"{}")
    else:
        snap_path.unlink()
    with pytest.raises(CorruptCell, match=message):
        rounds.latest(FINGERPRINT)


def test_round_store_refuses_another_configuration_and_a_broken_sequence(
    rounds: RoundStore,
) -> None:
    with pytest.raises(CorruptCell, match="another configuration"):
        rounds.latest("0" * 16)
    other = torch.zeros(8, 2, dtype=torch.float64)
    rounds.save(2, _row(2, 8), other, torch.zeros(8, dtype=torch.float64), b"{}")
    with pytest.raises(CorruptCell, match="does not continue round 1"):
        rounds.latest(FINGERPRINT)
    rounds.clear()
    assert rounds.latest(FINGERPRINT) is None


def test_settings_fingerprint_ignores_rounds_but_not_sizes() -> None:
    profile = get_profile("smoke")
    base = CampaignSettings(profile, 8, 4)
    assert base.fingerprint() == CampaignSettings(profile, 8, 4).fingerprint()
    assert base.fingerprint() != CampaignSettings(profile, 8, 2).fingerprint()
    assert base.fingerprint() != CampaignSettings(get_profile("fast"), 8, 4).fingerprint()
    assert [base.designs(r) for r in range(3)] == [8, 4, 4]
    assert base.evaluated(2) == 16


def test_sizes_and_strategy_names_are_checked() -> None:
    assert resolve_strategies(None) == list(STRATEGIES)
    assert resolve_strategies("qei, qei,demo-then-qei") == ["qei", "demo-then-qei"]
    with pytest.raises(ValueError, match="Unknown strategy 'nope'"):
        resolve_strategies(["nope"])
    with pytest.raises(ValueError, match="No strategies"):
        resolve_strategies(",")
    assert check_campaign(["qei"], 8, 0, 16) == (8, 0, 16)
    with pytest.raises(ValueError, match="k0 must lie in"):
        check_campaign(["qei"], 0, 1, 1)
    with pytest.raises(ValueError, match="rounds must be an int"):
        check_campaign(["qei"], 1, True, 1)
    with pytest.raises(ValueError, match="must not exceed k0 8 for demo-every-round"):
        check_campaign(["qei", "demo-every-round"], 8, 1, 16)


CLI_CASES = {
    "k0 zero": (["--k0", "0"], "--k0 must lie in [1, 100000], got 0"),
    "negative rounds": (["--rounds", "-1"], "--rounds must lie in [0, 1000], got -1"),
    "batch not an int": (["--batch", "x"], "argument --batch: invalid int value: 'x'"),
    "batch above k0": (["--k0", "4", "--batch", "8"], "--batch 8 must not exceed --k0 4"),
    "unknown strategy": (["--strategies", "qei,nope"], "Unknown strategy 'nope'"),
    "no strategy": (["--strategies", ","], "names no strategy"),
    "device": (["--device", "cuda"], "campaigns run on the CPU only"),
    "seeds": (["--seeds", "0"], "--seeds must lie in [1, 10000], got 0"),
    "unknown task": (["--task", "nope"], "Unknown task 'nope'"),
    "executor option": (["--slurm-time", "10"], "--slurm-time applies to --executor submitit"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_refuses_bad_campaign_options_in_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args, expected = CLI_CASES[case]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["campaign", "--profile", "smoke", "--out", str(out), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1 and err.startswith("botorch-demo campaign: error:")
    assert not (out / "cells").exists()


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_survives_a_json_round_trip(name: str, tmp_path: Path) -> None:
    settings = CampaignSettings(get_profile("smoke"), 8, 4)
    original = STRATEGIES[name].build(settings, 3, str(tmp_path / "ckpt"))
    decoded = object_from_json(json.loads(json.dumps(object_to_json(original))))
    assert list(decoded.nodes_by_name) == list(original.nodes_by_name)
    for node_name, node in original.nodes_by_name.items():
        spec = node.generator_specs[0]
        twin = decoded.nodes_by_name[node_name].generator_specs[0]
        assert twin.generator_enum == spec.generator_enum
        assert twin.generator_kwargs == spec.generator_kwargs


def test_recommended_strategy_is_the_split_strategy_without_retraining() -> None:
    strategy = demo_campaign_strategy(initial_batch_size=8, batch_size=4, config="smoke")
    assert list(strategy.nodes_by_name) == ["DEMO", "GP_qLogNEI_DEMO_pool"]
    kwargs = strategy.nodes_by_name["GP_qLogNEI_DEMO_pool"].generator_specs[0].generator_kwargs
    assert kwargs["prior_mean"] is True and kwargs["gp_share"] == 0.5
    assert kwargs["retrain_demo"] is False
    with pytest.raises(UserInputError, match="batch_size"):
        demo_campaign_strategy(batch_size=0)
    with pytest.raises(UserInputError, match="pool_size"):
        DEMOPoolGenerator(config="smoke", pool_size=0)
    with pytest.raises(UserInputError, match="demo_seed"):
        DEMOPoolGenerator(config="smoke", demo_seed=1.5)


def _record(strategy: str, seed: int, best: list[float]) -> dict:
    rows = [
        {
            "task": "t",
            "strategy": strategy,
            "seed": seed,
            "round": r,
            "n_evaluated": 8 + 4 * r,
            "best_so_far": b,
            "round_best": b,
            "d_best": 0.5,
            "seconds": 1.0 + r,
            "generation_seconds": 1.0,
            "oracle_seconds": 0.0,
            "nodes": ["DEMO" if r == 0 else "GP"],
        }
        for r, b in enumerate(best)
    ]
    return {"rows": rows}


def test_tables_and_plot_of_best_so_far(tmp_path: Path) -> None:
    records = [
        _record("qei", 0, [0.1, 0.2, 0.3, 0.3, 0.4, 0.5]),
        _record("qei", 1, [0.3, 0.4, 0.5, 0.5, 0.6, 0.7]),
        _record("demo-then-qei", 0, [0.5, 0.5, 0.6, 0.6, 0.6, 0.9]),
    ]
    rows = campaign_report.round_rows(records, rounds=4)
    assert len(rows) == 3 * 5  # round 5 is beyond the campaign's 4
    text = campaign_report.csv_text(rows)
    assert text.splitlines()[0].split(",") == list(campaign_report.CSV_COLUMNS)
    summary = campaign_report.summarize(rows)
    qei4 = next(s for s in summary if s["strategy"] == "qei" and s["round"] == 4)
    assert qei4["best_so_far_mean"] == pytest.approx(0.5)
    assert qei4["best_so_far_se"] == pytest.approx(0.1)
    labels = {"qei": "GP", "demo-then-qei": "DEMO then GP"}
    md = campaign_report.markdown_text(
        summary, ["t"], ["qei", "demo-then-qei"], labels, 4, {"profile": "smoke"}
    )
    assert "| strategy | round 0 (8 calls) | round 1 (12 calls) | round 2 (16 calls) " in md
    assert "round 4 (24 calls)" in md and "round 3" not in md
    assert "| GP | 0.200 ± 0.100 |" in md and "| DEMO then GP | 0.500 |" in md
    # A strategy without results, listed first, leaves the header's counts alone.
    md = campaign_report.markdown_text(
        summary, ["t"], ["absent", "qei"], labels, 4, {"profile": "smoke"}
    )
    assert "| strategy | round 0 (8 calls) | round 1 (12 calls) |" in md
    assert "| absent | – | – | – | – |" in md
    path = campaign_report.plot_best_so_far(
        summary, "t", ["qei", "demo-then-qei"], labels, 0.5, tmp_path / "p.png"
    )
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_the_command_help_names_every_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["campaign", "--help"])
    # argparse wraps lines after hyphens: join "demo-every-round-" and "cold".
    text = "".join(capsys.readouterr().out.split())
    for name in STRATEGIES:
        assert name in text


def test_report_only_writes_the_finished_cells_and_computes_nothing(tmp_path: Path) -> None:
    from botorch_demo.benchmarks.campaign import run_campaign

    sizes = {"tasks": ["seq-l6-v5"], "k0": 4, "batch": 2, "seeds": 1, "profile": "smoke"}
    run_campaign(strategies=["qei"], rounds=1, out=tmp_path, progress=False, **sizes)
    cells = sorted(p.name for p in (tmp_path / "cells" / "seq-l6-v5").iterdir())
    with pytest.warns(UserWarning, match="has not finished 1 rounds"):
        result = run_campaign(
            strategies=["qei", "demo-then-qei"],
            rounds=1,
            out=tmp_path,
            progress=False,
            report_only=True,
            **sizes,
        )
    assert result.computed == [] and [k.method for k in result.skipped] == ["qei"]
    assert [k.method for k in result.missing] == ["demo-then-qei"]
    assert sorted(p.name for p in (tmp_path / "cells" / "seq-l6-v5").iterdir()) == cells
    rows = result.files["csv"].read_text().splitlines()[1:]
    assert len(rows) == 2 and all(",qei," in row for row in rows)
    # Two rounds were never run: nothing is finished for them, nothing is run.
    with pytest.warns(UserWarning, match="has not finished 2 rounds"):
        longer = run_campaign(
            strategies=["qei"], rounds=2, out=tmp_path, progress=False, report_only=True, **sizes
        )
    assert [k.method for k in longer.missing] == ["qei"] and longer.computed == []


def test_report_only_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["campaign", "--task", "seq-l6-v5", "--strategies", "qei", "--k0", "4"]
    args += ["--batch", "2", "--rounds", "1", "--seeds", "1", "--profile", "smoke"]
    with pytest.warns(UserWarning, match="has not finished"):
        main([*args, "--out", str(tmp_path), "--no-progress", "--report-only"])
    out = capsys.readouterr().out
    assert "0 campaign cells computed, 0 skipped" in out and "1 not finished and left out" in out
    assert not (tmp_path / "cells" / "seq-l6-v5" / "qei").exists()
