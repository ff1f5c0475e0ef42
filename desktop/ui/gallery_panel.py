"""The gallery (``galleryView``): every result as a grid of thumbnails, newest or starred first, filtered.

It reads the same history as the tree and takes the same filter words (``galleryFilter``, kept in step with the
history's box). Rows reach the view in batches and thumbnails load off the UI thread, as in the tree; while the
gallery is hidden it only notes that the history changed and catches up when shown. While shown, a new result
joins at its place and a delete drops its cells, without sorting the whole history again (a rebuild at 100,000
nodes holds the window about 60 ms).
"""

from __future__ import annotations

from operator import attrgetter

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from desktop.core.history_filter import SearchTexts, matching, parse_filter, search_text

from .thumbnails import ThumbnailLoader, node_data

BATCH = 200
ICON = QSize(96, 96)
# Every cell's size, said by the model: the view sizes all cells like the first (uniform sizes, for 100,000
# cells), and the first is often asked before its thumbnail has loaded, which squashed every thumbnail.
CELL = QSize(112, 132)
MAX_CELLS_CHANGED = 50  # more results added or deleted at once (a branch copied in, a big branch deleted): rebuild
SORTS = {"Newest first": "newest", "Oldest first": "oldest", "Starred first": "starred"}
RESULT_KINDS = ("generation", "upscale")  # imported pictures are the user's own, not results


class GalleryModel(QAbstractListModel):
    """The results of the history, filtered and sorted, handed to the view in batches."""

    counted = Signal(int)  # results shown after filtering

    def __init__(self, history, parent=None):
        super().__init__(parent)
        self._history = history
        self.thumbnails = ThumbnailLoader(parent=self)
        self.thumbnails.loaded.connect(self._on_thumbnails_loaded)
        self._texts = SearchTexts()
        self._filter = parse_filter("")
        self._sort = "newest"
        self._ids: list[str] = []
        self._row_map: dict[str, int] | None = {}  # id -> row, made again when first asked after a change
        self._shown = 0
        # Built when first shown; while hidden, changes only mark it stale (the history tab opens first).
        self.live = False
        self.stale = True

    @property
    def result_count(self) -> int:
        """Results that pass the filter (not only the rows handed to the view so far)."""
        return len(self._ids)

    def set_filter(self, text: str) -> None:
        """Show only results matching the filter words."""
        self._filter = parse_filter(text)
        self.changed()

    def set_sort(self, sort: str) -> None:
        """"newest", "oldest" or "starred" (starred first, newest first within)."""
        self._sort = sort
        self.changed()

    def rebuild(self) -> None:
        """Select and sort the results again from the whole history."""
        nodes = [n for n in matching(self._history.tree, self._filter, self._texts) if n.kind in RESULT_KINDS]
        nodes.sort(key=attrgetter("created"), reverse=self._sort != "oldest")
        if self._sort == "starred":
            nodes.sort(key=lambda n: not n.starred)  # stable: newest first within each group
        self.beginResetModel()
        self._ids = [n.id for n in nodes]
        self._row_map = None
        self._shown = min(len(self._ids), BATCH)
        self.stale = False
        self.endResetModel()
        self.counted.emit(len(self._ids))

    def changed(self) -> None:
        """The history changed: rebuild now when shown, else when next shown."""
        if self.live:
            self.rebuild()
        else:
            self.stale = True

    def added(self, ids: list[str]) -> None:
        """New nodes: results that pass the filter join at their place, or the whole is sorted again."""
        if not self.live or self.stale:
            self.changed()
            return
        tree = self._history.tree
        nodes = [tree.get(i) for i in ids if i in tree]
        nodes = [n for n in nodes if n.kind in RESULT_KINDS and self._filter.matches(n, search_text(n))]
        if not nodes:
            return
        nodes.sort(key=attrgetter("created"))
        # New results are the newest: they go first (newest first) or last (oldest first). Anything else (a
        # branch copied in with its old dates, stars deciding the order) is sorted again with the rest.
        newest_id = (self._ids[0] if self._sort == "newest" else self._ids[-1]) if self._ids else None
        if (self._sort == "starred" or len(nodes) > MAX_CELLS_CHANGED
                or (newest_id is not None and nodes[0].created < tree.get(newest_id).created)):
            self.changed()
            return
        new_ids = [n.id for n in nodes]
        at = 0 if self._sort == "newest" else len(self._ids)
        # Cells beyond those handed out wait (oldest first, not scrolled to the end) until the view fetches them.
        shows = at < self._shown or self._shown == len(self._ids)
        if shows:
            self.beginInsertRows(QModelIndex(), at, at + len(new_ids) - 1)
        self._ids[at:at] = new_ids[::-1] if self._sort == "newest" else new_ids
        self._row_map = None
        if shows:
            self._shown += len(new_ids)
            self.endInsertRows()
        self.counted.emit(len(self._ids))

    def removed(self, nodes: list) -> None:
        """Deleted nodes: their cells go, the others keep their places."""
        if not self.live or self.stale or len(nodes) > MAX_CELLS_CHANGED:
            self.changed()
            return
        rows = self._rows()
        for row in sorted((rows[n.id] for n in nodes if n.id in rows), reverse=True):
            if row < self._shown:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._ids[row]
                self._shown -= 1
                self.endRemoveRows()
            else:
                del self._ids[row]
        self._row_map = None
        self.counted.emit(len(self._ids))

    def _rows(self) -> dict[str, int]:
        if self._row_map is None:
            self._row_map = {node_id: row for row, node_id in enumerate(self._ids)}
        return self._row_map

    def star_changed(self, node_id: str) -> None:
        """Repaint one result's caption, or re-sort when stars decide the order or the filter."""
        if self._sort == "starred" or self._filter.starred:
            self.changed()
        elif node_id in self._rows() and self._rows()[node_id] < self._shown:
            index = self.index(self._rows()[node_id])
            self.dataChanged.emit(index, index)

    def node_id_at(self, index: QModelIndex) -> str | None:
        """The node id of a cell."""
        return self._ids[index.row()] if index.isValid() and index.row() < len(self._ids) else None

    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent):  # noqa: N802 - Qt override
        return not parent.isValid() and self._shown < len(self._ids)

    def fetchMore(self, parent):  # noqa: N802 - Qt override
        more = min(len(self._ids), self._shown + BATCH)
        if not parent.isValid() and more > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, more - 1)
            self._shown = more
            self.endInsertRows()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        node_id = self.node_id_at(index)
        if node_id is None or node_id not in self._history.tree:
            return None
        if role == Qt.ItemDataRole.SizeHintRole:
            return CELL
        return node_data(self._history.tree.get(node_id), role, self.thumbnails, self._history.workspace)

    def _on_thumbnails_loaded(self, node_id: str) -> None:
        row = self._rows().get(node_id)
        if row is not None and row < self._shown:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class GalleryPanel(QWidget):
    """The grid, its sort order and its filter box; a double-click opens the picture on the canvas."""

    filter_edited = Signal(str)

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        history = session.history
        self._history = history
        self.model = GalleryModel(history, self)
        self.view = QListView()
        self.view.setObjectName("galleryView")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setIconSize(ICON)
        self.view.setGridSize(CELL + QSize(4, 4))
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a prompt's end is often its style
        self.view.setModel(self.model)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("galleryFilter")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setPlaceholderText("Find: the same words as the history's box")
        self.sort_combo = QComboBox()
        self.sort_combo.setObjectName("gallerySort")
        self.sort_combo.addItems(list(SORTS))
        self.count_label = QLabel("")
        self.count_label.setObjectName("galleryCountLabel")
        row = QHBoxLayout()
        row.addWidget(self.filter_edit, 1)
        row.addWidget(self.sort_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.count_label)
        layout.addWidget(self.view, 1)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(30)
        self._filter_timer.timeout.connect(lambda: self.model.set_filter(self.filter_edit.text()))
        self._on_model_counted(0)
        self.filter_edit.textEdited.connect(self._on_filter_edit_text_edited)
        self.sort_combo.currentTextChanged.connect(lambda text: self.model.set_sort(SORTS[text]))
        self.view.doubleClicked.connect(self._on_view_double_clicked)
        self.model.counted.connect(self._on_model_counted)
        history.history_reset.connect(self.model.changed)
        history.nodes_added.connect(self.model.added)
        history.nodes_removed.connect(self.model.removed)
        history.node_changed.connect(self.model.star_changed)

    def set_filter_text(self, text: str) -> None:
        """Follow the history's filter box (without echoing back)."""
        if text != self.filter_edit.text():
            self.filter_edit.setText(text)
            self.model.set_filter(text)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.model.live = True
        if self.model.stale:
            self.model.rebuild()
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.model.live = False  # a hidden gallery costs a history change nothing
        super().hideEvent(event)

    def _on_filter_edit_text_edited(self, text: str) -> None:
        self._filter_timer.start()
        self.filter_edited.emit(text)

    def _on_model_counted(self, count: int) -> None:
        self.count_label.setText(f"{count} result{'s' if count != 1 else ''}")

    def _on_view_double_clicked(self, index: QModelIndex) -> None:
        node_id = self.model.node_id_at(index)
        if node_id is not None:
            self._history.select(node_id)  # the canvas shows the selected node
