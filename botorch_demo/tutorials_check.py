"""Execute the tutorial notebooks, by default in smoke mode, as CI does.

``python -m botorch_demo.tutorials_check`` finds ``tutorials/*.ipynb`` in the
repository this package was installed from (``pip install -e .``), runs each
with nbclient in a fresh kernel with ``SMOKE_TEST=1`` (every notebook shrinks
its configuration then), and exits with status 1 if a cell fails, printing the
failing cell and its traceback. The notebooks on disk are not changed.

Options:

* ``NOTEBOOK ...``: run only these notebook files.
* ``--dir DIR``: the folder of notebooks (default: ``<repo>/tutorials``).
* ``--full``: run without ``SMOKE_TEST`` (the real, minutes-long runs).
* ``--write``: write the executed notebooks, outputs included, back in place;
  this is how the committed outputs are produced
  (``python -m botorch_demo.tutorials_check --full --write``).
* ``--timeout S``: seconds allowed per cell (default 1800).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SMOKE_ENV = "SMOKE_TEST"
KERNEL_NAME = "python3"


def default_tutorials_dir() -> Path:
    """``tutorials/`` of the repository that holds this package."""
    return Path(__file__).resolve().parent.parent / "tutorials"


def find_notebooks(directory: Path) -> list[Path]:
    """The ``*.ipynb`` files of ``directory``, sorted by name.

    Raises:
        FileNotFoundError: If the folder does not exist or holds no notebook.
    """
    if not directory.is_dir():
        raise FileNotFoundError(
            f"No tutorials folder at {directory}: run the checker from a clone of the "
            "repository with the package installed in editable mode (pip install -e .), "
            "or pass --dir."
        )
    notebooks = sorted(directory.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"No notebooks (*.ipynb) in {directory}.")
    return notebooks


def run_notebook(path: Path, smoke: bool = True, write: bool = False, timeout: int = 1800) -> None:
    """Execute one notebook in a fresh kernel, working directory its folder.

    Args:
        path: The notebook.
        smoke: Set ``SMOKE_TEST=1`` in the kernel's environment; otherwise the
            variable is removed.
        write: Write the executed notebook (with outputs) back to ``path``.
        timeout: Seconds allowed per cell.

    Raises:
        nbclient.exceptions.CellExecutionError: If a cell raises; its message
            holds the cell's source and the traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env.pop(SMOKE_ENV, None)
    if smoke:
        env[SMOKE_ENV] = "1"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute(env=env)
    if write:
        nbformat.write(nb, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m botorch_demo.tutorials_check",
        description="Execute the tutorial notebooks (smoke mode by default).",
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run")
    parser.add_argument("--dir", type=Path, default=None, help="folder of notebooks")
    parser.add_argument("--full", action="store_true", help="run without SMOKE_TEST")
    parser.add_argument("--write", action="store_true", help="write outputs back in place")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    from nbclient.exceptions import CellExecutionError

    try:
        notebooks = list(args.notebooks) or find_notebooks(args.dir or default_tutorials_dir())
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    mode = "full" if args.full else "smoke"
    failed: list[Path] = []
    for path in notebooks:
        print(f"{path.name} ({mode}) ...", flush=True)
        tic = time.perf_counter()
        try:
            run_notebook(path, smoke=not args.full, write=args.write, timeout=args.timeout)
        except CellExecutionError as err:
            failed.append(path)
            print(f"FAILED {path.name} after {time.perf_counter() - tic:.0f} s:\n{err}", flush=True)
            continue
        except Exception as err:  # a kernel that died or timed out, a bad notebook file
            failed.append(path)
            print(
                f"FAILED {path.name} after {time.perf_counter() - tic:.0f} s: "
                f"{type(err).__name__}: {err}",
                flush=True,
            )
            continue
        print(f"ok     {path.name} in {time.perf_counter() - tic:.0f} s", flush=True)
    if failed:
        print(
            f"{len(failed)} of {len(notebooks)} notebook(s) failed: "
            f"{', '.join(p.name for p in failed)}",
            file=sys.stderr,
        )
        return 1
    print(f"all {len(notebooks)} notebook(s) ran ({mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
