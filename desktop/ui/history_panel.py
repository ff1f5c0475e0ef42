"""The history tree: thumbnails of every result, branch by branch, with the actions that chain them."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.captions import node_caption, node_tooltip


class HistoryItemModel(QAbstractItemModel):
    """A Qt item model over the session's HistoryTree; thumbnails load only when a row is shown."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self._session = session
        self._icons: dict[str, QIcon] = {}
        self._rows: dict[str, int] = {}
        # Indexes carry the id string as their internal pointer: keep every id object alive for as long as the
        # model lives, so a stale index never points at a freed string (ids are tiny).
        self._alive: dict[str, str] = {}
        self._reindex()
        session.history.history_reset.connect(self._on_session_history_reset)

    @property
    def _tree(self):
        return self._session.history.tree

    def _reindex(self) -> None:
        self._rows = {}
        for root_row, root in enumerate(self._tree.roots()):
            self._rows[root.id] = root_row
        for node in self._tree:
            for row, child in enumerate(self._tree.children(node.id)):
                self._rows[child.id] = row

    def _on_session_history_reset(self) -> None:
        self.beginResetModel()
        self._icons = {k: v for k, v in self._icons.items() if k in self._tree}
        self._reindex()
        self.endResetModel()

    def _make_index(self, row: int, node_id: str) -> QModelIndex:
        return self.createIndex(row, 0, self._alive.setdefault(node_id, node_id))

    def node_index(self, node_id: str) -> QModelIndex:
        """The index of a node, or an invalid index."""
        if node_id not in self._tree or node_id not in self._rows:
            return QModelIndex()
        return self._make_index(self._rows[node_id], node_id)

    def node_at(self, index: QModelIndex):
        """The node an index points at, or None (also for a node deleted since)."""
        if not index.isValid() or index.internalPointer() not in self._tree:
            return None
        return self._tree.get(index.internalPointer())

    def _siblings(self, parent_id: str | None):
        return self._tree.children(parent_id) if parent_id else self._tree.roots()

    def index(self, row, column, parent=QModelIndex()):  # noqa: B008 - Qt signature
        if parent.isValid() and self.node_at(parent) is None:
            return QModelIndex()
        siblings = self._siblings(parent.internalPointer() if parent.isValid() else None)
        if column != 0 or not 0 <= row < len(siblings):
            return QModelIndex()
        return self._make_index(row, siblings[row].id)

    def parent(self, index=QModelIndex()):  # noqa: B008 - Qt signature
        node = self.node_at(index)
        return self.node_index(node.parent) if node is not None and node.parent else QModelIndex()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt override
        if parent.column() > 0:
            return 0
        if parent.isValid() and self.node_at(parent) is None:
            return 0
        return len(self._siblings(parent.internalPointer() if parent.isValid() else None))

    def columnCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt override
        return 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        node = self.node_at(index)
        if node is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return node_caption(node)
        if role == Qt.ItemDataRole.ToolTipRole:
            return node_tooltip(node)
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._icons.get(node.id)
            if icon is None:
                icon = QIcon(QPixmap(str(self._session.history.workspace.thumbnail_path(node))))
                self._icons[node.id] = icon
            return icon
        if role == Qt.ItemDataRole.UserRole:
            return node.id
        return None


class HistoryPanel(QWidget):
    """The tree view (``historyView``) and its actions: continue, compare, star, delete, export, replay."""

    export_requested = Signal(list)  # node ids
    delete_requested = Signal(str)
    replay_requested = Signal(str)
    upscale_requested = Signal(str, str)  # node id, "x2" | "x4"

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self.item_model = HistoryItemModel(session, self)
        self.view = QTreeView()
        self.view.setObjectName("historyView")
        self.view.setModel(self.item_model)
        self.view.setHeaderHidden(True)
        self.view.setIconSize(QSize(56, 56))
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setExpandsOnDoubleClick(False)
        self.continue_button = QPushButton("Continue from here")
        self.continue_button.setObjectName("continueButton")
        self.continue_button.setToolTip("Use the selected image as the next init image (Ctrl+Shift+Enter, or "
                                        "double-click). From an older image this starts a new branch.")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareButton")
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip("Before/after split between the selected image and its parent")
        self.star_button = QPushButton("★ Star")
        self.star_button.setObjectName("starButton")
        self.star_button.setToolTip("Star or unstar the selected image")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deleteButton")
        self.export_button = QPushButton("Export grid…")
        self.export_button.setObjectName("exportGridButton")
        self.export_button.setToolTip("Save the selected images (or the chain up to the selected one) as one grid")
        self.replay_button = QPushButton("Replay…")
        self.replay_button.setObjectName("replayButton")
        self.replay_button.setToolTip("Re-run the whole branch with one setting or the model changed")
        self.upscale_x2_button = QPushButton("Upscale ×2")
        self.upscale_x2_button.setObjectName("upscaleX2Button")
        self.upscale_x2_button.setToolTip("Upscale the selected image 2× with the latent upscaler; from a result of "
                                          "an SD model its latents go straight in (no decode/encode)")
        self.upscale_x4_button = QPushButton("Super-res ×4…")
        self.upscale_x4_button.setObjectName("upscaleX4Button")
        self.upscale_x4_button.setToolTip("Upscale the selected image 4× with the super-resolution model "
                                          "(choose its noise level first)")
        self.loop_check = QCheckBox("Auto-continue")
        self.loop_check.setObjectName("autoContinueCheck")
        self.loop_check.setToolTip("Chain every new result into the next run (loopback)")
        self.loop_count = QSpinBox()
        self.loop_count.setObjectName("loopCountSpin")
        self.loop_count.setRange(1, 100)
        self.loop_count.setValue(4)
        self.loop_count.setToolTip("How many passes in a row")
        self.loop_end_strength = QDoubleSpinBox()
        self.loop_end_strength.setObjectName("loopEndStrengthSpin")
        self.loop_end_strength.setRange(0.0, 1.0)
        self.loop_end_strength.setSingleStep(0.05)
        self.loop_end_strength.setSpecialValueText("same")
        self.loop_end_strength.setToolTip("Strength of the last pass; the passes go linearly from the strength "
                                          "slider to this value ('same': keep the slider's strength)")

        buttons = QGridLayout()
        buttons.addWidget(self.continue_button, 0, 0, 1, 3)
        buttons.addWidget(self.compare_button, 1, 0)
        buttons.addWidget(self.star_button, 1, 1)
        buttons.addWidget(self.delete_button, 1, 2)
        buttons.addWidget(self.export_button, 2, 0, 1, 2)
        buttons.addWidget(self.replay_button, 2, 2)
        buttons.addWidget(self.upscale_x2_button, 3, 0, 1, 2)
        buttons.addWidget(self.upscale_x4_button, 3, 2)
        loop = QGridLayout()
        loop.addWidget(self.loop_check, 0, 0)
        loop.addWidget(self.loop_count, 0, 1)
        loop.addWidget(QLabel("passes"), 0, 2)
        loop.addWidget(QLabel("End strength"), 1, 0)
        loop.addWidget(self.loop_end_strength, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.empty_label = QLabel("Finished images appear here, each under the image it started from. "
                                  "Any of them can start the next run, or a new branch.")
        self.empty_label.setObjectName("historyEmptyLabel")
        self.empty_label.setWordWrap(True)
        layout.addWidget(QLabel("History"))
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addLayout(loop)

        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.view.doubleClicked.connect(lambda _index: session.continue_from_selected())
        self.continue_button.clicked.connect(session.continue_from_selected)
        self.star_button.clicked.connect(self._on_star_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.selected_ids()))
        self.replay_button.clicked.connect(self._on_replay_button_clicked)
        self.upscale_x2_button.clicked.connect(lambda: self._request_upscale("x2"))
        self.upscale_x4_button.clicked.connect(lambda: self._request_upscale("x4"))
        for widget in (self.loop_check, self.loop_count, self.loop_end_strength):
            signal = widget.toggled if widget is self.loop_check else widget.valueChanged
            signal.connect(self._on_loop_settings_changed)
        session.history.selection_changed.connect(self._on_session_selection_changed)
        self._on_session_selection_changed(session.history.selected_id)
        self.empty_label.setVisible(len(session.history.tree) == 0)
        self.view.expandAll()
        session.history.history_reset.connect(self._on_session_history_reset)

    def selected_ids(self) -> list[str]:
        """Ids of the selected rows in tree order."""
        ids = [self.item_model.node_at(i).id for i in self.view.selectionModel().selectedRows()]
        order = {node.id: n for n, node in enumerate(self._session.history.tree)}
        return sorted(ids, key=order.get)

    def _on_session_history_reset(self) -> None:
        self.empty_label.setVisible(len(self._session.history.tree) == 0)
        self.view.expandAll()
        self._on_session_selection_changed(self._session.history.selected_id)

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        node = self.item_model.node_at(current)
        if node is not None and node.id != self._session.history.selected_id:
            self._session.history.select(node.id)

    def _on_session_selection_changed(self, node_id) -> None:
        has = node_id is not None
        for button in (self.continue_button, self.compare_button, self.star_button, self.delete_button,
                       self.export_button, self.replay_button, self.upscale_x2_button, self.upscale_x4_button):
            button.setEnabled(has)
        if not has:
            return
        index = self.item_model.node_index(node_id)
        if index.isValid() and self.view.currentIndex() != index:
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)

    def _on_star_button_clicked(self) -> None:
        node_id = self._session.history.selected_id
        if node_id:
            self._session.history.set_starred(node_id, not self._session.history.tree.get(node_id).starred)

    def _on_delete_button_clicked(self) -> None:
        if self._session.history.selected_id:
            self.delete_requested.emit(self._session.history.selected_id)

    def _on_replay_button_clicked(self) -> None:
        if self._session.history.selected_id:
            self.replay_requested.emit(self._session.history.selected_id)

    def _request_upscale(self, kind: str) -> None:
        if self._session.history.selected_id:
            self.upscale_requested.emit(self._session.history.selected_id, kind)

    def _on_loop_settings_changed(self, *_args) -> None:
        end = self.loop_end_strength.value()
        self._session.set_auto_continue(self.loop_check.isChecked(), self.loop_count.value(), end or None)

