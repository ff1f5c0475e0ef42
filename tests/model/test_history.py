"""The history tree: branching, navigation, removal and replay plans, as the history panel will use them."""

from __future__ import annotations

import pytest

from desktop.core.history import (
    HistoryTree,
    Node,
    ReplayStep,
    new_node_id,
    replay_plan,
    timestamp,
)


def make_node(node_id: str, parent: str | None = None, kind: str = "generation", **params) -> Node:
    base = {"model": "sd15", "prompt": "a lighthouse", "strength": 0.75, "seed": 7, "init_image": None}
    return Node(
        id=node_id, parent=parent, kind=kind, image=f"{node_id}.png", created=timestamp(), width=64, height=64,
        params={} if kind == "import" else {**base, **params}, model="sd15", seed=7,
    )


@pytest.fixture()
def tree() -> HistoryTree:
    """photo (import) → a → b → c, with a second branch a → d."""
    tree = HistoryTree()
    tree.add(make_node("photo", kind="import"))
    tree.add(make_node("a", "photo", init_image="/in/photo.png", strength=0.6))
    tree.add(make_node("b", "a", strength=0.5))
    tree.add(make_node("c", "b"))
    tree.add(make_node("d", "a"))
    return tree


def test_a_node_can_branch_into_several_children_in_creation_order(tree):
    assert [n.id for n in tree.children("a")] == ["b", "d"]
    assert tree.last_child("a").id == "d"
    assert [n.id for n in tree.roots()] == ["photo"]
    assert tree.parent_of("b").id == "a" and tree.parent_of("photo") is None
    assert len(tree) == 5 and "c" in tree and "zzz" not in tree
    assert [n.id for n in tree] == ["photo", "a", "b", "c", "d"]


def test_adding_under_an_unknown_parent_or_twice_is_refused(tree):
    with pytest.raises(ValueError):
        tree.add(make_node("e", "nowhere"))
    with pytest.raises(ValueError):
        tree.add(make_node("a", "photo"))


def test_path_to_root_lists_the_chain_root_first(tree):
    assert [n.id for n in tree.path_to_root("c")] == ["photo", "a", "b", "c"]
    assert [n.id for n in tree.path_to_root("photo")] == ["photo"]


def test_removing_a_subtree_keeps_its_siblings(tree):
    assert tree.subtree_ids("b") == ["b", "c"]
    removed = tree.remove_subtree("b")
    assert [n.id for n in removed] == ["b", "c"]
    assert "b" not in tree and "c" not in tree
    assert [n.id for n in tree.children("a")] == ["d"]
    assert tree.subtree_ids("photo") == ["photo", "a", "d"]


def test_undo_goes_to_the_parent_and_redo_to_the_newest_child(tree):
    assert tree.undo_target("c") == "b"
    assert tree.undo_target("photo") is None
    assert tree.redo_target("a") == "d"
    assert tree.redo_target("c") is None


def test_star_and_round_trip_through_a_list(tree):
    tree.set_starred("b", True)
    copy = HistoryTree.from_list(tree.to_list())
    assert copy.to_list() == tree.to_list()
    assert copy.get("b").starred and not copy.get("c").starred
    assert [n.id for n in copy.children("a")] == ["b", "d"]


def test_from_dict_ignores_unknown_keys_and_refuses_bad_shapes():
    node = make_node("a")
    data = {**node.to_dict(), "added_in_v9": 1}
    assert Node.from_dict(data) == node
    for bad in ({"id": "a"}, {**data, "image": "../../etc/passwd"}, {**data, "width": "wide"}, [1, 2]):
        with pytest.raises(ValueError):
            Node.from_dict(bad)


def test_add_all_puts_parents_first_and_makes_orphans_roots():
    child, parent, stray = make_node("kid", "mum"), make_node("mum"), make_node("stray", "gone")
    tree = HistoryTree()
    tree.add_all([child, stray, parent])
    assert [n.id for n in tree.roots()] == ["stray", "mum"]
    assert tree.parent_of("kid").id == "mum"


def test_replay_of_an_imported_chain_is_a_sibling_branch_with_the_changes(tree):
    steps = replay_plan(tree, "c", {"model": "other", "strength": 0.4})
    assert [s.source_id for s in steps] == ["a", "b", "c"]
    first, second, third = steps
    assert first == ReplayStep("a", first.params, "photo", False, None)
    assert first.params["init_image"] == "/in/photo.png"  # starts from the same picture
    assert all(s.params["model"] == "other" and s.params["strength"] == 0.4 for s in steps)
    assert all(s.chain_previous and s.params["init_image"] is None for s in (second, third))
    assert first.params["prompt"] == "a lighthouse" and first.params["seed"] == 7  # the rest is kept
    assert tree.get("a").params["model"] == "sd15"  # the original is untouched


def test_replay_starts_from_the_workspace_copy_when_given(tree):
    steps = replay_plan(tree, "a", {}, root_image="/ws/images/photo.png")
    assert len(steps) == 1 and steps[0].params["init_image"] == "/ws/images/photo.png"


def test_replay_of_a_text_to_image_chain_makes_a_new_root():
    tree = HistoryTree()
    tree.add(make_node("t2i"))
    tree.add(make_node("next", "t2i"))
    steps = replay_plan(tree, "next", {"steps": 10})
    plan = [(s.source_id, s.parent, s.chain_previous) for s in steps]
    assert plan == [("t2i", None, False), ("next", None, True)]
    assert steps[0].params["init_image"] is None and steps[0].params["steps"] == 10


def test_an_imported_picture_alone_cannot_be_replayed(tree):
    with pytest.raises(ValueError, match="nothing to re-run"):
        replay_plan(tree, "photo", {"model": "other"})


def test_new_ids_are_short_and_unique():
    ids = {new_node_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 12 for i in ids)


def test_upscale_nodes_keep_their_record_and_older_indexes_still_load(tree):
    old = make_node("e", "c").to_dict()
    del old["upscale"]  # as written before upscales existed
    assert Node.from_dict(old).upscale is None
    up = make_node("u", "c", kind="upscale")
    up.upscale = {"kind": "x4", "noise_level": 40, "steps": 30}
    again = Node.from_dict(up.to_dict())
    assert again.kind == "upscale" and again.upscale == up.upscale
    with pytest.raises(ValueError):
        Node.from_dict({**up.to_dict(), "upscale": "x4"})


def test_replay_through_an_upscale_is_refused_with_a_sentence(tree):
    up = make_node("u", "c", kind="upscale")
    up.upscale = {"kind": "x2"}
    tree.add(up)
    with pytest.raises(ValueError, match="replay the image it was upscaled from"):
        replay_plan(tree, "u", {"seed": 3})
