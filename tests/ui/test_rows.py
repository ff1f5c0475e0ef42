"""Rows you can tell apart: queue rows show their source picture and what differs from the panel; history rows
say what changed from their parent, elide in the middle, and a replay branch is labelled as one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QTreeView

from desktop.core.captions import changes_from_parent, node_caption, row_caption
from desktop.core.history import Node


def test_queue_rows_show_their_source_and_what_differs(qtbot, open_window, make_image):
    window = open_window(["--model", "owner/model", str(make_image("landscape.png"))])
    window.model.update_params(prompt="ink", seed=5)
    window.model.jobs.pause()  # nothing starts: the rows stay as queued
    assert window.model.jobs.enqueue_batch(2)
    view = window.findChild(QListWidget, "queueView")
    rows = [view.item(i) for i in range(view.count())]
    assert len(rows) == 2
    assert all(not row.icon().isNull() for row in rows)  # a thumbnail of the picture each starts from
    assert rows[1].text().count("seed 6") == 1  # what differs from the panel, said once (its label has it)
    assert "\n" not in rows[0].text()  # the first run is the panel's settings
    queued = window.model.jobs.queue.jobs[0].params["strength"]
    window.model.update_params(strength=0.9)  # the panel moves on: the rows say what they keep
    assert view.item(0).text().split("\n")[1] == f"strength {queued:g}"


def _node(node_id, parent, prompt, strength=0.5, model="m", replay_of=None):
    return Node(id=node_id, parent=parent, kind="generation", image=f"{node_id}.png", created="", width=64,
                height=64, params={"prompt": prompt, "strength": strength, "init_image": "x.png"}, model=model,
                seed=1, replay_of=replay_of)


def test_history_captions_say_what_changed_and_mark_replays():
    parent = _node("a", None, "castle, ink")
    child = _node("b", "a", "castle, pencil", strength=0.7, model="/models/other-model")
    assert changes_from_parent(child, parent) == "strength 0.5→0.7 · +pencil −ink · model other-model"
    assert changes_from_parent(_node("c", "a", "castle, ink"), parent) == ""
    assert node_caption(_node("d", "a", "castle", replay_of="b")).startswith("↻ replay · ")
    assert not node_caption(child).startswith("↻")


def test_a_history_row_has_its_prompt_on_one_line_and_what_changed_on_the_next():
    long = "a cozy house in the hills at dusk, seen from the valley, gouache painting"
    parent = _node("a", None, long)
    child = _node("b", "a", long.replace("gouache painting", "stained glass"), strength=0.7)
    changes = "strength 0.5→0.7 · +glass +stained −gouache −painting"
    assert row_caption(child, parent) == f"{child.params['prompt']}\n{changes} · 0.7 · seed 1"  # (the view elides)
    assert row_caption(parent, None) == f"{long}\n0.5 · seed 1"
    assert node_caption(parent) == f"{long[:39]}… · 0.5 · seed 1"  # one line, for grids and the canvas


def test_history_rows_elide_in_the_middle(open_window):
    window = open_window([])
    assert window.findChild(QTreeView, "historyView").textElideMode() == Qt.TextElideMode.ElideMiddle
