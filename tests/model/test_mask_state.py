"""MaskState and the session: painting, undo, whole-mask edits, what a run receives, and keeping the mask."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.params import GenerationParams
from desktop.core.picture_settings import a1111_settings
from desktop.model.mask_state import MaskState, brush_dab


@pytest.fixture()
def state(qapp, tmp_path):
    mask = MaskState(tmp_path / "data")
    mask.picture_changed((200, 100))
    return mask


def test_a_stroke_paints_along_the_drag_and_touches_only_its_box(state, qtbot):
    boxes = []
    state.changed.connect(lambda *box: boxes.append(box))
    state.set_brush(size=10, hardness=1.0)
    state.begin_stroke(20, 50)
    state.stroke_to(120, 50)  # a fast drag: one event, no gaps
    state.end_stroke()
    mask = state.array
    assert (mask[50, 20:121] == 255).all() and mask[50, 140:].max() == 0 and mask[70:].max() == 0
    left, top, right, bottom = boxes[-1]
    assert left <= 110 and right >= 120 and top >= 40 and bottom <= 60  # a box around the segment, not the picture
    assert not state.is_empty and state.can_undo


def test_soft_brush_fades_and_eraser_removes(state):
    dab = brush_dab(21, 0.0)
    assert dab[10, 10] == pytest.approx(1.0) and 0 < dab[10, 4] < 1 and dab[0, 0] == 0
    state.fill()
    state.set_brush(size=20, hardness=1.0, erasing=True)
    state.begin_stroke(100, 50)
    state.end_stroke()
    assert state.array[50, 100] == 0 and state.array[50, 150] == 255


def test_undo_and_redo_walk_strokes_and_whole_mask_edits(state):
    state.set_brush(size=8, hardness=1.0)
    state.begin_stroke(30, 30)
    state.end_stroke()
    after_stroke = state.array.copy()
    state.invert()
    assert state.array[30, 30] == 0 and state.array[90, 190] == 255
    assert state.undo() and np.array_equal(state.array, after_stroke)
    assert state.undo() and state.is_empty
    assert not state.undo()
    assert state.redo() and np.array_equal(state.array, after_stroke)
    state.clear()
    assert state.is_empty and not state.can_redo


def test_a_loaded_mask_is_scaled_to_the_picture_with_a_note(state, tmp_path, qtbot):
    mask = Image.new("L", (100, 50), 0)
    mask.paste(255, (0, 0, 50, 50))
    mask.save(tmp_path / "half.png")
    with qtbot.waitSignal(state.status_changed) as said:
        assert state.load(tmp_path / "half.png")
    assert said.args == ["The mask (100×50) was scaled to the picture's 200×100."]
    assert state.array[50, 50] == 255 and state.array[50, 150] == 0
    (tmp_path / "bad.png").write_text("no")
    with qtbot.waitSignal(state.error_raised) as failed:
        assert not state.load(tmp_path / "bad.png")
    assert "bad.png is not an image" in failed.args[1]


def test_mask_from_depth_takes_the_near_part(state):
    depth = Image.fromarray(np.tile(np.linspace(0, 255, 50, dtype=np.uint8), (25, 1)), "L")
    assert state.from_depth(depth, 0.5)
    assert state.array[:, -1].all() and not state.array[:, 0].any()


def test_the_run_gets_the_mask_file_written_once_per_change(state):
    plain = GenerationParams(model="m")
    assert state.apply(plain) == plain.replace(outpaint=None)  # nothing painted: a whole-picture run
    state.begin_stroke(100, 50)
    state.end_stroke()
    first = state.apply(plain)
    assert np.array_equal(np.asarray(Image.open(first.mask_image)), state.array)
    assert state.apply(plain).mask_image == first.mask_image  # unchanged: the same file
    state.invert()
    assert state.apply(plain).mask_image != first.mask_image
    state.set_outpaint((0, 0, 64, 0))
    assert state.apply(plain).outpaint == (0, 0, 64, 0)


def test_continuing_keeps_the_mask_or_takes_the_nodes_own(state, tmp_path):
    state.fill()
    state.picture_changed((100, 50), continuing=True)  # keep on: scaled to the new picture
    assert state.size == (100, 50) and state.array.min() == 255
    node_mask = Image.new("L", (100, 50), 0)
    node_mask.paste(255, (0, 0, 10, 10))
    node_mask.save(tmp_path / "node-mask.png")
    state.picture_changed((100, 50), node_mask=tmp_path / "node-mask.png", continuing=True)
    assert state.array[5, 5] == 255 and state.array[40, 90] == 0
    state.set_keep_on_continue(False)
    state.picture_changed((100, 50), node_mask=tmp_path / "node-mask.png", continuing=True)
    assert state.is_empty
    state.fill()
    state.picture_changed((100, 50))  # a new picture from outside: a fresh mask
    assert state.is_empty and not state.can_undo


def test_the_session_sends_the_mask_and_restores_mask_settings(model, host, make_image, qtbot):
    model.set_model("tiny", preload=False)
    model.load_init_image(make_image(size=(64, 48)))
    assert model.mask.size == (64, 48)
    model.mask.begin_stroke(10, 10)
    model.mask.end_stroke()
    model.update_params(mask_blur=9, inpaint_area="masked")
    assert model.generate()
    sent = host.requests[-1].params
    assert sent.mask_image and sent.mask_blur == 9 and sent.inpaint_area == "masked"
    assert np.array_equal(np.asarray(Image.open(sent.mask_image)), model.mask.array)
    model.restore_settings(model.offer_for(a1111_settings(
        "a cat\nSteps: 20, Seed: 1, Mask blur: 3, Inpaint area: Whole picture, Masked area padding: 40, "
        "Inpainting fill: latent noise")))
    p = model.params
    assert (p.mask_blur, p.inpaint_area, p.inpaint_padding, p.inpaint_fill) == (3, "whole", 40, "noise")
    model.clear_init_image()
    assert model.mask.array is None


def test_a_queued_run_keeps_the_mask_and_outpainting_of_its_moment(model, host, make_image, qtbot):
    model.set_model("tiny", preload=False)
    model.load_init_image(make_image(size=(64, 48)))
    assert model.generate()  # runs
    model.mask.begin_stroke(20, 20)
    model.mask.end_stroke()
    model.mask.set_outpaint((0, 0, 16, 0))
    assert model.generate()  # queued behind it, with the mask painted since
    queued = GenerationParams.from_dict(model.jobs.queue.jobs[-1].params)
    assert queued.outpaint == (0, 0, 16, 0)
    assert np.array_equal(np.asarray(Image.open(queued.mask_image)), model.mask.array)
    model.mask.clear()  # painting on afterwards does not change the queued run
    assert np.asarray(Image.open(queued.mask_image)).max() == 255


def test_outpainting_is_set_back_once_a_run_has_grown_the_picture(model, host, make_image, qtbot):
    from desktop.core.params import GenerationResult, ModelInfo

    model.set_model("tiny", preload=False)
    model.load_init_image(make_image(size=(64, 48)))
    model.mask.set_outpaint((0, 0, 32, 0))
    assert model.generate()
    request = host.requests[-1]
    assert request.params.outpaint == (0, 0, 32, 0)
    info = ModelInfo("m", "m", "sd", 64, "StableDiffusionImg2ImgPipeline", "cpu", "float32")
    result = GenerationResult(image=Image.new("RGB", (96, 48)), params=request.params.replace(seed=1), model=info,
                              steps_run=2, sampler="PLMS", elapsed=1.0)
    with qtbot.waitSignal(model.result_ready):
        host.worker.finished.emit(result)
    assert model.mask.outpaint is None  # the next Generate (or loopback pass) does not grow it again
