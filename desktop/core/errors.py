"""Errors the engine raises: each has a kind and a sentence a user can act on."""

from __future__ import annotations

import enum


class ErrorKind(str, enum.Enum):
    """What went wrong, so the UI and the CLI can react (and pick an exit code) without parsing text."""

    BAD_INPUT = "bad_input"
    MODEL_MISSING = "model_missing"
    OUT_OF_MEMORY = "out_of_memory"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"  # the devices it was to run on went away (a Ray cluster stopped answering)
    INTERNAL = "internal"


class RestyleError(Exception):
    """An error whose message is one sentence meant for the user, not a traceback."""

    def __init__(self, kind: ErrorKind, message: str, suggestion=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        # Something the user can accept with one click (out of memory: a lighter RuntimeSettings), or None.
        self.suggestion = suggestion

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


def bad_input(message: str) -> RestyleError:
    """A RestyleError for input the user can correct (a file, a value, an argument)."""
    return RestyleError(ErrorKind.BAD_INPUT, message)


def model_missing(message: str) -> RestyleError:
    """A RestyleError for a model that cannot be found or read."""
    return RestyleError(ErrorKind.MODEL_MISSING, message)
