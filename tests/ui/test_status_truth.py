"""Status texts that tell the truth: each model's line is its own, a failure never leaves "Loading…" standing,
and a note about a picture goes when the picture does."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from desktop.core.params import GenerationResult, ModelInfo

from .conftest import TIMEOUT, drop_files


def test_a_failing_depth_model_leaves_the_main_models_line_alone(qtbot, open_window, tiny_model, make_image, tmp_path):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    state = window.findChild(QLabel, "modelStateLabel")
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    main_line = state.text()
    assert "tiny-sd" in main_line
    window.model.depth.update(depth_model=str(tmp_path / "no-depth-model"))
    with qtbot.waitSignal(window.model.error_raised, timeout=TIMEOUT):
        assert window.model.estimate_depth()
    qtbot.waitUntil(lambda: not window.model.depth.estimating, timeout=TIMEOUT)
    assert state.text() == main_line  # before: the depth model's error replaced it, and stayed
    slots = window.findChild(QLabel, "modelSlotsLabel")
    assert slots.isVisible() and slots.text().startswith("Depth model:") and "no-depth-model" in slots.text()


def test_a_failed_load_does_not_leave_loading_in_the_status_bar(qtbot, open_window, tmp_path):
    window = open_window([])
    with qtbot.waitSignal(window.model.error_raised, timeout=TIMEOUT):
        window.model.set_model(str(tmp_path / "no-such-model"))
    qtbot.waitUntil(lambda: "Loading" not in window.status_label.text(), timeout=5000)
    assert "no-such-model" in window.status_label.text()
    assert "no-such-model" in window.findChild(QLabel, "modelStateLabel").text()


def test_a_note_goes_when_its_picture_does(qtbot, open_window, make_image):
    window = open_window([str(make_image("first.png"))])
    info = ModelInfo("m", "m", "sd", 64, "StableDiffusionImg2ImgPipeline", "cpu", "float32")
    result = GenerationResult(image=window.model.init_image.image, params=window.model.params.replace(seed=1),
                              model=info,
                              steps_run=1, sampler="PLMS", elapsed=0.1,
                              notes=("The depth map was cropped to the picture's shape.",))
    window.model.result_ready.emit(result)
    assert window.notice_banner.isVisible() and "cropped" in window.notice_banner.text
    drop_files(window.canvas, make_image("second.png", color=(10, 200, 10)))
    assert not window.notice_banner.isVisible()  # before: the old crop note stayed over the new picture


def test_the_canvas_says_the_size_a_run_will_have_once_the_model_is_known(qtbot, open_window, tiny_model,
                                                                          make_image):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    size = window.findChild(QLabel, "sizeLabel")
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "runs at" in window.canvas.caption)
    width, height = window.model.planned_size()
    assert window.canvas.caption.endswith(f"runs at {width}×{height}")  # the tiny model's size, not 512's
    assert size.text().startswith(f"{width}×{height}")  # the same as the Size line says
