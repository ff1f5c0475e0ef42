"""What the worker writes into the history for a result: the node's record agrees with the picture's own text."""

from __future__ import annotations

from PIL import Image

from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.core.workspace import Workspace
from desktop.worker.history_writer import HistoryTarget, write_to_history


def test_a_single_file_checkpoints_hash_is_recorded_as_its_model_hash_not_its_vae(tmp_path):
    workspace, _ = Workspace.open(tmp_path / "ws")
    info = ModelInfo(name="dreamy.safetensors", display_name="dreamy", family="sd", natural_size=64,
                     pipeline_class="P", device="cpu", dtype="float32", vae_id="vae-fingerprint",
                     model_hash="0a1b2c3d4e")
    result = GenerationResult(image=Image.new("RGB", (64, 48)), params=GenerationParams(model="dreamy.safetensors",
                              seed=5), model=info, steps_run=2, sampler="PLMS", elapsed=0.1)
    node = write_to_history(HistoryTarget(workspace, None), result).history_nodes[-1]
    picture = parse_parameters_text(read_parameters(workspace.image_path(node)))
    assert node.model_hash == "0a1b2c3d4e" == picture.fields["Model hash"]
    assert node.vae_id == "vae-fingerprint"
    workspace.close()


def test_a_saved_result_and_its_imported_picture_come_with_the_thumbnails_their_rows_show(tmp_path):
    from desktop.core.history import Node, timestamp

    workspace, _ = Workspace.open(tmp_path / "ws")
    info = ModelInfo(name="m", display_name="m", family="sd", natural_size=64, pipeline_class="P", device="cpu",
                     dtype="float32", vae_id="v")
    picture = Image.radial_gradient("L").convert("RGB").resize((300, 200))
    source = Image.linear_gradient("L").convert("RGB").resize((90, 400))
    imported = Node(workspace.new_node_id(), None, "import", "", timestamp(), 90, 400)
    imported.image = f"{imported.id}.png"
    target = HistoryTarget(workspace, None, pending_import=imported, import_image=source)
    result = GenerationResult(image=picture, params=GenerationParams(model="m", seed=5), model=info, steps_run=2,
                              sampler="PLMS", elapsed=0.1)
    nodes = write_to_history(target, result).history_nodes
    thumbs = workspace.folder / "thumbs"
    assert sorted(p.name for p in thumbs.iterdir()) == sorted(f"{n.id}.png" for n in nodes)  # before the UI hears
    for node, size in zip(nodes, [(29, 128), (128, 85)], strict=True):
        written = thumbs / f"{node.id}.png"
        with Image.open(written) as thumb:
            assert thumb.size == size
            pixels = thumb.tobytes()
        written.unlink()  # an older workspace's row has the same thumbnail made from the saved picture
        assert workspace.thumbnail_path(node) == written
        with Image.open(written) as remade:
            assert remade.tobytes() == pixels
    workspace.close()
