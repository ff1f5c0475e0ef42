"""File ▸ Storage…: sizes per workspace, the latent cap, and purges that never touch a picture."""

from __future__ import annotations

from PIL import Image

from desktop.core.history import Node, timestamp
from desktop.core.node_files import write_node_image
from desktop.core.storage import workspace_size
from desktop.core.workspace import Workspace


def _fill(folder, count: int, latent_bytes: int) -> Workspace:
    ws, _ = Workspace.open(folder)
    for n in range(count):
        node_id = ws.new_node_id()
        node = Node(node_id, None, "generation", f"{node_id}.png", timestamp(), 32, 32, {"prompt": f"p{n}"}, seed=n,
                    latent=f"{node_id}.safetensors")
        (ws.folder / "latents" / node.latent).write_bytes(b"L" * latent_bytes)
        write_node_image(ws.folder, node, Image.new("RGB", (32, 32), (n * 40 % 255, 9, 9)), None)
        ws.add_node(node)
        ws.thumbnail_path(node)
    return ws


def test_storage_shows_each_workspace_and_purges_without_touching_pictures(open_window, data_dir, qtbot):
    other = _fill(data_dir / "workspaces" / "portraits", 2, 500)
    other.close()
    _fill(data_dir / "workspaces" / "default", 3, 1000).close()
    window = open_window([])
    history = window.model.history
    pictures = sorted(p.read_bytes() for p in (history.workspace.folder / "images").iterdir())

    dialog = window.storage_dialog()
    assert dialog.objectName() == "storageDialog"
    qtbot.waitUntil(lambda: "in all" in dialog.status_label.text(), timeout=10_000)
    rows = {dialog.table.item(r, 0).text(): [dialog.table.item(r, c).text() for c in range(1, 6)]
            for r in range(dialog.table.rowCount())}
    assert set(rows) == {"default (open)", "portraits"}
    assert rows["default (open)"][1] == "3 KB" and rows["portraits"][1] == "1000 B"  # the latents column

    dialog.cap_spin.setValue(0.0)  # a cap of nothing: every cached latent of the open workspace goes
    dialog.cap_spin.editingFinished.emit()
    assert history.settings.latent_budget_bytes == 0
    assert all(n.latent is None for n in history.tree)
    assert workspace_size(history.workspace.folder).latents == 0

    asked = []
    dialog.confirm = lambda question: asked.append(question) or True
    dialog.purge_thumbs_button.click()
    qtbot.waitUntil(lambda: not dialog.job.isRunning(), timeout=10_000)
    assert "thumbnail" in asked[0] and not list((history.workspace.folder / "thumbs").iterdir())
    assert workspace_size(other.folder).latents == 1000  # another workspace is left alone
    assert sorted(p.read_bytes() for p in (history.workspace.folder / "images").iterdir()) == pictures
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.job.isRunning(), timeout=10_000)


def test_purging_latents_forgets_them_across_a_reopen(tmp_path):
    ws = _fill(tmp_path / "ws", 3, 100)
    (ws.folder / "latents" / "orphan.safetensors").write_bytes(b"x")  # left by a crash, named by no node
    assert ws.purge_latents() == 3
    assert not list((ws.folder / "latents").iterdir())
    assert ws.flush()
    again, report = Workspace.open(ws.folder)
    assert report.message is None and all(n.latent is None for n in again.tree)
    assert len(list((again.folder / "images").iterdir())) == 3
