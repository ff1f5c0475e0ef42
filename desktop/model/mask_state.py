"""MaskState: the mask painted over the working picture, its brush, its undo history, and outpainting.

QtCore only, owned by SessionModel. The mask is a numpy array (H, W) of uint8 at the init image's size, white =
restyle. A stroke touches only the dabs' bounding box, so painting costs the same on a 2048² picture as on a
small one; ``changed`` carries that box so the overlay redraws only what a stroke touched. Each stroke, fill,
clear, invert or load is one undo step, kept as the box's pixels before and after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import RestyleError
from desktop.core.masks import (
    EMPTY_LEVEL,
    check_outpaint,
    fit_mask,
    load_mask,
    mask_from_depth,
    save_mask,
)

SIZE_RANGE = (1, 512)
UNDO_BYTES = 256 * 1024 * 1024  # older steps are dropped past this (a full 2048² step costs 8 MB)


@dataclass
class _Edit:
    """One undo step: the box's pixels before and after."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


def brush_dab(size: int, hardness: float) -> np.ndarray:
    """A round dab of ``size`` pixels across, 1.0 inside ``hardness`` of its radius, falling smoothly to 0."""
    import numpy as np
    radius = max(0.5, size / 2)
    centre = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size]
    distance = np.hypot(x - centre, y - centre) / radius
    hard = min(max(hardness, 0.0), 1.0)
    if hard >= 1.0:
        return (distance <= 1.0).astype(np.float32)
    t = np.clip((distance - hard) / (1.0 - hard), 0.0, 1.0)
    return (1.0 - t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep: no visible ring at the falloff's edge


class MaskState(QObject):
    """The painted mask and its tool settings; what a run receives through ``apply``."""

    changed = Signal(int, int, int, int)  # the box that changed: left, top, right, bottom (mask pixels)
    reset = Signal()  # a new size, or the whole mask changed (load, fill, clear, invert, undo of those)
    settings_changed = Signal()  # tool on/off, brush, visibility, keep, outpaint
    edited = Signal()  # a stroke ended, or an edit, undo, redo or new picture: emptiness and undo may differ
    error_raised = Signal(str, str)
    status_changed = Signal(str)

    def __init__(self, data_dir: Path):
        super().__init__()
        self._data_dir = Path(data_dir)
        self._mask: np.ndarray | None = None
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._stroke: tuple[np.ndarray, list[int], tuple[float, float]] | None = None  # before, box, last point
        self._saved: tuple[int, Path] | None = None  # (revision, file) of the mask last written for a run
        self._revision = 0
        self.active = False  # the mask tool has the mouse
        self.visible = True
        self.erasing = False
        self.brush_size = 48
        self.hardness = 0.7
        self.keep_on_continue = True
        self.outpaint: tuple[int, int, int, int] | None = None
        self._dab_cache: tuple | None = None  # (size, hardness, (paint levels, erase levels))

    # --- state -------------------------------------------------------------------------------------------
    @property
    def array(self) -> np.ndarray | None:
        """The mask (H, W) uint8, or None before a picture is there. Read only."""
        return self._mask

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the mask, or None."""
        return None if self._mask is None else (self._mask.shape[1], self._mask.shape[0])

    @property
    def is_empty(self) -> bool:
        """True when nothing is painted: the next run restyles the whole picture."""
        return self._mask is None or int(self._mask.max()) < EMPTY_LEVEL

    def painted_box(self) -> tuple[int, int, int, int] | None:
        """(left, top, right, bottom) around what is painted, or None."""
        import numpy as np
        if self._mask is None:
            return None
        rows = np.flatnonzero(self._mask.max(axis=1) >= EMPTY_LEVEL)
        if not rows.size:
            return None
        cols = np.flatnonzero(self._mask.max(axis=0) >= EMPTY_LEVEL)
        return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1

    @property
    def can_undo(self) -> bool:
        """True when a step can be undone."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when an undone step can be redone."""
        return bool(self._redo)

    # --- settings ----------------------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        """Give the mouse to the mask tool (M) or take it back."""
        if on != self.active:
            self.active = on
            if on:
                self.visible = True
            self.settings_changed.emit()

    def set_brush(self, *, size: int | None = None, hardness: float | None = None, erasing: bool | None = None) -> None:
        """Change the brush: its size in picture pixels, its hardness (0 soft – 1 hard), paint or erase."""
        if size is not None:
            self.brush_size = int(min(max(size, SIZE_RANGE[0]), SIZE_RANGE[1]))
        if hardness is not None:
            self.hardness = float(min(max(hardness, 0.0), 1.0))
        if erasing is not None:
            self.erasing = bool(erasing)
        self.settings_changed.emit()

    def grow_brush(self, steps: int) -> None:
        """``]`` / ``[``: about 15% bigger or smaller per step, at least one pixel."""
        size = self.brush_size
        for _ in range(abs(steps)):
            size = max(size + 1, round(size * 1.15)) if steps > 0 else min(size - 1, round(size / 1.15))
        self.set_brush(size=size)

    def set_visible(self, on: bool) -> None:
        """Show or hide the overlay (the mask still applies)."""
        if on != self.visible:
            self.visible = on
            self.settings_changed.emit()

    def set_keep_on_continue(self, on: bool) -> None:
        """Keep the mask (or take the node's own) when continuing from a history image."""
        self.keep_on_continue = bool(on)
        self.settings_changed.emit()

    def set_outpaint(self, sides) -> None:
        """Grow the picture by (left, top, right, bottom) pixels at the next run; None or all 0: no outpainting."""
        if sides is None or not any(sides):
            self.outpaint = None
        else:
            try:
                self.outpaint = check_outpaint(sides)
            except RestyleError as exc:
                self.error_raised.emit(exc.kind.value, exc.message)
                return
        self.settings_changed.emit()

    # --- the picture changes -----------------------------------------------------------------------------
    def picture_changed(self, size: tuple[int, int] | None, *, node_mask: Path | None = None,
                        continuing: bool = False) -> None:
        """A new working picture: a blank mask of its size, or (continuing with keep on) the node's own mask,
        else the current mask scaled to it. Undo history starts afresh."""
        import numpy as np
        previous = self._mask
        self._undo.clear()
        self._redo.clear()
        if size is None:
            self._mask = None
        else:
            width, height = size
            kept = None
            if continuing and self.keep_on_continue:
                if node_mask is not None and node_mask.is_file():
                    kept = self._read(node_mask)
                elif previous is not None and int(previous.max()) >= EMPTY_LEVEL:
                    from PIL import Image

                    kept = Image.fromarray(previous, "L")
            if kept is not None:
                self._mask = np.array(fit_mask(kept, (width, height))[0], dtype=np.uint8)
            else:
                self._mask = np.zeros((height, width), dtype=np.uint8)
        self._touch()
        self.reset.emit()
        self.edited.emit()

    def _read(self, path: Path):
        try:
            return load_mask(path)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return None

    # --- painting ----------------------------------------------------------------------------------------
    def _dab(self) -> tuple[np.ndarray, np.ndarray]:
        """The brush's levels for painting and for erasing, made once per size and hardness."""
        import numpy as np
        key = (self.brush_size, self.hardness)
        if self._dab_cache is None or self._dab_cache[:2] != key:
            level = (brush_dab(self.brush_size, self.hardness) * 255.0 + 0.5).astype(np.uint8)
            self._dab_cache = (*key, (level, 255 - level))
        return self._dab_cache[2]

    def begin_stroke(self, x: float, y: float) -> None:
        """Start a stroke at (x, y) in picture pixels and put down the first dab."""
        if self._mask is None:
            return
        self._stroke = (self._mask.copy(), [self._mask.shape[1], self._mask.shape[0], 0, 0], (x, y))
        self._stamp_segment(x, y, x, y)

    def stroke_to(self, x: float, y: float) -> None:
        """Continue the stroke to (x, y): dabs a quarter of the brush apart, so a fast drag leaves no gaps."""
        if self._stroke is None:
            return
        last_x, last_y = self._stroke[2]
        self._stroke = (self._stroke[0], self._stroke[1], (x, y))
        self._stamp_segment(last_x, last_y, x, y)

    def end_stroke(self) -> None:
        """Finish the stroke: it becomes one undo step."""
        if self._stroke is None:
            return
        before, box, _ = self._stroke
        self._stroke = None
        left, top, right, bottom = box
        if right > left and bottom > top:
            self._push(_Edit((left, top, right, bottom), before[top:bottom, left:right].copy(),
                             self._mask[top:bottom, left:right].copy()))
        self.edited.emit()

    def _stamp_segment(self, x0: float, y0: float, x1: float, y1: float) -> None:
        import numpy as np
        level, keep = self._dab()
        size = level.shape[0]
        spacing = max(1.0, size / 4)
        count = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / spacing))
        height, width = self._mask.shape
        box = [width, height, 0, 0]
        # A press puts down one dab; a segment starts one spacing on, where the last segment's dab already is.
        for i in ((0,) if (x0, y0) == (x1, y1) else range(1, count + 1)):
            t = i / count
            cx, cy = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            left, top = round(cx - size / 2), round(cy - size / 2)
            x_lo, y_lo, x_hi, y_hi = max(0, left), max(0, top), min(width, left + size), min(height, top + size)
            if x_hi <= x_lo or y_hi <= y_lo:
                continue
            region = self._mask[y_lo:y_hi, x_lo:x_hi]
            piece = (keep if self.erasing else level)[y_lo - top:y_hi - top, x_lo - left:x_hi - left]
            # Max when painting, min when erasing: going over a spot twice does not build up, as in a paint program.
            (np.minimum if self.erasing else np.maximum)(region, piece, out=region)
            box = [min(box[0], x_lo), min(box[1], y_lo), max(box[2], x_hi), max(box[3], y_hi)]
        if box[2] > box[0]:
            stroke_box = self._stroke[1] if self._stroke else box
            stroke_box[:] = [min(stroke_box[0], box[0]), min(stroke_box[1], box[1]),
                             max(stroke_box[2], box[2]), max(stroke_box[3], box[3])]
            self._touch()
            self.changed.emit(*box)

    # --- whole-mask edits ---------------------------------------------------------------------------------
    def fill(self) -> None:
        """Mask the whole picture."""
        import numpy as np
        self._replace(lambda m: np.full_like(m, 255))

    def clear(self) -> None:
        """Nothing masked: the next run restyles the whole picture."""
        import numpy as np
        self._replace(np.zeros_like)

    def invert(self) -> None:
        """Swap restyled and kept."""
        self._replace(lambda m: 255 - m)

    def load(self, path: str | Path) -> bool:
        """Use a black-and-white picture as the mask (scaled to the picture, with a note)."""
        import numpy as np
        if self._mask is None:
            self.error_raised.emit("bad_input", "Open a picture first: a mask is painted over a picture.")
            return False
        image = self._read(Path(path))
        if image is None:
            return False
        fitted, note = fit_mask(image, self.size)
        self._replace(lambda m: np.asarray(fitted, dtype=np.uint8).copy())
        self.status_changed.emit(note or f"{Path(path).name} is the mask now.")
        return True

    def from_depth(self, depth, threshold: float, *, near: bool = True) -> bool:
        """Mask what is nearer (or farther) than ``threshold`` in the depth map (a PIL image), as a start."""
        import numpy as np
        if self._mask is None or depth is None:
            self.error_raised.emit("bad_input", "Load or estimate a depth map first (Depth control), then make "
                                                "the mask from it.")
            return False
        made = np.asarray(mask_from_depth(depth, self.size, threshold, near=near), dtype=np.uint8)
        self._replace(lambda m: made.copy())
        return True

    def _replace(self, make) -> None:
        import numpy as np
        if self._mask is None:
            return
        before = self._mask
        after = make(before).astype(np.uint8)
        if np.array_equal(before, after):
            return
        height, width = before.shape
        self._mask = after
        self._push(_Edit((0, 0, width, height), before, after.copy()))
        self._touch()
        self.reset.emit()
        self.edited.emit()

    # --- undo --------------------------------------------------------------------------------------------
    def _push(self, edit: _Edit) -> None:
        self._undo.append(edit)
        self._redo.clear()
        total = sum(e.nbytes for e in self._undo)
        while len(self._undo) > 1 and total > UNDO_BYTES:
            total -= self._undo.pop(0).nbytes

    def undo(self) -> bool:
        """Undo the last stroke or edit (Ctrl+Z in the mask tool)."""
        return self._step(self._undo, self._redo, "before")

    def redo(self) -> bool:
        """Redo the last undone stroke or edit (Ctrl+Shift+Z in the mask tool)."""
        return self._step(self._redo, self._undo, "after")

    def _step(self, source: list[_Edit], target: list[_Edit], side: str) -> bool:
        if not source or self._mask is None:
            return False
        edit = source.pop()
        target.append(edit)
        left, top, right, bottom = edit.box
        self._mask[top:bottom, left:right] = getattr(edit, side)
        self._touch()
        self.changed.emit(left, top, right, bottom)
        self.edited.emit()
        return True

    def run_finished(self, result) -> None:
        """A result arrived: when it outpainted, the picture has grown, and the next run must not grow it again."""
        if result.params.outpaint and self.outpaint:
            self.outpaint = None
            self.settings_changed.emit()
            self.status_changed.emit("The picture was outpainted; outpainting is set back to 0 for the next run.")

    # --- what a run receives -----------------------------------------------------------------------------
    def _touch(self) -> None:
        self._revision += 1

    def mask_file(self) -> Path | None:
        """The mask as a PNG in the data folder's inputs/ (written once per change); None when nothing is painted."""
        if self.is_empty:
            return None
        if self._saved is not None and self._saved[0] == self._revision and self._saved[1].is_file():
            return self._saved[1]
        from PIL import Image

        path = self._data_dir / "inputs" / f"mask-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}.png"
        save_mask(Image.fromarray(self._mask, "L"), path)
        self._saved = (self._revision, path)
        return path

    def apply(self, params):
        """``params`` with this mask and outpainting, for a run from the current picture."""
        try:
            path = self.mask_file()
        except (OSError, RestyleError) as exc:
            self.error_raised.emit("bad_input", getattr(exc, "message", None) or str(exc))
            path = None
        return params.replace(mask_image=str(path) if path else None, outpaint=self.outpaint)
