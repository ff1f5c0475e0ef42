"""Which files of a folder can be restyled: each one really opened and decoded, not judged by its suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import RestyleError
from .images import SUPPORTED_SUFFIXES, load_image


def scan_folder(folder: Path, cancelled: Callable[[], bool] = lambda: False
                ) -> tuple[list[Path], list[tuple[str, str]]]:
    """(the images that decode, [(file name, why it is skipped)]), in name order; hidden files are ignored."""
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=lambda p: p.name)
    images, skipped = [], []
    for path in files:
        if cancelled():
            break
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((path.name, "not an image"))
            continue
        try:
            load_image(path)  # a file that only looks like an image fails here, not one by one in the queue
        except RestyleError as exc:
            skipped.append((path.name, exc.message))
            continue
        images.append(path)
    return images, skipped


def folder_summary(name: str, done: int, failed: list[tuple[str, str]], skipped: list[tuple[str, str]]) -> str:
    """"landscapes: 12 done, 2 failed, 1 skipped" and one line per file that was not done, with its reason."""
    head = f"{name}: {done} done, {len(failed)} failed, {len(skipped)} skipped"
    lines = [f"{file}: failed — {why}" for file, why in failed] + [f"{file}: skipped — {why}" for file, why in skipped]
    return "\n".join([head + (" — details:" if lines else "."), *lines])
