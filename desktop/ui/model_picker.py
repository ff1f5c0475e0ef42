"""Choosing the model: an editable list of Hub ids and folders used before, plus a folder browser."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

NO_MODEL_HINT = (
    "No model chosen. Type a Hugging Face id such as stable-diffusion-v1-5/stable-diffusion-v1-5 "
    "(downloaded once, then loaded from the cache) or click Folder… to pick a diffusers model folder."
)


class ModelPicker(QWidget):
    """The ``modelPicker`` combo box, a Folder… button and a line saying what state the model is in."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.combo = QComboBox()
        self.combo.setObjectName("modelPicker")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Long folder paths must not widen the side panel; the field scrolls instead.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(16)
        self.combo.lineEdit().setPlaceholderText("Hugging Face id or model folder")
        self.combo.setToolTip("A Hugging Face id (owner/name) or a local diffusers folder; press Enter to load it.")
        self.combo.addItems(model.settings.recent_models)
        self.combo.setCurrentText(model.params.model)
        self.browse_button = QPushButton("Folder…")
        self.browse_button.setToolTip("Choose a local diffusers model folder (the one with model_index.json)")
        self.state_label = QLabel(NO_MODEL_HINT if not model.params.model else "Not loaded yet.")
        self.state_label.setObjectName("modelStateLabel")
        self.state_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Model"))
        layout.addLayout(row)
        layout.addWidget(self.state_label)
        self.combo.lineEdit().editingFinished.connect(self._on_combo_editing_finished)
        self.combo.activated.connect(lambda _i: self._on_combo_editing_finished())
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        model.model_info_changed.connect(self._on_model_model_info_changed)
        model.error_raised.connect(self._on_model_error_raised)

    def _on_combo_editing_finished(self) -> None:
        name = self.combo.currentText().strip()
        if name == self._model.params.model:
            return
        self.state_label.setText(f"Loading {name}…" if name else NO_MODEL_HINT)
        self._model.set_model(name)

    def _on_browse_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a diffusers model folder")
        if folder:
            self.combo.setCurrentText(folder)
            self._on_combo_editing_finished()

    def _on_model_model_info_changed(self, info) -> None:
        if info is not None:
            self.state_label.setText(
                f"{info.display_name}: {info.pipeline_class.replace('Pipeline', '')}, "
                f"{info.natural_size} px, {info.device} ({info.dtype})"
            )

    def _on_model_error_raised(self, kind: str, message: str) -> None:
        if kind == "model_missing":
            self.state_label.setText(message)
