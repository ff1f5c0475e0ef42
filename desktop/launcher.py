"""The ``restyle`` command: a headless command (desktop.cli), the self-test, or the window (desktop.app).

The top of the layers: the only module that knows both faces of the app, so neither imports the other.
"""

from __future__ import annotations

import sys

from desktop.cli.main import COMMANDS


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``restyle`` and ``python -m desktop``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        from desktop.cli.main import main as run_command

        return run_command(argv)
    from desktop.cli.gui_args import parse_gui_args

    args = parse_gui_args(argv)  # reports bad arguments before any window appears
    if args.self_test:
        from desktop.selftest import run_self_test

        return run_self_test(args.data_dir)
    from desktop.app import run_gui

    return run_gui(argv)
