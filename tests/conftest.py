"""Shared fixtures: offline, offscreen, a tiny random-weight model built once, and no leftover threads."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Qt or huggingface_hub: no screen, no network, no user cache.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="restyle-hf-cache-")
os.environ.pop("RESTYLE_DATA_DIR", None)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random SD 1.x model in diffusers format (natural size 64 px), loaded like a real one."""
    from desktop.engine.tiny import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd", seed=0)


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    """A data folder for settings, logs and outputs, never the user's."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture()
def make_image(tmp_path):
    """Write a small test picture and return its path: make_image("a.png", (w, h), color)."""

    def make(name: str = "input.png", size=(96, 64), color=(200, 60, 40), **save_kwargs) -> Path:
        path = tmp_path / name
        image = Image.new("RGB", size, color)
        # A second colour block so the image has structure for the model to keep.
        image.paste((30, 90, 200), (0, 0, size[0] // 2, size[1] // 2))
        image.save(path, **save_kwargs)
        return path

    return make


@pytest.fixture(autouse=True)
def _no_worker_thread_left():
    """Fail any test that leaves an inference thread running (and stop it so others are not affected)."""
    yield
    import sys

    if "desktop.worker.host" not in sys.modules:
        return
    from desktop.worker.host import running_hosts

    left = running_hosts()
    for host in left:
        host.shutdown()
    assert not left, f"{len(left)} worker thread(s) left running"
