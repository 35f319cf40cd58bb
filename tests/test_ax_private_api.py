"""Fails loudly when Ax changes the private attributes this package relies on.

Every private Ax attribute botorch-demo reads is read in
``botorch_demo/ax/_ax_private.py``; this test checks that each still exists
and means the same, and that no other module reaches into Ax's privates that
issue 11 replaced by public API.
"""

from __future__ import annotations

import re
import unittest
from pathlib import Path

from ax_helpers import SMOKE, offline_frame, tf8_client

import botorch_demo.ax as package
from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import (
    adapter_experiment,
    adapter_optimization_config,
    client_experiment,
)


class TestPrivateAxAPI(unittest.TestCase):
    def test_private_attributes_exist_and_mean_what_we_use(self) -> None:
        client = tf8_client()
        self.assertIs(client_experiment(client), client._experiment)
        from ax.api.client import Client

        self.assertIsNone(client_experiment(Client()))
        attach_offline_data(client, offline_frame(20))
        client.set_generation_strategy(demo_generation_strategy(batch_size=2, **SMOKE))
        client.get_next_trials(max_trials=1)
        adapter = client._generation_strategy.adapter
        self.assertIs(adapter_experiment(adapter), client._experiment)
        self.assertEqual(
            adapter_optimization_config(adapter), client._experiment.optimization_config
        )

    def test_no_other_module_uses_the_replaced_private_apis(self) -> None:
        root = Path(package.__file__).parent
        banned = re.compile(
            r"_save_or_update_trials_in_db_if_possible|_user_specified_botorch_acqf_class"
            r"|_maybe_experiment|\._optimization_config|adapter\._experiment"
        )
        offenders = [
            p.name
            for p in root.glob("*.py")
            if p.name != "_ax_private.py" and banned.search(p.read_text())
        ]
        self.assertEqual(offenders, [])


if __name__ == "__main__":
    unittest.main()
