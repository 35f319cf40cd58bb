"""The cell store: integrity hashes, status, file modes and the folder's profile."""

import hashlib
import json
import os

import pytest

from botorch_demo.benchmarks.store import (
    CellKey,
    CellStore,
    CorruptCell,
    OutputFolderConflict,
    record_digest,
)
from botorch_demo.fileio import atomic_write_json, file_mode

KEY = CellKey("levy", "grad", 0)


@pytest.fixture
def store(tmp_path, fake_cell) -> CellStore:
    """A store holding one fake cell, :data:`KEY`, under fingerprint ``"fp"``."""
    store = CellStore(tmp_path)
    fake_cell(store, KEY)
    return store


def test_a_fresh_cell_verifies_and_its_status_holds_the_record(store) -> None:
    status = store.status(KEY, "fp")
    assert status.state == "done" and status.done and str(status) == "done"
    assert status.record == store.verify(KEY)
    assert store.status(KEY, "other").state == "other-profile"
    assert store.status(KEY, "other").record["p100"] == 0.75
    missing = store.status(CellKey("levy", "demo", 0), "fp")
    assert (missing.state, missing.record) == ("missing", None)
    assert store.verify(KEY)["p100"] == 0.75


def test_the_record_digest_is_the_canonical_json_of_the_record(store) -> None:
    """Cells written before the store used ``fileio.canonical_json`` still verify."""
    record = json.loads(store.json_path(KEY).read_text())
    body = {k: v for k, v in record.items() if k != "integrity"}
    text = json.dumps(body, sort_keys=True, allow_nan=False, separators=(",", ":"))
    assert record_digest(record) == hashlib.sha256(text.encode()).hexdigest()
    assert record["integrity"]["record_sha256"] == record_digest(record)


def test_save_returns_the_record_as_stored(tmp_path, fake_cell) -> None:
    store = CellStore(tmp_path)
    record = fake_cell(store, CellKey("levy", "demo", 3))
    assert record == json.loads(store.json_path(CellKey("levy", "demo", 3)).read_text())
    assert set(record["integrity"]) == {"tensors_sha256", "record_sha256"}


def test_store_files_have_the_mode_of_normal_files(store) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    assert file_mode() == 0o666 & ~umask
    for path in (store.json_path(KEY), store.tensor_path(KEY)):
        assert path.stat().st_mode & 0o777 == file_mode(), str(path)


def test_truncated_tensors_are_detected_and_named(store) -> None:
    path = store.tensor_path(KEY)
    path.write_bytes(path.read_bytes()[:200])
    status = store.status(KEY, "fp")
    assert str(status).startswith("corrupt"), status
    assert status.record is None
    assert "seed0.pt" in str(status)
    with pytest.raises(CorruptCell, match="levy/grad/seed0"):
        store.load_tensors(KEY)


def test_flipped_bytes_are_detected(store, flip_bytes) -> None:
    flip_bytes(store.tensor_path(KEY))
    assert "does not match its hash" in store.status(KEY, "fp").reason


def test_an_edited_metric_is_detected(store) -> None:
    path = store.json_path(KEY)
    record = json.loads(path.read_text())
    record["p100"] = 0.99
    path.write_text(json.dumps(record, indent=2))
    assert "edited" in str(store.status(KEY, "fp"))


def test_unreadable_or_unhashed_records_are_corrupt(store, fake_cell) -> None:
    path = store.json_path(KEY)
    record = json.loads(path.read_text())
    del record["integrity"]
    path.write_text(json.dumps(record))
    assert "no integrity hashes" in str(store.status(KEY, "fp"))
    path.write_text('{"task": "le')
    assert "unreadable" in str(store.status(KEY, "fp"))
    store.tensor_path(KEY).unlink()
    fake_cell(store, KEY)
    store.tensor_path(KEY).unlink()
    assert "unreadable" in str(store.status(KEY, "fp"))


def test_atomic_writes_leave_no_temporary_files(tmp_path) -> None:
    path = tmp_path / "a" / "b.json"
    atomic_write_json(path, {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}
    with pytest.raises(TypeError):
        atomic_write_json(path, {"x": object()})
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.json"]
    assert not CellStore(tmp_path).status(CellKey("levy", "grad", 0), "f").done


def test_a_folder_keeps_its_profile_unless_overwritten(tmp_path) -> None:
    store = CellStore(tmp_path)
    store.check_fingerprint("aaa", "fast", overwrite=False)
    store.check_fingerprint("aaa", "fast", overwrite=False)
    with pytest.raises(OutputFolderConflict, match="another configuration"):
        store.check_fingerprint("bbb", "smoke", overwrite=False)
    store.check_fingerprint("bbb", "smoke", overwrite=True)
    assert json.loads((tmp_path / "run.json").read_text()) == {
        "profile": "smoke",
        "fingerprint": "bbb",
    }
