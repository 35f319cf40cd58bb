"""The benchmark harness's parts: validation, registry, profiles, reports, sharing, sweep."""

import contextlib
import importlib.util
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.benchmarks.cmaes import cmaes_candidates
from botorch_demo.benchmarks.components import SharedModels
from botorch_demo.benchmarks.harness import resolve_seeds, resolve_tasks, run_benchmark
from botorch_demo.benchmarks.methods import (
    METHODS,
    Method,
    MethodOutput,
    list_methods,
    register_method,
    resolve_methods,
)
from botorch_demo.benchmarks.paper import paper_d_best, paper_value
from botorch_demo.benchmarks.profiles import CMAESSettings, get_profile
from botorch_demo.benchmarks.report import attributed_seconds, mean_ranks, standalone_seconds
from botorch_demo.benchmarks.store import CellKey, CellStore, atomic_write_json
from botorch_demo.benchmarks.sweep import run_m_sweep
from botorch_demo.cli import build_parser, main
from botorch_demo.tasks import load_task, suite_tasks

HAS_AX = importlib.util.find_spec("botorch_demo.ax") is not None
ALL_METHODS = [
    "demo",
    "demo-no-pseudo-target",
    "demo-no-editing",
    "ddom",
    "grad",
    "cma-es",
    "bo-qei",
]


class TestBadInput(BotorchTestCase):
    def test_unknown_method_lists_known_ones(self) -> None:
        with self.assertRaises(ValueError) as ctx:
            run_benchmark(tasks=["tfbind8"], methods=["demo", "nope"], out="unused")
        msg = str(ctx.exception)
        self.assertIn("nope", msg)
        for name in ALL_METHODS:
            self.assertIn(name, msg)
        self.assertFalse(Path("unused").exists())

    def test_unknown_task_lists_known_ones(self) -> None:
        with self.assertRaises(ValueError) as ctx:
            run_benchmark(tasks=["tfbind9"], methods=["demo"], out="unused")
        msg = str(ctx.exception)
        for name in ("tfbind8", "tfbind10", "levy"):
            self.assertIn(name, msg)

    def test_task_without_oracle_is_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "no oracle"):
            resolve_tasks(["superconductor"])

    def test_other_bad_arguments(self) -> None:
        with self.assertRaisesRegex(ValueError, "Known profiles"):
            get_profile("turbo")
        with self.assertRaisesRegex(ValueError, "seeds"):
            resolve_seeds(0)
        with self.assertRaisesRegex(ValueError, "workers"):
            run_benchmark(tasks=["levy"], methods=["grad"], workers=0, out="unused")
        with self.assertRaisesRegex(ValueError, "No methods"):
            resolve_methods(" , ")

    def test_cli_errors_list_known_names(self) -> None:
        for argv, expected in (
            (["bench", "--methods", "demo,nope", "--profile", "smoke"], ("nope", "bo-qei")),
            (["bench", "--task", "nope"], ("nope", "tfbind8", "levy")),
            (["sweep-m", "--task", "levy", "--profile", "turbo"], ("turbo", "smoke")),
        ):
            stderr = io.StringIO()
            with self.assertRaises(SystemExit) as ctx, contextlib.redirect_stderr(stderr):
                main(argv)
            self.assertEqual(ctx.exception.code, 2)  # A usage error: one line on stderr.
            self.assertEqual(stderr.getvalue().count("\n"), 1)
            for text in expected:
                self.assertIn(text, stderr.getvalue())

    def test_suites_resolve_to_their_tasks(self) -> None:
        from botorch_demo.cli import _validated

        args = build_parser().parse_args(
            "bench --suite robustness --profile smoke --seeds 1 --methods demo,grad".split()
        )
        tasks, methods = _validated(args, "bench")
        self.assertEqual(tasks, suite_tasks("robustness"))
        self.assertGreaterEqual(len(tasks), 8)
        self.assertEqual(methods, ["demo", "grad"])
        args = build_parser().parse_args(["bench", "--suite", "paper"])
        self.assertEqual(_validated(args, "bench")[0], ["tfbind8", "tfbind10", "levy"])
        for argv, expected in (
            (["bench", "--suite", "nope"], ("nope", "paper", "robustness")),
            (["bench", "--suite", "paper", "--task", "levy"], ("--suite or --task",)),
        ):
            err = io.StringIO()
            with self.assertRaises(SystemExit) as ctx, contextlib.redirect_stderr(err):
                main(argv)
            self.assertEqual(ctx.exception.code, 2)
            for text in expected:
                self.assertIn(text, err.getvalue())
        with self.assertRaisesRegex(ValueError, "Known suites"):
            run_benchmark(suite="nope", methods=["grad"], out="unused")
        self.assertFalse(Path("unused").exists())
        # the refusal of oracle-less tasks lists the suite's tasks among the usable ones
        with self.assertRaisesRegex(ValueError, "seq-l8-v4"):
            resolve_tasks(["ant"])

    def test_cli_parses_the_documented_command(self) -> None:
        args = build_parser().parse_args(
            "bench --task tfbind8 --task levy --methods demo,bo-qei,grad --seeds 8 "
            "--profile fast --out results/".split()
        )
        self.assertEqual(args.task, ["tfbind8", "levy"])
        self.assertEqual(args.methods, ["demo,bo-qei,grad"])
        self.assertEqual(
            (args.seeds, args.profile, args.workers, args.device), (8, "fast", 1, "cpu")
        )
        sweep = build_parser().parse_args(["sweep-m", "--task", "tfbind8", "--task", "levy"])
        self.assertEqual(sweep.m, "0:1000:100")


class TestRegistryAndProfiles(BotorchTestCase):
    def test_registry_has_the_paper_methods(self) -> None:
        self.assertEqual(list_methods(), ALL_METHODS)
        self.assertEqual([m.name for m in resolve_methods("grad, demo")], ["demo", "grad"])
        self.assertEqual(len(resolve_methods(None)), len(ALL_METHODS))

    def test_register_method_is_one_call(self) -> None:
        def best_offline(ctx):  # the top-K offline designs, as a trivial method
            model = ctx.shared.surrogate_model()
            X = model.train_X[model.ranked_rows[: ctx.q]]
            return MethodOutput(X)

        method = Method(
            "top-offline", "Top offline", "the best K offline designs", (), best_offline
        )
        register_method(method)
        try:
            self.assertIn("top-offline", list_methods())
            with self.assertRaisesRegex(ValueError, "already registered"):
                register_method(method)
        finally:
            del METHODS["top-offline"]
        with self.assertRaisesRegex(ValueError, "unknown components"):
            Method("x", "X", "", ("gpu",), best_offline)

    def test_unsupported_pairs_are_skipped_not_run(self) -> None:
        from botorch_demo.benchmarks.bo_qei import bo_qei_unsupported

        for task in ("tfbind8", "tfbind10", "levy", "seq-l6-v5", "seq-l8-v4", "ackley-10"):
            self.assertIsNone(bo_qei_unsupported(task), task)
        self.assertIn("4^12", bo_qei_unsupported("seq-l12-v4"))
        self.assertIn("mixed", bo_qei_unsupported("mixed-10"))

        def top_offline(ctx):
            rows = ctx.task.train_Y.squeeze(-1).argsort(descending=True)[: ctx.q]
            return MethodOutput(ctx.task.train_X[rows])

        register_method(
            Method(
                "top-offline",
                "Top offline",
                "the best K offline designs",
                (),
                top_offline,
                lambda task: "too long" if task == "seq-l8-v4" else None,
            )
        )
        try:
            with tempfile.TemporaryDirectory() as tmp:
                result = run_benchmark(
                    tasks=["seq-l6-v5", "seq-l8-v4"],
                    methods=["top-offline"],
                    seeds=1,
                    profile="smoke",
                    out=tmp,
                    progress=False,
                )
                self.assertEqual(result.computed, [CellKey("seq-l6-v5", "top-offline", 0)])
                self.assertEqual(result.not_run, ["top-offline on seq-l8-v4: too long"])
                (row,) = result.results["summary"]
                self.assertEqual(row["task"], "seq-l6-v5")
                self.assertAlmostEqual(row["p100_mean"], load_task("seq-l6-v5").d_best)
                self.assertEqual(row["novelty_mean"], 0.0)  # offline designs are not novel
                text = result.files["markdown"].read_text()
                self.assertIn("| Top offline | 0.520 | – |", text)
        finally:
            del METHODS["top-offline"]

    def test_profiles(self) -> None:
        fast, paper, smoke = (get_profile(n) for n in ("fast", "paper", "smoke"))
        self.assertEqual({fast.q, paper.q, smoke.q}, {256})
        self.assertEqual(paper.demo.surrogate_hidden, 2048)
        self.assertEqual(paper.demo.diffusion_epochs, 1000)
        self.assertEqual(smoke.bo.max_points, 100)
        self.assertEqual(len({fast.fingerprint(), paper.fingerprint(), smoke.fingerprint()}), 3)
        # progress bars do not change results
        quiet = smoke.demo.replace(progress=not smoke.demo.progress)
        self.assertEqual(
            type(smoke)(smoke.name, quiet, smoke.cmaes, smoke.bo).fingerprint(),
            smoke.fingerprint(),
        )
        with self.assertRaisesRegex(ValueError, "popsize"):
            CMAESSettings(popsize=0)

    def test_paper_numbers(self) -> None:
        self.assertEqual(paper_value("p100", "demo", "tfbind10"), (0.762, 0.058))
        self.assertEqual(paper_value("p100", "demo-no-editing", "levy"), (0.990, 0.020))
        self.assertEqual(paper_value("p50", "ddom", "tfbind8"), (0.401, 0.008))
        self.assertIsNone(paper_value("p50", "demo-no-editing", "levy"))
        self.assertEqual(paper_d_best("levy"), 0.613)


class TestReport(BotorchTestCase):
    def test_mean_ranks_with_ties(self) -> None:
        summary = [
            {"task": "a", "method": "x", "p100_mean": 0.9},
            {"task": "a", "method": "y", "p100_mean": 0.9},
            {"task": "a", "method": "z", "p100_mean": 0.1},
            {"task": "b", "method": "x", "p100_mean": 0.2},
            {"task": "b", "method": "y", "p100_mean": 0.5},
            {"task": "b", "method": "z", "p100_mean": 0.4},
        ]
        self.assertEqual(mean_ranks(summary), {"x": (1.5 + 3) / 2, "y": 1.25, "z": 2.5})

    def test_time_attribution(self) -> None:
        record = {
            "own_seconds": 1.0,
            "components": {"surrogate": 6.0, "ascent": 2.0},
            "shared_by": {"surrogate": 3, "ascent": 2},
        }
        self.assertAlmostEqual(attributed_seconds(record), 1.0 + 2.0 + 1.0)
        self.assertAlmostEqual(standalone_seconds(record), 9.0)

    def test_atomic_writes_leave_no_temporary_files(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "a" / "b.json"
            atomic_write_json(path, {"x": 1})
            self.assertEqual(json.loads(path.read_text()), {"x": 1})
            with self.assertRaises(TypeError):
                atomic_write_json(path, {"x": object()})
            self.assertEqual(json.loads(path.read_text()), {"x": 1})
            self.assertEqual(sorted(p.name for p in path.parent.iterdir()), ["b.json"])
            store = CellStore(tmp)
            self.assertFalse(store.is_done(CellKey("levy", "grad", 0), "f"))


class TestSharedComponents(BotorchTestCase):
    def test_the_surrogate_does_not_depend_on_what_else_ran(self) -> None:
        task = load_task("levy")
        config = get_profile("smoke").demo
        full = SharedModels(task, 3, config).pseudo_target_model()
        alone = SharedModels(task, 3, config, needed=("surrogate",))
        ascent = SharedModels(task, 3, config, needed=("surrogate", "ascent"))
        for model in (alone.surrogate_model(), ascent.pseudo_target_model(diffusion=False)):
            for a, b in zip(
                full.surrogate.state_dict().values(),
                model.surrogate.state_dict().values(),
                strict=True,
            ):
                self.assertTrue(torch.equal(a, b))
        self.assertTrue(
            torch.equal(
                full.ascent_candidates(256)[0], ascent.surrogate_model().ascent_candidates(256)[0]
            )
        )
        self.assertNotIn("pseudo_target_diffusion", ascent.seconds)
        with self.assertRaisesRegex(RuntimeError, "pseudo_target_diffusion"):
            ascent.pseudo_target_model()

    def test_cmaes_candidates_are_valid_and_seeded(self) -> None:
        task = load_task("tfbind8")
        surrogate = SharedModels(
            task, 0, get_profile("smoke").demo, needed=("surrogate",)
        ).surrogate_model()
        # A narrow search finds fewer than K distinct designs (53 here), a wide one
        # more: both branches of the result are checked, each unconditionally.
        narrow = CMAESSettings(popsize=64, iterations=6, sigma0=0.5)
        wide = CMAESSettings(popsize=128, iterations=6, sigma0=2.0)
        a = cmaes_candidates(surrogate, 256, narrow, seed=1)
        b = cmaes_candidates(surrogate, 256, narrow, seed=1)
        self.assertTrue(torch.equal(a.candidates, b.candidates))
        for result, evaluations in ((a, 6 * 64), (cmaes_candidates(surrogate, 256, wide, 1), 768)):
            X, info = result.candidates, result.info
            self.assertEqual(X.shape, (256, 8))
            self.assertTrue(((X >= 0) & (X <= 3)).all())
            self.assertTrue(torch.equal(X, X.round()))
            self.assertEqual((info["iterations"], info["evaluations"]), (6, evaluations))
            n = info["distinct"]
            self.assertEqual(n, int(torch.unique(X, dim=0).shape[0]))
            # the first n rows are the distinct designs, best predicted first ...
            self.assertEqual(int(torch.unique(X[:n], dim=0).shape[0]), n)
            self.assertTrue((result.predicted[: n - 1] >= result.predicted[1:n]).all())
            # ... the predictions are the surrogate's, and the list repeats to K
            self.assertTrue(
                torch.allclose(result.predicted, surrogate.predict(X).squeeze(-1), atol=1e-6)
            )
            self.assertTrue(torch.equal(X, X[torch.arange(256) % n]))
        self.assertLess(a.info["distinct"], 256)
        self.assertEqual(result.info["distinct"], 256)


@pytest.mark.skipif(not HAS_AX, reason="botorch_demo.ax is not available")
class TestKrigingBeliever(BotorchTestCase):
    def test_fantasies_spread_the_batch_over_both_peaks(self) -> None:
        """Without the fantasies the batch is the top-q of the first LogEI: one peak."""
        from botorch.acquisition.analytic import LogExpectedImprovement
        from botorch.models import SingleTaskGP

        from botorch_demo.ax.batch_ei import kriging_believer_batch

        kw = {"dtype": torch.float64, "device": self.device}
        X = torch.tensor([[0.0], [0.15], [0.3], [0.5], [0.7], [0.85], [1.0]], **kw)
        Y = torch.tensor([[0.0], [1.0], [0.0], [-0.5], [0.0], [0.95], [0.0]], **kw)
        gp = SingleTaskGP(X, Y)
        gp.covar_module.lengthscale = 0.1
        gp.likelihood.noise = 1e-4
        gp.eval()
        grid = torch.linspace(0, 1, 51, **kw).unsqueeze(-1)
        best_f = float(Y.max())
        with torch.no_grad():
            first = LogExpectedImprovement(gp, best_f=best_f)(grid.unsqueeze(1))
        top2 = grid[first.argsort(descending=True)[:2]].squeeze(-1)
        self.assertTrue((top2 < 0.5).all())  # greedy without fantasies: both at 0.15
        chosen = grid[kriging_believer_batch(gp, grid, q=2, best_f=best_f, sign=1.0)]
        self.assertAlmostEqual(float(chosen[0]), float(grid[first.argmax()]), places=12)
        self.assertLess(float(chosen[0]), 0.5)
        self.assertGreater(float(chosen[1]), 0.5)  # the believed first pick moves the second


@pytest.mark.slow
class TestParallelAndSweep(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = tempfile.mkdtemp()

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def test_workers_give_the_same_cells(self) -> None:
        kw = dict(
            tasks=["levy"], methods=["grad", "cma-es"], seeds=2, profile="smoke", progress=False
        )
        serial = run_benchmark(out=Path(self.tmp) / "serial", workers=1, **kw)
        parallel = run_benchmark(out=Path(self.tmp) / "parallel", workers=2, **kw)
        self.assertEqual(sorted(serial.computed), sorted(parallel.computed))
        for key in serial.computed:
            a = CellStore(serial.out).load_tensors(key)["candidates"]
            b = CellStore(parallel.out).load_tensors(key)["candidates"]
            self.assertTrue(torch.allclose(a, b, atol=1e-6), str(key))

    def test_m_sweep(self) -> None:
        out = Path(self.tmp) / "sweep"
        result = run_m_sweep(
            tasks=["tfbind8"], seeds=2, profile="smoke", out=out, ms=[0, 400, 1000], progress=False
        )
        self.assertEqual(sorted(result.computed), [("tfbind8", 0), ("tfbind8", 1)])
        data = json.loads((out / "m_sweep.json").read_text())
        self.assertEqual(data["ms"], [0, 400, 1000])
        self.assertEqual(len(data["summary"]), 3)
        at_zero = next(r for r in data["summary"] if r["m"] == 0)
        # m = 0 returns the top-K offline designs unchanged: the best is D(best).
        self.assertAlmostEqual(at_zero["p100_mean"], load_task("tfbind8").d_best, places=6)
        lines = (out / "m_sweep.csv").read_text().splitlines()
        self.assertEqual(lines[0], "task,seed,m,p100,p50,proportion_above_d_best,d_best")
        self.assertEqual(len(lines), 1 + 2 * 3)
        self.assertTrue((out / "m_sweep.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n"))
        again = run_m_sweep(
            tasks=["tfbind8"], seeds=2, profile="smoke", out=out, ms=[0, 400, 1000], progress=False
        )
        self.assertEqual(again.computed, [])
        self.assertEqual(len(again.skipped), 2)
        with self.assertRaisesRegex(ValueError, "M="):
            run_m_sweep(tasks=["tfbind8"], seeds=1, profile="smoke", out=out, ms=[2000])


@pytest.mark.slow
@pytest.mark.skipif(not HAS_AX, reason="botorch_demo.ax (branch 'ax') is not merged yet")
class TestBOQEI(BotorchTestCase):
    def test_bo_qei_through_ax(self) -> None:
        from botorch_demo.benchmarks.bo_qei import bo_qei_candidates

        task = load_task("levy")
        settings = get_profile("smoke").bo
        result = bo_qei_candidates(task, 256, settings, seed=0)
        X = result.candidates
        self.assertEqual(X.shape, (256, 60))
        self.assertTrue(((X >= task.bounds[0]) & (X <= task.bounds[1])).all())
        self.assertEqual(result.info["offline_rows"], 100)
        self.assertLessEqual(result.info["arms"], 256)
