"""Small pieces several panels share: a named button, and taking files dropped on a widget."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from .canvas import dropped_file


def named_button(text: str, name: str, tip: str) -> QPushButton:
    """A push button with its object name (for tests and automation) and a tooltip."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


class FileDropTarget:
    """Mixin for a QWidget that takes dropped local files: ``file_dropped_here(path)`` gets the first one.

    Any file is taken: whoever handles it says clearly why one cannot be used.
    """

    def file_dropped_here(self, path: str) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = dropped_file(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.file_dropped_here(path)
