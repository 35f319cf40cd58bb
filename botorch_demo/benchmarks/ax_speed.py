"""Wall-clock seconds of the Ax integration on TF Bind 8 (32,898 offline designs).

Run ``python -m botorch_demo.benchmarks.ax_speed`` (``--help`` for options). It
prints:

* offline import of all 32,898 designs with ``attach_offline_data``, as one
  ``BatchTrial`` (an ``Experiment``'s default) and as one ``Trial`` per design
  (a ``Client``'s default), against Ax's tutorial loop (``attach_trial`` +
  ``complete_trial`` per row) on ``--naive-rows`` rows;
* saving the BatchTrial experiment to a fresh SQLite file and loading it back,
  and the same for ``--naive-rows`` rows imported as one Trial per row (Ax
  saves single-arm trials one by one; all 32,898 take far more than 10 minutes);
* one DEMO node batch of K designs (``get_next_trials(max_trials=K)``, DEMO
  ``--preset``, training included);
* one batch of K designs from the qEI baseline preset.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig
from ax.storage.sqa_store.load import load_experiment
from ax.storage.sqa_store.save import save_experiment

from botorch_demo.ax import (
    attach_offline_data,
    demo_generation_strategy,
    qei_generation_strategy,
    registry_bundle,
    sqlite_storage_config,
)
from botorch_demo.ax._ax_private import client_experiment
from botorch_demo.tasks import load_task

LETTERS = np.array(list("ACGT"))
NAMES = [f"p{i}" for i in range(8)]


def tf8_frame() -> pd.DataFrame:
    """The TF Bind 8 offline set as a DataFrame of letters and scores."""
    task = load_task("tfbind8")
    frame = pd.DataFrame(LETTERS[task.train_X.long().numpy()], columns=NAMES)
    frame["score"] = task.train_Y.squeeze(-1).numpy()
    return frame


def tf8_client(name: str) -> Client:
    client = Client(random_seed=0)
    client.configure_experiment(
        name=name,
        parameters=[
            ChoiceParameterConfig(
                name=n, values=list("ACGT"), parameter_type="str", is_ordered=False
            )
            for n in NAMES
        ],
    )
    client.configure_optimization(objective="score")
    return client


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def naive_loop(frame: pd.DataFrame) -> None:
    client = tf8_client("naive")
    for row in frame.itertuples(index=False):
        parameters = {n: getattr(row, n) for n in NAMES}
        index = client.attach_trial(parameters=parameters)
        client.complete_trial(trial_index=index, raw_data={"score": float(row.score)})


def sqlite_round_trip(client: Client, path: Path) -> tuple[float, float]:
    sqlite_storage_config(path, rebind=True)  # Binds Ax's engine to this file, makes tables.
    config = registry_bundle().sqa_config
    experiment = client_experiment(client)
    save_s, _ = timed(lambda: save_experiment(experiment, config=config))
    load_s, loaded = timed(lambda: load_experiment(experiment.name, config=config))
    assert len(loaded.arms_by_name) == len(experiment.arms_by_name)
    return save_s, load_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=256, help="batch size K")
    parser.add_argument("--preset", default="fast", help="DEMOConfig preset of the DEMO node")
    parser.add_argument("--naive-rows", type=int, default=2000, help="rows for the naive loop")
    parser.add_argument("--skip-qei", action="store_true", help="skip the qEI preset")
    args = parser.parse_args(argv)

    frame = tf8_frame()
    n = len(frame)
    print(f"TF Bind 8 offline set: {n} rows, K = {args.k}, DEMO preset '{args.preset}'")

    batch_client = tf8_client("tf8_batch")
    seconds, _ = timed(lambda: attach_offline_data(batch_client, frame, as_batch_trial=True))
    print(f"import {n} rows, one BatchTrial:        {seconds:8.1f} s")
    trial_client = tf8_client("tf8_trials")
    seconds, _ = timed(lambda: attach_offline_data(trial_client, frame))
    print(f"import {n} rows, one Trial per row:     {seconds:8.1f} s")
    seconds, _ = timed(lambda: naive_loop(frame.iloc[: args.naive_rows]))
    print(f"naive attach/complete loop, {args.naive_rows} rows:  {seconds:8.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        save_s, load_s = sqlite_round_trip(batch_client, Path(tmp) / "batch.db")
        print(f"SQLite, {n} rows as one BatchTrial: save {save_s:6.1f} s, load {load_s:6.1f} s")
        # Ax saves single-arm trials one by one: 32,898 take far more than 10 minutes,
        # so the per-row layout is measured on --naive-rows rows.
        small = tf8_client("tf8_trials_small")
        attach_offline_data(small, frame.iloc[: args.naive_rows])
        save_s, load_s = sqlite_round_trip(small, Path(tmp) / "trials.db")
        print(
            f"SQLite, {args.naive_rows} rows as Trials:      "
            f"save {save_s:6.1f} s, load {load_s:6.1f} s"
        )

    batch_client.set_generation_strategy(
        demo_generation_strategy(batch_size=args.k, config=args.preset)
    )
    seconds, trials = timed(lambda: batch_client.get_next_trials(max_trials=args.k))
    print(f"DEMO node, {len(trials)} trials ({args.preset}, training included): {seconds:8.1f} s")

    if not args.skip_qei:
        qei_client = tf8_client("tf8_qei")
        attach_offline_data(qei_client, frame, as_batch_trial=True)
        qei_client.set_generation_strategy(qei_generation_strategy(batch_size=args.k))
        seconds, trials = timed(lambda: qei_client.get_next_trials(max_trials=args.k))
        print(f"qEI preset, {len(trials)} trials (GP fit included):       {seconds:8.1f} s")


if __name__ == "__main__":
    main()
