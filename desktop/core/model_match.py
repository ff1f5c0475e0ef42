"""Finding the model a picture names among the installed ones: by name first, then by a hash already known.

Cheap enough for a drop on the UI thread: folder listings only (the Hugging Face cache's ``models--owner--name``
folders, the user's library folders one level deep) and hashes remembered earlier, never a file read in full.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from .hubcache import hub_cache_dir
from .model_hash import cached_short_hash

_MODEL_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf")


def model_key(name: str) -> str:
    """What two names of one model share: the last path part, no extension, lower case ("SDXL/juggernaut.safetensors"
    and "Juggernaut" match; so do "owner/sd-v1-5" and "sd-v1-5")."""
    last = re.split(r"[\\/]", name.strip().rstrip("/\\"))[-1]
    for ext in _MODEL_EXTENSIONS:
        if last.lower().endswith(ext):
            last = last[: -len(ext)]
            break
    return last.strip().lower()


def installed_models(user_paths: Iterable[str] = (), extra: Iterable[str] = (),
                     cache_dir: Path | None = None) -> list[str]:
    """Names the model picker takes for what is here: ``extra`` (recent models), Hub ids in the cache, and the user's
    files and folders (a folder of models is listed one level deep)."""
    names = [e for e in extra if e]
    with contextlib.suppress(OSError):
        names += [entry.name[len("models--"):].replace("--", "/", 1)
                  for entry in os.scandir(cache_dir or hub_cache_dir())
                  if entry.is_dir() and entry.name.startswith("models--")]
    for raw in user_paths:
        path = Path(raw)
        names.append(str(path))
        if path.is_dir() and not (path / "model_index.json").is_file():
            try:
                names += [str(child) for child in sorted(path.iterdir())
                          if child.is_dir() or child.suffix.lower() in _MODEL_EXTENSIONS]
            except OSError:
                continue
    return list(dict.fromkeys(names))


def find_installed_model(name: str, model_hash: str, candidates: Iterable[str],
                         hash_cache: Path | None = None) -> str | None:
    """The candidate that is the model a picture names (its name, else a remembered hash equal to its hash)."""
    candidates = list(candidates)
    key = model_key(name) if name else ""
    if key:
        for candidate in candidates:
            if model_key(candidate) == key:
                return candidate
    wanted = model_hash.strip().lower()
    if len(wanted) == 10:
        for candidate in candidates:
            if os.path.isfile(candidate) and cached_short_hash(candidate, hash_cache) == wanted:
                return candidate
    return None
