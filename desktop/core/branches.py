"""Copying a branch of the history (a node and everything made from it) into another workspace. No Qt here.

The copy keeps each node's record, pictures, latents, depth map and mask; the branch's first node becomes a
root there. A node keeps its id unless the other workspace already has it (the same branch copied twice): then
it gets a new id and its picture is written again, so the record inside the PNG names it correctly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import bad_input
from .files import atomic_write
from .history import Node
from .lazy_modules import lazy_module
from .metadata import read_parameters
from .node_files import write_node_image
from .workspace import Workspace

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)

_SIDE_FILES = (("latent", "latents"), ("depth", "depth"), ("mask", "masks"))


def _copy_file(source: Path, target: Path) -> None:
    if target.exists():  # the same node's file, copied before
        return
    with open(source, "rb") as src:
        atomic_write(target, lambda handle: shutil.copyfileobj(src, handle, 1 << 20))


def copy_branch(source: Workspace, node_id: str, target: Workspace) -> list[Node]:
    """Copy ``node_id`` and its descendants (parents first) into ``target``; returns the new nodes there."""
    if source.folder.resolve() == target.folder.resolve():
        raise bad_input("That branch is already in this workspace: choose another one.")
    originals = [source.tree.get(i) for i in source.tree.subtree_ids(node_id)]
    new_ids: dict[str, str] = {}
    copies = []
    try:
        for original in originals:
            node = Node.from_dict(original.to_dict())
            node.parent = new_ids.get(original.parent)  # the branch's first node becomes a root
            picture = source.image_path(original)
            if node.id in target.tree:
                node.id = target.new_node_id()
                node.image = f"{node.id}.png"
                with Image.open(picture) as image:
                    write_node_image(target.folder, node, image, read_parameters(picture))
            else:
                _copy_file(picture, target.folder / "images" / node.image)
            new_ids[original.id] = node.id
            for field, folder in _SIDE_FILES:
                name = getattr(node, field)
                if name is not None:
                    side = source.folder / folder / name
                    if side.is_file():
                        _copy_file(side, target.folder / folder / name)
                    else:
                        setattr(node, field, None)  # an evicted latent, say: the copy simply has none
            target.add_node(node)
            copies.append(node)
    except OSError as exc:
        raise bad_input(f"Restyle could not copy the branch into {target.folder}: {exc.strerror or exc}. "
                        f"{len(copies)} of {len(originals)} images were copied.") from None
    return copies
