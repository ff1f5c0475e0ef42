"""HistoryItemModel: the history tree as a Qt item model that stays cheap at 100,000 nodes.

- Rows follow history_lines: a chain reads down one column and only a branch is indented, so a long loopback
  stays on screen (and the view has few levels to walk when it lays out and paints).
- Rows are handed to the view in batches (``has_more``/``fetch_more``, which the panel calls when the view
  is scrolled to its end): the newest roots first, the rows under each oldest first.
- A change is one row inserted, one row changed or one branch removed, never a reset of the whole model,
  and thumbnails load on a thread pool only when a row is painted.
- Every call from the view into this model crosses from C++ into Python, and the view re-lays out all its
  opened rows after each change: the model keeps those calls few (see ``_on_history_nodes_removed``,
  ``multiData`` and the note at ``has_more``), which is what keeps a change within a few milliseconds.
- A filter (``set_filter``) keeps the matching nodes and their ancestors; ancestors that do not match
  themselves are greyed, so a chain stays readable.
"""

from __future__ import annotations

from itertools import chain, repeat

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from desktop.core.captions import row_caption
from desktop.core.history import gc_paused
from desktop.core.history_filter import HistoryFilter, SearchTexts, parse_filter, search_text, visible_ids

from . import theme
from .history_lines import line_rows, rows_under, run_from
from .thumbnails import ThumbnailLoader, node_data

BATCH = 200  # a node's children handed to the view at a time
ROOT_BATCH = 25  # roots at a time: every root handed out is laid out again after each change (a screenful is ~10)
# layoutChanged with the "rows only" hint: the horizontal header then leaves its sections alone (without the
# hint it re-reads them and the view paints a second time).
ROWS_CHANGED = "QList<QPersistentModelIndex>,QAbstractItemModel::LayoutChangeHint"
ROWS_ONLY = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
BRANCH_MARK = "↳ "  # a row that starts a branch (see starts_branch)
NO_INDEX = QModelIndex()  # "no index": the roots' parent, and the answer for rows that are not there
NODE_ROLES = {Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole}
PAINTED_ROLES = {Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole}


def _batch(parent_id: str | None) -> int:
    return ROOT_BATCH if parent_id is None else BATCH


class HistoryItemModel(QAbstractItemModel):
    """Rows over the session's HistoryTree (filtered or whole), fetched lazily and changed row by row."""

    filter_changed = Signal(int, int)  # matching nodes, nodes shown (matches and their ancestors); -1: no filter

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self._history = session.history
        self.thumbnails = ThumbnailLoader(parent=self)
        self.thumbnails.loaded.connect(self._on_thumbnails_loaded)
        self._texts = SearchTexts()
        self._captions: dict[str, str] = {}  # each row's text, made when first painted
        self._filter = HistoryFilter()
        self._matched: set[str] | None = None  # None: no filter, everything matches
        # The shown nodes' children in the tree (None: the roots), oldest first: what the rows are laid out from.
        self._tree_kids: dict[str | None, list[str]] = {}
        # Per display parent (None: the roots) the ids of the rows under it (history_lines), oldest first, and
        # each id's place in that list.
        self._rows: dict[str | None, list[str]] = {}
        self._pos: dict[str, int] = {}
        # Each shown id's display parent (kept here: a deleted node leaves the tree first).
        self._up: dict[str, str | None] = {}
        self._shown: dict[str | None, int] = {}  # rows handed to the view so far, per parent
        self._parents: dict[str, QModelIndex] = {}  # parent() answers, valid until rows move
        self._whole: tuple | None = None  # while filtered: (tree version, the unfiltered row structures)
        # Indexes carry the id string as their internal pointer. The rows hold the ids shown; a removed row's id
        # object is kept here for as long as the model lives, so a stale index never points at a freed string.
        self._alive: dict[str, str] = {}
        self._rebuild()
        history = self._history
        history.history_reset.connect(self._on_history_reset)
        history.nodes_added.connect(self._on_history_nodes_added)
        history.node_changed.connect(self._on_history_node_changed)
        history.nodes_removed.connect(self._on_history_nodes_removed)

    @property
    def _tree(self):
        return self._history.tree

    # --- the filter --------------------------------------------------------------------------------------
    @property
    def filter(self) -> HistoryFilter:
        """The filter in force (empty: every node shown)."""
        return self._filter

    def set_filter(self, text: str) -> HistoryFilter:
        """Show only nodes matching ``text`` (and their ancestors, greyed); '' shows everything."""
        self._filter = parse_filter(text)
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()
        return self._filter

    def matches(self, node_id: str) -> bool:
        """Whether the node matches the filter (every node does when there is none)."""
        return self._matched is None or node_id in self._matched

    def _rebuild(self) -> None:
        with gc_paused():  # 100,000 new lists and dict entries: see gc_paused
            self._rebuild_rows()

    def _rebuild_rows(self) -> None:
        tree = self._tree
        if self._matched is None and not self._filter.empty:  # the whole tree's rows, for when the box is cleared
            self._whole = (tree.version, self._tree_kids, self._rows, self._pos, self._up)
        if self._filter.empty:
            whole, self._whole = self._whole, None
            if whole is not None and whole[0] == tree.version:
                # The box cleared and nothing added or removed since it was typed in: the rows as they were (at
                # 100,000 nodes, making them again took a tenth of a second).
                self._matched = None
                self._tree_kids, self._rows, self._pos, self._up = whole[1:]
                self._shown, self._parents = {}, {}
                self.filter_changed.emit(-1, len(self._pos))
                return
        if self._filter.empty:
            self._matched, kids = None, tree.child_lists()  # each list oldest first
        else:
            self._matched, shown = visible_ids(tree, self._filter, self._texts)
            kids = tree.child_lists(shown)  # only the shown: a rare word at 100,000 nodes costs little
        kids.setdefault(None, [])
        rows = line_rows(kids)
        # Each id's place among its siblings and its parent, built in C (zip/chain/map): at 100,000 nodes the
        # same as comprehensions took about a tenth of a second of every open and every filter.
        ids = list(chain.from_iterable(rows.values()))
        pos = dict(zip(ids, chain.from_iterable(map(range, map(len, rows.values()))), strict=True))
        up = dict(zip(ids, chain.from_iterable(map(repeat, rows.keys(), map(len, rows.values()))), strict=True))
        self._tree_kids, self._rows, self._pos, self._up, self._shown = kids, rows, pos, up, {}
        self._parents = {}
        self.filter_changed.emit(-1 if self._matched is None else len(self._matched), len(pos))

    # --- where rows are ----------------------------------------------------------------------------------
    def _count(self, parent_id: str | None) -> int:
        kids = self._rows.get(parent_id)
        if not kids:
            return 0
        shown = self._shown.get(parent_id)
        return min(len(kids), _batch(parent_id) if shown is None else shown)

    def _row_of(self, node_id: str, parent_id: str | None) -> int:
        if parent_id is None:  # the newest root is the first row
            return len(self._rows[None]) - 1 - self._pos[node_id]
        return self._pos[node_id]

    def _exposed(self, node_id: str | None) -> bool:
        """True when the view has been handed this node's row (and its ancestors' rows)."""
        while node_id is not None:
            parent = self._up[node_id]
            if self._row_of(node_id, parent) >= self._count(parent):
                return False
            node_id = parent
        return True

    def _make_index(self, row: int, node_id: str) -> QModelIndex:
        # The id object the rows hold, as index() passes it: indexes compare by that pointer.
        return self.createIndex(row, 0, self._rows[self._up[node_id]][self._pos[node_id]])

    def _index_of(self, node_id: str | None) -> QModelIndex:
        if node_id is None:
            return QModelIndex()
        return self._make_index(self._row_of(node_id, self._up[node_id]), node_id)

    def node_index(self, node_id: str) -> QModelIndex:
        """The index of a shown node, handing the view the rows down to it first; invalid when not shown."""
        if node_id not in self._pos or node_id not in self._tree:
            return QModelIndex()
        path = [node_id]
        while self._up[path[-1]] is not None:
            path.append(self._up[path[-1]])
        for shown_id in reversed(path):  # from the top row down
            parent = self._up[shown_id]
            row, have = self._row_of(shown_id, parent), self._count(parent)
            if row >= have:
                self.beginInsertRows(self._index_of(parent), have, row)
                self._shown[parent] = row + 1
                self.endInsertRows()
        return self._index_of(node_id)

    def node_at(self, index: QModelIndex):
        """The node an index points at, or None (also for a node deleted since)."""
        if not index.isValid() or index.internalPointer() not in self._tree:
            return None
        return self._tree.get(index.internalPointer())

    # --- QAbstractItemModel ------------------------------------------------------------------------------
    # The view calls these four hundreds of times per change and paint, so they are kept to a few dict lookups.
    # An invalid index's internalPointer() is None, the key of the roots.
    def _parent_id(self, parent: QModelIndex) -> str | None:
        return parent.internalPointer()

    def index(self, row, column, parent=NO_INDEX):
        # The view's most frequent call (every opened row at every re-layout): _count written out, and the id
        # passed as it is (the rows hold it; a removed row's id is kept alive in _alive).
        parent_id = parent.internalPointer()
        kids = self._rows.get(parent_id)
        if not kids or column or row < 0 or row >= len(kids):
            return NO_INDEX
        shown = self._shown.get(parent_id)
        if parent_id is None:
            if row >= (ROOT_BATCH if shown is None else shown):
                return NO_INDEX
            return self.createIndex(row, 0, kids[len(kids) - 1 - row])
        if row >= (BATCH if shown is None else shown):
            return NO_INDEX
        return self.createIndex(row, 0, kids[row])

    def parent(self, index=NO_INDEX):
        # Qt asks this for every row it paints and every level above it: answers are kept until rows change.
        up = self._up.get(index.internalPointer())
        if up is None:
            return NO_INDEX
        cached = self._parents.get(up)
        if cached is None:
            cached = self._parents[up] = self._index_of(up)
        return cached

    def rowCount(self, parent=NO_INDEX):  # noqa: N802 - Qt override
        return self._count(parent.internalPointer())

    def hasChildren(self, parent=NO_INDEX):  # noqa: N802 - Qt override
        return bool(self._rows.get(parent.internalPointer()))

    # Not canFetchMore/fetchMore: QTreeView asks those of every opened row on each re-layout (one more call into
    # Python per row) and fetches another batch of roots each time it may, so every change made the next one
    # slower. The panel asks these two when its view is scrolled to the end, as QTreeView itself would.
    def has_more(self, parent: QModelIndex) -> bool:
        """Whether ``parent`` (invalid: the roots) has rows not yet handed to the view."""
        parent_id = self._parent_id(parent)
        return len(self._rows.get(parent_id, ())) > self._count(parent_id)

    def fetch_more(self, parent: QModelIndex) -> None:
        """Hand the view the next batch of ``parent``'s rows."""
        parent_id = self._parent_id(parent)
        have, total = self._count(parent_id), len(self._rows.get(parent_id, ()))
        if have < total:
            more = min(total, have + _batch(parent_id))
            self.beginInsertRows(parent, have, more - 1)
            self._shown[parent_id] = more
            self.endInsertRows()

    def columnCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt override
        return 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        node = self.node_at(index)
        return None if node is None else self._value(node, role)

    def multiData(self, index, roles):  # noqa: N802 - Qt override
        # The delegate asks for seven roles per painted row in one call: one trip into Python instead of seven.
        node = self.node_at(index)
        if node is None:
            return
        for item in roles:
            role = item.role()
            if role in PAINTED_ROLES:  # (font, alignment, check state, background: the view's own)
                value = self._value(node, role)
                if value is not None:
                    item.setData(value)

    def _value(self, node, role):
        if role == Qt.ItemDataRole.DisplayRole:
            return BRANCH_MARK + self._caption(node) if self.starts_branch(node) else self._caption(node)
        if role == Qt.ItemDataRole.ForegroundRole:
            # An ancestor shown only so the chain to a match stays readable: dimmed, still 4.5:1 (theme.py).
            return None if self.matches(node.id) else QColor(theme.tone("markup"))
        if role not in NODE_ROLES:
            return None
        return node_data(node, role, self.thumbnails, self._history.workspace)

    def starts_branch(self, node) -> bool:
        """Whether the node's row starts a branch: a child made beside an older one (not a chain's next pass)."""
        parent = node.parent
        if parent is None or self._up.get(node.id) != parent:
            return False  # a root, or a continuation: the row above is its parent
        return self._pos[node.id] > 0 or self._up.get(parent) is not None  # a root's first child continues it

    def _caption(self, node) -> str:
        """The row's text: rows of one branch differ by what changed from the parent (kept until a star)."""
        caption = self._captions.get(node.id)
        if caption is None:
            caption = self._captions[node.id] = row_caption(node, self._tree.parent_of(node.id))
        return caption

    # --- changes, row by row -----------------------------------------------------------------------------
    def _on_history_reset(self) -> None:
        self.beginResetModel()
        self._whole = None  # another workspace
        self.thumbnails.clear()
        self._texts = SearchTexts()
        self._captions.clear()
        self._rebuild()
        self.endResetModel()

    def _on_history_nodes_added(self, node_ids: list) -> None:
        for node_id in node_ids:
            node = self._tree.get(node_id)
            if self._matched is not None:
                if not self._filter.matches(node, search_text(node)):
                    continue
                if node.parent is not None and node.parent not in self._pos:
                    self.set_filter_again()  # a match under a hidden branch: its ancestors must appear too
                    return
                self._matched.add(node_id)
            self._insert(node)

    def set_filter_again(self) -> None:
        """Re-run the filter over the whole tree."""
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()

    def _insert(self, node) -> None:
        """A new node's row: a new root on top, a chain's next pass below its parent, a branch nested under it."""
        parent, node_id = node.parent, node.id
        children = self._tree_kids.setdefault(parent, [])
        continues = not children and parent is not None and self._up[parent] is not None
        children.append(node_id)
        up = self._up[parent] if continues else parent  # a continuation sits beside its parent
        rows = self._rows.setdefault(up, [])
        place = self._pos[parent] + 1 if continues else len(rows)
        row = 0 if up is None else place  # (the newest root is the first row)
        have = self._count(up)
        shows = self._exposed(up) and (row < have or have == len(rows))  # else it is fetched when scrolled to
        if shows:
            self.beginInsertRows(self._index_of(up), row, row)
        rows.insert(place, node_id)
        for later in rows[place + 1:]:
            self._pos[later] += 1
        self._pos[node_id], self._up[node_id] = place, up
        if shows:
            self._shown[up] = have + 1
            self._parents.clear()  # a new root moves every root down a row
            self.endInsertRows()

    def _on_thumbnails_loaded(self, node_id: str) -> None:
        if node_id in self._pos and node_id in self._tree and self._exposed(node_id):
            index = self._index_of(node_id)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def _on_history_node_changed(self, node_id: str) -> None:
        self._captions.pop(node_id, None)  # starred or unstarred: its caption says so
        if node_id not in self._pos:
            return
        if self._matched is not None:
            node = self._tree.get(node_id)
            if self._filter.matches(node, search_text(node)) != (node_id in self._matched):
                self.set_filter_again()  # unstarred under is:starred, say
                return
        if self._exposed(node_id):
            index = self._index_of(node_id)
            self.dataChanged.emit(index, index)

    def _on_history_nodes_removed(self, nodes: list) -> None:
        ids = [n.id for n in nodes]
        self.thumbnails.forget(ids)
        for node_id in ids:
            self._captions.pop(node_id, None)
        top = next((n for n in nodes if n.id in self._pos), None)  # parents come first: the branch's root
        if top is None:
            return
        self._remove_rows(top, [i for i in ids if i in self._pos])
        if self._matched is not None:
            for node_id in ids:
                self._matched.discard(node_id)
            # Ancestors shown only for the matches just removed go too, as the filter run again would show.
            parent = top.parent
            while parent is not None and parent not in self._matched and not self._tree_kids.get(parent):
                node = self._tree.get(parent)
                self._remove_rows(node, [parent])
                parent = node.parent

    def _remove_rows(self, top, ids: list[str]) -> None:
        """Remove the rows of ``top`` and the shown nodes below it (``ids``, ``top`` first)."""
        gone, parent = set(ids), top.parent
        up = self._up[top.id]
        siblings = self._tree_kids[parent]
        # The parent's next child takes over its chain when the removed node was its continuation.
        heir = siblings[1] if up != parent and len(siblings) > 1 else None
        exposed = self._exposed(top.id) or (heir is not None and self._exposed(parent))
        # Announced as a change of row layout, not as removed rows: beginRemoveRows makes Qt walk every
        # persistent index (one per opened row) up to its root through parent(), a few thousand calls into
        # Python at 10,000 nodes; here the few indexes that move are moved directly. The view re-lays out
        # either way, and the removed rows' indexes become invalid as they would.
        if exposed:
            self.layoutAboutToBeChanged[ROWS_CHANGED].emit([], ROWS_ONLY)
        siblings.remove(top.id)
        for node_id in ids:
            self._tree_kids.pop(node_id, None)
        rows, place = self._rows[up], self._pos[top.id]
        end = place + 1
        while end < len(rows) and rows[end] in gone:  # its chain, below it in the same column
            end += 1
        moved = run_from(heir, self._tree_kids) if heir is not None else []
        have = self._count(up)
        row = self._row_of(top.id, up)
        self._keep_alive(rows[place:end])
        rows[place:end] = moved
        if row < have:  # as many rows handed out as before, less the removed ones, plus the heir's chain
            self._shown[up] = have - min(end - place, have - row) + len(moved)
        for later in rows[place:]:
            self._pos[later] = place
            self._up[later] = up
            place += 1
        if heir is not None:  # the rows left nested under the parent: its later branches
            had, nested = self._count(parent), rows_under(parent, self._tree_kids, is_root=False)
            self._set_rows(parent, nested)
            self._shown[parent] = had - len(moved) if had > len(moved) else min(len(nested), BATCH)
        for node_id in ids:
            self._pos.pop(node_id, None)
            self._up.pop(node_id, None)
            self._keep_alive(self._rows.pop(node_id, ()))
            self._shown.pop(node_id, None)
        self._parents.clear()
        if exposed:
            self._move_persistent_indexes(gone)
            self.layoutChanged[ROWS_CHANGED].emit([], ROWS_ONLY)

    def _keep_alive(self, ids) -> None:
        # A removed row's id object stays alive: a stale index may still point at it (see _alive).
        self._alive.update(zip(ids, ids, strict=True))

    def _set_rows(self, parent: str, rows: list[str]) -> None:
        if rows:
            self._rows[parent] = rows
        else:
            self._rows.pop(parent, None)
        for place, node_id in enumerate(rows):
            self._pos[node_id], self._up[node_id] = place, parent

    def _move_persistent_indexes(self, gone: set[str]) -> None:
        """After rows were removed or moved: indexes of removed nodes become invalid, the others follow their
        node to its new row (its parent is the node's display parent, which ``parent()`` reads)."""
        before, after = [], []
        for index in self.persistentIndexList():
            node_id = index.internalPointer()
            if node_id in gone:
                before.append(index)
                after.append(QModelIndex())
            elif node_id in self._up:
                row = self._row_of(node_id, self._up[node_id])
                if row != index.row():
                    before.append(index)
                    after.append(self._make_index(row, node_id))
        if before:
            self.changePersistentIndexList(before, after)
