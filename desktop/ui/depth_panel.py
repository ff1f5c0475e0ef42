"""The depth panel: a depth map (dropped, loaded or estimated) that keeps the composition while the style changes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from desktop.core.controlnet import DEFAULT_CONTROLNETS
from desktop.core.depth_maps import DEFAULT_DEPTH_MODEL

from . import theme
from .qt_images import pil_to_qimage
from .slider_field import SliderField
from .widget_parts import FileDropTarget, named_button

DEPTH_FILTER = "Depth maps (*.png *.jpg *.jpeg *.tif *.tiff);;All files (*)"
THUMB = 120
NO_MAP = "No depth map. Drop one here, load one, or estimate one from the image."
STALE = "The image changed since this map was estimated. Press Estimate depth to refresh it."


def _depth_qimage(path: Path, max_side: int | None = None) -> QImage | None:
    """The depth map as the engine reads it (16-bit and EXIF handled), optionally shrunk; None if unreadable."""
    from desktop.core.depth_maps import load_depth_map
    from desktop.core.errors import RestyleError

    try:
        image = load_depth_map(path)
    except RestyleError:
        return None
    if max_side:
        image.thumbnail((max_side, max_side))
    return pil_to_qimage(image)


class DepthThumbnail(FileDropTarget, QLabel):
    """The map's thumbnail; also a drop target for depth map files. A click shows the map full size."""

    file_dropped = Signal(str)
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("depthThumbnail")
        self.setAcceptDrops(True)
        self.setFixedSize(THUMB, THUMB)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("#depthThumbnail { border: 1px dashed palette(mid); color: palette(placeholder-text); }")
        self.setToolTip("Drop a depth map here (near = bright). Click to see it full size on the canvas.")
        self.show_map(None)

    def show_map(self, image: QImage | None) -> None:
        """Show ``image`` scaled to fit, or the drop hint."""
        if image is None or image.isNull():
            self.setPixmap(QPixmap())
            self.setText("Drop a depth map")
        else:
            self.setPixmap(QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                           Qt.TransformationMode.SmoothTransformation))

    @property
    def has_image(self) -> bool:
        """True when a map is shown (not the hint)."""
        pixmap = self.pixmap()
        return pixmap is not None and not pixmap.isNull()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()

    def file_dropped_here(self, path: str) -> None:
        """Any file: the model says clearly why one cannot be used."""
        self.file_dropped.emit(path)


class DepthPanel(QGroupBox):
    """Thumbnail, load/estimate/view/invert/clear, and the ControlNet settings, bound to ``model.depth``."""

    view_requested = Signal(QImage, str)  # the map full size and a caption, for the canvas

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__("Depth control (ControlNet)", parent)
        self.setObjectName("depthPanel")
        self._model = model
        self._state = model.depth
        self._shown_path: Path | None = None
        self.thumbnail = DepthThumbnail()
        self.load_button = named_button(
            "Load depth map…", "loadDepthButton",
            "Open a depth map file: 8- or 16-bit grey or RGB PNG, JPEG or TIFF, near = bright.")
        self.estimate_button = named_button(
            "Estimate depth", "estimateDepthButton",
            "Compute a depth map from the current image with the depth model below (runs in the background).")
        self.view_button = named_button("View", "viewDepthButton", "Show the depth map full size on the canvas.")
        self.invert_button = named_button(
            "Invert", "invertDepthButton",
            "Swap near and far, for maps saved with far = bright. The file is not changed.")
        self.invert_button.setCheckable(True)
        self.clear_button = named_button("Clear", "clearDepthButton", "Remove the depth map; runs go back to normal.")
        self.info_label = QLabel(NO_MAP)
        self.info_label.setObjectName("depthInfoLabel")
        self.info_label.setWordWrap(True)
        self.stale_label = QLabel(STALE)
        self.stale_label.setObjectName("depthStaleLabel")
        self.stale_label.setWordWrap(True)
        self.stale_label.setStyleSheet(f"color: {theme.tone('warning')};")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("depthBusyBar")
        self.busy_bar.setRange(0, 0)  # estimation reports no steps: a busy bar says it is working
        self.busy_bar.setFormat("Estimating depth…")
        self.busy_bar.setTextVisible(True)
        self.cancel_button = named_button(
            "Cancel", "cancelDepthButton", "Stop estimating (a depth model's download stops at once). Esc too.")
        self.enabled_check = QCheckBox("Use the depth map")
        self.enabled_check.setObjectName("depthEnabledCheck")
        self.enabled_check.setToolTip("Steer the next runs with the depth map, so the composition stays while the "
                                      "style changes. Off: the model alone decides.")
        self.depth_model_edit = self._line_edit(
            "depthModelEdit", DEFAULT_DEPTH_MODEL,
            "The transformers depth model Estimate depth uses: a Hugging Face id or a local folder. "
            f"Empty: {DEFAULT_DEPTH_MODEL}.")
        self.controlnet_edit = self._line_edit(
            "controlnetEdit", "default for the model's family",
            "The depth ControlNet: a Hugging Face id or a local diffusers folder, made for the same family as the "
            f"model. Empty: {DEFAULT_CONTROLNETS['sd']} for SD 1.5, {DEFAULT_CONTROLNETS['sdxl']} for SDXL, "
            f"{DEFAULT_CONTROLNETS['flux']} for FLUX.1.")
        self.scale = SliderField.for_parameter("control_scale", "controlScaleSpin")
        self.scale.setToolTip("How strongly the depth map holds the composition: 0 ignores it, 0.8 is typical, "
                              "above 1 follows it even against the prompt.")
        self.start_spin = self._spin("controlStartSpin", "When the depth map starts steering, as a fraction of the "
                                     "steps. Later starts let the model invent the rough layout itself.")
        self.end_spin = self._spin("controlEndSpin", "When the depth map stops steering, as a fraction of the steps. "
                                   "Earlier ends leave the fine detail free.")

        buttons = QGridLayout()
        for index, button in enumerate((self.load_button, self.estimate_button, self.view_button,
                                        self.invert_button, self.clear_button)):
            buttons.addWidget(button, index, 0)
        top = QHBoxLayout()
        top.addWidget(self.thumbnail)
        top.addLayout(buttons, 1)
        range_row = QHBoxLayout()
        range_row.addWidget(self.start_spin)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.end_spin)
        range_row.addStretch(1)
        form = QFormLayout(self)
        form.addRow(top)
        form.addRow(self.info_label)
        form.addRow(self.stale_label)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy_bar, 1)
        busy_row.addWidget(self.cancel_button)
        form.addRow(busy_row)
        form.addRow(self.enabled_check)
        form.addRow("Depth model", self.depth_model_edit)
        form.addRow("ControlNet", self.controlnet_edit)
        form.addRow("Depth strength", self.scale)
        form.addRow("Steers from", range_row)

        self.setAcceptDrops(True)  # the whole panel takes a dropped map, not only the small thumbnail
        self.thumbnail.file_dropped.connect(self._state.load_file)
        self.thumbnail.clicked.connect(self._on_view_button_clicked)
        self.load_button.clicked.connect(self._on_load_button_clicked)
        self.estimate_button.clicked.connect(model.estimate_depth)
        self.cancel_button.clicked.connect(self._state.cancel_estimate)
        self.view_button.clicked.connect(self._on_view_button_clicked)
        self.invert_button.clicked.connect(self._on_invert_button_clicked)
        self.clear_button.clicked.connect(self._state.clear)
        self.enabled_check.toggled.connect(self._state.set_enabled)
        self.depth_model_edit.editingFinished.connect(
            lambda: self._state.update(depth_model=self.depth_model_edit.text()))
        self.controlnet_edit.editingFinished.connect(lambda: self._state.update(controlnet=self.controlnet_edit.text()))
        self.scale.value_changed.connect(lambda v: self._state.update(control_scale=round(v, 2)))
        self.start_spin.valueChanged.connect(lambda v: self._state.update(control_start=round(v, 2)))
        self.end_spin.valueChanged.connect(lambda v: self._state.update(control_end=round(v, 2)))
        self._state.changed.connect(self._sync)
        self._state.estimating_changed.connect(self._on_state_estimating_changed)
        self._sync()
        self._on_state_estimating_changed()

    # --- building ----------------------------------------------------------------------------------------

    @staticmethod
    def _line_edit(name: str, placeholder: str, tip: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(tip)
        return edit

    @staticmethod
    def _spin(name: str, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setObjectName(name)
        spin.setRange(0.0, 1.0)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setKeyboardTracking(False)  # typing "0.25" must not apply "0.2" first
        spin.setToolTip(tip)
        return spin

    # --- drops on the panel itself -------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.thumbnail.dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.thumbnail.dropEvent(event)

    # --- user actions --------------------------------------------------------------------------------------
    def _on_load_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a depth map", "", DEPTH_FILTER)
        if path:
            self._state.load_file(path)

    def _on_invert_button_clicked(self) -> None:
        if not self._state.invert():
            self._sync()  # the button toggled itself; put it back to what the state says

    def _on_view_button_clicked(self) -> None:
        path = self._state.path
        image = _depth_qimage(path) if path is not None else None
        if image is not None:
            self.view_requested.emit(image, f"Depth map · {self._describe()} · near = bright")

    # --- state -------------------------------------------------------------------------------------------
    def _describe(self) -> str:
        state = self._state
        if state.path is None:
            return NO_MAP
        origin = "estimated from the image" if state.estimated else state.path.name
        return f"{origin}{' · inverted' if state.inverted else ''}"

    def _on_state_estimating_changed(self) -> None:
        busy = self._state.estimating
        self.busy_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.estimate_button.setEnabled(not busy)

    def _sync(self) -> None:
        state = self._state
        if state.path != self._shown_path:
            self._shown_path = state.path
            self.thumbnail.show_map(_depth_qimage(state.path, THUMB) if state.path is not None else None)
        self.info_label.setText(self._describe())
        self.stale_label.setVisible(state.stale)
        for widget in (self.view_button, self.invert_button, self.clear_button, self.enabled_check):
            widget.setEnabled(state.has_map)
        for widget, value in ((self.enabled_check, state.enabled), (self.invert_button, state.inverted)):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        for edit, text in ((self.depth_model_edit, state.depth_model), (self.controlnet_edit, state.controlnet)):
            if edit.text() != text:
                edit.setText(text)
        self.scale.set_value(state.control_scale)
        for spin, value in ((self.start_spin, state.control_start), (self.end_spin, state.control_end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
