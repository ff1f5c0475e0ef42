"""Thumbnails loaded off the UI thread, as rows and cells scroll into view (QtGui; QPixmap stays in ui/)."""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from PySide6.QtCore import QObject, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap

from desktop.core.captions import node_caption, node_tooltip

CACHE = 3000  # icons kept; a screenful is a few dozen, so scrolling back is instant


def node_data(node, role, thumbnails: ThumbnailLoader, workspace):
    """What a history row or a gallery cell shows for ``role``: caption, tooltip, thumbnail or id; else None."""
    if role == Qt.ItemDataRole.DisplayRole:
        return node_caption(node)
    if role == Qt.ItemDataRole.ToolTipRole:
        mask = workspace.mask_path(node)
        if mask is None:
            return node_tooltip(node)
        # Rich text, so the mask the node was made with shows on hover beside its settings.
        import html  # at the first such tooltip: its entity tables are not worth a millisecond of start-up

        text = html.escape(node_tooltip(node)).replace("\n", "<br>")
        return f"<p>{text}</p><p>Mask:<br><img src='{QUrl.fromLocalFile(str(mask)).toString()}' width='120'></p>"
    if role == Qt.ItemDataRole.DecorationRole:
        return thumbnails.icon(workspace, node)
    if role == Qt.ItemDataRole.UserRole:
        return node.id
    return None


class ThumbnailLoader(QObject):
    """Icons by node id: ``icon`` answers at once (None until loaded) and ``loaded`` says when one is ready."""

    loaded = Signal(str)  # node id
    _done = Signal(int, str, QImage)  # generation, node id, picture: from a pool thread to the UI thread

    def __init__(self, size: int = 128, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # disk-bound; more threads would only compete with the worker
        self._icons: OrderedDict[str, QIcon] = OrderedDict()
        self._pending: set[str] = set()
        self._generation = 0  # bumped by clear(): answers for the previous workspace are dropped
        self._done.connect(self._on_done)

    def icon(self, workspace, node) -> QIcon | None:
        """The node's icon if loaded; otherwise None, and it is loaded on the pool (``loaded`` follows)."""
        icon = self._icons.get(node.id)
        if icon is not None:
            self._icons.move_to_end(node.id)
            return icon
        if node.id not in self._pending:
            self._pending.add(node.id)
            generation, size = self._generation, self.size
            self._pool.start(lambda: self._load(generation, workspace, node, size))
        return None

    def forget(self, node_ids) -> None:
        """Drop the icons of deleted nodes."""
        for node_id in node_ids:
            self._icons.pop(node_id, None)

    def clear(self) -> None:
        """Forget every icon (another workspace was opened)."""
        self._generation += 1
        self._icons.clear()
        self._pending.clear()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the pool is idle (tests, closing)."""
        return self._pool.waitForDone(msecs)

    def _load(self, generation: int, workspace, node, size: int) -> None:
        """On a pool thread: make the thumbnail file when missing and read it into a QImage."""
        try:
            image = QImage(str(workspace.thumbnail_path(node, size)))
        except Exception:  # noqa: BLE001 - a missing or unreadable picture shows without an icon
            image = QImage()
        with contextlib.suppress(RuntimeError):  # the view went away while this one loaded: nobody is waiting for it
            self._done.emit(generation, node.id, image)

    def _on_done(self, generation: int, node_id: str, image: QImage) -> None:
        if generation != self._generation:
            return
        self._pending.discard(node_id)
        self._icons[node_id] = QIcon(QPixmap.fromImage(image)) if not image.isNull() else QIcon()
        while len(self._icons) > CACHE:
            self._icons.popitem(last=False)
        self.loaded.emit(node_id)
