"""The window's command line: ``restyle [IMAGE] [--model M] [--data-dir D] [--self-test]``."""

from __future__ import annotations

import argparse

from desktop import APP_NAME, __version__

from .common import OneLineParser


def gui_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="restyle", description=f"{APP_NAME}: restyle your images with diffusion models.",
                            epilog="Headless: restyle generate --help")
    parser.add_argument("image", nargs="?", help="an image to open as the init image")
    parser.add_argument("--model", help="a Hugging Face id, a local diffusers folder or a .safetensors checkpoint")
    parser.add_argument("--data-dir", help="keep settings, logs and outputs in this folder")
    parser.add_argument("--self-test", action="store_true", help="check the install headless with a tiny "
                        "random model (offline, no window) and exit: 0 passed, 1 failed")
    # For start-up benchmarks and bundle checks, not for users: open the window, print the moment it first
    # painted, exit 0.
    parser.add_argument("--exit-when-shown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def parse_gui_args(argv: list[str]) -> argparse.Namespace:
    """The window's arguments: [IMAGE] [--model M] [--data-dir D]."""
    return gui_parser().parse_args(argv)
