"""The LoRA panel (``loraPanel``): the LoRAs of the next run, each with a thumbnail, an enable toggle and a weight.

LoRAs are picked from the user's LoRA folders (``<data folder>/loras`` and any added with **Folder…**); a picture
beside a file with the same name (``name.png``, ``name.preview.png``) is its thumbnail. The enabled LoRAs are the
parameters' ``loras``; ``<lora:name:w>`` tags typed in the prompt work as well and win for the same name.
Switching, weighting and toggling reload nothing (the engine sets adapters on the loaded model).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .slider_field import SliderField

THUMB = 40


def _thumbnail(path: str | None, size: int = THUMB) -> QPixmap | None:
    if not path:
        return None
    pixmap = QPixmap(path)
    if pixmap.isNull():
        return None
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class LoraRow(QWidget):
    """One LoRA: thumbnail, enable toggle with its name, weight, remove."""

    changed = Signal()
    removed = Signal()

    def __init__(self, name: str, weight: float, enabled: bool, preview: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("loraRow")
        self.name = name
        self.thumb = QLabel()
        self.thumb.setObjectName("loraThumbnail")
        self.thumb.setFixedSize(THUMB, THUMB)
        pixmap = _thumbnail(preview)
        if pixmap is not None:
            self.thumb.setPixmap(pixmap)
        else:
            self.thumb.setText("LoRA")
            self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.thumb.setStyleSheet("color: palette(placeholder-text); border: 1px solid palette(mid);")
        self.enabled_check = QCheckBox(name)
        self.enabled_check.setObjectName("loraEnabledCheck")
        self.enabled_check.setChecked(enabled)
        self.enabled_check.setToolTip("Use this LoRA in the next run (off keeps it in the list)")
        self.weight = SliderField.for_parameter("lora_weight", "loraWeightSpin")
        self.weight.set_value(weight)
        self.weight.setToolTip("How strongly the LoRA applies; 0 is as if it were off, negative pushes away.")
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("loraRemoveButton")
        self.remove_button.setText("✕")
        self.remove_button.setToolTip(f"Take {name} off the list (it is unloaded from the model)")
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.enabled_check)
        text.addWidget(self.weight)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.thumb)
        layout.addLayout(text, 1)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.enabled_check.toggled.connect(lambda _checked: self.changed.emit())
        self.weight.value_changed.connect(lambda _value: self.changed.emit())
        self.remove_button.clicked.connect(self.removed)

    def entry(self) -> tuple[str, float, bool]:
        """(name, weight, enabled)."""
        return self.name, round(self.weight.value(), 2), self.enabled_check.isChecked()


class LoraPanel(QWidget):
    """Pick LoRAs from the folders and set each one's weight; shows the embeddings the prompt can name."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("loraPanel")
        self._model = model
        self._library = model.styles
        self.rows: list[LoraRow] = []
        self.add_picker = QComboBox()
        self.add_picker.setObjectName("loraAddPicker")
        self.add_picker.setToolTip("Add a LoRA from your LoRA folders, or type a file's path or a Hub file "
                                   "(owner/repo/file.safetensors) and press Enter")
        # Editable, so a path or a Hub file can be typed; typing never adds an item to the list itself.
        self.add_picker.setEditable(True)
        self.add_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.setObjectName("loraFolderButton")
        self.folder_button.setToolTip("Find LoRAs in another folder too")
        self.embedding_folder_button = QPushButton("Embeddings…")
        self.embedding_folder_button.setObjectName("embeddingFolderButton")
        self.embedding_folder_button.setToolTip("Find textual-inversion embeddings in another folder too")
        self.rescan_button = QToolButton()
        self.rescan_button.setObjectName("loraRescanButton")
        self.rescan_button.setText("↻")
        self.rescan_button.setToolTip("Look at the LoRA and embedding folders again")
        self.hint = QLabel()
        self.hint.setObjectName("loraHintLabel")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        self.embeddings_label = QLabel()
        self.embeddings_label.setObjectName("embeddingsLabel")
        self.embeddings_label.setWordWrap(True)
        self.embeddings_label.setStyleSheet("color: palette(placeholder-text);")
        top = QHBoxLayout()
        top.addWidget(self.add_picker, 1)
        top.addWidget(self.folder_button)
        top.addWidget(self.rescan_button)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self.rows_layout)
        layout.addWidget(self.hint)
        embeddings_row = QHBoxLayout()  # below, so the side column stays as narrow as the other panels
        embeddings_row.addWidget(self.embeddings_label, 1)
        embeddings_row.addWidget(self.embedding_folder_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(embeddings_row)
        self._fill_picker()
        self._sync(model.params)
        self.add_picker.activated.connect(self._on_add_picker_activated)
        self.add_picker.lineEdit().returnPressed.connect(self._on_add_picker_return_pressed)
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.embedding_folder_button.clicked.connect(self._on_embedding_folder_button_clicked)
        self.rescan_button.clicked.connect(self._library.rescan)
        self._library.changed.connect(self._fill_picker)
        model.params_changed.connect(self._sync)

    # --- actions ---------------------------------------------------------------------------------------------
    def add_lora(self, name: str, weight: float = 1.0) -> None:
        """Put a LoRA on the list, enabled (a LoRA already there is enabled instead)."""
        for row in self.rows:
            if row.name == name:
                row.enabled_check.setChecked(True)
                return
        self._add_row(name, weight, True)
        self._publish()

    def add_folder(self, folder: str) -> None:
        """Find LoRAs in ``folder`` too."""
        self._library.add_lora_folder(folder)

    # --- internals -------------------------------------------------------------------------------------------
    def _fill_picker(self) -> None:
        loras = self._library.loras()
        self.add_picker.clear()
        self.add_picker.addItem(f"Add a LoRA… ({len(loras)} found)" if loras else "No LoRAs found", "")
        for found in loras:
            pixmap = _thumbnail(found.preview, 24)
            if pixmap is not None:
                self.add_picker.addItem(QIcon(pixmap), found.name, found.name)
            else:
                self.add_picker.addItem(found.name, found.name)
        folders = self._model.settings.lora_dirs
        self.hint.setText("" if loras else f"Put .safetensors LoRAs in {folders[-1]} or add a folder; "
                          "<lora:name:0.8> in the prompt works too.")
        self.hint.setVisible(not loras)
        names = [f.name for f in self._library.embeddings()]
        self.embeddings_label.setText(f"Embeddings (type the name in the prompt): {', '.join(names)}" if names
                                      else "No embeddings found.")

    def _add_row(self, name: str, weight: float, enabled: bool) -> None:
        found = self._library.lora(name)
        row = LoraRow(name, weight, enabled, found.preview if found else None)
        row.changed.connect(self._publish)
        row.removed.connect(lambda row=row: self._remove_row(row))
        self.rows.append(row)
        self.rows_layout.addWidget(row)

    def _remove_row(self, row: LoraRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._publish()

    def _publish(self) -> None:
        self._model.update_params(loras=tuple((n, w) for n, w, on in (r.entry() for r in self.rows) if on))

    def _sync(self, params) -> None:
        enabled = tuple((n, w) for n, w, on in (r.entry() for r in self.rows) if on)
        if enabled == tuple(params.loras):
            return
        # The parameters changed elsewhere (restored from a picture, a restart): they decide; switched-off rows stay.
        kept = [(n, w) for n, w, on in (r.entry() for r in self.rows) if not on and n not in dict(params.loras)]
        for row in list(self.rows):
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        for name, weight in params.loras:
            self._add_row(name, weight, True)
        for name, weight in kept:
            self._add_row(name, weight, False)

    def _on_add_picker_activated(self, index: int) -> None:
        name = self.add_picker.itemData(index)
        self.add_picker.setCurrentIndex(0)
        if name:
            self.add_lora(name)

    def _on_add_picker_return_pressed(self) -> None:
        typed = self.add_picker.currentText().strip()
        self.add_picker.setCurrentIndex(0)
        if typed and self.add_picker.findData(typed) <= 0 and not typed.startswith(("Add a LoRA", "No LoRAs")):
            self.add_lora(typed)  # a path or a Hub file: the engine finds it, or says why not

    def _on_embedding_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with embeddings")
        if folder:
            self._library.add_embedding_folder(folder)

    def _on_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with LoRAs")
        if folder:
            self.add_folder(folder)
