"""The chain history as a tree: every result is a node, and any node can be the start of a new branch.

Pure Python, no Qt and no file access: `desktop.core.workspace` keeps the tree on disk, the session model
observes it. Nodes are plain dataclasses that round-trip through JSON-safe dicts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

from .files import random_hex
from .schemas import Damaged, check_node, check_params, load_json

log = logging.getLogger(__name__)

KINDS = ("import", "generation", "upscale")
CHAIN_MODES = ("latent", "pixels")

# Ids become file names (images/<id>.png, thumbs/<id>.png): anything else in a crafted index could reach
# outside the workspace folder.
_ID_RE = re.compile(r"[0-9A-Za-z_]{1,64}")
_REQUIRED = ("id", "kind", "image", "created", "width", "height")


def new_node_id() -> str:
    """A short random hex id for a new node (12 digits, as uuid4's first 12 were)."""
    return random_hex(6)


def timestamp() -> str:
    """Now as an ISO-8601 UTC timestamp; one fixed format, so the strings sort in time order."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _is_plain_name(name: object) -> bool:
    """True for a bare file name: no folders, no way out of the folder it is joined to."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and ":" not in name
        and "\0" not in name
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold back the cyclic garbage collector while a big tree (or a view of it) is built.

    100,000 nodes make several hundred thousand new objects, and the collections they trigger, each walking
    every live object, cost 3-5 times the building itself. Nothing made here is garbage; the collector runs
    again as usual afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Settings:
    """``Node.params``: a dict, or the node's line of the history index, parsed and checked when first read.

    Opening 100,000 nodes would otherwise parse and type-check millions of values nobody looks at; a damaged
    line becomes ``{}`` plus ``Node.damage`` (a sentence) the moment something reads it, never an exception.
    """

    def __get__(self, node, owner=None):
        if node is None:
            return None  # the dataclass default; __set__ turns it into a fresh {}
        value = node.__dict__["_params"]
        return _parse_settings(node, value) if type(value) is bytes else value

    def __set__(self, node, value) -> None:
        node.__dict__["_params"] = {} if value is None else value


def _parse_settings(node: Node, raw: bytes) -> dict:
    try:
        params = load_json(raw, "the settings")
        check_params(params, "the settings")
    except Damaged as exc:
        log.warning("node %s: %s", node.id, exc)
        node.damage = (f"The settings of this picture cannot be read from the history index ({exc}); the "
                       "picture itself is fine and still carries them.")
        node.__dict__["_unreadable"] = raw  # written back as it was: nothing is lost by looking
        params = {}
    node.__dict__["_params"] = params
    return params


@dataclass
class Node:
    """One picture in the history: an imported picture or a generation made from its parent."""

    # Not fields: a damaged settings line, in words, and the lowercase texts the filter matches (history_filter's
    # search_text and facets; the index keeps a copy of them, so neither opening nor filtering reads settings).
    damage: ClassVar[str | None] = None
    search_text: ClassVar[str | None] = None
    facets: ClassVar[tuple[str, str, str] | None] = None

    id: str
    parent: str | None
    kind: str  # "import" | "generation" | "upscale"
    image: str  # file name under images/
    created: str  # ISO-8601
    width: int
    height: int
    params: dict = _Settings()  # GenerationParams.to_dict() of a generation; {} for imports
    model: str = ""
    model_hash: str = ""
    seed: int | None = None
    latent: str | None = None  # file name under latents/ while the latents are cached
    vae_id: str = ""  # the VAE those latents belong to: chaining in latent space needs the same one
    chain_mode: str | None = None  # "latent" | "pixels"; None for a root
    source: str | None = None  # where an imported picture came from
    starred: bool = False
    depth: str | None = None  # file name under depth/: the depth map a ControlNet run was steered by
    mask: str | None = None  # file name under masks/: the mask of a masked run, lined up with the picture
    upscale: dict | None = None  # UpscaleParams.to_dict() of an upscale (kind "upscale"): what was done to the parent
    replay_of: str | None = None  # the node this one re-makes, when a replay made it (its branch says so)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field (params copied one level deep)."""
        # Not dataclasses.asdict: its deep copy made saving a 1,000-node index several times slower.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["params"] = dict(self.params)
        return data

    def params_line(self) -> bytes:
        """The settings as one line of JSON: the index's own bytes while nothing has read them."""
        value = self.__dict__["_params"]
        if type(value) is bytes:
            return value
        unreadable = self.__dict__.get("_unreadable")
        if unreadable is not None:
            return unreadable
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        """Build from a dict, ignoring unknown keys; ValueError when a field has the wrong shape."""
        if not isinstance(data, dict):
            raise ValueError("a node must be a JSON object")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise ValueError(f"node is missing {', '.join(missing)}")
        # Unknown keys (from a newer Restyle) are left out; the common case needs no filtering.
        node = cls(**data) if data.keys() <= _FIELD_SET else cls(**{k: v for k, v in data.items() if k in _FIELD_SET})
        node._check()
        return node

    def _check(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.fullmatch(self.id):
            raise ValueError(f"bad node id {self.id!r}")
        if self.parent is not None and (not isinstance(self.parent, str) or not _ID_RE.fullmatch(self.parent)):
            raise ValueError(f"bad parent id {self.parent!r}")
        if not isinstance(self.kind, str) or not isinstance(self.created, str):
            raise ValueError("kind and created must be strings")
        if not _is_plain_name(self.image):
            raise ValueError(f"bad image name {self.image!r}")
        if self.latent is not None and not _is_plain_name(self.latent):
            raise ValueError(f"bad latent name {self.latent!r}")
        if self.depth is not None and not _is_plain_name(self.depth):
            raise ValueError(f"bad depth map name {self.depth!r}")
        if self.mask is not None and not _is_plain_name(self.mask):
            raise ValueError(f"bad mask name {self.mask!r}")
        for value in (self.width, self.height):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("width and height must be whole numbers")
        if not isinstance(self.params, dict):
            raise ValueError("params must be an object")
        if self.upscale is not None and not isinstance(self.upscale, dict):
            raise ValueError("upscale must be an object")
        if self.seed is not None and (not isinstance(self.seed, int) or isinstance(self.seed, bool)):
            raise ValueError("seed must be a whole number")
        self.starred = bool(self.starred)
        check_node(self)  # text fields, settings and upscale typed, so no view trips over a crafted record


_FIELDS = tuple(f.name for f in dataclasses.fields(Node))
_FIELD_SET = frozenset(_FIELDS)


class HistoryTree:
    """Nodes in insertion order, with a children index so branch lookups stay O(1) for thousands of nodes."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._children: dict[str | None, list[str]] = {None: []}  # None holds the roots
        self.version = 0  # counts additions and removals, so views can tell that what they kept is stale

    # --- reading -----------------------------------------------------------------------------------------
    def get(self, node_id: str) -> Node:
        """The node with this id (KeyError when there is none)."""
        return self._nodes[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(list(self._nodes.values()))

    def children(self, node_id: str) -> list[Node]:
        """The node's children, oldest first."""
        return [self._nodes[i] for i in self._children.get(node_id, ())]

    def child_lists(self, keep: set[str] | None = None) -> dict[str | None, list[str]]:
        """Every parent's children ids, oldest first (None: the roots); copies, the caller may change them.

        With ``keep`` (a set of ids that holds every kept node's parent): only those ids, and only the parents
        with any (always the roots' list)."""
        children = self._children
        if keep is None or len(keep) >= len(self._nodes):  # built in C (dict/zip/map): 100,000 one-child lists
            return dict(zip(children.keys(), map(list, children.values()), strict=True))
        lists = {None: [i for i in children[None] if i in keep]}
        for parent in keep:
            ids = children.get(parent)
            if ids:
                kept = [i for i in ids if i in keep]
                if kept:
                    lists[parent] = kept
        return lists

    def roots(self) -> list[Node]:
        """Nodes without a parent, oldest first."""
        return [self._nodes[i] for i in self._children[None]]

    def parent_of(self, node_id: str) -> Node | None:
        """The node's parent, or None for a root."""
        parent = self._nodes[node_id].parent
        return None if parent is None else self._nodes[parent]

    def last_child(self, node_id: str) -> Node | None:
        """The newest child, or None for a leaf."""
        ids = self._children.get(node_id)
        return self._nodes[ids[-1]] if ids else None

    def path_to_root(self, node_id: str) -> list[Node]:
        """The chain from the root down to this node, root first."""
        path = [self._nodes[node_id]]
        while path[-1].parent is not None:
            path.append(self._nodes[path[-1].parent])
        path.reverse()
        return path

    def subtree_ids(self, node_id: str) -> list[str]:
        """This id and every descendant's, parents before children."""
        if node_id not in self._nodes:
            raise KeyError(node_id)
        ids, stack = [], [node_id]
        while stack:
            current = stack.pop()
            ids.append(current)
            stack.extend(reversed(self._children.get(current, ())))
        return ids

    def undo_target(self, node_id: str) -> str | None:
        """Where Undo goes from this node: its parent."""
        return self._nodes[node_id].parent

    def redo_target(self, node_id: str) -> str | None:
        """Where Redo goes from this node: its newest child."""
        child = self.last_child(node_id)
        return None if child is None else child.id

    # --- changing ----------------------------------------------------------------------------------------
    def add(self, node: Node) -> None:
        """Add a node whose parent is already in the tree (or a root)."""
        if node.id in self._nodes:
            raise ValueError(f"node {node.id} is already in the history")
        if node.parent is not None and node.parent not in self._nodes:
            raise ValueError(f"node {node.id} has an unknown parent {node.parent}")
        self._nodes[node.id] = node
        self._children.setdefault(node.parent, []).append(node.id)
        self.version += 1

    def add_all(self, nodes: list[Node]) -> None:
        """Add nodes in the given order, holding each back until its parent is in; rebuilds damaged trees.

        A parent that is neither in the tree nor among ``nodes`` is gone for good: the node becomes a root,
        and so does the first node of a loop of parents (only a damaged file can hold one).
        """
        nodes = self._add_in_order(nodes)
        known = {n.id for n in nodes}
        waiting: dict[str, list[Node]] = {}

        def add_with_children(node: Node) -> None:
            ready = [node]
            while ready:
                current = ready.pop()
                self.add(current)
                ready.extend(reversed(waiting.pop(current.id, [])))

        for node in nodes:
            if node.parent is not None and node.parent not in known and node.parent not in self:
                node.parent = None
            if node.parent is not None and node.parent not in self:
                waiting.setdefault(node.parent, []).append(node)
            else:
                add_with_children(node)
        while waiting:
            for node in waiting.pop(next(iter(waiting))):
                if node.id not in self:
                    node.parent = None
                    add_with_children(node)

    def _add_in_order(self, nodes: list[Node]) -> list[Node]:
        """Add the leading nodes whose parent is already in (an index is saved in that order); returns the rest."""
        all_nodes, children, get = self._nodes, self._children, self._children.get
        self.version += 1
        for done, node in enumerate(nodes):  # 100,000 times at an open: every lookup here counts
            node_id, parent = node.id, node.parent
            if node_id in all_nodes or (parent is not None and parent not in all_nodes):
                return nodes[done:]
            all_nodes[node_id] = node
            siblings = get(parent)
            if siblings is None:
                children[parent] = [node_id]
            else:
                siblings.append(node_id)
        return []

    def remove_subtree(self, node_id: str) -> list[Node]:
        """Remove the node and its descendants; returns them, parents first. Siblings stay."""
        ids = self.subtree_ids(node_id)
        self._children[self._nodes[node_id].parent].remove(node_id)
        self.version += 1
        removed = []
        for i in ids:
            removed.append(self._nodes.pop(i))
            self._children.pop(i, None)
        return removed

    def set_starred(self, node_id: str, flag: bool) -> None:
        """Star or unstar a node."""
        self._nodes[node_id].starred = bool(flag)

    # --- (de)serialising ---------------------------------------------------------------------------------
    def to_list(self) -> list[dict[str, Any]]:
        """Every node as a dict, in insertion order (so parents come before children)."""
        return [node.to_dict() for node in self._nodes.values()]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> HistoryTree:
        """Rebuild from to_list(); ValueError when an entry is malformed or comes before its parent."""
        tree = cls()
        for item in items:
            tree.add(Node.from_dict(item))
        return tree


@dataclass(frozen=True)
class ReplayStep:
    """One run of a replay: which node it re-makes, with which params, under which parent."""

    source_id: str  # the node this step re-makes
    params: dict  # params for the run, with the changes applied
    parent: str | None  # the new node's parent; for chained steps the runner sets it to the previous result
    chain_previous: bool  # True: the init is the previous step's result (params' init_image is None then)
    chain_mode: str | None = None  # how the original chained from its parent ("latent" | "pixels")


def replay_plan(
    tree: HistoryTree, node_id: str, changes: dict[str, Any], *, root_image: str | None = None
) -> list[ReplayStep]:
    """Plan a re-run of the branch from its root to ``node_id`` with ``changes`` applied to every run.

    The results form a sibling branch: under the imported root, or as a new root for a text-to-image chain.
    ``root_image`` is the path the first run starts from when the root is an import (the workspace's copy);
    without it the first run keeps the init image its original had.
    """
    path = tree.path_to_root(node_id)
    root = path[0]
    if root.kind == "import":
        runs = path[1:]
        if not runs:
            raise ValueError("An imported picture alone has nothing to re-run: choose a result made from it.")
        first_parent: str | None = root.id
    else:
        runs, first_parent = path, None
    steps = []
    for index, node in enumerate(runs):
        if node.kind == "upscale":
            raise ValueError("Replay re-runs generations, and this branch has an upscale in it: replay the image "
                             "it was upscaled from, then upscale the new one.")
        if node.kind != "generation":
            raise ValueError(f"node {node.id} in the branch is not a generation and cannot be re-run")
        params = {**node.params, **changes}
        if node.damage:
            raise ValueError(f"Replay needs the settings of every step of the branch. {node.damage}")
        if index == 0:
            if root.kind == "import":
                params["init_image"] = root_image or node.params.get("init_image") or root.image
            steps.append(ReplayStep(node.id, params, first_parent, False, node.chain_mode))
        else:
            # The init is the previous new result, known only at run time; the old one must not leak in.
            params["init_image"] = None
            steps.append(ReplayStep(node.id, params, None, True, node.chain_mode))
    return steps
