"""The notebook runner: discovery, the SMOKE_TEST switch, failure reporting."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from botorch_demo import tutorials_check
from botorch_demo.tutorials_check import default_tutorials_dir, find_notebooks, run_notebook

EXPECTED = {
    "ax_closed_loop.ipynb",
    "ax_orchestrator.ipynb",
    "closed_loop_comparison.ipynb",
    "compare_with_qei.ipynb",
    "quickstart_botorch.ipynb",
}


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


def test_the_tutorials_are_found_and_read_smoke_test() -> None:
    notebooks = find_notebooks(default_tutorials_dir())
    assert {p.name for p in notebooks} == EXPECTED
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert 'os.environ.get("SMOKE_TEST"' in code, path.name


#: Notebooks committed with the outputs of a smoke run, which their text says.
SMOKE_OUTPUTS = {"closed_loop_comparison.ipynb"}


def test_committed_tutorials_carry_outputs_of_a_full_run() -> None:
    for path in find_notebooks(default_tutorials_dir()):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{path.name} is not executed"
        text = json.dumps([c.outputs for c in code])
        # Each notebook prints its mode in its first cell.
        if path.name in SMOKE_OUTPUTS:
            assert "profile smoke" in text, path.name
            assert "come from such a smoke run" in nb.cells[0].source, path.name
        else:
            assert "smoke test: True" not in text and "profile smoke" not in text, path.name
            assert "smoke test: False" in text or "profile fast" in text, path.name
        assert "image/png" in text, f"{path.name} has no plot"
        assert '"output_type": "error"' not in text, path.name


def test_missing_folder_and_empty_folder_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No tutorials folder"):
        find_notebooks(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="No notebooks"):
        find_notebooks(tmp_path)


def test_run_sets_smoke_test_and_writes_outputs(tmp_path: Path) -> None:
    source = "import os\nprint('SMOKE=' + os.environ['SMOKE_TEST'])"
    path = _notebook(tmp_path / "env.ipynb", source)
    run_notebook(path, smoke=True, write=True, timeout=120)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert outputs[0]["text"].strip() == "SMOKE=1"


def test_failing_cell_makes_the_checker_exit_1(tmp_path: Path, capsys) -> None:
    _notebook(tmp_path / "a_ok.ipynb", "x = 1")
    _notebook(tmp_path / "b_bad.ipynb", "raise RuntimeError('boom in a cell')")
    status = tutorials_check.main(["--dir", str(tmp_path), "--timeout", "120"])
    captured = capsys.readouterr()
    assert status == 1
    assert "ok     a_ok.ipynb" in captured.out
    assert "FAILED b_bad.ipynb" in captured.out and "boom in a cell" in captured.out
    assert "1 of 2 notebook(s) failed: b_bad.ipynb" in captured.err
