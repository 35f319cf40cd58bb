"""The botorch-demo command line."""

import json
import tempfile
from pathlib import Path

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMO
from botorch_demo.cli import build_parser


class TestRunCommand(BotorchTestCase):
    def test_run_scores_saves_and_reloads(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            args = build_parser().parse_args(
                ["run", "--preset", "smoke", "--q", "16", "--seed", "1", "--out", tmp]
            )
            summary = args.func(args)
            self.assertEqual(summary["task"], "tfbind8")
            self.assertGreater(summary["p100"], summary["d_best"])
            saved = json.loads((Path(tmp) / "summary.json").read_text())
            self.assertEqual(saved, summary)
            cands = torch.load(Path(tmp) / "candidates.pt")["candidates"]
            self.assertEqual(cands.shape, (16, 8))
            model = DEMO.load(Path(tmp) / "demo_model.pt")
            self.assertTrue(torch.equal(model.generate(16, seed=1)[0], cands))

    def test_default_subcommand_is_run(self) -> None:
        args = build_parser().parse_args(["run"])
        self.assertEqual((args.task, args.preset, args.q), ("tfbind8", "fast", 256))
