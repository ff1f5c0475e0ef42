"""The history folder on disk: what survives a reopen, a crash, a damaged index and a trip through a zip."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.history import HistoryTree, Node, timestamp
from desktop.core.metadata import png_info, read_parameters
from desktop.core.node_files import NODE_CHUNK, write_node_image
from desktop.core.workspace import OpenReport, Workspace

REPO = Path(__file__).resolve().parents[2]
PARAMS_TEXT = "a lighthouse\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 7, Size: 16x16"


def add_generation(ws: Workspace, parent: str | None, color=(90, 120, 200), latent: bytes | None = None) -> Node:
    """A finished generation as the worker would store it: picture first, then the index."""
    node_id = ws.new_node_id()
    node = Node(id=node_id, parent=parent, kind="generation", image=f"{node_id}.png", created=timestamp(),
                width=16, height=16, params={"model": "sd15", "prompt": "a lighthouse", "seed": 7}, seed=7,
                chain_mode="pixels" if parent else None)
    if latent is not None:
        node.latent = f"{node_id}.safetensors"
        (ws.folder / "latents" / node.latent).write_bytes(latent)
    write_node_image(ws.folder, node, Image.new("RGB", (16, 16), color), PARAMS_TEXT)
    ws.add_node(node)
    return node


@pytest.fixture()
def ws(tmp_path) -> Workspace:
    workspace, report = Workspace.open(tmp_path / "history")
    assert report.message is None
    return workspace


@pytest.fixture()
def chain(ws, make_image):
    """photo → a → b, and a second branch photo → c."""
    source = make_image("photo.png", (16, 16))
    photo = ws.add_import(source, Image.open(source))
    a = add_generation(ws, photo.id)
    b = add_generation(ws, a.id, color=(10, 200, 10))
    c = add_generation(ws, photo.id, color=(200, 10, 10))
    return photo, a, b, c


def ids(ws: Workspace) -> list[str]:
    return [n.id for n in ws.tree]


def test_a_reopened_workspace_has_the_same_tree(ws, chain):
    ws.set_starred(chain[2].id, True)
    again, report = Workspace.open(ws.folder)
    assert report == OpenReport(0, 0, False, None)
    assert again.tree.to_list() == ws.tree.to_list()
    assert again.tree.get(chain[2].id).starred
    assert read_parameters(again.image_path(chain[1])) == PARAMS_TEXT  # other tools still read the settings


def test_importing_copies_the_picture_with_its_settings(ws, tmp_path):
    source = tmp_path / "mine.png"
    Image.new("RGB", (24, 16), (1, 2, 3)).save(source, pnginfo=png_info(PARAMS_TEXT))
    node = ws.add_import(source, Image.open(source))
    source.unlink()  # the user may move or delete the original afterwards
    copy = ws.image_path(node)
    assert copy.parent == ws.folder / "images"
    with Image.open(copy) as image:
        assert image.size == (24, 16) and image.getpixel((3, 3)) == (1, 2, 3)
        assert NODE_CHUNK in image.info
    assert (node.kind, node.parent, node.source, node.width) == ("import", None, str(source), 24)
    assert read_parameters(copy) == PARAMS_TEXT


def test_thumbnails_are_made_on_demand(ws, chain):
    path = ws.thumbnail_path(chain[0], size=8)
    with Image.open(path) as thumb:
        assert max(thumb.size) == 8
    assert ws.thumbnail_path(chain[0], size=8) == path
    assert ws.thumbnail_path(chain[0].id).name == f"{chain[0].id}.png"


def test_deleting_a_branch_removes_its_files_and_keeps_the_rest(ws, chain):
    photo, a, b, c = chain
    ws.thumbnail_path(b)
    latent = ws.folder / "latents" / f"{b.id}.safetensors"
    latent.write_bytes(b"x" * 10)
    b.latent = latent.name
    removed = ws.delete_subtree(a.id)
    assert {n.id for n in removed} == {a.id, b.id}
    assert ws.flush()  # the files go once the deletion is on disk
    for node in (a, b):
        assert not (ws.folder / "images" / node.image).exists()
        assert not (ws.folder / "thumbs" / f"{node.id}.png").exists()
    assert not latent.exists()
    assert ws.image_path(c).exists()
    again, report = Workspace.open(ws.folder)
    assert ids(again) == [photo.id, c.id] and report.message is None


def test_the_latent_budget_evicts_the_oldest_and_keeps_every_picture(ws):
    nodes = [add_generation(ws, None, latent=b"L" * 100) for _ in range(3)]
    assert ws.latent_bytes() == 300
    assert ws.enforce_latent_budget(150) == [nodes[0].id, nodes[1].id]
    assert ws.latent_bytes() == 100 and ws.latent_path(nodes[0]) is None
    assert sorted(p.name for p in (ws.folder / "latents").iterdir()) == [nodes[2].latent]
    assert all(ws.image_path(n).exists() for n in nodes)
    again, _ = Workspace.open(ws.folder)
    assert [n.latent for n in again.tree] == [None, None, nodes[2].latent]
    assert ws.enforce_latent_budget(1000) == []


def test_export_and_import_carry_the_whole_history(ws, chain, tmp_path):
    add_generation(ws, chain[2].id, latent=b"latent!")
    packed = ws.export_zip(tmp_path / "trip.restyle")
    opened, report = Workspace.import_zip(packed, tmp_path / "elsewhere")
    assert report.message is None
    assert opened.tree.to_list() == ws.tree.to_list()
    for node in ws.tree:
        assert opened.image_path(node).read_bytes() == ws.image_path(node).read_bytes()
    assert [p.name for p in (opened.folder / "latents").iterdir()] == [ws.tree.get(ids(ws)[-1]).latent]


@pytest.mark.parametrize("members", [{"notes.txt": b"hi"}, {"index.json": b"{}"}, {"images/x.png": b""}])
def test_a_zip_that_is_not_a_workspace_is_refused_with_a_sentence(tmp_path, members):
    bogus = tmp_path / "bogus.zip"
    with zipfile.ZipFile(bogus, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(RestyleError) as caught:
        Workspace.import_zip(bogus, tmp_path / "target")
    assert caught.value.kind is ErrorKind.BAD_INPUT
    message = caught.value.message
    assert message.startswith("bogus.zip is not a Restyle history file") and message.endswith(".")
    assert not (tmp_path / "target").exists()


def test_a_file_that_is_not_a_zip_and_a_zip_slip_are_refused(tmp_path):
    not_zip = tmp_path / "photo.restyle"
    not_zip.write_bytes(b"\x89PNG not really")
    with pytest.raises(RestyleError, match="cannot be read as a zip"):
        Workspace.import_zip(not_zip, tmp_path / "a")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("index.json", '{"version": 1, "nodes": []}')
        archive.writestr("images/../../escaped.png", b"boom")
    with pytest.raises(RestyleError, match="outside its folder"):
        Workspace.import_zip(evil, tmp_path / "b" / "ws")
    assert not list(tmp_path.rglob("escaped.png"))


def test_a_corrupt_index_is_rebuilt_from_the_pictures(ws, chain):
    (ws.folder / "index.json").write_bytes(os.urandom(200))
    again, report = Workspace.open(ws.folder)
    assert report.corrupt_index and report.recovered == 4 and report.dropped == 0
    assert report.message == "The history index was damaged; 4 images were recovered from their own metadata."
    assert sorted(ids(again)) == sorted(ids(ws))
    assert [n.id for n in again.tree.path_to_root(chain[2].id)] == [chain[0].id, chain[1].id, chain[2].id]
    assert list(ws.folder.glob("index.json.damaged-*"))  # the damaged file is kept, not overwritten
    assert Workspace.open(ws.folder)[1].message is None  # and the rebuilt index is good from now on


def test_an_index_of_the_wrong_shape_counts_as_corrupt(ws, chain):
    (ws.folder / "index.json").write_text('{"version": 1, "nodes": "everything"}')
    again, report = Workspace.open(ws.folder)
    assert report.corrupt_index and len(again.tree) == 4


def test_a_picture_saved_just_before_a_crash_is_recovered(ws, chain):
    orphan = Node(id=ws.new_node_id(), parent=chain[2].id, kind="generation", image="", created=timestamp(),
                  width=16, height=16)
    orphan.image = f"{orphan.id}.png"
    write_node_image(ws.folder, orphan, Image.new("RGB", (16, 16)), None)  # killed before add_node
    stale, fresh = ws.folder / "images" / ".old.png.1234.tmp", ws.folder / "images" / ".new.png.5678.tmp"
    for temp in (stale, fresh):
        temp.write_bytes(b"\x89PNG half-written")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    again, report = Workspace.open(ws.folder)
    assert (report.recovered, report.dropped, report.corrupt_index) == (1, 0, False)
    assert not stale.exists() and fresh.exists()  # a fresh one may belong to a writer still at work
    assert "recovered" in report.message
    assert again.tree.parent_of(orphan.id).id == chain[2].id


def test_an_entry_whose_picture_is_gone_is_dropped_and_its_children_move_up(ws, chain):
    photo, a, b, _c = chain
    ws.image_path(a).unlink()
    again, report = Workspace.open(ws.folder)
    assert (report.recovered, report.dropped) == (0, 1)
    assert report.message == "1 history entry was removed because its picture is missing."
    assert a.id not in again.tree and again.tree.parent_of(b.id).id == photo.id


CHILD = """
import random, sys
from PIL import Image
from desktop.core import journal
from desktop.core.history import Node, timestamp
from desktop.core.workspace import Workspace
from desktop.core.node_files import write_node_image
journal.COMPACT_AFTER = 7  # compact often, so kills land in the middle of compactions too
ws, _ = Workspace.open(sys.argv[1])
picture, rng = Image.new("RGB", (16, 16), (40, 80, 120)), random.Random(int(sys.argv[2]))
while True:
    ids, roll = [n.id for n in ws.tree], rng.random()
    if len(ids) < 3 or roll < 0.6:
        node_id = ws.new_node_id()
        parent = ids[-1] if ids and rng.random() < 0.8 else (rng.choice(ids) if ids else None)
        print("do add", node_id, parent or "-", flush=True)
        node = Node(node_id, parent, "generation", node_id + ".png", timestamp(), 16, 16, {"seed": len(ids)})
        write_node_image(ws.folder, node, picture, "a test\\nSteps: 1, Seed: 1, Size: 16x16")
        ws.add_node(node)
    elif roll < 0.9:
        node_id = rng.choice(ids)
        flag = not ws.tree.get(node_id).starred
        print("do star", node_id, int(flag), flush=True)
        ws.set_starred(node_id, flag)
    else:
        node_id = rng.choice(ids[1:])
        print("do delete", node_id, flush=True)
        ws.delete_subtree(node_id)
    ws.flush()  # from here on the change is on disk
    print("done", flush=True)
"""


def _apply(tree: HistoryTree, op: list[str]) -> None:
    """Replay one change the writer printed on a bare mirror of its tree."""
    if op[0] == "add":
        tree.add(Node(op[1], None if op[2] == "-" else op[2], "generation", f"{op[1]}.png", "", 16, 16))
    elif op[0] == "star":
        tree.set_starred(op[1], op[2] == "1")
    else:
        tree.remove_subtree(op[1])


def _state(tree: HistoryTree) -> dict:
    return {n.id: (n.parent, n.starred) for n in tree}


def _old_format_history(folder: Path, count: int) -> HistoryTree:
    """A chain of ``count`` pictures with an index as Restyle wrote it before index version 2."""
    tree = HistoryTree()
    for n in range(count):
        node = Node(f"old{n}", f"old{n - 1}" if n else None, "generation", f"old{n}.png", timestamp(), 16, 16,
                    {"seed": n, "prompt": "before"}, starred=n == 2)
        write_node_image(folder, node, Image.new("RGB", (16, 16)), None)
        tree.add(node)
    (folder / "index.json").write_text(json.dumps({"version": 1, "nodes": tree.to_list()}))
    return tree


@pytest.mark.parametrize("attempt", range(4))
def test_a_process_killed_mid_change_loses_nothing_it_finished(tmp_path, attempt):
    """Adds, stars and deletes through the journal (with compactions); a kill -9 at a random moment. Every other
    attempt starts from an index in the old format, which the writer's open moves to the new one."""
    folder = tmp_path / "history"
    finished = _old_format_history(folder, 5) if attempt % 2 else HistoryTree()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(attempt)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    lines = []
    try:
        while sum(line == "done" for line in lines) < 25 + attempt * 6:
            line = child.stdout.readline()
            assert line, f"the writer stopped early: {child.stderr.read()}"
            lines.append(line.strip())
        time.sleep(random.uniform(0, 0.02))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        # Through the same reader: communicate() would skip what readline() has already buffered.
        out = child.stdout.read()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    # What it printed between our last read and the kill. A last line without its newline was cut by the kill
    # while being printed: the writer prints "do …" before it starts a change, so that change never began.
    complete = out if out.endswith("\n") or not out else out[: out.rfind("\n") + 1]
    lines += complete.splitlines()
    assert child.returncode == -signal.SIGKILL

    pending = None
    for line in lines:
        if line.startswith("do "):
            pending = line.split()[1:]
        elif line == "done":
            _apply(finished, pending)
            pending = None
    assert b'"version": 2' in (folder / "index.json").read_bytes().split(b"\n", 1)[0]  # compacted, or migrated
    ws, report = Workspace.open(folder)
    assert not report.corrupt_index and report.dropped == 0
    # Every finished change is there; the one in progress is either wholly there or wholly not.
    allowed = [_state(finished)]
    if pending is not None:
        _apply(finished, pending)
        allowed.append(_state(finished))
    assert _state(ws.tree) in allowed
    assert report.recovered <= 1
    on_disk = sorted(p.name for p in (folder / "images").iterdir() if not p.name.startswith("."))
    assert on_disk == sorted(n.image for n in ws.tree)  # a deleted branch's pictures are gone, no others
    for node in ws.tree:
        with Image.open(ws.image_path(node)) as image:
            image.load()


def test_a_depth_map_lives_beside_its_node_and_goes_with_it(ws, chain, tmp_path):
    from desktop.core.node_files import write_depth_image

    photo, a, _b, _c = chain
    node_id = ws.new_node_id()
    node = Node(id=node_id, parent=photo.id, kind="generation", image=f"{node_id}.png", created=timestamp(),
                width=16, height=16, params={"control_image": "/x/depth.png"}, seed=1,
                depth=write_depth_image(ws.folder, node_id, Image.new("RGB", (16, 16), (9, 9, 9))))
    write_node_image(ws.folder, node, Image.new("RGB", (16, 16)), PARAMS_TEXT)
    ws.add_node(node)
    depth = ws.depth_path(node)
    assert depth == ws.folder / "depth" / f"{node_id}-depth.png" and depth.is_file()
    assert ws.depth_path(a) is None

    again, report = Workspace.open(ws.folder)  # not taken for a history picture
    assert report.message is None and again.tree.get(node_id).depth == depth.name

    opened, _ = Workspace.import_zip(ws.export_zip(tmp_path / "trip.restyle"), tmp_path / "elsewhere")
    assert opened.depth_path(node_id).read_bytes() == depth.read_bytes()

    ws.delete_subtree(photo.id)
    assert ws.flush() and not depth.exists()


def test_a_journal_that_cannot_be_written_keeps_the_history_in_memory_and_says_why(ws, tmp_path):
    (ws.folder / "journal.jsonl").mkdir()  # something in the way of the journal file
    node = add_generation(ws, None)  # does not raise on the UI thread
    assert node.id in ws.tree
    assert ws.journal_error.startswith(f"Restyle cannot save history changes in {ws.folder}")
