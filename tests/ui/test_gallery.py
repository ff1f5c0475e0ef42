"""The gallery tab: results as a grid, sorted and filtered, a double-click puts the picture on the canvas."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QWidget

from desktop.core.history import Node
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace


def _add(ws: Workspace, parent, prompt: str, created: str, kind: str = "generation") -> Node:
    node_id = ws.new_node_id()
    node = Node(node_id, parent, kind, f"{node_id}.png", created, 24, 16, {"prompt": prompt, "seed": 3}, seed=3)
    write_node_image(ws.folder, node, Image.new("RGB", (24, 16), (10 * len(prompt) % 255, 90, 40)), None)
    ws.add_node(node)
    return node


def _finish_run(history, parent: str, prompt: str) -> Node:
    """A result arriving in the open window, as the worker hands one over (its picture already written)."""
    node_id = history.workspace.new_node_id()
    node = Node(node_id, parent, "generation", f"{node_id}.png", "2026-11-05T10:00:00+00:00", 24, 16,
                {"prompt": prompt}, seed=4)
    write_node_image(history.workspace.folder, node, Image.new("RGB", (24, 16)), None)
    history.add_nodes([node])
    return node


def _shown(window) -> list[str]:
    model = window.gallery_panel.view.model()
    return [model.data(model.index(r), Qt.ItemDataRole.UserRole) for r in range(model.rowCount())]


def test_the_gallery_sorts_filters_and_opens_a_result(open_window, data_dir, qtbot):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    photo = _add(ws, None, "", "2026-11-01T10:00:00+00:00", kind="import")
    old = _add(ws, photo.id, "a stone bridge", "2026-11-02T10:00:00+00:00")
    mid = _add(ws, old.id, "a stone bridge at night", "2026-11-03T10:00:00+00:00")
    new = _add(ws, None, "a glass tower", "2026-11-04T10:00:00+00:00")
    ws.set_starred(old.id, True)
    ws.close()
    window = open_window([])
    gallery = window.gallery_panel
    assert window.findChild(QListView, "galleryView") is gallery.view
    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))  # the tab, as the artist clicks it
    assert _shown(window) == [new.id, mid.id, old.id]  # newest first; the imported photo is not a result
    assert gallery.count_label.text() == "3 results"

    gallery.sort_combo.setCurrentText("Starred first")
    assert _shown(window) == [old.id, new.id, mid.id]
    gallery.sort_combo.setCurrentText("Oldest first")
    assert _shown(window) == [old.id, mid.id, new.id]

    qtbot.keyClicks(gallery.filter_edit, "bridge")
    qtbot.waitUntil(lambda: gallery.count_label.text() == "2 results")
    assert _shown(window) == [old.id, mid.id]
    assert window.history_panel.filter_edit.text() == "bridge"  # one filter for the tree and the grid

    # A result made while the gallery is shown joins it at once.
    history = window.model.history
    newer = _finish_run(history, mid.id, "a stone bridge in fog")
    assert _shown(window) == [old.id, mid.id, newer.id]

    index = gallery.view.model().index(1)
    gallery.view.doubleClicked.emit(index)
    assert history.selected_id == mid.id
    assert "night" in window.canvas.caption  # the picture is on the canvas


def test_while_shown_a_new_result_joins_first_and_a_deleted_one_leaves_without_sorting_again(
        open_window, data_dir, monkeypatch):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    photo = _add(ws, None, "", "2026-11-01T10:00:00+00:00", kind="import")
    first = _add(ws, photo.id, "a stone bridge", "2026-11-02T10:00:00+00:00")
    second = _add(ws, first.id, "a glass tower", "2026-11-03T10:00:00+00:00")
    ws.close()
    window = open_window([])
    gallery = window.gallery_panel
    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))
    assert _shown(window) == [second.id, first.id]
    rebuilds = []
    monkeypatch.setattr(gallery.model, "rebuild", lambda: rebuilds.append(1))

    history = window.model.history
    newer = _finish_run(history, second.id, "a tower in fog")
    assert _shown(window) == [newer.id, second.id, first.id]  # newest first, at once
    assert gallery.count_label.text() == "3 results"

    history.delete(second.id)  # its branch: the tower and the tower in fog
    assert _shown(window) == [first.id]
    assert gallery.count_label.text() == "1 result"
    assert rebuilds == []  # neither change sorted the whole history again


def test_oldest_first_a_new_result_joins_at_the_end(open_window, data_dir, monkeypatch):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    photo = _add(ws, None, "", "2026-11-01T10:00:00+00:00", kind="import")
    first = _add(ws, photo.id, "a stone bridge", "2026-11-02T10:00:00+00:00")
    ws.close()
    window = open_window([])
    gallery = window.gallery_panel
    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))
    gallery.sort_combo.setCurrentText("Oldest first")
    rebuilds = []
    monkeypatch.setattr(gallery.model, "rebuild", lambda: rebuilds.append(1))
    newer = _finish_run(window.model.history, first.id, "a bridge in fog")
    assert _shown(window) == [first.id, newer.id] and rebuilds == []


def test_every_cell_shows_its_whole_thumbnail_though_the_first_was_sized_before_it_loaded(open_window, data_dir,
                                                                                         qtbot):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    nodes = []
    for n in range(4):
        node_id = ws.new_node_id()
        node = Node(node_id, None, "generation", f"{node_id}.png", f"2026-11-0{n + 1}T10:00:00+00:00", 96, 96,
                    {"prompt": f"take {n}", "seed": n}, seed=n)
        write_node_image(ws.folder, node, Image.new("RGB", (96, 96), (200, 30, 30)), None)  # red all over
        ws.add_node(node)
        nodes.append(node)
    ws.close()
    window = open_window([])
    gallery = window.gallery_panel
    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))  # sized now, thumbnails not in
    model = gallery.view.model()
    qtbot.waitUntil(lambda: all(model.data(model.index(r), Qt.ItemDataRole.DecorationRole) is not None
                                for r in range(4)), timeout=10_000)
    gallery.view.viewport().repaint()
    shot = gallery.view.viewport().grab().toImage()
    for row in range(4):
        cell = gallery.view.visualRect(model.index(row))
        colours = [shot.pixelColor(cell.center().x(), y) for y in range(cell.top(), cell.bottom())]
        red = [c for c in colours if c.red() > 150 and c.green() < 80]
        assert len(red) >= 90, (row, len(red))  # the 96-pixel thumbnail whole, not a squashed strip
