"""The canvas is the working picture: what it shows (and the caption above it says) is what Generate restyles,
across restarts; File ▸ New starts from text; Generate, Cancel and the progress never scroll out of view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QPushButton, QToolButton, QTreeView

from .conftest import TIMEOUT


def _generate(qtbot, window):
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        qtbot.mouseClick(window.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    return window.model.history.tree.get(window.model.history.selected_id)


def _click_history_node(qtbot, window, node_id):
    """Click the node's row in the history tree, as the artist does."""
    view = window.findChild(QTreeView, "historyView")
    index = view.model().node_index(node_id)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


def _source_label(window) -> str:
    return window.findChild(QLabel, "sourceLabel").text()


def test_a_clicked_history_result_is_what_generate_restyles_also_after_a_restart(qtbot, open_window, tiny_model,
                                                                                  make_image):
    window = open_window(["--model", str(tiny_model), str(make_image("landscape.png"))])
    window.model.update_params(prompt="woodcut", steps=4, strength=0.6, seed=1)
    assert _source_label(window) == "Restyling: landscape.png"
    first = _generate(qtbot, window)
    second = _generate(qtbot, window)  # the result became the working picture: this one chains from it
    assert second.parent == first.id
    assert _source_label(window) == "Restyling: result 2 of the chain from landscape.png"

    _click_history_node(qtbot, window, first.id)
    assert window.model.history.selected_id == first.id
    assert _source_label(window) == "Restyling: result 1 of the chain from landscape.png"
    assert "woodcut" in window.canvas.caption
    branch = _generate(qtbot, window)
    assert branch.parent == first.id  # a new branch beside `second`, not a child of the old init image
    _click_history_node(qtbot, window, first.parent)  # the imported picture keeps its name, not its hash copy's
    assert _source_label(window) == "Restyling: landscape.png" and "landscape.png" in window.canvas.caption
    _click_history_node(qtbot, window, first.id)
    window.close()

    reopened = open_window(["--model", str(tiny_model)])
    assert reopened.model.history.selected_id == first.id
    assert reopened.model.init_image is not None  # before: gone after a restart, and the next run was text-to-image
    assert _source_label(reopened) == "Restyling: result 1 of the chain from landscape.png"
    assert "from the image" in reopened.findChild(QLabel, "sizeLabel").text()
    assert reopened.params_panel.strength.isEnabled()
    again = _generate(qtbot, reopened)
    assert again.parent == first.id


def test_file_new_starts_from_text_and_back_returns_to_the_picture(qtbot, open_window, tiny_model, make_image):
    window = open_window(["--model", str(tiny_model), str(make_image("landscape.png"))])
    window.model.update_params(prompt="woodcut", steps=3, seed=2)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert _source_label(window) == "From text"
    assert window.canvas.image is None and "starts from text" in window.canvas.placeholder
    assert window.back_action.isEnabled()
    made = _generate(qtbot, window)
    assert made.parent is None and not made.params.get("init_image")  # a text-to-image root
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    window.back_action.trigger()
    assert _source_label(window) == "Restyling: result 1 of a chain from text"
    window.close()
    reopened = open_window([])
    assert _source_label(reopened) == "Restyling: result 1 of a chain from text"


def test_panel_values_come_back_after_a_restart(qtbot, open_window, make_depth):
    window = open_window([])
    window.model.update_params(seed=777)
    window.history_panel.loop_check.setChecked(True)
    window.history_panel.loop_count.setValue(3)
    window.history_panel.loop_end_strength.setValue(0.3)
    depth = window.model.depth
    assert depth.load_file(make_depth())
    depth.update(control_scale=1.25, control_start=0.1, control_end=0.9)
    window.close()
    reopened = open_window([])
    assert reopened.model.params.seed == 777 and reopened.findChild(type(window.params_panel.seed_edit),
                                                                      "seedEdit").text() == "777"
    panel = reopened.history_panel
    assert (panel.loop_check.isChecked(), panel.loop_count.value(), panel.loop_end_strength.value()) == (True, 3, 0.3)
    assert reopened.model.loopback_strengths() == []  # no picture yet: one run; the settings wait for one
    again = reopened.model.depth
    assert again.has_map and again.enabled and again.path == depth.path
    assert (again.control_scale, again.control_start, again.control_end) == (1.25, 0.1, 0.9)
    assert reopened.side_column.depth_section.expanded  # a depth map in use: its section is open


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1920, 1080)])
def test_generate_cancel_and_progress_are_on_screen_without_scrolling(qtbot, open_window, size):
    window = open_window([])
    for header in window.findChildren(QToolButton):  # every section unfolded: the tallest the column gets
        if header.objectName().endswith("SectionHeader") and not header.isChecked():
            header.click()
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().width() == size[0])
    QApplication.processEvents()
    assert window.height() <= size[1]
    for cls, name in ((QPushButton, "generateButton"), (QPushButton, "cancelButton"),
                      (QProgressBar, "progressBar")):
        widget = window.findChild(cls, name)
        assert widget.isVisible()
        assert widget.visibleRegion().boundingRect() == widget.rect(), f"{name} is cut off at {size}"
        assert widget.visibleRegion().rectCount() == 1


def test_sections_fold_and_remember_it(qtbot, open_window):
    window = open_window([])
    section = window.side_column.prompt_section
    assert section.expanded and not window.side_column.depth_section.expanded  # depth folded until used
    qtbot.mouseClick(section.header, Qt.MouseButton.LeftButton)
    assert not section.expanded and not window.prompt_panel.isVisible()
    window.close()
    reopened = open_window([])
    assert not reopened.side_column.prompt_section.expanded
