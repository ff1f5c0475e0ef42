"""The local Hugging Face cache and the offline switch, read from the environment each time (torch-free)."""

from __future__ import annotations

import os
from pathlib import Path


def is_offline() -> bool:
    """True when HF_HUB_OFFLINE asks for no network: the one offline check of the app."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_cache_dir() -> Path:
    """The Hugging Face cache folder, read from the environment now (huggingface_hub reads it once at import)."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "huggingface" / "hub"


def repo_folder(repo: str, cache_dir: Path | None = None) -> Path:
    """The cache folder of a model repository (``models--owner--name``)."""
    return (cache_dir or hub_cache_dir()) / ("models--" + repo.replace("/", "--"))
