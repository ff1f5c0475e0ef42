"""DeferredPanel: a panel built the first time it shows, for the folded sections and the gallery tab.

Each such panel costs milliseconds of start-up (its widgets, and the Qt classes PySide wraps for them the first time)
that nobody sees until the section unfolds or the tab is chosen; built then, it is there before the next paint.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class DeferredPanel(QWidget):
    """Holds the place of the panel ``build()`` returns and builds it when first shown, or first asked for."""

    def __init__(self, build: Callable[[], QWidget], name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self._build = build
        self._panel: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    @property
    def panel(self) -> QWidget:
        """The panel, built now if it was not yet."""
        if self._panel is None:
            self._panel = self._build()
            self._layout.addWidget(self._panel)
            self._panel.show()  # at once when this page is on screen (the layout would wait a pass)
        return self._panel

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt override
        if visible:
            self.panel  # noqa: B018 - built before it shows, so the first layout already has its size
        super().setVisible(visible)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.panel  # noqa: B018 - shown with its parent without setVisible: built now all the same
        super().showEvent(event)
