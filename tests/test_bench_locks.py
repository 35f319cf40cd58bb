"""Cell locks: one claim at a time, stale locks broken, held locks kept fresh."""

import json
import os
import subprocess
import sys
import threading
import time

from botorch_demo.benchmarks.store import CellKey, CellStore

KEY = CellKey("levy", "demo", 1)


def test_one_claim_at_a_time(tmp_path) -> None:
    store = CellStore(tmp_path)
    lock = store.claim(KEY, {"executor": "test"})
    assert lock is not None
    owner = store.lock_owner(KEY)
    assert (owner["pid"], owner["executor"]) == (os.getpid(), "test")
    assert store.claim(KEY) is None
    lock.release()
    assert store.lock_owner(KEY) is None
    again = store.claim(KEY)
    assert again is not None
    again.release()


def test_racing_claims_have_one_winner(tmp_path) -> None:
    store = CellStore(tmp_path)
    barrier = threading.Barrier(8)
    won = []

    def claim() -> None:
        barrier.wait()
        lock = store.claim(KEY)
        if lock is not None:
            won.append(lock)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    won[0].release()


def test_a_dead_owner_is_stale(tmp_path) -> None:
    store = CellStore(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = store.lock_path(KEY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid, "token": "x"}))
    lock = store.claim(KEY)
    assert lock is not None
    assert store.lock_owner(KEY)["pid"] == os.getpid()
    lock.release()


def test_an_old_lock_from_another_host_is_stale_and_a_fresh_one_is_not(tmp_path) -> None:
    store = CellStore(tmp_path, stale_after=30)
    path = store.lock_path(KEY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "x"}))
    assert store.claim(KEY) is None
    old = time.time() - 60
    os.utime(path, (old, old))
    lock = store.claim(KEY)
    assert lock is not None
    lock.release()


def test_the_heartbeat_keeps_a_held_lock_fresh(tmp_path) -> None:
    store = CellStore(tmp_path, heartbeat=0.05)
    lock = store.claim(KEY)
    old = time.time() - 1000
    os.utime(store.lock_path(KEY), (old, old))
    time.sleep(0.3)
    assert store.lock_path(KEY).stat().st_mtime > old + 900
    lock.release()
