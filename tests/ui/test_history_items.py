"""The history tree's item model at scale: rows in batches, changes row by row, filters, lazy thumbnails."""

from __future__ import annotations

import time

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QTreeView

from desktop.core.history import Node, timestamp
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace
from desktop.model.history_model import HistoryModel
from desktop.model.settings import Settings
from desktop.ui import history_items, theme
from desktop.ui.history_items import NO_INDEX, HistoryItemModel
from desktop.ui.history_lines import line_rows, rows_under, run_from


class _Session:
    """What the item model reads from a session: its history."""

    def __init__(self, history):
        self.history = history


def _node(ws: Workspace, parent: str | None, prompt: str, **fields) -> Node:
    node_id = ws.new_node_id()
    node = Node(node_id, parent, "generation", f"{node_id}.png", timestamp(), 16, 16,
                {"model": "sd15", "prompt": prompt, "seed": 1}, model=fields.pop("model", "sd15"), **fields)
    write_node_image(ws.folder, node, Image.new("RGB", (16, 16), (len(prompt) * 9 % 255, 80, 120)), None)
    return node


@pytest.fixture()
def history(data_dir, qtbot, monkeypatch):
    """A history of 12 roots, the last with a chain of 8 below it, behind a real HistoryModel."""
    monkeypatch.setattr(history_items, "BATCH", 5)
    monkeypatch.setattr(history_items, "ROOT_BATCH", 5)
    settings = Settings(data_dir)
    model = HistoryModel(settings)
    ws = model.workspace
    for n in range(12):
        ws.add_node(_node(ws, None, f"root {n} lighthouse"))
    parent = ws.tree.roots()[-1].id
    for n in range(8):
        node = _node(ws, parent, f"chain {n} harbour" + (" dusk" if n == 6 else ""))
        ws.add_node(node)
        parent = node.id
    yield model
    model.close()


def _model(history, *, checked=True):
    """The item model, watched by Qt's own model tester (which also fetches every row) unless ``checked`` is off."""
    model = HistoryItemModel(_Session(history))
    if checked:
        model.tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    return model


def _ids(model, parent=NO_INDEX):
    return [model.data(model.index(r, 0, parent), Qt.ItemDataRole.UserRole) for r in range(model.rowCount(parent))]


def _no_model_warnings(qtlog):
    assert not [r.message for r in qtlog.records if "QAbstractItemModelTester" in r.message or "FAIL" in r.message]


def _layout(model, parent=NO_INDEX):
    """Every row and the rows nested under it, as (id, [...]); fetches all rows, as scrolling to the end does."""
    while model.has_more(parent):
        model.fetch_more(parent)
    indexes = [model.index(r, 0, parent) for r in range(model.rowCount(parent))]
    return [(model.node_at(i).id, _layout(model, i)) for i in indexes]


def test_a_chain_reads_down_one_column_and_only_a_branch_is_indented():
    # r1 -> a -> b -> c, with a branch d -> e made from a, and a second take f made from r1 itself.
    kids = {None: ["r1", "r2"], "r1": ["a", "f"], "a": ["b", "d"], "b": ["c"], "d": ["e"], "r2": []}
    rows = line_rows(kids)
    assert rows == {None: ["r1", "r2"], "r1": ["a", "b", "c", "f"], "a": ["d", "e"]}
    assert run_from("a", kids) == ["a", "b", "c"] and rows_under("a", kids, is_root=False) == ["d", "e"]


def test_rows_come_in_batches_newest_root_first(history, qtbot, qtlog):
    model = _model(history, checked=False)
    roots = [n.id for n in history.tree.roots()]
    assert _ids(model) == roots[::-1][:5]  # a screenful, newest first
    assert model.has_more(QModelIndex())
    model.fetch_more(QModelIndex())
    model.fetch_more(QModelIndex())
    assert _ids(model) == roots[::-1] and not model.has_more(QModelIndex())
    chain_root = model.index(0, 0)
    chain = [n.id for n in history.tree.path_to_root(history.tree.subtree_ids(roots[-1])[-1])][1:]
    assert len(chain) == 8 and _ids(model, chain_root) == chain[:5]  # the chain in one column, a batch at a time
    assert model.has_more(chain_root) and not model.hasChildren(model.index(1, 0, chain_root))
    # Asking for a deep, not yet handed out node hands the view the rows down to it.
    fresh = _model(history, checked=False)
    index = fresh.node_index(roots[0])
    assert index.isValid() and fresh.node_at(index).id == roots[0] and fresh.rowCount() == 12
    index = fresh.node_index(chain[-1])
    assert fresh.node_at(index).id == chain[-1] and index.row() == 7 and fresh.rowCount(index.parent()) == 8
    _model(history)  # Qt's model tester walks every row handed out without a complaint
    _no_model_warnings(qtlog)


def test_a_star_a_result_and_a_delete_change_single_rows(history, qtbot, qtlog):
    model = _model(history)
    resets, inserted, changed = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((model.node_at(parent), first, last)))
    model.dataChanged.connect(lambda top, bottom, roles: changed.append(model.node_at(top).id))

    root = history.tree.roots()[-1]
    history.set_starred(root.id, True)
    assert changed == [root.id]
    assert model.data(model.node_index(root.id)).startswith("★")

    ws, tree = history.workspace, history.tree
    chain = tree.path_to_root(tree.subtree_ids(root.id)[-1])[1:]  # the root's eight passes
    model.node_index(chain[-1].id)  # scrolled to the chain's end
    inserted.clear()
    next_pass = _node(ws, chain[-1].id, "the next pass")
    history.add_nodes([next_pass])
    assert inserted == [(root, 8, 8)]  # below its parent, in the same column
    branch = _node(ws, chain[3].id, "a branch")
    history.add_nodes([branch])
    assert inserted[-1] == (chain[3], 0, 0)  # nested under the pass it was made from
    assert model.data(model.node_index(branch.id)).startswith("↳ ")
    new_root = _node(ws, None, "a new root")
    history.add_nodes([new_root])
    assert inserted[-1] == (None, 0, 0) and _ids(model)[0] == new_root.id

    later = _node(ws, chain[3].id, "a later branch")
    grandchild = _node(ws, branch.id, "made from the branch")
    history.add_nodes([later, grandchild])
    fork = model.node_index(chain[3].id)
    assert _ids(model, fork) == [branch.id, grandchild.id, later.id]
    held = {n.id: QPersistentModelIndex(model.node_index(n.id)) for n in (branch, grandchild, later)}
    history.delete(branch.id)  # the branch goes; the row below it moves up into its place
    assert _ids(model, fork) == [later.id]
    assert not held[branch.id].isValid() and not held[grandchild.id].isValid()
    assert held[later.id].row() == 0 and model.node_at(QModelIndex(held[later.id])).id == later.id

    # Deleting the pass that continued chain[3] hands the chain on to its other child, in the same column.
    history.delete(chain[4].id)
    root_index = model.node_index(root.id)
    assert _ids(model, root_index) == [n.id for n in chain[:4]] + [later.id]
    assert held[later.id].parent() == root_index and held[later.id].row() == 4
    assert not model.hasChildren(model.node_index(chain[3].id))
    assert not model.data(QModelIndex(held[later.id])).startswith("↳")  # now the chain's next pass
    assert resets == []
    _no_model_warnings(qtlog)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rows_after_any_changes_are_the_rows_a_restart_shows(history, qtbot, qtlog, seed):
    import random

    rng = random.Random(seed)
    walked, lazy = _model(history), _model(history, checked=False)  # every row handed out / as few as can be
    filtered = _model(history, checked=False)
    filtered.set_filter("dusk")
    ws = history.workspace
    for step in range(60):
        ids = [n.id for n in history.tree]
        roll = rng.random()
        if roll < 0.25 and len(ids) > 3:
            history.delete(rng.choice(ids[1:]))
        elif roll < 0.35:
            history.set_starred(rng.choice(ids), True)
        else:
            parent = None if roll > 0.95 else rng.choice(ids)
            history.add_nodes([_node(ws, parent, f"step {step}" + (" dusk" if rng.random() < 0.3 else ""))])
        assert _layout(walked) == _layout(_model(history, checked=False)), step
    assert _layout(lazy) == _layout(_model(history, checked=False))
    again = _model(history, checked=False)
    again.set_filter("dusk")
    assert _layout(filtered) == _layout(again)
    _no_model_warnings(qtlog)


def test_the_filter_keeps_matches_and_greys_their_ancestors(history, qtbot, qtlog):
    # Qt's model tester fetches rows from inside its own reset handler, which it then reports: not checked here.
    model = _model(history, checked=False)
    counts = []
    model.filter_changed.connect(lambda matched, shown: counts.append((matched, shown)))
    model.set_filter("harbour dusk")
    match = next(n for n in history.tree if "dusk" in n.params["prompt"])
    chain = history.tree.path_to_root(match.id)
    assert counts == [(1, len(chain))]
    assert _ids(model) == [chain[0].id]  # only the branch that leads to the match
    for node in chain:
        index = model.node_index(node.id)
        grey = model.data(index, Qt.ItemDataRole.ForegroundRole)
        assert (grey == QColor(theme.tone("markup"))) is (node.id != match.id)  # dimmed, still 4.5:1
    assert model.rowCount(model.node_index(match.id)) == 0  # the chain below the match is not shown

    history.set_starred(chain[1].id, True)
    model.set_filter("is:starred")
    assert counts[-1] == (1, 2) and _ids(model) == [chain[0].id]
    history.set_starred(chain[1].id, False)  # no longer a match: it leaves the filtered tree
    assert _ids(model) == [] and counts[-1] == (0, 0)

    assert model.set_filter("lighthouse size:12 after:yesterday").problems == (
        "“size:12” needs a size like size:1024x768, size:>1000 or size:<600",
        "“after:yesterday” needs a date like after:2026-11-01")
    assert counts[-1][0] == 12  # the readable part still applies
    model.set_filter("")
    assert counts[-1] == (-1, len(history.tree)) and model.rowCount() == 5
    _no_model_warnings(qtlog)


def test_thumbnails_load_off_the_ui_thread_when_a_row_is_shown(history, qtbot):
    model = _model(history, checked=False)  # the tester asks for the first row's icon: its thumbnail would race
    newest = history.tree.roots()[-1]
    index = model.node_index(newest.id)
    thumb = history.workspace.folder / "thumbs" / f"{newest.id}.png"
    assert not thumb.exists()
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        assert model.data(index, Qt.ItemDataRole.DecorationRole) is None  # asked for, not waited for
    icon = model.data(index, Qt.ItemDataRole.DecorationRole)
    assert not icon.isNull() and thumb.exists()
    model.thumbnails.wait()


def test_the_panel_filter_box_narrows_the_tree(open_window, data_dir, qtbot):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    first = _node(ws, None, "a red barn")
    ws.add_node(first)
    for prompt in ("a blue lake", "a red kite"):
        ws.add_node(_node(ws, first.id, prompt))
    ws.close()
    window = open_window([])
    view = window.findChild(QTreeView, "historyView")
    box = window.history_panel.filter_edit
    assert box.objectName() == "historyFilter"
    qtbot.keyClicks(box, "kite")
    qtbot.waitUntil(window.history_panel.filter_label.isVisible)
    model = view.model()
    assert model.rowCount() == 1 and _ids(model, model.index(0, 0)) == [ws.tree.children(first.id)[1].id]
    assert view.isExpanded(model.index(0, 0))
    assert window.history_panel.filter_label.text() == "1 match (with 1 ancestors greyed)"
    box.clear()
    window.history_panel.apply_filter()
    assert model.rowCount(model.index(0, 0)) == 2 and not window.history_panel.filter_label.isVisible()


def test_branches_open_and_rows_come_as_they_scroll_near_and_a_delete_moves_the_selection_up(
        open_window, data_dir, qtbot, monkeypatch):
    monkeypatch.setattr(history_items, "ROOT_BATCH", 5)
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    for n in range(12):  # twelve roots, each with a chain of thirty: one branch fills more than the view
        parent = None
        for step in range(30):
            node = _node(ws, parent, f"root {n} step {step}")
            ws.add_node(node)
            parent = node.id
    ws.close()
    window = open_window([])
    view, history = window.history_panel.view, window.model.history
    model, bar = view.model(), view.verticalScrollBar()
    roots = history.tree.roots()[::-1]  # newest first, as the tree shows them
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    QApplication.processEvents()
    assert view.isExpanded(model.node_index(roots[0].id))  # the newest branch is open
    assert not view.isExpanded(model.node_index(roots[4].id))  # far below the view: folded until scrolled near
    assert model.rowCount() == 5  # the end of the rows is far away: nothing more fetched

    chain = history.tree.path_to_root(history.tree.children(history.tree.children(roots[0].id)[0].id)[0].id)
    history.select(chain[2].id)
    qtbot.waitUntil(lambda: model.node_at(view.currentIndex()).id == chain[2].id)
    history.delete(chain[2].id)  # the selected node and everything made from it
    for _ in range(3):
        QApplication.processEvents()
    assert history.selected_id == chain[1].id  # the selection moved to the parent
    assert model.node_at(view.currentIndex()).id == chain[1].id
    assert _ids(model, model.node_index(roots[0].id))[:3] == [chain[1].id]  # the rest of the chain is gone at once
    assert model.rowCount() == 5  # a change hands the view no more rows than it had

    for _ in range(50):  # scrolling down: the next branches open, then the next roots come
        bar.setValue(bar.maximum())
        QApplication.processEvents()
    assert view.isExpanded(model.node_index(roots[4].id))
    assert model.rowCount() > 5 and _ids(model)[5:10] == [r.id for r in roots[5:10]]


def test_selecting_a_node_shows_its_picture_once_read(open_window, data_dir, qtbot):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    first = _node(ws, None, "a red barn")
    ws.add_node(first)
    second = _node(ws, first.id, "a red barn at dusk, wide")
    ws.add_node(second)
    ws.close()
    window = open_window([])
    history, canvas = window.model.history, window.canvas
    for node in (second, first, second):
        history.select(node.id)
        # At once: the picture's caption and size, and its pixels read off the UI thread.
        assert window.model.source_node == node.id and canvas.caption.startswith("a red barn")
        assert window.model.init_image.size == (16, 16)
        with Image.open(history.workspace.image_path(node)) as picture:
            expected = picture.convert("RGB").getpixel((3, 3))
        qtbot.waitUntil(lambda: canvas.image is not None and canvas.image.size().width() == 16)
        shown = canvas.image.pixelColor(3, 3)
        assert (shown.red(), shown.green(), shown.blue()) == expected  # the node's own picture, each time
    window.history_panel.compare_button.setChecked(True)  # before/after: the parent left, the node right
    assert canvas.comparing and canvas.image.pixelColor(3, 3).red() == expected[0]


def test_stepping_through_big_results_never_waits_for_their_pictures(open_window, data_dir, qtbot, monkeypatch):
    from desktop.model import init_image_loading

    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    nodes = [_node(ws, None, f"take {n}") for n in range(3)]
    for node in nodes:
        ws.add_node(node)
    damaged = _node(ws, None, "a damaged file")
    ws.add_node(damaged)
    ws.close()
    window = open_window([])
    history, canvas = window.model.history, window.canvas
    reads = []
    slow = init_image_loading.load_image_noting

    def read_slowly(path):  # a big picture: the read takes a while, and must not happen on the UI thread
        import threading

        reads.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.3)
        return slow(path)

    monkeypatch.setattr(init_image_loading, "load_image_noting", read_slowly)
    for node in nodes:
        history.select(node.id)
        assert not window.model.init_image.loaded  # the window answers while the picture is read
        assert canvas.caption.startswith(f"take {nodes.index(node)}")  # the caption says which, at once
    qtbot.waitUntil(lambda: bool(reads) and canvas.image.size().width() == 16, timeout=5000)
    assert not any(reads)  # every read off the UI thread
    assert window.model.init_image.path == history.workspace.image_path(nodes[-1])  # the last one chosen shows

    path = history.workspace.image_path(damaged)
    data = path.read_bytes()
    path.write_bytes(data[:data.index(b"IDAT") + 8])  # cut off since it was made: the header reads, the pixels not
    errors = []
    window.model.error_raised.connect(lambda kind, message: errors.append(message))
    history.select(damaged.id)
    assert errors == []  # found out off the UI thread, then said
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == [f"{path.name} is damaged or incomplete and cannot be opened; try saving it again."]


def test_a_history_change_that_cannot_be_written_is_said_once(history, qtbot):
    journal = history.workspace.folder / "journal.jsonl"
    history.workspace.close()
    journal.unlink(missing_ok=True)
    journal.mkdir()  # in the way: no change can be written from now on
    said = []
    history.error_raised.connect(lambda kind, message: said.append(message))
    newest = history.tree.roots()[-1].id
    history.set_starred(newest, True)
    history.set_starred(newest, False)
    assert len(said) == 1 and said[0].startswith("Restyle cannot save history changes in")
    assert "The pictures are saved" in said[0]


def test_clearing_the_filter_shows_the_whole_tree_as_it_is_now(history, qtbot, qtlog):
    model = _model(history, checked=False)
    before = _layout(model)
    model.set_filter("dusk")
    model.set_filter("harbour dusk")
    model.set_filter("")
    assert _layout(model) == before  # the rows kept from before the filter
    model.set_filter("harbour")
    ws = history.workspace
    added = _node(ws, history.tree.roots()[0].id, "made while filtered")  # not a match: not shown yet
    history.add_nodes([added])
    model.set_filter("")
    assert _layout(model) == _layout(_model(history, checked=False))  # with the result made meanwhile
    assert added.id in str(_layout(model))
