"""How the history tree is laid out as rows: a chain reads down one column, and only a branch is indented.

A node's tree depth grows by one with every pass of a chain, so nesting rows by tree parent walks a 30-pass
loopback off the side of the panel. Here, as in a git log graph, a node's *continuation* (its oldest child)
takes the row below it at the same indent; only a later child, a branch made from an older picture, is nested
under the node it was made from. Roots keep all their children nested under them, so each chain from a
text or a picture folds under the row it started from.

The rows under a display parent are its "runs", oldest first: a run is a child that starts it, then that
child's continuation, and so on, to a node with no children. Qt-free, so tests can check the layout alone.
"""

from __future__ import annotations

Kids = dict[str | None, list[str]]  # each parent's children (None: the roots), oldest first


def run_from(head: str, kids: Kids) -> list[str]:
    """``head`` and its continuations: each node's oldest child, down to a node without children."""
    run, node = [head], kids.get(head)
    while node:
        run.append(node[0])
        node = kids.get(node[0])
    return run


def rows_under(parent: str, kids: Kids, is_root: bool) -> list[str]:
    """The rows nested under ``parent``: every child of a root, or a later child of any other node, each
    followed by its run (the oldest child of a node that is not a root continues beside it instead)."""
    children = kids.get(parent)
    if not children:
        return []
    rows: list[str] = []
    for head in children if is_root else children[1:]:
        rows += run_from(head, kids)
    return rows


def line_rows(kids: Kids) -> Kids:
    """Every display parent's rows (None: the roots, oldest first), given the tree's children lists.

    Each node but the roots lies in exactly one run, so this is one pass over the nodes (at 100,000 nodes it
    runs on every open and every filter)."""
    roots = kids.get(None, [])
    rows: Kids = {None: list(roots)}  # (a copy: the model changes its rows and the children apart)
    root_set = set(roots)
    for parent, children in kids.items():
        # Only a root, or a node with a later child (a branch), has rows nested under it.
        if parent is not None and (len(children) > 1 or (children and parent in root_set)):
            rows[parent] = rows_under(parent, kids, is_root=parent in root_set)
    return rows
