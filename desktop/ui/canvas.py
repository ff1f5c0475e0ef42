"""The canvas: shows the init image, the live preview while denoising, then the result; accepts drops."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.core.web_images import is_web_url

from . import theme

PLACEHOLDER = (
    "The next run starts from text:\nwrite a prompt and press Generate.\n\n"
    "To restyle a picture, drop it here (a file or an image from a web page),\n"
    "paste one (Ctrl+V), open one (Ctrl+O), or select one in the history."
)


def dropped_file(mime) -> str | None:
    """The first local file in a drag's mime data, or None."""
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            return url.toLocalFile()
    return None


def draw_exposed(painter: QPainter, target: QRectF, image: QImage, exposed: QRectF) -> None:
    """Draw ``image`` scaled into ``target``, only the part inside ``exposed``: a brush stroke repaints a few
    hundred pixels, not a 2048² picture scaled again."""
    visible = exposed.intersected(target)
    if visible.isEmpty():
        return
    scale_x, scale_y = image.width() / target.width(), image.height() / target.height()
    source = QRectF((visible.left() - target.left()) * scale_x, (visible.top() - target.top()) * scale_y,
                    visible.width() * scale_x, visible.height() * scale_y)
    painter.drawImage(visible, image, source)


def dropped_source(mime) -> str | None:
    """A dropped local file, or an http/https URL (an image dragged from a web browser), or None."""
    path = dropped_file(mime)
    if path is not None or mime is None:
        return path
    urls = [url.toString() for url in mime.urls()] if mime.hasUrls() else []
    if mime.hasText():
        urls.append(mime.text().strip())
    return next((u for u in urls if is_web_url(u)), None)


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
        self._before: QImage | None = None  # compare mode: the parent, shown left of the split
        self._split = 0.5
        self._caption = ""
        self._drag_ok = False
        self.layer = None  # an overlay tool (the mask painter): gets the mouse while it wants it, paints on top

    def set_layer(self, layer) -> None:
        """Put a layer (``mask_layer.MaskLayer``) over the picture."""
        self.layer = layer

    @property
    def image(self) -> QImage | None:
        """The image shown now."""
        return self._image

    @property
    def placeholder(self) -> str:
        """The hint painted when no picture is shown ('' while one is)."""
        return PLACEHOLDER if self._image is None or self._image.isNull() else ""

    @property
    def caption(self) -> str:
        """The text under the image ("Step 3 of 20", "Result, seed 42", …)."""
        return self._caption

    def show_image(self, image: QImage | None, caption: str = "") -> None:
        """Show ``image`` (None: the placeholder) with a caption."""
        self._image = image
        self._before = None
        self._caption = caption
        self.update()

    def show_compare(self, before: QImage, after: QImage, caption: str = "") -> None:
        """Before/after: ``before`` left of a split the user drags, ``after`` right of it."""
        self._image = after
        self._before = before
        self._caption = caption
        self.update()

    @property
    def comparing(self) -> bool:
        """True in before/after mode."""
        return self._before is not None

    @property
    def split(self) -> float:
        """Where the before/after split is, 0 (left edge) to 1 (right edge) of the image."""
        return self._split

    def set_split(self, fraction: float) -> None:
        """Move the before/after split."""
        self._split = min(1.0, max(0.0, fraction))
        self.update()

    def image_rect(self) -> QRectF:
        """Where the picture is drawn, in widget coordinates."""
        return self._image_rect()

    def _image_rect(self) -> QRectF:
        caption_height = 26 if self._caption else 0
        area = QRectF(self.rect().adjusted(8, 8, -8, -8 - caption_height))
        if self._image is None or self._image.isNull():
            return area
        size = self._image.size().scaled(area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        return target

    def _to_layer(self, kind: str, event) -> bool:
        if self.layer is None or not self.layer.wants_mouse or self.comparing:
            return False
        self.layer.mouse(kind, event.position(), self._image_rect(), event.buttons())
        return True

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self._to_layer("press", event):
            self.mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._to_layer("release", event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.layer is not None:
            self.layer.leave()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._to_layer("move", event):
            return
        if self.comparing:
            rect = self._image_rect()
            self.set_split((event.position().x() - rect.left()) / max(1.0, rect.width()))

    # --- drag and drop -----------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = dropped_source(event.mimeData())
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
        path = dropped_source(event.mimeData())
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
        background, text = theme.canvas_colors()  # the hint and caption keep 4.5:1 on it in both palettes
        painter.fillRect(self.rect(), background)
        caption_height = 26 if self._caption else 0
        area = QRectF(self.rect().adjusted(8, 8, -8, -8 - caption_height))
        if self._image is not None and not self._image.isNull():
            target = self._image_rect()
            # Previews are latent-sized (1/8 of the output): smooth scaling keeps them from looking blocky.
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            draw_exposed(painter, target, self._image, QRectF(event.rect()))
            if self._before is not None:
                x = target.left() + target.width() * self._split
                painter.save()
                painter.setClipRect(QRectF(target.left(), target.top(), x - target.left(), target.height()))
                painter.drawImage(target, self._before)
                painter.restore()
                painter.setPen(QColor(255, 255, 255))
                painter.drawLine(int(x), int(target.top()), int(x), int(target.bottom()))
            elif self.layer is not None:
                self.layer.paint(painter, target, self._image, QRectF(event.rect()))
        else:
            painter.setPen(text)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, PLACEHOLDER)
        if self._caption:
            painter.setPen(text)
            caption_rect = QRectF(8, self.height() - caption_height - 4, self.width() - 16, caption_height)
            painter.drawText(caption_rect, Qt.AlignmentFlag.AlignCenter, self._caption)
        if self._drag_ok:
            painter.setPen(QColor(90, 160, 255))
            painter.drawRect(self.rect().adjusted(2, 2, -3, -3))
        painter.end()
