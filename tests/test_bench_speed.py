"""The speed benchmark: its workloads, FLOP counts and command line (tiny sizes)."""

from __future__ import annotations

import pytest
import torch

from botorch_demo.benchmarks import speed
from botorch_demo.networks import count_matmul_flops, mlp


def test_protein_like_workload_is_a_scored_20_letter_sequence_set():
    work = speed.protein_like(n=50, length=12, letters=20, seed=3)
    assert work.X.shape == (50, 12) and work.Y.shape == (50, 1)
    assert work.categorical_features == dict.fromkeys(range(12), 20)
    assert work.X.min() >= 0 and work.X.max() <= 19
    assert torch.equal(work.X, work.X.round())
    assert work.Y.std() > 0
    again = speed.protein_like(n=50, length=12, letters=20, seed=3)
    assert torch.equal(work.X, again.X) and torch.equal(work.Y, again.Y)


def test_ascent_flops_are_a_forward_and_an_input_backward_per_step():
    net = mlp(10, 1, hidden=8, layers=1)
    forward = count_matmul_flops(net, 1, backward=False)
    assert forward == 2 * (10 * 8 + 8 * 1)
    assert speed.count_ascent_flops(net, 7, 3) == 2 * forward * 7 * 3


def test_the_command_times_every_phase_of_each_workload(capsys):
    speed.main(
        [
            "--preset", "smoke", "--workload", "protein", "--workload", "continuous",
            "--size", "200", "--q", "8", "--threads", "1", "--set", "ascent_batch_size=64",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "fields replaced: {'ascent_batch_size': 64}" in out
    assert "bfloat16" in out and "float32" in out
    assert "protein-like 200 x 40, 20 letters, K = 8" in out
    assert "continuous 200 x 60 (Levy rows), K = 8" in out
    for phase in ("surrogate", "ascent", "diffusion", "editing", "total"):
        assert out.count(f"  {phase} ") >= 2
    assert out.count("% of peak") == 6
    assert out.count("matmuls alone take") == 2


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--set", "nonsense=1"], "unknown DEMOConfig field(s) ['nonsense']"),
        (["--set", "m=-5"], "m"),
        (["--workload", "imagenet"], "invalid choice"),
    ],
)
def test_bad_options_are_refused_before_any_work(argv, fragment, capsys):
    with pytest.raises(SystemExit):
        speed.main(argv)
    assert fragment in capsys.readouterr().err


def test_a_machine_without_a_compiler_gets_a_line_not_a_crash(monkeypatch, capsys):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore detail")

    monkeypatch.setattr(torch, "compile", no_compiler)
    work = speed.protein_like(n=40, length=6, letters=4)
    speed._report_compile(work, speed.DEMOConfig.smoke())
    out = capsys.readouterr().out
    expected = "RuntimeError: InvalidCxxCompiler: No working C++ compiler found"
    assert out == f"  torch.compile unavailable here: {expected}\n"
