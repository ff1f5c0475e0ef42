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


def in_range(name: str, flag: str | None = None):
    """An argparse type for the parameter ``name`` of the ranges table: same bounds and sentence as the window."""
    from desktop.core.ranges import RANGES

    limits = RANGES[name]
    what = flag or name.replace("_", " ")

    def convert(text: str) -> float | int:
        try:
            value = int(text) if limits.whole else float(text)
        except ValueError:
            kind = "a whole number" if limits.whole else "a number"
            raise argparse.ArgumentTypeError(f"{what} must be {kind}, not {text!r}") from None
        if not limits.contains(value):
            raise argparse.ArgumentTypeError(f"{what} must be {limits.bounds_text()} (got {text})")
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
