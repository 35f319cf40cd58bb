"""Bulk import of offline data: speed, content and validation before any change."""

from __future__ import annotations

import time
import unittest

import numpy as np
from ax.core.batch_trial import BatchTrial
from ax.core.trial import Trial
from ax.core.trial_status import TrialStatus
from ax.exceptions.core import UserInputError
from ax_helpers import NAMES, offline_frame, tf8, tf8_client

from botorch_demo.ax import attach_offline_data


class TestAttachOfflineData(unittest.TestCase):
    def test_full_tf8_import_as_batch_trial_is_fast_and_complete(self) -> None:
        frame = offline_frame()
        client = tf8_client()
        start = time.monotonic()
        indices = attach_offline_data(client._experiment, frame)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 15.0)
        experiment = client._experiment
        self.assertEqual(indices, [0])
        trial = experiment.trials[0]
        self.assertIsInstance(trial, BatchTrial)
        self.assertEqual(trial.status, TrialStatus.COMPLETED)
        # 32,898 rows hold 32,768 distinct designs; repeats become one arm.
        distinct = frame.drop_duplicates(NAMES)
        self.assertEqual(len(trial.arms), len(distinct))
        df = experiment.lookup_data().df
        self.assertEqual(len(df), len(distinct))
        self.assertAlmostEqual(df["mean"].max(), float(tf8().train_Y.max()), places=6)

    def test_client_import_makes_one_trial_per_row_from_arrays(self) -> None:
        frame = offline_frame(50)
        client = tf8_client()
        designs = frame[NAMES].to_numpy()
        indices = attach_offline_data(client, designs, frame["score"].to_numpy(), sem=0.0)
        experiment = client._experiment
        self.assertEqual(indices, list(range(50)))
        self.assertTrue(all(isinstance(t, Trial) for t in experiment.trials.values()))
        self.assertTrue(all(t.status.is_completed for t in experiment.trials.values()))
        df = experiment.lookup_data().df.sort_values("trial_index")
        np.testing.assert_allclose(df["mean"].to_numpy(), frame["score"].to_numpy())
        self.assertTrue((df["sem"] == 0.0).all())
        arm = experiment.trials[7].arm
        self.assertEqual([arm.parameters[n] for n in NAMES], designs[7].tolist())

    def test_bad_input_is_rejected_before_any_change(self) -> None:
        good = offline_frame(20)
        bad_value = good.copy()
        bad_value.loc[3, "p2"] = "Z"
        nan_score = good.copy()
        nan_score.loc[5, "score"] = np.nan
        cases = {
            "not valid": bad_value,
            "NaN": nan_score,
            "Unknown column": good.rename(columns={"score": "y"}),
            "Missing parameter": good.drop(columns="p1"),
            "No metric column": good.drop(columns="score"),
            "no rows": good.iloc[:0],
        }
        client = tf8_client()
        experiment = client._experiment
        for message, frame in cases.items():
            with self.subTest(message), self.assertRaisesRegex(UserInputError, message):
                attach_offline_data(client, frame)
        with self.assertRaisesRegex(UserInputError, "shape"):
            attach_offline_data(client, good[NAMES].to_numpy()[:, :5], good["score"])
        with self.assertRaisesRegex(UserInputError, "scores"):
            attach_offline_data(client, good[NAMES].to_numpy())
        with self.assertRaisesRegex(UserInputError, "sem"):
            attach_offline_data(client, good, sem=-1.0)
        self.assertEqual(len(experiment.trials), 0)
        self.assertTrue(experiment.lookup_data().df.empty)
        self.assertEqual(len(experiment.arms_by_name), 0)


if __name__ == "__main__":
    unittest.main()
