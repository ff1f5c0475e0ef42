"""Collections: several workspaces, switched from the File menu without a restart, each with its own queue;
a branch copied or moved to another workspace with its pictures."""

from __future__ import annotations

from PIL import Image

from desktop.core.history import Node, timestamp
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace


def _add(ws: Workspace, parent, prompt: str) -> Node:
    node_id = ws.new_node_id()
    node = Node(node_id, parent, "generation", f"{node_id}.png", timestamp(), 16, 16, {"prompt": prompt}, seed=1,
                latent=f"{node_id}.safetensors")
    (ws.folder / "latents" / node.latent).write_bytes(b"latents of " + prompt.encode())
    write_node_image(ws.folder, node, Image.new("RGB", (16, 16), (len(prompt) * 7 % 255, 20, 20)), None)
    ws.add_node(node)
    return node


def test_workspaces_switch_without_a_restart_and_keep_their_own_queue(open_window, data_dir, qtbot, tiny_model):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    root = _add(ws, None, "a harbour")
    ws.close()
    window = open_window(["--model", str(tiny_model)])
    history, jobs, menu = window.model.history, window.model.jobs, window.workspace_menu
    jobs.pause()
    window.model.update_params(prompt="a lighthouse")
    assert jobs.enqueue_batch(2)  # two runs waiting in the default workspace's queue
    assert len(jobs.queue.jobs) == 2

    menu.ask_name = lambda: "Portraits: 2026!"
    assert menu.new_workspace()
    assert history.workspace.folder == data_dir / "workspaces" / "Portraits 2026"
    assert len(history.tree) == 0 and window.history_panel.item_model.rowCount() == 0
    assert jobs.queue.jobs == []  # its own, empty queue
    menu.refresh()
    entries = [a.text() for a in menu.menu.actions() if a.isCheckable()]
    assert entries == ["default", "Portraits 2026"]
    assert [a.isChecked() for a in menu.menu.actions() if a.isCheckable()] == [False, True]

    menu.menu.actions()[0].trigger()  # back to "default" from the menu
    assert history.workspace.folder == data_dir / "workspaces" / "default"
    assert [n.id for n in history.tree] == [root.id]
    assert len(jobs.queue.jobs) == 2 and jobs.queue.paused  # its queue came back, paused


def test_a_branch_is_copied_or_moved_with_its_files(open_window, data_dir, qtbot):
    ws, _ = Workspace.open(data_dir / "workspaces" / "default")
    root = _add(ws, None, "a harbour")
    child = _add(ws, root.id, "a harbour at dusk")
    grandchild = _add(ws, child.id, "a harbour at night")
    other = _add(ws, root.id, "a harbour in fog")
    ws.close()
    Workspace.open(data_dir / "workspaces" / "prints")[0].close()
    window = open_window([])
    history, menu = window.model.history, window.workspace_menu
    menu.ask_target = lambda names, move: "prints"
    history.select(child.id)

    assert menu.send_branch(move=False)
    assert child.id in history.tree  # a copy: the branch stays here
    assert "Copied 2 images to “prints”" in window.status_label.text()
    assert menu.send_branch(move=False)  # copied again: the second copy gets fresh ids
    assert menu.send_branch(move=True)
    assert child.id not in history.tree and grandchild.id not in history.tree and other.id in history.tree
    assert history.workspace.flush() and not history.workspace.image_path(root).with_name(child.image).exists()

    prints, report = Workspace.open(data_dir / "workspaces" / "prints")
    assert report.message is None and len(prints.tree) == 6
    roots = prints.tree.roots()
    assert len(roots) == 3 and all(r.params["prompt"] == "a harbour at dusk" for r in roots)
    for top in roots:
        (below,) = prints.tree.children(top.id)
        assert below.params["prompt"] == "a harbour at night"
        assert prints.latent_path(below).read_bytes() == b"latents of a harbour at night"
    assert len({n.id for n in prints.tree}) == 6
    # Rebuilt from the pictures alone (index and journal lost), the copies still hold together.
    (prints.folder / "index.json").write_bytes(b"garbage")
    (prints.folder / "journal.jsonl").unlink()
    rebuilt, report = Workspace.open(prints.folder)
    assert report.recovered == 6 and len(rebuilt.tree.roots()) == 3
