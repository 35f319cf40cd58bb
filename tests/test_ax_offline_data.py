"""Bulk import of offline data: speed, content and validation before any change."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from ax.core.batch_trial import BatchTrial
from ax.core.trial import Trial
from ax.core.trial_status import TrialStatus
from ax.exceptions.core import UserInputError

from botorch_demo.ax import attach_offline_data
from botorch_demo.ax._ax_private import client_experiment


@pytest.mark.slow
def test_full_tf8_import_as_batch_trial_is_fast_and_complete(
    make_tf8_client, tf8_frame, tf8_names, tf8
) -> None:
    frame = tf8_frame()
    experiment = client_experiment(make_tf8_client())
    start = time.monotonic()
    indices = attach_offline_data(experiment, frame)
    elapsed = time.monotonic() - start
    assert elapsed < 15.0
    assert indices == [0]
    trial = experiment.trials[0]
    assert isinstance(trial, BatchTrial)
    assert trial.status == TrialStatus.COMPLETED
    # 32,898 rows hold 32,768 distinct designs; repeats become one arm.
    distinct = frame.drop_duplicates(tf8_names)
    assert len(trial.arms) == len(distinct)
    df = experiment.lookup_data().df
    assert len(df) == len(distinct)
    assert round(abs(df["mean"].max() - float(tf8.train_Y.max())), 6) == 0


def test_client_import_makes_one_trial_per_row_from_arrays(
    make_tf8_client, tf8_frame, tf8_names
) -> None:
    frame = tf8_frame(50)
    client = make_tf8_client()
    designs = frame[tf8_names].to_numpy()
    indices = attach_offline_data(client, designs, frame["score"].to_numpy(), sem=0.0)
    experiment = client_experiment(client)
    assert indices == list(range(50))
    assert all(isinstance(t, Trial) for t in experiment.trials.values())
    assert all(t.status.is_completed for t in experiment.trials.values())
    df = experiment.lookup_data().df.sort_values("trial_index")
    np.testing.assert_allclose(df["mean"].to_numpy(), frame["score"].to_numpy())
    assert (df["sem"] == 0.0).all()
    arm = experiment.trials[7].arm
    assert [arm.parameters[n] for n in tf8_names] == designs[7].tolist()


def _bad_value(good):
    frame = good.copy()
    frame.loc[3, "p2"] = "Z"
    return (frame,), {}


def _nan_score(good):
    frame = good.copy()
    frame.loc[5, "score"] = np.nan
    return (frame,), {}


BAD_INPUTS = {
    "not valid": _bad_value,
    "NaN": _nan_score,
    "Unknown column": lambda good: ((good.rename(columns={"score": "y"}),), {}),
    "Missing parameter": lambda good: ((good.drop(columns="p1"),), {}),
    "No metric column": lambda good: ((good.drop(columns="score"),), {}),
    "no rows": lambda good: ((good.iloc[:0],), {}),
    "shape": lambda good: ((good.drop(columns="score").to_numpy()[:, :5], good["score"]), {}),
    "scores": lambda good: ((good.drop(columns="score").to_numpy(),), {}),
    "sem": lambda good: ((good,), {"sem": -1.0}),
}


@pytest.mark.parametrize("message", list(BAD_INPUTS))
def test_bad_input_is_rejected_before_any_change(message, make_tf8_client, tf8_frame) -> None:
    args, kwargs = BAD_INPUTS[message](tf8_frame(20))
    client = make_tf8_client()
    experiment = client_experiment(client)
    with pytest.raises(UserInputError, match=message):
        attach_offline_data(client, *args, **kwargs)
    assert len(experiment.trials) == 0
    assert experiment.lookup_data().df.empty
    assert len(experiment.arms_by_name) == 0


def _sems(experiment) -> list[float]:
    df = experiment.lookup_data().df.sort_values(["trial_index", "arm_name"])
    return df["sem"].tolist()


def test_per_row_sems_from_a_column_pairs_or_arrays(make_tf8_client, tf8_frame, tf8_names):
    frame = tf8_frame(4)
    with_column = frame.assign(sem=[0.1, np.nan, 0.0, 0.3])
    client = make_tf8_client()
    attach_offline_data(client, with_column)
    np.testing.assert_equal(_sems(client_experiment(client)), [0.1, np.nan, 0.0, 0.3])

    pairs = frame.copy()
    pairs["score"] = [(s, 0.5) for s in frame["score"]]
    pairs.loc[2, "score"] = frame.loc[2, "score"]  # A bare mean: unknown SEM.
    client = make_tf8_client()
    attach_offline_data(client, pairs)
    np.testing.assert_equal(_sems(client_experiment(client)), [0.5, 0.5, np.nan, 0.5])
    means = client_experiment(client).lookup_data().df.sort_values("trial_index")["mean"]
    np.testing.assert_allclose(means.to_numpy(), frame["score"].to_numpy())

    client = make_tf8_client()
    scores = np.stack([frame["score"].to_numpy(), [0.2, 0.2, np.nan, 0.0]], axis=-1)
    attach_offline_data(client, frame[tf8_names].to_numpy(), scores)
    np.testing.assert_equal(_sems(client_experiment(client)), [0.2, 0.2, np.nan, 0.0])


def test_repeated_designs_in_a_batch_import_merge_their_sems(make_tf8_client, tf8_frame):
    frame = tf8_frame(3)
    repeated = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    repeated["sem"] = [0.3, 0.1, 0.2, 0.4, np.nan]
    experiment = client_experiment(make_tf8_client())
    attach_offline_data(experiment, repeated)
    df = experiment.lookup_data().df
    by_arm = {
        tuple(experiment.arms_by_name[a].parameters.values()): s
        for a, s in zip(df["arm_name"], df["sem"], strict=True)
    }
    designs = [tuple(r) for r in frame.drop(columns="score").itertuples(index=False)]
    assert by_arm[designs[0]] == pytest.approx(0.5 / 2)  # sqrt(0.3^2 + 0.4^2) / 2
    assert np.isnan(by_arm[designs[1]])  # One of its SEMs is unknown.
    assert by_arm[designs[2]] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: (f.assign(sem=[0.1, -1.0, 0.1, 0.1]), {}), "non-negative"),
        (lambda f: (f.assign(sem=[0.1, np.inf, 0.1, 0.1]), {}), "non-negative"),
        (lambda f: (f.assign(sem=0.1), {"sem": 0.2}), "sem"),
        (lambda f: (f.assign(sem=["a", 0.1, 0.1, 0.1]), {}), "numbers"),
    ],
    ids=["negative", "infinite", "twice", "text"],
)
def test_bad_sems_are_rejected_before_any_change(change, message, make_tf8_client, tf8_frame):
    frame, kwargs = change(tf8_frame(4))
    client = make_tf8_client()
    with pytest.raises(UserInputError, match=message):
        attach_offline_data(client, frame, **kwargs)
    assert len(client_experiment(client).trials) == 0
