"""The canvas: shows the init image, the live preview while denoising, then the result; accepts drops."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.engine.images import SUPPORTED_SUFFIXES

PLACEHOLDER = (
    "Drop an image here to restyle it\n"
    "or paste one (Ctrl+V), or open one (Ctrl+O)\n\n"
    "No image? Write a prompt and press Generate\nto start from noise."
)


def dropped_file(mime) -> str | None:
    """The first local file in a drag's mime data, or None."""
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            return url.toLocalFile()
    return None


class Canvas(QWidget):
    """Paints one image scaled to fit, with a caption; emits ``file_dropped`` for dropped files."""

    file_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setAcceptDrops(True)
        self.setMinimumSize(320, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._caption = ""
        self._drag_ok = False

    @property
    def image(self) -> QImage | None:
        """The image shown now."""
        return self._image

    @property
    def caption(self) -> str:
        """The text under the image ("Step 3 of 20", "Result, seed 42", …)."""
        return self._caption

    def show_image(self, image: QImage | None, caption: str = "") -> None:
        """Show ``image`` (None: the placeholder) with a caption."""
        self._image = image
        self._caption = caption
        self.update()

    # --- drag and drop -----------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = dropped_file(event.mimeData())
        self._drag_ok = path is not None
        if self._drag_ok:
            event.acceptProposedAction()
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._drag_ok:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._drag_ok = False
        self.update()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._drag_ok = False
        path = dropped_file(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.update()
        # Unsupported files still go through: the model says clearly why they cannot be used.
        self.file_dropped.emit(path)

    # --- painting ----------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(38, 38, 42))
        caption_height = 26 if self._caption else 0
        area = QRectF(self.rect().adjusted(8, 8, -8, -8 - caption_height))
        if self._image is not None and not self._image.isNull():
            size = self._image.size().scaled(area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(0, 0, size.width(), size.height())
            target.moveCenter(area.center())
            # Previews are latent-sized (1/8 of the output): smooth scaling keeps them from looking blocky.
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image)
        else:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, PLACEHOLDER)
        if self._caption:
            painter.setPen(QColor(220, 220, 220))
            caption_rect = QRectF(8, self.height() - caption_height - 4, self.width() - 16, caption_height)
            painter.drawText(caption_rect, Qt.AlignmentFlag.AlignCenter, self._caption)
        if self._drag_ok:
            painter.setPen(QColor(90, 160, 255))
            painter.drawRect(self.rect().adjusted(2, 2, -3, -3))
        painter.end()


def is_supported_image(path: str) -> bool:
    """True for the file types Restyle opens (by suffix; the loader checks the content)."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES
