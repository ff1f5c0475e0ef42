"""An inline message bar (errors, offers) that never blocks the window the way a modal dialog would."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from . import theme

# White on a deep tone in both palettes (theme.BANNERS, 9:1 and more).
STYLES = {tone: f"background:{background}; color:{text}; border-radius:4px;"
          for tone, (background, text) in theme.BANNERS.items()}


class Banner(QFrame):
    """A text with optional action buttons and a close button; hidden until ``show_message``."""

    def __init__(self, object_name: str, tone: str = "info", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(f"#{object_name} {{{STYLES[tone]}}}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName(f"{object_name}Text")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 6, 6)
        self._layout.addWidget(self.label, 1)
        self._actions: list[QPushButton] = []
        self.close_button = QPushButton("Dismiss")
        self.close_button.clicked.connect(self.hide)
        self._layout.addWidget(self.close_button)
        self.hide()

    @property
    def text(self) -> str:
        """The message shown."""
        return self.label.text()

    def show_message(self, text: str, actions: list[tuple[str, object]] | None = None) -> None:
        """Show ``text`` with buttons (label, callback); a button click also closes the banner."""
        for button in self._actions:
            button.setObjectName("")  # deleted later: its name already belongs to the new buttons
            button.hide()
            button.deleteLater()
        self._actions = []
        for index, (label, callback) in enumerate(actions or []):
            button = QPushButton(label)
            button.setObjectName(f"{self.objectName()}Action{index}")
            button.clicked.connect(callback)
            button.clicked.connect(self.hide)
            self._layout.insertWidget(1 + index, button)
            self._actions.append(button)
        self.label.setText(text)
        self.show()
