"""The style tools through the worker: folders sent with each run, references kept in the workspace."""

from __future__ import annotations

import shutil

from PIL import Image

from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.core.workspace import Workspace
from desktop.worker.history_writer import HistoryTarget, write_to_history


def test_reference_images_are_copied_into_the_workspace_and_the_node_names_the_copies(tmp_path, make_image):
    workspace, _ = Workspace.open(tmp_path / "ws")
    reference = make_image("style.png")
    info = ModelInfo(name="m", display_name="m", family="sd", natural_size=64, pipeline_class="P", device="cpu",
                     dtype="float32", vae_id="v")
    result = GenerationResult(image=Image.new("RGB", (64, 48)), params=GenerationParams(
        model="m", seed=5, references=(str(reference),), reference_scale=0.7), model=info, steps_run=2,
        sampler="PLMS", elapsed=0.1)
    node = write_to_history(HistoryTarget(workspace, None), result).history_nodes[-1]
    kept = GenerationParams.from_dict(node.params).references
    reference.unlink()  # the original goes away; the workspace's copy stays
    assert len(kept) == 1 and kept[0].startswith(str(workspace.folder))
    with Image.open(kept[0]) as copy:
        assert copy.size == (96, 64)
    workspace.close()


def test_a_run_from_the_window_finds_loras_by_name_in_the_folders_it_sends(qtbot, host, tiny_model,
                                                                          tiny_style_files, make_image, tmp_path):
    from desktop.worker import GenerateRequest

    folder = tmp_path / "my-loras"
    folder.mkdir()
    shutil.copy(tiny_style_files["kohya"], folder / "inkwash.safetensors")
    results, failures = [], []
    host.worker.finished.connect(results.append)
    host.worker.failed.connect(lambda kind, message: failures.append(message))
    params = GenerationParams(model=str(tiny_model), prompt="harbour <lora:inkwash:0.5>", steps=2, seed=1,
                              init_image=str(make_image()))
    host.submit(GenerateRequest(params, str(tmp_path / "out"), lora_dirs=(str(folder),), embedding_dirs=()))
    qtbot.waitUntil(lambda: bool(results or failures), timeout=120_000)
    assert not failures
    from desktop.core.metadata import read_parameters

    assert "Lora hashes: \"inkwash: " in read_parameters(results[0].output_path)
