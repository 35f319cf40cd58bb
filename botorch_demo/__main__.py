"""``python -m botorch_demo`` is the ``botorch-demo`` command line."""

from botorch_demo.cli import main

if __name__ == "__main__":
    main()
