"""The history index on disk (index_file.py): every field survives a reopen, an old index is still read and moved
to the new format, and damage (a crafted header, a broken settings line) is refused without stopping the open."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from desktop.core.captions import changes_from_parent, node_caption, node_tooltip
from desktop.core.history import Node, replay_plan, timestamp
from desktop.core.history_filter import parse_filter, visible_ids
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace


def _node(ws: Workspace, parent: str | None, prompt: str, settings: dict | None = None, **fields) -> Node:
    node_id = ws.new_node_id()
    params = {"model": "sd15", "prompt": prompt, "strength": 0.4 if parent else 0.5,
              "init_image": "in.png" if parent else None, "seed": 3, **(settings or {})}
    node = Node(id=node_id, parent=parent, kind="generation", image=f"{node_id}.png", created=timestamp(),
                width=16, height=16, params=params,
                model="sd15", seed=3, chain_mode="pixels" if parent else None, **fields)
    write_node_image(ws.folder, node, Image.new("RGB", (16, 16), (60, 90, 120)), None)
    ws.add_node(node)
    return node


def _header(folder) -> dict:
    return json.loads((folder / "index.json").read_bytes().split(b"\n", 1)[0])


@pytest.fixture()
def branch(tmp_path):
    """A root, a child with every optional field set, and a grandchild; the index compacted."""
    ws, _ = Workspace.open(tmp_path / "history")
    root = _node(ws, None, "A Lighthouse at dusk")
    (ws.folder / "latents" / "x.safetensors").write_bytes(b"latents")
    full = _node(ws, root.id, "a harbour", settings={"loras": [["Ink-Style", 0.8]], "sampler": "Euler a"},
                 model_hash="abc", latent="x.safetensors", vae_id="vae-1", source="/pictures/harbour.png",
                 depth="d.png", mask="m.png", replay_of=root.id,
                 upscale={"kind": "x2", "image": "in.png", "steps": 5, "guidance_scale": 0.0, "vae_tiling": True})
    ws.set_starred(full.id, True)
    leaf = _node(ws, full.id, "a storm")
    ws.save_index()
    return ws, root, full, leaf


def test_every_field_of_every_node_survives_a_reopen(branch):
    ws, root, full, leaf = branch
    assert _header(ws.folder)["version"] == 2
    again, report = Workspace.open(ws.folder)
    assert report.message is None
    assert again.tree.to_list() == ws.tree.to_list()
    assert again.tree.get(full.id).starred and again.tree.get(full.id).upscale["vae_tiling"] is True
    assert [n.id for n in again.tree.path_to_root(leaf.id)] == [root.id, full.id, leaf.id]


def test_an_old_index_still_opens_and_is_saved_in_the_new_format(branch):
    ws, _root, _full, _leaf = branch
    ws.close()
    old = {"version": 1, "nodes": ws.tree.to_list()}  # what Restyle wrote before
    (ws.folder / "index.json").write_text(json.dumps(old))
    assert _header(ws.folder)["version"] == 1
    again, report = Workspace.open(ws.folder)
    assert report.message is None and again.tree.to_list() == ws.tree.to_list()
    assert _header(ws.folder)["version"] == 2
    assert Workspace.open(ws.folder)[0].tree.to_list() == ws.tree.to_list()


def test_the_filter_finds_words_after_a_reopen(branch):
    ws, root, full, leaf = branch
    again, _ = Workspace.open(ws.folder)
    matched, shown = visible_ids(again.tree, parse_filter("LIGHTHOUSE dusk"), None)
    assert matched == {root.id} and shown == {root.id}
    matched, shown = visible_ids(again.tree, parse_filter("storm"), None)
    assert matched == {leaf.id} and shown == {root.id, full.id, leaf.id}  # with its ancestors, to be greyed
    for terms, expected in (("lora:ink", {full.id}), ("sampler:euler harbour", {full.id}), ("model:SD15", {
            root.id, full.id, leaf.id}), ("model:sdxl", set()), ("lora:ink storm", set())):
        assert visible_ids(again.tree, parse_filter(terms), None)[0] == expected, terms


def test_the_filter_sees_results_added_and_deleted_since_its_last_keystroke(branch):
    from desktop.core.history_filter import SearchTexts

    ws, _root, full, leaf = branch
    texts = SearchTexts()  # kept between keystrokes, as the views keep theirs
    assert visible_ids(ws.tree, parse_filter("storm"), texts)[0] == {leaf.id}
    newer = _node(ws, leaf.id, "a second storm")
    assert visible_ids(ws.tree, parse_filter("storm"), texts)[0] == {leaf.id, newer.id}
    ws.set_starred(newer.id, True)
    assert visible_ids(ws.tree, parse_filter("is:starred storm"), texts)[0] == {newer.id}
    assert visible_ids(ws.tree, parse_filter("★ harbour"), texts)[0] == {full.id}
    ws.delete_subtree(newer.id)
    assert visible_ids(ws.tree, parse_filter("storm"), texts)[0] == {leaf.id}


def _replace_line(folder, index: int, line: bytes) -> bytes:
    head, *lines = (folder / "index.json").read_bytes().split(b"\n")
    old, lines[index] = lines[index], line
    (folder / "index.json").write_bytes(b"\n".join([head, *lines]))
    return old


@pytest.mark.parametrize("line", [b'{"prompt": 5}', b'{"steps": "many"', b"[" * 5000 + b"]" * 5000, b"7", b""])
def test_a_damaged_settings_line_is_refused_with_a_sentence_when_used(branch, line):
    ws, _root, full, leaf = branch
    ws.close()
    _replace_line(ws.folder, 1, line)  # the second node's settings
    again, report = Workspace.open(ws.folder)
    assert report.message is None and len(again.tree) == 3  # the open itself does not look at settings
    damaged = again.tree.get(full.id)
    assert damaged.params == {} and damaged.damage.startswith("The settings of this picture cannot be read")
    assert node_caption(damaged).startswith("★ settings unreadable")
    assert node_tooltip(damaged) == damaged.damage
    assert changes_from_parent(again.tree.get(leaf.id), damaged) == ""  # its child's row is drawn too
    with pytest.raises(ValueError, match="Replay needs the settings of every step"):
        replay_plan(again.tree, leaf.id, {"seed": 9})
    assert again.tree.get(leaf.id).params["prompt"] == "a storm"  # the others are untouched
    again.save_index()  # nothing is lost by looking: the line goes back as it was
    assert (ws.folder / "index.json").read_bytes().split(b"\n")[2] == line


def _rewrite_header(folder, change) -> None:
    head, rest = (folder / "index.json").read_bytes().split(b"\n", 1)
    header = json.loads(head)
    change(header)
    (folder / "index.json").write_bytes(json.dumps(header).encode() + b"\n" + rest)


@pytest.mark.parametrize("change", [
    lambda h: h["columns"]["id"].__setitem__(1, "../../evil"),
    lambda h: h["columns"]["image"].__setitem__(0, ".."),
    lambda h: h["columns"]["image"].__setitem__(2, "a/b.png"),
    lambda h: h["columns"]["width"].__setitem__(0, "wide"),
    lambda h: h["columns"]["height"].__setitem__(0, -4),
    lambda h: h["columns"]["starred"].__setitem__(0, 1),
    lambda h: h["columns"]["upscale"].__setitem__(1, {"steps": "five"}),
    lambda h: h["columns"]["parent"].pop(),
    lambda h: h["columns"].pop("created"),
    lambda h: h.__setitem__("count", 4),
], ids=["id", "image-dots", "image-folder", "width-text", "height-negative", "starred-int", "upscale", "short",
        "no-created", "count"])
def test_a_crafted_header_counts_as_a_damaged_index_and_the_pictures_rebuild_it(branch, change):
    ws, root, full, leaf = branch
    ws.close()
    _rewrite_header(ws.folder, change)
    again, report = Workspace.open(ws.folder)
    assert report.corrupt_index and report.recovered == 3
    assert sorted(n.id for n in again.tree) == sorted([root.id, full.id, leaf.id])
    assert list(ws.folder.glob("index.json.damaged-*"))  # kept aside, not overwritten
    assert _header(ws.folder)["version"] == 2
