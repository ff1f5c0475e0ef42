"""WorkingPicture: puts the working picture, or a chosen result, on the canvas without stalling the window.

A history result's pixels are read on a pool thread (``InitImage.image`` reads them when first asked, and the
run does not need them: the worker reads the file itself). Until they come, the canvas shows the row's
thumbnail scaled up under the picture's caption. Decoding a 2048×2048 PNG takes a few hundred milliseconds,
so stepping through big results with the arrow keys would otherwise hold the window at every step.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QSize, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage

from desktop.core.captions import node_caption
from desktop.core.errors import RestyleError

from .qt_images import pil_to_qimage

PLACEHOLDER_GREY = QColor(128, 128, 128)  # the picture's shape while it is read, when no thumbnail is at hand


class WorkingPicture(QObject):
    """Shows ``model``'s working picture on ``canvas`` (reading history results off the UI thread)."""

    _read = Signal(object, QImage)  # from the pool thread: the InitImage and its pixels
    _failed = Signal(object, str, str)  # the InitImage, the error's kind and its sentence

    def __init__(self, model, canvas, thumbnails, compare_button, parent: QObject | None = None):
        super().__init__(parent)
        self._model, self._canvas = model, canvas
        self._thumbnails, self._compare = thumbnails, compare_button
        self._shown: tuple = (None, None)  # the working picture and the QImage made of it for the canvas
        self._on_canvas: tuple = (None, "")  # what this put on the canvas last: picture or placeholder, caption
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one picture at a time: a newer choice supersedes the one being read
        self._read.connect(self._on_read)
        self._failed.connect(self._on_failed)
        model.planned_size_changed.connect(self._on_planned_size_changed)

    def wait(self, msecs: int = 5000) -> bool:
        """Block until no picture is being read (tests, closing)."""
        return self._pool.waitForDone(msecs)

    def show_init(self, init) -> None:
        """The working picture changed (None: the next run starts from text)."""
        if init is None:
            self._canvas.show_image(None)
            return
        if init is self._shown[0]:
            self._put(self._shown[1], init)
        elif init.loaded:  # a file from outside, read already
            self._show(init, pil_to_qimage(init.image))
        else:
            self._put(self._placeholder(init), init)
            self._pool.clear()  # a picture chosen a moment ago and not started yet is not read any more
            self._pool.start(lambda: self._read_pixels(init))

    def qimage_of(self, pixels) -> QImage:
        """``pixels`` (PIL) as a QImage: the one made already when they are the working picture's (a finished
        run's result becomes the working picture just before the window shows it), else converted now."""
        init, image = self._shown
        if init is not None and init.loaded and init.image is pixels:
            return image
        return pil_to_qimage(pixels)

    def show_selection(self, node_id) -> None:
        """A history node was selected (or Compare toggled): show it, or it beside its parent."""
        model = self._model
        history = model.history
        if node_id is None or node_id not in history.tree or model.phase.value != "idle":
            return
        node = history.tree.get(node_id)
        parent = history.tree.parent_of(node_id)
        if self._compare.isChecked() and parent is not None:
            before = QImage(str(history.workspace.image_path(parent)))
            after = QImage(str(history.workspace.image_path(node)))
            self._canvas.show_compare(before, after, f"before ◀ ▶ after · {node_caption(node)}")
        elif node_id == model.source_node:  # (selecting a node makes it the working picture)
            self.show_init(model.init_image)
        else:
            self._canvas.show_image(QImage(str(history.workspace.image_path(node))), node_caption(node))

    def _caption(self, init) -> str:
        width, height = self._model.planned_size()
        tree, node = self._model.history.tree, self._model.source_node
        name = node_caption(tree.get(node)) if node in tree else init.name
        return f"{name} · {init.size[0]}×{init.size[1]} · runs at {width}×{height}"

    def _show(self, init, image: QImage) -> None:
        self._shown = (init, image)
        self._put(image, init)

    def _put(self, image: QImage, init) -> None:
        self._on_canvas = (image, self._caption(init))
        self._canvas.show_image(*self._on_canvas)

    def _on_planned_size_changed(self, _width: int, _height: int) -> None:
        # The model loaded (its natural size), the outpainting margins changed, …: the caption's "runs at"
        # follows, as long as the canvas still shows the working picture (not a result or a preview).
        # (The same picture may be on it as a result, under the result's caption: that one stays.)
        init, (image, caption) = self._model.init_image, self._on_canvas
        if init is not None and image is not None and self._canvas.image is image and self._canvas.caption == caption:
            self._put(image, init)

    def _placeholder(self, init) -> QImage:
        """The row's thumbnail (the canvas scales it up), else a grey of the picture's shape."""
        history, node = self._model.history, self._model.source_node
        icon = self._thumbnails.icon(history.workspace, history.tree.get(node)) if node in history.tree else None
        if icon is not None and not icon.isNull():
            return icon.pixmap(QSize(self._thumbnails.size, self._thumbnails.size)).toImage()
        width, height = init.size
        scale = max(width, height) / 64
        image = QImage(max(1, round(width / scale)), max(1, round(height / scale)), QImage.Format.Format_RGB32)
        image.fill(PLACEHOLDER_GREY)
        return image

    def _read_pixels(self, init) -> None:
        """On the pool thread: the picture's pixels, as a QImage."""
        try:
            image = pil_to_qimage(init.image)
        except RestyleError as exc:  # changed on disk since it was chosen
            self._failed.emit(init, exc.kind.value, exc.message)
            return
        with contextlib.suppress(RuntimeError):  # the window closed while it was read
            self._read.emit(init, image)

    def _on_read(self, init, image: QImage) -> None:
        model = self._model
        if init is model.init_image and model.phase.value == "idle" and not self._canvas.comparing:  # still wanted
            self._show(init, image)

    def _on_failed(self, init, kind: str, message: str) -> None:
        if init is self._model.init_image:
            self._model.error_raised.emit(kind, message)
