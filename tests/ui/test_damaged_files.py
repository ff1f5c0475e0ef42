"""A damaged or crafted file in the data folder never stops the window: it starts, shows the history it could
read, and a bar names what was kept aside. Each case here stopped the app (abort or segfault) before."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QTreeView

from desktop.core.history import Node
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace

NODE = {"id": "abc123", "parent": None, "kind": "generation", "image": "abc123.png",
        "created": "2026-01-01T00:00:00+00:00", "width": 8, "height": 8, "seed": 1,
        "params": {"model": "m", "prompt": "a cat", "strength": 0.5, "init_image": "x.png"}}


def _workspace(data_dir: Path) -> Path:
    folder = data_dir / "workspaces" / "default"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    return folder


def _index(data_dir: Path, *nodes: dict, picture: bool = True) -> Path:
    folder = _workspace(data_dir)
    for node in nodes:
        if picture:
            Image.new("RGB", (8, 8), (90, 30, 30)).save(folder / "images" / node["image"])
    (folder / "index.json").write_text(json.dumps({"version": 1, "nodes": list(nodes)}))
    return folder


def _started(open_window, qtbot):
    """Open the window, draw the whole history (thumbnails, captions, tooltips) and return it."""
    window = open_window()
    view = window.findChild(QTreeView, "historyView")
    view.expandAll()
    window.grab()  # paints every visible row: captions and thumbnails are asked for now
    model = view.model()
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        for role in range(4):
            model.data(index, role)
    qtbot.wait(10)
    assert window.isVisible()
    return window


def _banner(window) -> str:
    return window.error_banner.text if window.error_banner.isVisible() else ""


@pytest.mark.parametrize("params", [{"prompt": 5}, {"prompt": "x", "strength": "abc", "init_image": "a.png"},
                                    {"prompt": ["a"], "steps": {"x": 1}}, {"seed": True, "guidance_scale": "7"}])
def test_a_node_with_wrong_typed_settings_is_set_aside_and_the_window_starts(open_window, qtbot, data_dir, params):
    folder = _index(data_dir, {**NODE, "params": params})
    window = _started(open_window, qtbot)
    assert "history index was damaged" in _banner(window)
    assert list(folder.glob("index.json.damaged-*"))  # kept, not overwritten


@pytest.mark.parametrize("name", ["index", "queue"])
def test_deeply_nested_json_is_set_aside_and_the_window_starts(open_window, qtbot, data_dir, name):
    path = _workspace(data_dir) / "index.json" if name == "index" else data_dir / "queue.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    window = _started(open_window, qtbot)
    assert "damaged" in _banner(window)
    assert list(path.parent.glob(f"{path.name}.damaged-*"))


@pytest.mark.parametrize("content", [
    "[1, 2]",
    json.dumps({"jobs": {"a": 1}}),
    json.dumps({"jobs": [5, {"id": "j", "kind": "generate", "label": 7, "params": {}}], "groups": [{"id": 1}, 3]}),
    json.dumps({"jobs": [{"id": "j", "kind": "generate", "label": "x", "params": {"prompt": 3}}]}),
])
def test_a_queue_of_the_wrong_shape_is_set_aside_and_the_window_starts(open_window, qtbot, data_dir, content):
    (data_dir / "queue.json").write_text(content)
    window = _started(open_window, qtbot)
    assert "saved queue was damaged" in _banner(window)
    assert list(data_dir.glob("queue.json.damaged-*"))


def test_a_truncated_queue_keeps_its_waiting_runs_aside_and_says_so(open_window, qtbot, data_dir):
    job = {"id": "j1", "kind": "generate", "label": "a cat", "params": {"model": "m", "prompt": "a cat"}}
    whole = json.dumps({"version": 1, "paused": False, "jobs": [job, {**job, "id": "j2"}], "groups": []})
    (data_dir / "queue.json").write_text(whole[: len(whole) // 2])
    window = _started(open_window, qtbot)
    assert "saved queue was damaged" in _banner(window)
    kept = list(data_dir.glob("queue.json.damaged-*"))
    assert kept and kept[0].read_text() == whole[: len(whole) // 2]
    window.model.jobs.queue.set_paused(True)  # any change saves the queue: the damaged file is not that one
    assert kept[0].read_text() == whole[: len(whole) // 2]


def test_a_damaged_picture_without_a_thumbnail_shows_a_mark_and_the_window_starts(open_window, qtbot, data_dir):
    folder = _index(data_dir, NODE, picture=False)
    (folder / "images" / NODE["image"]).write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    window = _started(open_window, qtbot)
    assert "abc123" in window.model.history.tree
    assert not (folder / "thumbs" / "abc123.png").exists()


def test_a_shared_workspace_with_an_undecodable_picture_opens(open_window, qtbot, data_dir, tmp_path):
    source = tmp_path / "source"
    ws, _ = Workspace.open(source)
    node = Node(**NODE)
    write_node_image(source, node, Image.new("RGB", (8, 8)), None)
    ws.add_node(node)
    shared = tmp_path / "shared.restyle"
    ws.export_zip(shared)
    # Replace the picture inside the zip with bytes no decoder reads, as a damaged download would.
    with zipfile.ZipFile(shared) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    entries[f"images/{node.image}"] = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
    with zipfile.ZipFile(shared, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    window = _started(open_window, qtbot)
    assert window.model.history.open_file(shared)
    window.findChild(QTreeView, "historyView").expandAll()
    window.grab()
    window.close()
    again = _started(open_window, qtbot)  # and every later start
    assert node.id in again.model.history.tree


def test_a_garbage_window_state_is_ignored(open_window, qtbot, data_dir):
    (data_dir / "settings.ini").write_text("[window]\ngeometry=garbage\nstate=@ByteArray(nonsense)\n")
    _started(open_window, qtbot)


@pytest.mark.parametrize("where", ["file", "unplugged"])
def test_a_saved_workspace_that_is_a_file_or_gone_opens_the_default_and_says_so(open_window, qtbot, data_dir,
                                                                                 tmp_path, where):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # A folder under a file cannot be made, as a folder on a drive that is not plugged in.
    saved = blocker if where == "file" else blocker / "drive" / "history"
    (data_dir / "settings.ini").write_text(f"[history]\nworkspace={saved}\n")
    _index(data_dir, NODE)
    window = _started(open_window, qtbot)
    assert "opened instead" in _banner(window)
    assert NODE["id"] in window.model.history.tree  # the default history
