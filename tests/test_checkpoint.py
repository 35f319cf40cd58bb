"""The checkpoint file: format, content hash, safe loading of bad files, atomic saving."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.checkpoint import content_hash
from botorch_demo.exceptions import CheckpointError


@pytest.fixture(scope="module")
def checkpoint(_quadratic_fit: DEMO, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quadratic model saved once for the module (read-only)."""
    path = tmp_path_factory.mktemp("ckpt") / "demo.pt"
    _quadratic_fit.save(path)
    return path


def _payload(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def _flip_weight_bytes(raw: bytes, fitted: DEMO) -> bytes:
    """``raw`` with 200 bytes inside the surrogate's first weight matrix inverted."""
    weight = fitted.surrogate[0].weight.detach().float().numpy().tobytes()
    at = raw.find(weight[:32])
    assert at > 0
    out = bytearray(raw)
    for i in range(at + 64, at + 264):
        out[i] ^= 0xFF
    return bytes(out)


def _resigned(payload: dict, **changes: Any) -> dict:
    """``payload`` with ``changes`` and a hash that matches them."""
    payload = {**payload, **changes}
    meta = {k: payload[k] for k in payload if k not in ("state_dict", "content_sha256")}
    payload["content_sha256"] = content_hash(meta, payload["state_dict"])
    return payload


CHECKPOINT_CASES = {
    "truncated": lambda raw, p, m: raw[: len(raw) // 2],
    "empty": lambda raw, p, m: b"",
    "random bytes": lambda raw, p, m: np.random.default_rng(0).bytes(4096),
    "list": lambda raw, p, m: [1, 2, 3],
    "edited config": lambda raw, p, m: {**p, "config": {**p["config"], "beta_max": 5.0}},
    "flipped weights": lambda raw, p, m: _flip_weight_bytes(raw, m),
    "edited weight": lambda raw, p, m: {
        **p,
        "state_dict": {**p["state_dict"], "y_std": p["state_dict"]["y_std"] * 2},
    },
    "unknown dtype": lambda raw, p, m: _resigned(p, network_dtype="float16"),
    "old format": lambda raw, p, m: {**p, "format_version": 1},
    "missing entries": lambda raw, p, m: {"format_version": 2},
}
CHECKPOINT_FRAGMENTS = {
    "truncated": "not a DEMO checkpoint: torch.load cannot read it",
    "empty": "not a DEMO checkpoint: torch.load cannot read it",
    "random bytes": "not a DEMO checkpoint: torch.load cannot read it",
    "list": "not a DEMO checkpoint: it holds a list",
    "edited config": "does not match its hash",
    "flipped weights": "does not match its hash",
    "edited weight": "does not match its hash",
    "unknown dtype": "unknown network_dtype 'float16'",
    "old format": "format_version is 1",
    "missing entries": "it lacks the entries",
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_load_rejects_bad_checkpoints(
    case: str, quadratic_model: DEMO, checkpoint: Path, tmp_path: Path
) -> None:
    content = CHECKPOINT_CASES[case](checkpoint.read_bytes(), _payload(checkpoint), quadratic_model)
    path = tmp_path / f"{case.replace(' ', '_')}.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(CheckpointError) as info:
        DEMO.load(path)
    message = str(info.value)
    assert CHECKPOINT_FRAGMENTS[case] in message
    assert str(path) in message
    assert "weights_only" not in message
    # torch's own message (which suggests weights_only=False) is not chained either.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert isinstance(info.value, ValueError)


def test_load_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="DEMO checkpoint not found"):
        DEMO.load(tmp_path / "absent.pt")


def test_intact_checkpoint_round_trips(
    quadratic_model: DEMO, checkpoint: Path, make_quadratic
) -> None:
    loaded = DEMO.load(checkpoint)
    X = make_quadratic()[0][:5]
    torch.testing.assert_close(loaded.predict(X), quadratic_model.predict(X))


def test_interrupted_save_keeps_the_earlier_file(
    mixed_model: DEMO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.pt"
    mixed_model.save(path)
    before = path.read_bytes()
    real_save = torch.save

    def interrupted(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        f.truncate(100)  # a half-written file, then the interrupt
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            mixed_model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["demo.pt"]  # no temporary file left
    assert DEMO.load(path).is_fitted


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_save_writes_atomically_with_the_umask_mode(
    mask: int, quadratic_model: DEMO, tmp_path: Path, umask
) -> None:
    mode = umask(mask)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = tmp_path / "demo.pt"
    path.symlink_to(victim)
    quadratic_model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    # The file replaced the symlink planted at the path, not written through it.
    assert not path.is_symlink()
    assert victim.read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["demo.pt", "victim.txt"]
    assert DEMO.load(path).is_fitted


@pytest.mark.parametrize("corrupt", ["weights", "scores"])
def test_ax_node_checkpoint_uses_the_same_check(corrupt: str, tmp_path: Path) -> None:
    from ax.core.search_space import SearchSpaceDigest
    from ax.generators.torch_base import TorchOptConfig
    from botorch.utils.datasets import SupervisedDataset

    from botorch_demo.ax import DEMOGenerator

    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.integers(0, 4, (120, 4))).double()
    Y = X.sum(-1, keepdim=True)
    names = [f"p{i}" for i in range(4)]
    dataset = SupervisedDataset(X=X, Y=Y, feature_names=names, outcome_names=["y"])
    digest = SearchSpaceDigest(
        feature_names=names,
        bounds=[(0, 3)] * 4,
        categorical_features=list(range(4)),
        discrete_choices={i: [0, 1, 2, 3] for i in range(4)},
    )
    config = TorchOptConfig(objective_weights=torch.tensor([[1.0]], dtype=torch.double))
    smoke = {"config": "smoke", "config_overrides": {"surrogate_epochs": 1, "diffusion_epochs": 1}}
    first = DEMOGenerator(**smoke, batch_size=4, checkpoint_dir=str(tmp_path))
    first.fit([dataset], digest)
    first.gen(4, digest, config)
    (path,) = [p for p in tmp_path.glob("demo-*.pt") if not p.name.endswith(".targets.pt")]
    if corrupt == "weights":
        path.write_bytes(_flip_weight_bytes(path.read_bytes(), first._model))
        fragment = f"{path}: the checkpoint's content does not match its hash"
    else:
        scores = path.with_name(path.stem + ".targets.pt")
        scores.write_bytes(np.random.default_rng(1).bytes(512))
        fragment = f"{scores} is not a DEMO checkpoint's scores file"
    second = DEMOGenerator(**smoke, batch_size=4, checkpoint_dir=str(tmp_path))
    second.fit([dataset], digest)
    with pytest.raises(CheckpointError, match=re.escape(fragment)) as info:
        second.gen(4, digest, config)
    assert "weights_only" not in str(info.value)
