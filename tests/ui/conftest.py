"""Fixtures for window tests: the real window, built as the command line would, with a tiny model."""

from __future__ import annotations

import warnings

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from desktop.app import build_main_window

TIMEOUT = 60_000


@pytest.fixture()
def open_window(qtbot, data_dir):
    """open_window(argv) -> the shown main window; closed (and its worker stopped) after the test."""
    windows = []

    def open_(argv=None):
        window = build_main_window(argv or [], data_dir=data_dir)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()  # shortcuts (Ctrl+Enter, Esc) only reach the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.close()


def drop_files(widget, *paths) -> bool:
    """Drag ``paths`` onto ``widget`` and drop them, as a file manager would; returns acceptance."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return drop_mime(widget, mime)[1]


def drop_mime(widget, mime: QMimeData) -> tuple[bool, bool]:
    """Drag ``mime`` onto the middle of ``widget`` and drop it; whether the drag and the drop were accepted."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    with warnings.catch_warnings():  # PySide marks the only QDragEnterEvent constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()
