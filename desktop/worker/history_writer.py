"""Writing a finished result into the history, on the worker thread, as the request names it.

The session says where a result belongs (``HistoryTarget``: the workspace, the parent node, a picture from outside
that becomes a root); the worker writes the pictures, their thumbnails, the depth map, the mask and the latent cache
before anyone hears of the result, so a finished image is on disk before it is shown as done, and its history row
only reads a small file. The index itself is updated on the UI thread when the result arrives; a crash in between
is repaired on the next open, because every picture carries its own node record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from desktop.core.history import Node, timestamp
from desktop.core.metadata import read_parameters
from desktop.core.node_files import (
    write_depth_image,
    write_mask_image,
    write_node_image,
    write_reference_images,
    write_thumbnail,
)
from desktop.core.params import GenerationResult
from desktop.core.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HistoryTarget:
    """Where a result goes in the history: under ``parent``, after writing ``pending_import`` when there is one."""

    workspace: Workspace
    parent: str | None
    pending_import: Node | None = None  # a picture from outside: a new root, written with the result
    import_image: Any = None  # its pixels (PIL.Image), as the session loaded them
    import_path: str | None = None  # where it came from (its A1111 text is kept with it)
    replay_of: str | None = None  # the node a replay step re-makes


def write_to_history(target: HistoryTarget, result: GenerationResult) -> GenerationResult:
    """Write the result's node (and the pending import) into the workspace; returns the result naming them."""
    from desktop.core.output import parameters_text  # with the first result: not part of the window's start-up
    from desktop.engine.latents import save_latents

    workspace = target.workspace
    nodes = []
    if target.pending_import is not None:
        text = read_parameters(target.import_path) if target.import_path else None
        write_node_image(workspace.folder, target.pending_import, target.import_image, text)
        write_thumbnail(workspace.folder, target.pending_import.id, target.import_image)
        nodes.append(target.pending_import)
    node_id = workspace.new_node_id()
    depth_name = None
    if result.depth_map is not None:
        # Before the node's picture, which names it: a crash in between leaves an unused file, not a dangling name.
        depth_name = write_depth_image(workspace.folder, node_id, result.depth_map)
    mask_name = write_mask_image(workspace.folder, node_id, result.mask) if result.mask is not None else None
    latent_name, notes = None, result.notes
    if result.latents is not None:
        try:
            save_latents(result.latents, workspace.folder / "latents" / f"{node_id}.safetensors", result.model.vae_id)
            latent_name = f"{node_id}.safetensors"
        except OSError as exc:  # a cache: a full disk loses the shortcut, never the picture
            log.warning("latents of %s not cached: %s", node_id, exc)
            notes = (*notes, (f"The latents could not be cached in {workspace.folder / 'latents'} "
                              f"({exc.strerror or exc}); continuing from this picture goes through its pixels."))
    params = result.params
    if params.references:  # the reference images are kept in the workspace, as depth maps and masks are
        params = params.replace(references=write_reference_images(workspace.folder, node_id, params.references))
    upscale = result.upscale.to_dict() if result.upscale is not None else None
    node = Node(id=node_id, parent=target.parent, kind="upscale" if upscale else "generation", image=f"{node_id}.png",
                created=timestamp(), width=result.image.width, height=result.image.height,
                params=params.to_dict(), model=result.model.name, model_hash=result.model.model_hash,
                seed=result.seed, latent=latent_name, vae_id=result.model.vae_id, chain_mode=result.chain_mode,
                depth=depth_name, upscale=upscale, mask=mask_name, replay_of=target.replay_of)
    write_node_image(workspace.folder, node, result.image, parameters_text(result))
    # From the pixels in hand, so the window's row only reads a small file (a cache: a full disk only loses it).
    write_thumbnail(workspace.folder, node.id, result.image)
    nodes.append(node)
    return replace(result, history_nodes=(*nodes,), latents=None, notes=notes)
