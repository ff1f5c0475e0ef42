"""What every ``restyle`` command shares: the one-line argument errors, the range checks, and the one rule that
turns an engine error into an exit code (2 for what the user gave, 1 for anything else, with the log's path)."""

from __future__ import annotations

import argparse
import logging
import sys

from desktop.core.errors import ErrorKind, RestyleError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger(__name__)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def float_in(low: float, high: float, name: str):
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not low <= value <= high or (name == "strength" and value == 0):
            raise argparse.ArgumentTypeError(f"{name} must be {'above' if name == 'strength' else 'from'} {low:g} "
                                             f"{'and at most' if name == 'strength' else 'to'} {high:g} (got {text})")
        return value

    return convert


def int_in(low: int, high: int, name: str):
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low} to {high} (got {text})")
        return value

    return convert


def fail(code: int, message: str) -> int:
    print(f"restyle: {message}", file=sys.stderr)
    return code


def fail_with(exc: RestyleError, what: str, log_file) -> int:
    """Exit 2 with the sentence for what the user gave; 1 (and where the log is) for anything else."""
    log.warning("%s failed: %s", what, exc.message)
    code = EXIT_BAD_INPUT if exc.kind in (ErrorKind.BAD_INPUT, ErrorKind.MODEL_MISSING) else EXIT_FAILED
    return fail(code, exc.message if code == EXIT_BAD_INPUT else f"{exc.message} (log: {log_file})")
