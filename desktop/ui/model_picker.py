"""Choosing the model: an editable list of Hub ids, folders and checkpoints used before, a folder browser, and
the model library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the dialog is imported when first opened: the window shows sooner
    from .model_library import ModelLibraryDialog


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
        self.combo.setToolTip("A Hugging Face id (owner/name), a local diffusers folder or a .safetensors checkpoint; "
                              "press Enter to load it.")
        self.combo.addItems(model.settings.recent_models)
        self.combo.setCurrentText(model.params.model)
        self.browse_button = QPushButton("Folder…")
        self.browse_button.setToolTip("Choose a local diffusers model folder (the one with model_index.json)")
        self.library_button = QPushButton("Library…")
        self.library_button.setObjectName("libraryButton")
        self.library_button.setToolTip("The model library: the guide's models, what is installed, downloads, "
                                       "folders and checkpoint files")
        self.library: ModelLibraryDialog | None = None
        self.state_label = QLabel(NO_MODEL_HINT if not model.params.model else "Not loaded yet.")
        self.state_label.setObjectName("modelStateLabel")
        self.state_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.library_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Model"))
        layout.addLayout(row)
        layout.addWidget(self.state_label)
        # The other models in use (ControlNet, depth, upscaler), each with its own state: their failures are
        # theirs, and never overwrite the main model's line above.
        self.slots_label = QLabel("")
        self.slots_label.setObjectName("modelSlotsLabel")
        self.slots_label.setWordWrap(True)
        self.slots_label.setVisible(False)
        layout.addWidget(self.slots_label)
        self.combo.lineEdit().editingFinished.connect(self._on_combo_editing_finished)
        self.combo.activated.connect(lambda _i: self._on_combo_editing_finished())
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        self.library_button.clicked.connect(self.open_library)
        model.model_info_changed.connect(self._on_model_model_info_changed)
        model.slots.changed.connect(self._on_model_slots_changed)

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

    def open_library(self) -> ModelLibraryDialog:
        """Show the model library (made once; it stays alive, so downloads go on while it is closed)."""
        if self.library is None:
            from .model_library import ModelLibraryDialog

            self.library = ModelLibraryDialog(self._model, self.window())
            self.library.model_chosen.connect(self._on_library_model_chosen)
        else:
            self.library.refresh()
        self.library.show()
        self.library.raise_()
        return self.library

    def _on_library_model_chosen(self, name: str) -> None:
        self.combo.setCurrentText(name)
        self._on_combo_editing_finished()

    def _on_model_model_info_changed(self, info) -> None:
        if info is not None:
            self.state_label.setText(
                f"{info.display_name}: {info.pipeline_class.replace('Pipeline', '')}, "
                f"{info.natural_size} px, {info.device} ({info.dtype})"
            )

    def _on_model_slots_changed(self, slot: str) -> None:
        slots = self._model.slots
        if slot == "main" and slots.state("main") in ("loading", "failed"):
            self.state_label.setText(slots.text("main"))
        summary = slots.summary()
        self.slots_label.setText(summary)
        self.slots_label.setVisible(bool(summary))
