"""The mask panel: paint where the style goes (brush, eraser, fill, clear, invert, load, from depth), how the
masked part is run (blur, whole picture or only the masked area, padding, fill), and outpainting."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from desktop.core.masks import AREA_LABELS, INPAINT_FILLS, OUTPAINT_MAX, outpaint_to_aspect
from desktop.core.ranges import RANGES

from .slider_field import SliderField
from .widget_parts import FileDropTarget, named_button

MASK_FILTER = "Masks (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
FILL_LABELS = {"original": "Original picture", "fill": "Colours from around", "noise": "Noise"}
ASPECTS = {"Choose…": None, "1:1": 1.0, "4:3": 4 / 3, "3:2": 3 / 2, "16:9": 16 / 9, "3:4": 3 / 4, "2:3": 2 / 3,
           "9:16": 9 / 16}


class MaskPanel(FileDropTarget, QGroupBox):
    """Buttons and fields bound to ``model.mask`` (the painted mask) and the session's mask parameters."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__("Mask and outpainting", parent)
        self.setObjectName("maskPanel")
        self.setAcceptDrops(True)  # a black-and-white picture dropped here becomes the mask
        self._model = model
        self._state = model.mask
        self.tool_button = named_button("Paint mask (M)", "maskToolButton",
                                        "Paint on the picture where the style goes (white = restyle). M switches.")
        self.tool_button.setCheckable(True)
        self.brush_button = named_button("Brush", "maskBrushButton", "Paint the mask.")
        self.eraser_button = named_button("Eraser", "maskEraserButton", "Erase the mask.")
        tools = QButtonGroup(self)
        for button in (self.brush_button, self.eraser_button):
            button.setCheckable(True)
            tools.addButton(button)
        self.brush_button.setChecked(True)
        self.size_field = SliderField(1, 512, 1, 0, "maskSizeSpin")
        self.size_field.setToolTip("Brush size in picture pixels ([ smaller, ] bigger).")
        self.hardness_field = SliderField(0.0, 1.0, 0.05, 2, "maskHardnessSpin")
        self.hardness_field.setToolTip("Brush hardness: 0 soft edge, 1 hard edge.")
        self.fill_button = named_button("Fill", "maskFillButton", "Mask the whole picture.")
        self.clear_button = named_button("Clear", "maskClearButton", "Remove the mask: the whole picture is restyled.")
        self.invert_button = named_button("Invert", "maskInvertButton", "Swap what is restyled and what is kept.")
        self.undo_button = named_button("Undo", "maskUndoButton", "Undo the last stroke (Ctrl+Z in the mask tool).")
        self.redo_button = named_button("Redo", "maskRedoButton", "Redo (Ctrl+Shift+Z in the mask tool).")
        self.load_button = named_button("Load mask…", "loadMaskButton",
                                        "Use a black-and-white picture as the mask (white = restyle).")
        self.show_check = QCheckBox("Show")
        self.show_check.setObjectName("maskShowCheck")
        self.show_check.setToolTip("Show the mask as a coloured overlay (it applies either way).")
        self.depth_button = named_button("From depth", "maskFromDepthButton",
                                         "Mask what is nearer than the threshold in the depth map (Depth control).")
        self.depth_threshold = SliderField(0.0, 1.0, 0.05, 2, "maskDepthThresholdSpin")
        self.depth_threshold.setToolTip("Depth threshold: 0 = the farthest point, 1 = the nearest.")
        self.depth_threshold.set_value(0.5)
        self.depth_far = QCheckBox("Far part")
        self.depth_far.setObjectName("maskDepthFarCheck")
        self.depth_far.setToolTip("Mask what lies beyond the threshold instead of what is nearer.")
        self.blur_spin = self._spin("maskBlurSpin", "mask_blur", "Feathered edge, in pixels: the result is blended "
                                    "in over this width.")
        self.area_combo = QComboBox()
        self.area_combo.setObjectName("inpaintAreaCombo")
        for key, label in AREA_LABELS.items():
            self.area_combo.addItem(label, key)
        self.area_combo.setToolTip("Only masked: the masked part plus padding runs at the model's full size and is "
                                   "pasted back, so a small detail gets the model's whole attention.")
        self.padding_spin = self._spin("inpaintPaddingSpin", "inpaint_padding",
                                       "Only masked: pixels of context around the masked part.")
        self.fill_combo = QComboBox()
        self.fill_combo.setObjectName("inpaintFillCombo")
        for key in INPAINT_FILLS:
            self.fill_combo.addItem(FILL_LABELS[key], key)
        self.fill_combo.setToolTip("What the masked part (and a new outpainted area) starts from.")
        self.keep_check = QCheckBox("Keep mask when continuing")
        self.keep_check.setObjectName("keepMaskCheck")
        self.outpaint_spins = [self._spin(f"outpaint{side}Spin", (0, OUTPAINT_MAX, 8), f"Grow the picture "
                                          f"{side.lower()} by this many pixels at the next run.")
                               for side in ("Left", "Top", "Right", "Bottom")]
        self.aspect_combo = QComboBox()
        self.aspect_combo.setObjectName("outpaintAspectCombo")
        self.aspect_combo.addItems(list(ASPECTS))
        self.aspect_combo.setToolTip("Grow the picture (centred) to this aspect ratio.")
        self.status_label = QLabel("")
        self.status_label.setObjectName("maskStatusLabel")
        self.status_label.setWordWrap(True)

        tools_row = QHBoxLayout()
        for button in (self.tool_button, self.brush_button, self.eraser_button):
            tools_row.addWidget(button)
        edits = QGridLayout()
        for i, widget in enumerate((self.fill_button, self.clear_button, self.invert_button, self.undo_button,
                                    self.redo_button, self.load_button)):
            edits.addWidget(widget, i // 3, i % 3)
        depth_row = QHBoxLayout()
        depth_row.addWidget(self.depth_button)
        depth_row.addWidget(self.depth_threshold, 1)
        depth_row.addWidget(self.depth_far)
        outpaint_grid = QGridLayout()
        for i, (label, spin) in enumerate(zip(("Left", "Top", "Right", "Bottom"), self.outpaint_spins, strict=True)):
            outpaint_grid.addWidget(QLabel(label), i // 2, 2 * (i % 2))
            outpaint_grid.addWidget(spin, i // 2, 2 * (i % 2) + 1)
        form = QFormLayout(self)
        form.addRow(tools_row)
        form.addRow("Size", self.size_field)
        form.addRow("Hardness", self.hardness_field)
        form.addRow(edits)
        form.addRow(self.show_check, self.keep_check)
        form.addRow(depth_row)
        form.addRow("Mask blur", self.blur_spin)
        form.addRow("Inpaint area", self.area_combo)
        form.addRow("Padding", self.padding_spin)
        form.addRow("Start from", self.fill_combo)
        form.addRow("Outpaint (px)", outpaint_grid)
        form.addRow("Outpaint to", self.aspect_combo)
        form.addRow(self.status_label)

        self.tool_button.toggled.connect(self._state.set_active)
        self.eraser_button.toggled.connect(lambda on: self._state.set_brush(erasing=on))
        self.size_field.value_changed.connect(lambda v: self._state.set_brush(size=int(v)))
        self.hardness_field.value_changed.connect(lambda v: self._state.set_brush(hardness=v))
        self.fill_button.clicked.connect(self._state.fill)
        self.clear_button.clicked.connect(self._state.clear)
        self.invert_button.clicked.connect(self._state.invert)
        self.undo_button.clicked.connect(self._state.undo)
        self.redo_button.clicked.connect(self._state.redo)
        self.load_button.clicked.connect(self.load_mask_dialog)
        self.show_check.toggled.connect(self._state.set_visible)
        self.keep_check.toggled.connect(self._state.set_keep_on_continue)
        self.depth_button.clicked.connect(self._on_depth_button_clicked)
        self.blur_spin.valueChanged.connect(lambda v: model.update_params(mask_blur=int(v)))
        self.area_combo.currentIndexChanged.connect(
            lambda _i: model.update_params(inpaint_area=self.area_combo.currentData()))
        self.padding_spin.valueChanged.connect(lambda v: model.update_params(inpaint_padding=int(v)))
        self.fill_combo.currentIndexChanged.connect(
            lambda _i: model.update_params(inpaint_fill=self.fill_combo.currentData()))
        for spin in self.outpaint_spins:
            spin.valueChanged.connect(self._on_outpaint_changed)
        self.aspect_combo.activated.connect(self._on_aspect_chosen)
        self._state.settings_changed.connect(self._refresh)
        self._state.reset.connect(self._refresh)
        self._state.edited.connect(self._refresh)
        model.params_changed.connect(self._refresh)
        model.model_info_changed.connect(self._refresh)  # the size "only masked" runs at is the model's
        self._refresh()

    def _spin(self, name: str, limits, tip: str) -> QSpinBox:
        """A whole-number box over ``limits``: a ranges-table name, or (low, high, step)."""
        low, high, step = ((RANGES[limits].low, RANGES[limits].high, RANGES[limits].step) if isinstance(limits, str)
                           else limits)
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(int(low), int(high))
        spin.setSingleStep(int(step))
        spin.setKeyboardTracking(False)
        spin.setToolTip(tip)
        return spin

    def load_mask_dialog(self) -> None:
        """Pick a black-and-white picture to use as the mask."""
        path, _ = QFileDialog.getOpenFileName(self, "Load a mask (white = restyle)", "", MASK_FILTER)
        if path:
            self._state.load(path)

    def file_dropped_here(self, path: str) -> None:
        """A picture dropped on the panel becomes the mask."""
        self._state.load(path)

    def _on_depth_button_clicked(self) -> None:
        self._model.mask_from_depth(self.depth_threshold.value(), near=not self.depth_far.isChecked())

    def _on_outpaint_changed(self) -> None:
        self._state.set_outpaint(tuple(spin.value() for spin in self.outpaint_spins))

    def _on_aspect_chosen(self, index: int) -> None:
        ratio = ASPECTS.get(self.aspect_combo.itemText(index))
        init = self._model.init_image
        if ratio is None or init is None:
            return
        self._state.set_outpaint(outpaint_to_aspect(init.size, ratio))
        self.aspect_combo.setCurrentIndex(0)

    def _refresh(self, *_args) -> None:
        state, params = self._state, self._model.params
        widgets = [self.tool_button, self.eraser_button, self.brush_button, self.show_check, self.keep_check,
                   self.blur_spin, self.area_combo, self.padding_spin, self.fill_combo, *self.outpaint_spins]
        for widget in widgets:
            widget.blockSignals(True)
        self.tool_button.setChecked(state.active)
        self.eraser_button.setChecked(state.erasing)
        self.brush_button.setChecked(not state.erasing)
        self.size_field.set_value(state.brush_size)
        self.hardness_field.set_value(state.hardness)
        self.show_check.setChecked(state.visible)
        self.keep_check.setChecked(state.keep_on_continue)
        self.blur_spin.setValue(params.mask_blur)
        self.area_combo.setCurrentIndex(max(0, self.area_combo.findData(params.inpaint_area)))
        self.padding_spin.setValue(params.inpaint_padding)
        self.fill_combo.setCurrentIndex(max(0, self.fill_combo.findData(params.inpaint_fill)))
        for spin, value in zip(self.outpaint_spins, state.outpaint or (0, 0, 0, 0), strict=True):
            spin.setValue(value)
        for widget in widgets:
            widget.blockSignals(False)
        has_picture = state.array is not None
        for widget in (self.tool_button, self.fill_button, self.clear_button, self.invert_button, self.load_button,
                       self.depth_button):
            widget.setEnabled(has_picture)
        self.padding_spin.setEnabled(params.inpaint_area == "masked")
        self.undo_button.setEnabled(state.can_undo)
        self.redo_button.setEnabled(state.can_redo)
        if not has_picture:
            self.status_label.setText("Open a picture to paint a mask on it.")
        elif state.is_empty and not state.outpaint:
            self.status_label.setText("No mask: the whole picture is restyled.")
        else:
            parts = [] if state.is_empty else ["Only the masked part is restyled"]
            # With outpainting the crop is cut from the grown picture: no size is promised then.
            sizes = (self._model.masked_area_size() if params.inpaint_area == "masked" and not state.outpaint
                     else None)
            if sizes is not None:
                (area_w, area_h), (run_w, run_h) = sizes
                parts[-1] += f": its {area_w}×{area_h} area with padding runs at {run_w}×{run_h} and is pasted back"
            if state.outpaint:
                left, top, right, bottom = state.outpaint
                parts.append(f"the picture grows by {left}, {top}, {right}, {bottom} px (left, top, right, bottom)")
            text = "; ".join(parts)
            self.status_label.setText(text[:1].upper() + text[1:] + ".")


class MaskActions:
    """M switches the mask tool; [ and ] size the brush; inside the tool Ctrl+Z / Ctrl+Shift+Z undo and redo
    strokes instead of walking the history (the history's actions give their keys up meanwhile). Turning the tool
    on brings the working picture back to the canvas (``show_picture``) when a result or a map is shown."""

    def __init__(self, window, state, history_undo: QAction, history_redo: QAction, show_picture):
        self._window = window
        self._state = state
        self._show_picture = show_picture
        self._was_active = False
        self._history = [(history_undo, history_undo.shortcuts()), (history_redo, history_redo.shortcuts())]
        self.tool_action = self._action("Paint mask", lambda: state.set_active(not state.active), ["M"])
        self.smaller_action = self._action("Smaller brush", lambda: state.grow_brush(-1), ["["])
        self.bigger_action = self._action("Bigger brush", lambda: state.grow_brush(1), ["]"])
        self.undo_action = self._action("Undo mask stroke", state.undo, [])
        self.redo_action = self._action("Redo mask stroke", state.redo, [])
        state.settings_changed.connect(self._on_state_settings_changed)
        self._on_state_settings_changed()

    def _action(self, text: str, slot, keys) -> QAction:
        action = QAction(text, self._window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self._window.addAction(action)
        return action

    def _on_state_settings_changed(self) -> None:
        active = self._state.active
        self.smaller_action.setEnabled(active)
        self.bigger_action.setEnabled(active)
        for action, keys in self._history:
            action.setShortcuts([] if active else keys)
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)] if active else [])
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z")] if active else [])
        if active and not self._was_active:
            self._show_picture()
        self._was_active = active
