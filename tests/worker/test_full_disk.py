"""A full disk while caching latents or a thumbnail loses only the cache, never the result; a temp file a kill
left beside the results is cleaned at the next start."""

from __future__ import annotations

import errno
import os
import time

import torch
from PIL import Image

import desktop.core.node_files as node_files_module
import desktop.engine.latents as latents_module
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.core.workspace import Workspace
from desktop.worker.history_writer import HistoryTarget, write_to_history


def _full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _result():
    info = ModelInfo(name="m", display_name="m", family="sd", natural_size=64, pipeline_class="P", device="cpu",
                     dtype="float32", vae_id="v")
    return GenerationResult(image=Image.new("RGB", (64, 48), (90, 20, 20)), params=GenerationParams(model="m", seed=5),
                            model=info, steps_run=2, sampler="PLMS", elapsed=0.1, latents=torch.zeros(1, 4, 6, 8))


def test_a_full_disk_while_caching_latents_keeps_the_result_and_says_so(tmp_path, monkeypatch):
    workspace, _ = Workspace.open(tmp_path / "ws")
    monkeypatch.setattr(latents_module, "atomic_write", _full)
    result = write_to_history(HistoryTarget(workspace, None), _result())
    node = result.history_nodes[-1]
    assert workspace.image_path(node).is_file() and node.latent is None
    assert any("could not be cached" in note and "No space left" in note for note in result.notes)
    workspace.close()


def test_a_full_disk_while_making_the_thumbnail_keeps_the_result(tmp_path, monkeypatch):
    workspace, _ = Workspace.open(tmp_path / "ws")
    real = node_files_module.atomic_write
    monkeypatch.setattr(node_files_module, "atomic_write",
                        lambda target, *a, **k: _full() if "thumbs" in str(target) else real(target, *a, **k))
    result = write_to_history(HistoryTarget(workspace, None), _result())
    assert workspace.image_path(result.history_nodes[-1]).is_file()
    assert workspace.thumbnail_path(result.history_nodes[-1]) is None
    workspace.close()


def test_a_temp_file_left_beside_the_results_is_cleaned_at_start(qapp, data_dir):
    from desktop.app import build_main_window

    outputs = data_dir / "outputs"
    outputs.mkdir(exist_ok=True)
    left = outputs / ".restyle-20260101-000000-1.png.1a2b3c4d.tmp"
    left.write_bytes(b"half a picture")
    fresh = outputs / ".restyle-20260101-000001-2.png.5e6f7a8b.tmp"  # may be another instance writing now
    fresh.write_bytes(b"being written")
    other = outputs / ".someone-else.tmp"
    other.write_bytes(b"not ours")
    old = time.time() - 3600
    os.utime(left, (old, old))
    os.utime(other, (old, old))
    window = build_main_window([], data_dir=data_dir)
    assert not left.exists() and fresh.exists() and other.exists()
    window.close()
