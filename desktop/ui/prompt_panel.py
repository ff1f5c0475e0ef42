"""Prompt and negative prompt editors."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget


class PromptPanel(QWidget):
    """Two text editors bound to the model's prompt and negative prompt."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("Describe the style you want, e.g. “oil painting, warm light, thick brush strokes”")
        self.prompt_edit.setTabChangesFocus(True)
        self.negative_edit = QPlainTextEdit()
        self.negative_edit.setObjectName("negativePromptEdit")
        self.negative_edit.setPlaceholderText("What to avoid, e.g. “blurry, low quality”")
        self.negative_edit.setTabChangesFocus(True)
        self.negative_edit.setMaximumHeight(70)
        self.prompt_edit.setMaximumHeight(110)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Prompt"))
        layout.addWidget(self.prompt_edit)
        layout.addWidget(QLabel("Negative prompt"))
        layout.addWidget(self.negative_edit)
        self._sync(model.params)
        self.prompt_edit.textChanged.connect(self._on_prompt_edit_text_changed)
        self.negative_edit.textChanged.connect(self._on_negative_edit_text_changed)
        model.params_changed.connect(self._sync)

    def _on_prompt_edit_text_changed(self) -> None:
        self._model.update_params(prompt=self.prompt_edit.toPlainText())

    def _on_negative_edit_text_changed(self) -> None:
        self._model.update_params(negative_prompt=self.negative_edit.toPlainText())

    def _sync(self, params) -> None:
        # Only touch the editors when the text differs, or typing would lose the cursor position.
        if self.prompt_edit.toPlainText() != params.prompt:
            self.prompt_edit.setPlainText(params.prompt)
        if self.negative_edit.toPlainText() != params.negative_prompt:
            self.negative_edit.setPlainText(params.negative_prompt)
