"""The frozen bundle's entry point: the same ``restyle`` command as ``python -m desktop``."""

import multiprocessing
import sys

from desktop.launcher import main

if __name__ == "__main__":
    # torch and transformers may start worker processes; a frozen executable must route them here first.
    multiprocessing.freeze_support()
    sys.exit(main())
