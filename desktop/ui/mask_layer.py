"""MaskLayer: draws the mask as a coloured overlay on the canvas and turns mouse drags into brush strokes.

Not a widget: the canvas hands it the mouse while the mask tool is on and lets it paint over the picture. The
overlay is one premultiplied ARGB buffer at the picture's size that QImage reads in place; a stroke rewrites
only the box it touched and asks the canvas to repaint only that box, so a stroke event costs the same on a
2048² picture as on a small one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from .canvas import draw_exposed

OVERLAY_RGB = (255, 64, 96)  # a warm pink: stands out on photos and on most paintings
OVERLAY_OPACITY = 0.5


def _overlay_colours() -> np.ndarray:
    """The premultiplied ARGB32 colour of each mask level 0–255."""
    import numpy as np
    alpha = (np.arange(256, dtype=np.uint32) * round(255 * OVERLAY_OPACITY) + 127) // 255
    red, green, blue = ((alpha * c + 127) // 255 for c in OVERLAY_RGB)
    return (alpha << 24) | (red << 16) | (green << 8) | blue


class MaskLayer(QObject):
    """The mask overlay and brush cursor of one canvas, fed by a MaskState."""

    def __init__(self, canvas, state):
        super().__init__(canvas)
        self._canvas = canvas
        self._state = state
        self._buffer: np.ndarray | None = None  # (H, W) uint32 premultiplied ARGB32, one per picture pixel
        self._colours: np.ndarray | None = None  # made at the first mask (numpy loads then, not at start-up)
        self._overlay: QImage | None = None
        self._cursor: QPointF | None = None  # widget position of the brush outline
        self._painting = False
        state.changed.connect(self._on_state_changed)
        state.reset.connect(self._on_state_reset)
        state.settings_changed.connect(self._on_state_settings_changed)
        self._on_state_reset()

    # --- what the canvas asks ----------------------------------------------------------------------------
    @property
    def wants_mouse(self) -> bool:
        """True while the mask tool is on and there is a mask to paint."""
        return self._state.active and self._state.array is not None

    def shows_on(self, image: QImage | None) -> bool:
        """True when the overlay belongs over ``image`` (same size as the mask) and is not hidden."""
        size = self._state.size
        return (self._overlay is not None and image is not None and size is not None and self._state.visible
                and (image.width(), image.height()) == size)

    def paint(self, painter: QPainter, target: QRectF, image: QImage | None, exposed: QRectF) -> None:
        """Draw the overlay over the picture drawn at ``target`` (only inside ``exposed``), then the brush."""
        if self.shows_on(image):
            # Unfiltered: the overlay's own edges are soft, and smooth scaling from the picture's full size
            # would cost as much as drawing the picture again.
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            draw_exposed(painter, target, self._overlay, exposed)
            painter.restore()
        if self._cursor is not None and self.wants_mouse:
            radius = self._state.brush_size / 2 / max(1e-6, self._scale(target))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for colour, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 230), 1)):
                style = Qt.PenStyle.DashLine if self._state.erasing else Qt.PenStyle.SolidLine
                painter.setPen(QPen(colour, width, style))
                painter.drawEllipse(self._cursor, radius, radius)

    def mouse(self, kind: str, position: QPointF, target: QRectF, buttons) -> None:
        """A mouse event on the canvas: "press", "move" or "release" at widget ``position``."""
        old = self._cursor
        self._cursor = QPointF(position)
        x, y = self._to_picture(position, target)
        if kind == "press" and buttons & Qt.MouseButton.LeftButton:
            self._painting = True
            self._state.begin_stroke(x, y)
        elif kind == "move" and self._painting:
            self._state.stroke_to(x, y)
        elif kind == "release" and self._painting:
            self._painting = False
            self._state.end_stroke()
        self._update_cursor(old, target)

    def leave(self) -> None:
        """The mouse left the canvas: hide the brush outline."""
        if self._cursor is not None:
            old, self._cursor = self._cursor, None
            self._update_cursor(old, self._canvas.image_rect())

    # --- helpers -----------------------------------------------------------------------------------------
    def _scale(self, target: QRectF) -> float:
        """Picture pixels per widget pixel."""
        size = self._state.size
        return size[0] / target.width() if size and target.width() > 0 else 1.0

    def _to_picture(self, position: QPointF, target: QRectF) -> tuple[float, float]:
        scale = self._scale(target)
        return (position.x() - target.left()) * scale, (position.y() - target.top()) * scale

    def _update_cursor(self, old: QPointF | None, target: QRectF) -> None:
        radius = int(self._state.brush_size / 2 / max(1e-6, self._scale(target))) + 4
        for point in (old, self._cursor):
            if point is not None:
                self._canvas.update(QRect(int(point.x()) - radius, int(point.y()) - radius, 2 * radius, 2 * radius))

    def _widget_rect(self, left: int, top: int, right: int, bottom: int) -> QRect:
        target = self._canvas.image_rect()
        scale = 1 / self._scale(target)
        return QRect(int(target.left() + left * scale) - 1, int(target.top() + top * scale) - 1,
                     int((right - left) * scale) + 3, int((bottom - top) * scale) + 3)

    def _write(self, left: int, top: int, right: int, bottom: int) -> None:
        # One table lookup per pixel (mask level -> overlay colour): about 1 ms for a 400-px brush's box.
        if self._colours is None:
            self._colours = _overlay_colours()
        self._buffer[top:bottom, left:right] = self._colours[self._state.array[top:bottom, left:right]]

    # --- state signals -----------------------------------------------------------------------------------
    def _on_state_changed(self, left: int, top: int, right: int, bottom: int) -> None:
        if self._buffer is None:
            return
        self._write(left, top, right, bottom)
        if self.shows_on(self._canvas.image):
            self._canvas.update(self._widget_rect(left, top, right, bottom))

    def _on_state_reset(self) -> None:
        size = self._state.size
        if size is None:
            self._buffer = self._overlay = None
        else:
            import numpy as np

            width, height = size
            if self._buffer is None or self._buffer.shape != (height, width):
                self._buffer = np.zeros((height, width), dtype=np.uint32)
                # QImage reads the numpy buffer in place (no copy): writes to the buffer show at the next paint.
                self._overlay = QImage(self._buffer.data, width, height, 4 * width,
                                       QImage.Format.Format_ARGB32_Premultiplied)
            if self._state.is_empty:  # a new picture's blank mask: clear (a look-up per pixel is ~50 ms at 2048²)
                self._buffer.fill(0)  # (level 0's overlay colour is fully transparent)
            else:
                self._write(0, 0, width, height)
        self._canvas.setMouseTracking(self.wants_mouse)
        self._canvas.update()

    def _on_state_settings_changed(self) -> None:
        self._canvas.setMouseTracking(self.wants_mouse)
        if not self.wants_mouse:
            self._cursor = None
        self._canvas.update()
