"""How much disk each history workspace takes, and which workspaces there are. No Qt here.

Sizes are summed with one ``os.scandir`` pass per folder and one ``stat`` per file: tens of thousands of files
take a moment, so callers run this off the UI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .files import is_temp_name

WORKSPACES = "workspaces"  # under the data folder: one sub-folder per workspace


@dataclass(frozen=True)
class WorkspaceSize:
    """Bytes taken by one workspace, by kind of file."""

    folder: Path
    pictures: int  # images/: the history itself, never purged
    latents: int  # latents/: the cache chaining in latent space reads
    thumbnails: int  # thumbs/: made again on demand
    other: int  # depth maps, masks, the index and its journal

    @property
    def total(self) -> int:
        """Every byte of the workspace."""
        return self.pictures + self.latents + self.thumbnails + self.other


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and not is_temp_name(entry.name):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            pass
    return total


def workspace_size(folder: Path) -> WorkspaceSize:
    """The sizes of one workspace folder (missing sub-folders count as empty)."""
    folder = Path(folder)
    other = _folder_bytes(folder) + _folder_bytes(folder / "depth") + _folder_bytes(folder / "masks")
    return WorkspaceSize(folder, _folder_bytes(folder / "images"), _folder_bytes(folder / "latents"),
                         _folder_bytes(folder / "thumbs"), other)


def list_workspaces(data_dir: Path, current: Path | None = None) -> list[Path]:
    """The workspace folders under the data folder, by name, plus the current one when it lives elsewhere."""
    base = Path(data_dir) / WORKSPACES
    found = []
    if base.is_dir():
        found = sorted((p for p in base.iterdir() if p.is_dir() and not is_temp_name(p.name)),
                       key=lambda p: p.name.lower())
    if current is not None and Path(current) not in found:
        found.append(Path(current))
    return found
