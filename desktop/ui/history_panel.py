"""The history tree: thumbnails of every result, branch by branch, with the actions that chain them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .history_items import HistoryItemModel
from .history_opening import EXPAND_ROWS, BranchOpener

EXPAND_FILTERED_ROWS = 2000  # a filter's result is opened further: it is what the user asked to see
FILTER_DELAY_MS = 30  # a short pause in typing before the history narrows (one narrowing per burst of keys)


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
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # each of a row's lines: a prompt ends in its style
        self.view.setIconSize(QSize(56, 56))
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setExpandsOnDoubleClick(False)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("historyFilter")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setPlaceholderText("Find: words, model:, lora:, sampler:, is:starred, after:, size:…")
        self.filter_edit.setToolTip(
            "Words of the prompt (all must appear), and any of:\n"
            "model:sdxl   lora:ink   sampler:euler   is:starred (or ★)\n"
            "after:2026-11-01   before:2026-11-30   size:1024x768   size:>1000   size:<600\n"
            "Matches are shown with their ancestors greyed, so each chain stays readable.")
        self.filter_label = QLabel("")
        self.filter_label.setObjectName("historyFilterLabel")
        self.filter_label.setWordWrap(True)
        self.filter_label.hide()
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.opener = BranchOpener(self.view, self.item_model, self)
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
        self.star_button.setToolTip("Star or unstar the selected image (Ctrl+D)")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setToolTip("Delete the selected image and the images made from it (Delete; asks first)")
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

        enabled, passes, end = session.chain.auto_continue  # as left before the last restart
        self.loop_check.setChecked(enabled)
        self.loop_count.setValue(passes)
        self.loop_end_strength.setValue(end or 0.0)
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
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.filter_label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addLayout(loop)

        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.filter_edit.textChanged.connect(lambda _text: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.item_model.filter_changed.connect(self._on_item_model_filter_changed)
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
        self.opener.open_recent()
        session.history.history_reset.connect(self._on_session_history_reset)
        session.history.nodes_added.connect(self._on_session_history_changed)
        session.history.nodes_removed.connect(self._on_session_history_changed)

    def selected_ids(self) -> list[str]:
        """Ids of the selected rows in tree order."""
        ids = [self.item_model.node_at(i).id for i in self.view.selectionModel().selectedRows()]
        order = {node.id: n for n, node in enumerate(self._session.history.tree)}
        return sorted(ids, key=order.get)

    def apply_filter(self) -> None:
        """Narrow the tree to what the filter box says (now, without waiting for the typing pause)."""
        self._filter_timer.stop()
        self.item_model.set_filter(self.filter_edit.text())
        self.opener.open_recent(EXPAND_FILTERED_ROWS if self.filter_edit.text().strip() else EXPAND_ROWS)
        self._on_session_selection_changed(self._session.history.selected_id)

    def _on_item_model_filter_changed(self, matched: int, shown: int) -> None:
        problems = self.item_model.filter.problems
        if matched < 0 and not problems:
            self.filter_label.hide()
            return
        text = "" if matched < 0 else (f"{matched} match{'es' if matched != 1 else ''}"
                                       + (f" (with {shown - matched} ancestors greyed)" if shown > matched else ""))
        self.filter_label.setText("; ".join([text, *problems]) if text else "; ".join(problems))
        self.filter_label.show()

    def _on_session_history_changed(self, _items) -> None:
        self.empty_label.setVisible(len(self._session.history.tree) == 0)

    def _on_session_history_reset(self) -> None:
        self.empty_label.setVisible(len(self._session.history.tree) == 0)
        self.opener.open_recent()
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

