"""The folded sections are built when they first unfold (issue 18: start-up within 2.5× a bare PySide6 window),
and are whole and working when they do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QToolButton, QWidget


def test_a_folded_section_is_built_when_it_first_unfolds_and_works(open_window, qtbot):
    window = open_window([])
    assert window.findChild(QWidget, "loraPanel") is None  # folded: nothing of it built at start-up
    assert window.findChild(QWidget, "referencePanel") is None

    header = window.findChild(QToolButton, "lorasSectionHeader")
    qtbot.mouseClick(header, Qt.MouseButton.LeftButton)
    panel = window.findChild(QWidget, "loraPanel")
    assert panel is not None and panel is window.lora_panel
    qtbot.waitUntil(panel.isVisible)
    picker = window.findChild(QComboBox, "loraAddPicker")
    assert picker.isVisible() and picker.isEnabled()

    qtbot.mouseClick(header, Qt.MouseButton.LeftButton)  # folded again: hidden, not rebuilt next time
    assert not panel.isVisible()
    qtbot.mouseClick(header, Qt.MouseButton.LeftButton)
    assert window.findChild(QWidget, "loraPanel") is panel


def test_a_section_left_unfolded_is_built_and_shown_with_the_window(open_window, qtbot, data_dir):
    window = open_window([])
    window.findChild(QToolButton, "referencesSectionHeader").click()  # remembered in the settings
    window.close()

    reopened = open_window([])
    panel = reopened.findChild(QWidget, "referencePanel")
    assert panel is not None
    qtbot.waitUntil(panel.isVisible)
    assert reopened.findChild(QWidget, "loraPanel") is None  # still folded, still not built


def test_the_gallery_is_built_when_its_tab_is_first_chosen_with_the_words_typed_before(open_window, qtbot):
    window = open_window([])
    assert window.findChild(QWidget, "galleryFilter") is None  # the tab at the back: not built at start-up
    qtbot.keyClicks(window.findChild(QWidget, "historyFilter"), "castle")

    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))
    gallery_filter = window.findChild(QWidget, "galleryFilter")
    assert gallery_filter is not None and gallery_filter.isVisible()
    assert gallery_filter.text() == "castle"  # the same words as the history's box, as before
    qtbot.keyClicks(window.findChild(QWidget, "historyFilter"), " night")
    assert gallery_filter.text() == "castle night"  # and they stay in step
