"""Mask painting in the window: the tool, the brush on the canvas, undo, the overlay, and a masked Generate whose
history node keeps the mask through continue and restart."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QPlainTextEdit, QPushButton

from .conftest import TIMEOUT, drop_files


def _find(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def _picture(path, size=(64, 64)):
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _drag(qtbot, canvas, start, end, steps=6):
    """A left-button drag across the canvas, in widget coordinates, as a hand would make it."""
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        point = start + (end - start) * i / steps
        qtbot.mouseMove(canvas, QPoint(int(point.x()), int(point.y())))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)


def _redness(canvas):
    """Mean red minus blue of the canvas around picture pixels (100, 50) and (100, 90)."""
    grab = canvas.grab().toImage()
    values = []
    for x, y in ((100, 50), (100, 90)):
        centre = _canvas_point(canvas, x, y)
        colours = [grab.pixelColor(centre.x() + dx, centre.y() + dy) for dx in range(-6, 7) for dy in (-1, 0, 1)]
        values.append(sum(c.red() - c.blue() for c in colours) / len(colours))
    return values


def _canvas_point(canvas, x, y):
    """Widget position of picture pixel (x, y)."""
    rect = canvas.image_rect()
    scale = rect.width() / canvas.image.width()
    return QPoint(int(rect.left() + x * scale), int(rect.top() + y * scale))


def test_m_turns_the_tool_on_and_a_drag_paints_undo_redo_and_size_keys(qtbot, open_window, tmp_path):
    window = open_window([str(_picture(tmp_path / "p.png", (200, 100)))])
    canvas, state = window.canvas, window.model.mask
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert state.active and _find(window, QPushButton, "maskToolButton").isChecked()
    state.set_brush(size=12, hardness=1.0)
    before = _redness(canvas)
    _drag(qtbot, canvas, _canvas_point(canvas, 20, 50), _canvas_point(canvas, 180, 50))
    assert state.array[50, 30:170].min() == 255 and state.array[90].max() == 0
    painted = state.array.copy()
    after = _redness(canvas)  # the overlay: the stroke turns pink on the canvas, the rest stays as it was
    assert after[0] > before[0] + 30 and abs(after[1] - before[1]) < 2
    _find(window, QCheckBox, "maskShowCheck").click()  # hidden: the picture as it is (the mask still applies)
    assert abs(_redness(canvas)[0] - before[0]) < 2 and not state.is_empty
    _find(window, QCheckBox, "maskShowCheck").click()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # inside the tool: the stroke
    assert state.is_empty
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(state.array, painted)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert state.brush_size > 12
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert state.brush_size < 12
    _find(window, QPushButton, "maskInvertButton").click()
    assert state.array[50, 100] == 0 and state.array[90, 100] == 255
    _find(window, QPushButton, "maskClearButton").click()
    assert state.is_empty
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert not state.active


def test_typing_brackets_and_m_in_the_prompt_still_types_them(qtbot, open_window, tmp_path):
    window = open_window([str(_picture(tmp_path / "p.png"))])
    window.model.mask.set_active(True)
    prompt = _find(window, QPlainTextEdit, "promptEdit")
    prompt.setFocus()
    qtbot.keyClicks(prompt, "[moon]")
    assert prompt.toPlainText() == "[moon]" and window.model.mask.active and window.model.mask.brush_size == 48


def test_a_mask_dropped_on_the_panel_is_used(qtbot, open_window, tmp_path):
    window = open_window([str(_picture(tmp_path / "p.png"))])
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    mask.save(tmp_path / "m.png")
    assert drop_files(window.mask_panel, tmp_path / "m.png")
    assert window.model.mask.array[10, 10] == 255 and window.model.mask.array[10, 50] == 0


def test_paint_generate_continue_and_restart_keep_the_mask(qtbot, open_window, tiny_model, tmp_path):
    picture = _picture(tmp_path / "p.png")
    window = open_window(["--model", str(tiny_model), str(picture)])
    model = window.model
    model.update_params(prompt="a mural", steps=2, strength=1.0, seed=5)
    window.mask_section.set_expanded(True)  # the mask tools, unfolded (the panel is built as it first shows)
    _find(window, QAbstractSpinBox, "maskBlurSpin").setValue(0)
    area = _find(window, QComboBox, "inpaintAreaCombo")
    assert area.itemData(area.currentIndex()) == "whole"
    model.mask.set_brush(size=20, hardness=1.0)
    model.mask.begin_stroke(48, 10)
    model.mask.stroke_to(48, 54)
    model.mask.end_stroke()
    painted = model.mask.array.copy()
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        model.generate()
    node = model.history.tree.get(model.history.selected_id)
    mask_file = model.history.workspace.mask_path(node)
    assert mask_file.is_file() and np.array_equal(np.asarray(Image.open(mask_file)), painted)
    result = np.asarray(Image.open(model.history.workspace.image_path(node)).convert("RGB"))
    source = np.asarray(Image.open(picture).convert("RGB"))
    changed = np.any(result != source, axis=2)
    assert not changed[:, :30].any() and changed[12:52, 42:54].mean() > 0.9  # only the painted stroke
    items = window.history_panel.item_model  # hovering the node shows its mask beside its settings
    tip = items.data(items.node_index(node.id), Qt.ItemDataRole.ToolTipRole)
    assert "Restyled the masked part of the whole picture, mask blur 0 px" in tip and mask_file.name in tip
    assert np.array_equal(model.mask.array, painted)  # the result is the working picture now, with its mask
    model.mask.clear()
    model.history.select(node.parent)  # the imported picture: no mask of its own, none painted
    assert model.mask.is_empty
    model.history.select(node.id)  # keep mask (on by default): the node's own mask comes back
    assert np.array_equal(model.mask.array, painted)
    window.close()

    again = open_window(["--model", str(tiny_model)])  # a restart on the same data folder
    history = again.model.history
    assert history.selected_id == node.id and history.tree.get(node.id).mask == node.mask
    assert again.model.continue_from(node.id)
    assert np.array_equal(again.model.mask.array, painted)


def test_outpaint_fields_aspect_ratio_and_mask_from_depth(qtbot, open_window, tmp_path, make_depth):
    window = open_window([str(_picture(tmp_path / "p.png", (96, 64)))])
    state, panel = window.model.mask, window.mask_panel
    _find(window, QAbstractSpinBox, "outpaintRightSpin").setValue(32)
    assert state.outpaint == (0, 0, 32, 0) and "grows by 0, 0, 32, 0 px" in panel.status_label.text()
    aspect = _find(window, QComboBox, "outpaintAspectCombo")
    aspect.activated.emit(aspect.findText("1:1"))  # 96×64 grown to a square: 16 px above and below
    assert state.outpaint == (0, 16, 0, 16) and _find(window, QAbstractSpinBox, "outpaintTopSpin").value() == 16
    window.model.depth.load_file(make_depth(size=(96, 64)))  # near = the left half
    _find(window, QPushButton, "maskFromDepthButton").click()
    assert state.array[:, :40].min() == 255 and state.array[:, 56:].max() == 0
    assert "Only the masked part is restyled" in panel.status_label.text()
    state.set_outpaint(None)
    area = _find(window, QComboBox, "inpaintAreaCombo")
    area.setCurrentIndex(area.findData("masked"))  # the status says what the crop runs at (SD's 512 until a model)
    # The near half (48 px) and 32 px of padding, inside the 96×64 picture.
    assert ": its 80×64 area with padding runs at 576×456 and is pasted back." in panel.status_label.text()
