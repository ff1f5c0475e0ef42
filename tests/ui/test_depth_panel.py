"""The depth panel end to end: drop or estimate a depth map, generate with it, find it in the PNG and the history."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
)

from desktop.core.metadata import parse_parameters_text, read_parameters

from .conftest import TIMEOUT, drop_files

NO_IMAGE = "Drop or open an image first: depth is estimated from the init image."


@pytest.fixture()
def open_window(open_window, qtbot):
    """The window with the depth section unfolded, as the artist does before using it (it starts folded)."""

    def open_(argv=None):
        window = open_window(argv)
        header = _find(window, QToolButton, "depthSectionHeader")
        assert not header.isChecked()  # folded until used
        qtbot.mouseClick(header, Qt.MouseButton.LeftButton)
        qtbot.wait(20)  # the event loop lays the unfolded section out
        assert _find(window, QPushButton, "estimateDepthButton").isVisible()
        return window

    return open_


def _find(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def _type_into(qtbot, window, name, text):
    edit = _find(window, QLineEdit, name)
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # editingFinished: the model takes the value


def _click(qtbot, window, name):
    button = _find(window, QPushButton, name)
    window.side_column.scroll.ensureWidgetVisible(button)  # scrolled to, as the artist would: a click lands there
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_drop_a_depth_map_generate_and_find_it_in_the_png_and_the_history(qtbot, open_window, tiny_model,
                                                                           tiny_controlnet, make_image, make_depth):
    window = open_window(["--model", str(tiny_model), str(make_image("photo.png", size=(96, 64)))])
    thumbnail = _find(window, QLabel, "depthThumbnail")
    enabled = _find(window, QCheckBox, "depthEnabledCheck")
    assert not enabled.isEnabled() and not enabled.isChecked()  # off while there is no map
    assert drop_files(thumbnail, make_depth("wide-depth.png", size=(120, 64)))
    assert thumbnail.has_image and enabled.isEnabled() and enabled.isChecked()
    _type_into(qtbot, window, "controlnetEdit", str(tiny_controlnet))
    window.model.update_params(prompt="woodcut print", steps=3, seed=21)

    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as saved:
        _click(qtbot, window, "generateButton")
    parsed = parse_parameters_text(read_parameters(saved.args[0]))
    assert parsed.fields["ControlNet 0"] == ("Module: depth, Model: tiny-depth-cn, Weight: 0.8, Guidance Start: 0.0, "
                                             "Guidance End: 1.0")
    assert parsed.get_int("Seed") == 21
    # The depth map had another shape: its centre was used, and the user is told so.
    assert window.notice_banner.isVisible() and "centre" in window.notice_banner.text
    history = window.model.history
    node = history.tree.get(window.model.last_result.history_nodes[-1].id)
    assert node.params["controlnet"] == str(tiny_controlnet)
    assert node.params["control_image"].endswith("wide-depth.png")
    depth_copy = history.workspace.depth_path(node)
    assert depth_copy.parent == history.workspace.folder / "depth" and depth_copy.is_file()

    # Depth off: the next run is a plain one, without a ControlNet field.
    enabled.click()
    assert not window.model.depth.enabled
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as plain:
        _click(qtbot, window, "generateButton")
    assert "ControlNet" not in read_parameters(plain.args[0])


def test_estimate_depth_goes_stale_with_a_new_image_and_refreshes_in_one_click(qtbot, open_window, tiny_depth_model,
                                                                               make_image):
    window = open_window([str(make_image("photo.png", size=(96, 64)))])
    depth = window.model.depth
    thumbnail = _find(window, QLabel, "depthThumbnail")
    stale = _find(window, QLabel, "depthStaleLabel")
    busy = _find(window, QProgressBar, "depthBusyBar")
    _type_into(qtbot, window, "depthModelEdit", str(tiny_depth_model))

    _click(qtbot, window, "estimateDepthButton")
    assert busy.isVisible()  # the estimate runs on the worker: the window shows it is busy and stays usable
    assert not _find(window, QPushButton, "estimateDepthButton").isEnabled()
    qtbot.waitUntil(lambda: depth.has_map and not depth.estimating, timeout=TIMEOUT)
    assert thumbnail.has_image and not busy.isVisible() and not stale.isVisible()
    assert depth.estimated and depth.enabled and depth.path.parent == window.model.settings.data_dir / "inputs"

    drop_files(window.canvas, make_image("other.png", size=(96, 64), color=(20, 200, 20)))
    assert stale.isVisible()
    first = depth.path
    _click(qtbot, window, "estimateDepthButton")
    qtbot.waitUntil(lambda: not depth.estimating, timeout=TIMEOUT)
    assert not stale.isVisible() and depth.path != first


def test_view_invert_and_clear(qtbot, open_window, make_depth):
    window = open_window([])
    panel = _find(window, QGroupBox, "depthPanel")
    thumbnail = _find(window, QLabel, "depthThumbnail")
    original = make_depth(size=(64, 48))
    assert drop_files(panel, original)  # the whole panel takes a drop, not only the thumbnail
    before = thumbnail.pixmap().toImage().pixelColor(2, thumbnail.pixmap().height() // 2).red()

    _click(qtbot, window, "viewDepthButton")
    assert window.canvas.caption.startswith("Depth map") and window.canvas.image.width() == 64

    invert = _find(window, QPushButton, "invertDepthButton")
    qtbot.mouseClick(invert, Qt.MouseButton.LeftButton)
    after = thumbnail.pixmap().toImage().pixelColor(2, thumbnail.pixmap().height() // 2).red()
    assert invert.isChecked() and window.model.depth.inverted and abs((255 - before) - after) <= 2
    assert window.model.depth.path != original and original.is_file()

    _click(qtbot, window, "clearDepthButton")
    assert not thumbnail.has_image and window.model.depth.path is None
    enabled = _find(window, QCheckBox, "depthEnabledCheck")
    assert not enabled.isChecked() and not enabled.isEnabled() and not invert.isEnabled()


def test_an_sdxl_controlnet_on_an_sd_model_is_refused_and_nothing_is_written(qtbot, open_window, tiny_model,
                                                                             tiny_sdxl_controlnet, make_image,
                                                                             make_depth):
    window = open_window(["--model", str(tiny_model), str(make_image(size=(64, 64)))])
    drop_files(_find(window, QLabel, "depthThumbnail"), make_depth(size=(64, 64)))
    _type_into(qtbot, window, "controlnetEdit", str(tiny_sdxl_controlnet))
    window.model.update_params(prompt="x", steps=2)
    with qtbot.waitSignal(window.model.error_raised, timeout=TIMEOUT) as error:
        _click(qtbot, window, "generateButton")
    sentence = ("This ControlNet is made for SDXL but the model is SD 1.x; choose an SD 1.5 depth ControlNet such as "
                "lllyasviel/control_v11f1p_sd15_depth.")
    assert error.args == ["bad_input", sentence]
    qtbot.waitUntil(lambda: window.model.phase.value == "idle", timeout=TIMEOUT)
    assert window.error_banner.isVisible() and window.error_banner.text == sentence
    outputs = window.model.settings.output_dir
    assert not outputs.exists() or not list(outputs.iterdir())
    assert len(window.model.history.tree) == 0
    assert _find(window, QPushButton, "generateButton").isEnabled()


def test_estimating_without_an_image_and_a_bad_depth_file_get_a_sentence(qtbot, open_window, make_depth, tmp_path):
    window = open_window([])
    _click(qtbot, window, "estimateDepthButton")
    assert window.error_banner.isVisible() and window.error_banner.text == NO_IMAGE
    good = make_depth()
    drop_files(_find(window, QLabel, "depthThumbnail"), good)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    drop_files(_find(window, QLabel, "depthThumbnail"), notes)
    assert "notes.txt is not an image" in window.error_banner.text
    assert window.model.depth.path == Path(good)  # the map that was there is kept


def test_cancel_stops_a_depth_models_download_and_the_old_state_stays(qtbot, open_window, fake_hub, hub_cache,
                                                                       tiny_depth_model, make_image):
    fake_hub.throttle_s = 0.2  # about 10 s for the whole model: Cancel lands mid-download even on a busy machine
    fake_hub.add_folder("artist/tiny-depth", tiny_depth_model)
    window = open_window([str(make_image("photo.png", size=(96, 64)))])
    depth = window.model.depth
    said = []
    window.model.status_changed.connect(said.append)
    _type_into(qtbot, window, "depthModelEdit", "artist/tiny-depth")
    cancel = _find(window, QPushButton, "cancelDepthButton")
    assert not cancel.isVisible()

    _click(qtbot, window, "estimateDepthButton")
    assert cancel.isVisible() and _find(window, QProgressBar, "depthBusyBar").isVisible()
    qtbot.waitUntil(lambda: any(" of " in s and "artist/tiny-depth" in s for s in said), timeout=TIMEOUT)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not depth.estimating, timeout=TIMEOUT)
    assert not depth.has_map and not cancel.isVisible()  # no map arrived, and the panel is idle again
    assert _find(window, QPushButton, "estimateDepthButton").isEnabled()
    assert "Cancelled." in said
