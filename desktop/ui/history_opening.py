"""BranchOpener: which of the history tree's branches are open, and the rows the tree is handed as it scrolls.

QTreeView lays out every opened row again after each change to the tree (a delete, a new result), and each of
those rows costs a few calls into the Python item model. So the newest branches are opened, whole, only as
they come within OPEN_AHEAD_VIEWS view heights of the visible rows, up to a budget of rows, and more rows are
fetched when the end of the rows comes that near: a change stays cheap, and scrolling shows the same tree as
when every branch was opened at once.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QTimer

EXPAND_ROWS = 200  # rows opened up in the newest branches; a folded branch the user opens opens this far
OPEN_AHEAD_VIEWS = 2  # branches open, and rows are fetched, this many view heights before they scroll into view


class BranchOpener(QObject):
    """Opens the newest branches of ``view`` (over a HistoryItemModel) as they come near, and fetches rows."""

    def __init__(self, view, model, parent: QObject | None = None):
        super().__init__(parent)
        self._view, self._model = view, model
        self._expanding = False
        self._to_open: list[str] = []  # roots whose branches open when they come near, newest first
        self._budget = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # once the scroll, resize or change that prompted it has been laid out
        self._timer.timeout.connect(self.open_ahead)
        bar = view.verticalScrollBar()
        bar.valueChanged.connect(lambda _value: self._timer.start())
        bar.rangeChanged.connect(lambda _low, _high: self._timer.start())
        view.expanded.connect(self._on_view_expanded)
        view.installEventFilter(self)  # shown or resized: more may now lie within reach

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.Show, QEvent.Type.Resize):
            self._timer.start()
        return False

    def open_recent(self, budget: int = EXPAND_ROWS) -> None:
        """Open the newest branches, whole, until about ``budget`` rows show (each once it comes near)."""
        model = self._model
        self._to_open = [model.node_at(model.index(row, 0)).id for row in range(model.rowCount())]
        self._budget = budget
        self.open_ahead()

    def open_ahead(self) -> None:
        """Open the planned branches, and fetch rows, that lie within OPEN_AHEAD_VIEWS view heights below."""
        model, view = self._model, self._view
        if not view.isVisible():
            return  # not laid out yet: its size and scroll range say nothing (shown, it comes back here)
        height, opened = view.viewport().height(), False
        while self._to_open and self._budget > 0:
            index = model.node_index(self._to_open[0])
            if index.isValid() and view.visualRect(index).top() > height * (1 + OPEN_AHEAD_VIEWS):
                break  # the next branch is further down: it opens when scrolled near
            self._to_open.pop(0)
            if index.isValid():  # (deleted since: skipped)
                self._budget -= self.expand_branch(index, self._budget)
                opened = True
        bar = view.verticalScrollBar()  # its range follows what was opened only later, and comes back here
        if not opened and bar.maximum() - bar.value() <= bar.pageStep() * OPEN_AHEAD_VIEWS:  # (rows or pixels)
            self._fetch_below()  # its rows change the range, which comes back here until enough are in

    def expand_branch(self, index: QModelIndex, budget: int) -> int:
        """Expand a node and its descendants, breadth first, within ``budget`` rows; returns the rows opened."""
        model, opened, level = self._model, 0, [index]
        self._expanding = True  # expanding here must not start another walk from the expanded signal
        try:
            while level and opened < budget:
                below = []
                for parent in level:
                    rows = model.rowCount(parent)
                    if rows and opened < budget:
                        self._view.expand(parent)
                        opened += rows
                        below += [model.index(r, 0, parent) for r in range(rows)]
                level = below
        finally:
            self._expanding = False
        return opened

    def _on_view_expanded(self, index: QModelIndex) -> None:
        if not self._expanding:  # the user opened a folded branch: open the whole branch (within reason)
            self.expand_branch(index, EXPAND_ROWS)

    def _fetch_below(self) -> None:
        """Hand the view the next rows below its last one, as QTreeView does with fetchMore at the end."""
        model, view, index = self._model, self._view, QModelIndex()
        while model.rowCount(index) and (not index.isValid() or view.isExpanded(index)):
            index = model.index(model.rowCount(index) - 1, 0, index)  # down to the last row shown
        while index.isValid():  # the innermost opened branch that has more, else the roots
            if view.isExpanded(index) and model.has_more(index):
                model.fetch_more(index)
                return
            index = index.parent()
        model.fetch_more(QModelIndex())
