"""The reference panel (``referencePanel``): style reference images for the IP-Adapter, with a strength and a
"style only" switch (InstantStyle). Drop pictures on it or use **Add…**; several references are allowed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .slider_field import SliderField

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
THUMB = 56


class ReferencePanel(QWidget):
    """The reference images of the next run and how strongly they steer it."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("referencePanel")
        self.setAcceptDrops(True)
        self._model = model
        self.list = QListWidget()
        self.list.setObjectName("referenceList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setFixedHeight(THUMB + 28)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setToolTip("Drop pictures here: their style steers the run (IP-Adapter)")
        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("referenceAddButton")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("referenceRemoveButton")
        self.scale = SliderField.for_parameter("reference_scale", "referenceScaleSpin")
        self.scale.setToolTip("How strongly the references steer the picture (0.4–0.8 is usual)")
        self.style_only = QCheckBox("Style only")
        self.style_only.setObjectName("referenceStyleOnlyCheck")
        self.style_only.setToolTip("Take the references' colours and strokes, not their layout or subject "
                                   "(InstantStyle)")
        self.hint = QLabel("Drop style references here (SD 1.x and SDXL; the IP-Adapter is fetched once).")
        self.hint.setObjectName("referenceHintLabel")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.style_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        weight = QHBoxLayout()  # a number alone says nothing: it is how strongly the references steer
        weight.addWidget(QLabel("Weight"))
        weight.addWidget(self.scale, 1)
        layout.addLayout(weight)
        layout.addWidget(self.hint)
        self._sync(model.params)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.scale.value_changed.connect(lambda v: model.update_params(reference_scale=round(v, 2)))
        self.style_only.toggled.connect(lambda on: model.update_params(reference_style_only=bool(on)))
        model.params_changed.connect(self._sync)

    def add_references(self, paths) -> None:
        """Add pictures as references (files that are not pictures are skipped with a sentence)."""
        current = list(self._model.params.references)
        skipped = []
        for item in paths:
            path = str(item)
            if Path(path).suffix.lower() not in IMAGE_SUFFIXES or QPixmap(path).isNull():
                skipped.append(Path(path).name)
            elif path not in current:
                current.append(path)
        self._model.update_params(references=tuple(current))
        if skipped:
            self._model.status_changed.emit(f"Not a picture, not added as a reference: {', '.join(skipped)}.")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.add_references(url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile())
        event.acceptProposedAction()

    def _on_add_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Style references", "",
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)")
        if paths:
            self.add_references(paths)

    def _on_remove_button_clicked(self) -> None:
        chosen = {item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()}
        references = self._model.params.references
        keep = tuple(p for p in references if p not in chosen) if chosen else references[:-1]
        self._model.update_params(references=keep)

    def _sync(self, params) -> None:
        shown = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
        if shown != list(params.references):
            self.list.clear()
            for path in params.references:
                pixmap = QPixmap(path)
                icon = QIcon() if pixmap.isNull() else QIcon(pixmap.scaled(
                    THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
                item = QListWidgetItem(icon, Path(path).stem[:12])
                item.setData(Qt.ItemDataRole.UserRole, path)
                item.setToolTip(path)
                self.list.addItem(item)
        self.scale.set_value(params.reference_scale)
        self.style_only.blockSignals(True)
        self.style_only.setChecked(params.reference_style_only)
        self.style_only.blockSignals(False)
        self.remove_button.setEnabled(bool(params.references))
        self.scale.setEnabled(bool(params.references))
        self.style_only.setEnabled(bool(params.references))
