"""A collapsible section of the side column: a header button that folds its panel away, remembered across runs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSizePolicy, QToolButton, QVBoxLayout, QWidget


class Section(QWidget):
    """``title`` over ``content``; clicking the header shows or hides the content. ``expanded`` is stored in
    ``settings`` under ``key`` when given."""

    toggled = Signal()  # no bool argument: see DepthState.estimating_changed (PySide bool refcount bug)

    def __init__(self, title: str, content: QWidget, key: str, settings=None, *, expanded: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"{key}Section")
        self._key = key
        self._settings = settings
        if settings is not None:
            expanded = settings.section_expanded(key, expanded)
        self.header = QToolButton()
        self.header.setObjectName(f"{key}SectionHeader")
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setChecked(expanded)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setAutoRaise(True)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setStyleSheet("QToolButton { font-weight: bold; text-align: left; }")
        self.content = content
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(content)
        self._show(expanded)
        self.header.toggled.connect(self._on_header_toggled)

    @property
    def expanded(self) -> bool:
        """True while the content shows."""
        return self.header.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        """Unfold or fold the section (remembered)."""
        self.header.setChecked(expanded)

    def _on_header_toggled(self, expanded: bool) -> None:
        self._show(expanded)
        if self._settings is not None:
            self._settings.set_section_expanded(self._key, expanded)
        self.toggled.emit()

    def _show(self, expanded: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.content.setVisible(expanded)
