"""The session's depth state without widgets or torch: a recording stand-in plays the worker host."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.model.session import SessionModel
from desktop.model.settings import Settings
from desktop.worker import EstimateDepthRequest, GenerateRequest

NO_IMAGE = "Drop or open an image first: depth is estimated from the init image."


@pytest.fixture()
def model(qapp, data_dir, host):
    session = SessionModel(Settings(data_dir, default_output_dir=data_dir / "out"), host)
    session.set_model("m", preload=False)
    session.update_params(prompt="p")
    return session


def _estimate(model, host, tmp_path) -> EstimateDepthRequest:
    """Ask for an estimate and answer it as the worker would."""
    assert model.estimate_depth()
    request = host.requests[-1]
    assert isinstance(request, EstimateDepthRequest) and model.depth.estimating
    Image.new("RGB", (16, 16), (120, 120, 120)).save(request.output_path)
    host.worker.depth_ready.emit(request.job_id, request.output_path)
    host.worker.job_done.emit(request.job_id)
    return request


def test_estimating_without_an_image_is_refused_with_a_sentence(model, host, qtbot):
    with qtbot.waitSignal(model.error_raised) as error:
        assert not model.estimate_depth()
    assert error.args == ["bad_input", NO_IMAGE]
    assert host.requests == []


def test_an_estimate_goes_stale_when_the_image_changes_and_a_new_one_is_fresh(model, host, make_image, tmp_path,
                                                                             data_dir):
    model.load_init_image(make_image("photo.png"))
    request = _estimate(model, host, tmp_path)
    assert request.image_path.endswith("photo.png") and Path(request.output_path).parent == data_dir / "inputs"
    depth = model.depth
    assert depth.path == Path(request.output_path) and depth.estimated and depth.enabled and not depth.stale
    assert not depth.estimating
    model.load_init_image(make_image("other.png"))
    assert depth.stale
    _estimate(model, host, tmp_path)
    assert not depth.stale


def test_an_estimate_of_an_image_replaced_meanwhile_arrives_stale(model, host, make_image):
    model.load_init_image(make_image("photo.png"))
    assert model.estimate_depth()
    request = host.requests[-1]
    model.load_init_image(make_image("other.png"))
    Image.new("RGB", (16, 16)).save(request.output_path)
    host.worker.depth_ready.emit(request.job_id, request.output_path)
    assert model.depth.stale


def test_a_map_the_user_brought_never_goes_stale(model, make_image, make_depth):
    model.load_init_image(make_image("photo.png"))
    assert model.depth.load_file(make_depth())
    model.load_init_image(make_image("other.png"))
    assert not model.depth.stale and not model.depth.estimated


def test_runs_carry_the_depth_settings_only_while_depth_is_on(model, host, make_image, make_depth):
    model.load_init_image(make_image())
    depth = make_depth()
    model.depth.load_file(depth)
    model.depth.update(controlnet=" my/cn ", control_scale=1.1, control_start=0.2, control_end=0.7)
    assert model.generate()
    params = host.requests[-1].params
    assert (params.control_image, params.controlnet, params.control_scale, params.control_start,
            params.control_end) == (str(depth), "my/cn", 1.1, 0.2, 0.7)
    host.worker.job_done.emit(host.requests[-1].job_id)
    model.depth.set_enabled(False)
    assert model.generate() and host.requests[-1].params.control_image is None


def test_a_bad_depth_file_is_reported_and_the_old_map_kept(model, make_depth, tmp_path, qtbot):
    good = make_depth()
    model.depth.load_file(good)
    notes = tmp_path / "notes.png"
    notes.write_text("no")
    with qtbot.waitSignal(model.error_raised) as error:
        assert not model.depth.load_file(notes)
    assert "notes.png is not an image" in error.args[1]
    assert model.depth.path == good


def test_invert_writes_a_copy_and_leaves_the_file_alone(model, make_depth, data_dir):
    original = make_depth()
    before = original.read_bytes()
    model.depth.load_file(original)
    assert model.depth.invert()
    copy = model.depth.path
    assert copy.parent == data_dir / "inputs" and model.depth.inverted
    assert np.asarray(Image.open(copy))[0, 0, 0] == 0  # near (255) became far
    assert original.read_bytes() == before
    assert model.depth.invert() and model.depth.path == original and not model.depth.inverted


def test_clear_turns_depth_off_and_it_cannot_be_enabled_without_a_map(model, make_depth):
    model.depth.load_file(make_depth())
    model.depth.clear()
    assert model.depth.path is None and not model.depth.enabled
    model.depth.set_enabled(True)
    assert not model.depth.enabled


def test_generate_waits_for_a_running_estimate(model, host, make_image, qtbot):
    model.load_init_image(make_image())
    assert model.estimate_depth()
    with qtbot.waitSignal(model.status_changed) as status:
        assert not model.generate()
    assert "being estimated" in status.args[0]
    assert not any(isinstance(r, GenerateRequest) for r in host.requests)


def test_the_model_names_are_remembered(model, data_dir, host):
    model.depth.update(depth_model="/models/depth", controlnet="owner/cn")
    model.settings.sync()
    again = SessionModel(Settings(data_dir), host)
    assert (again.depth.depth_model, again.depth.controlnet) == ("/models/depth", "owner/cn")


@pytest.mark.parametrize("changes, controlnet", [({"seed": 5}, "my/cn"), ({"model": "other/model"}, "")])
def test_a_replay_uses_the_workspace_copy_of_the_depth_map(model, host, make_image, changes, controlnet):
    from desktop.core.history import Node, timestamp
    from desktop.core.node_files import write_depth_image, write_node_image

    workspace = model.history.workspace
    source = make_image("photo.png", size=(16, 16))
    root = workspace.add_import(source, Image.open(source))
    node_id = workspace.new_node_id()
    params = {"model": "m", "prompt": "p", "init_image": str(source), "control_image": "/gone/depth.png",
              "controlnet": "my/cn", "control_scale": 1.3, "seed": 1, "steps": 4}
    node = Node(id=node_id, parent=root.id, kind="generation", image=f"{node_id}.png", created=timestamp(),
                width=16, height=16, params=params, model="m", seed=1,
                depth=write_depth_image(workspace.folder, node_id, Image.new("RGB", (16, 16))))
    write_node_image(workspace.folder, node, Image.new("RGB", (16, 16)), None)
    model.history.add_nodes([node])

    assert model.replay(node_id, changes)
    sent = host.requests[-1].params
    # The original file is gone; the copy made with the result is what the replay steers with.
    assert sent.control_image == str(workspace.depth_path(node_id)) and sent.control_scale == 1.3
    assert sent.controlnet == controlnet  # another model: its family's default, not a ControlNet made for the old one
