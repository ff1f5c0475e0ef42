"""Dispatch of the headless commands: ``restyle generate|batch|upscale|info …``."""

from __future__ import annotations

import sys

from .common import EXIT_BAD_INPUT

COMMANDS = ("generate", "batch", "upscale", "info")


def main(argv: list[str] | None = None) -> int:
    """Run one headless command; ``argv[0]`` names it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    if command == "generate":
        from .generate import run_generate

        return run_generate(argv[1:])
    if command == "upscale":
        from .upscale import run_upscale_command

        return run_upscale_command(argv[1:])
    if command == "batch":
        from .batch import run_batch_command

        return run_batch_command(argv[1:])
    if command == "info":
        from .info import run_info

        return run_info(argv[1:])
    print(f"restyle: the headless commands are {', '.join(COMMANDS)} (got {command or 'none'!r}); "
          "run restyle with no command to open the window.", file=sys.stderr)
    return EXIT_BAD_INPUT
