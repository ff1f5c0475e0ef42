"""The files of one history node: its picture (carrying the node record in a PNG text chunk, so a lost index can be
rebuilt from the pictures), and the depth map, mask and reference images a run used. Each is written atomically
and is thread-safe, so the worker thread writes them as results arrive. No Qt here."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .errors import bad_input
from .files import atomic_write
from .history import Node
from .lazy_modules import lazy_module

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)
PngImagePlugin = lazy_module("PIL.PngImagePlugin")

NODE_CHUNK = "restyle-node"
THUMB_SIZE = 128  # a history row's and a gallery cell's icon (ThumbnailLoader's size) fits this square
log = logging.getLogger(__name__)


def png_ready(image: Image.Image) -> Image.Image:
    if image.mode in ("1", "L", "LA", "I;16", "P", "RGB", "RGBA"):
        return image
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def write_node_image(folder: Path, node: Node, image: Image.Image, parameters_text: str | None) -> Path:
    """Save the node's picture as images/<node.image>, atomically, with its parameters and node chunks.

    Thread-safe: it touches only its own temp file and the final name, so the worker thread may call it.
    """
    images = Path(folder) / "images"
    info = PngImagePlugin.PngInfo()
    if parameters_text:
        info.add_text("parameters", parameters_text)  # A1111's chunk, so other tools read the settings
    # ASCII JSON keeps the chunk a plain tEXt, written before the pixels so open() reads it cheaply.
    info.add_text(NODE_CHUNK, json.dumps(node.to_dict(), ensure_ascii=True))
    picture = png_ready(image)
    try:
        images.mkdir(parents=True, exist_ok=True)
        atomic_write(images / node.image, lambda h: picture.save(h, format="PNG", pnginfo=info, compress_level=4))
    except OSError as exc:
        raise bad_input(f"Restyle could not save the picture in {images}: {exc.strerror or exc}.") from None
    return images / node.image


def thumbnail_file(folder: Path, node_id: str, size: int = THUMB_SIZE) -> Path:
    """Where a node's thumbnail of ``size`` lives: thumbs/<id>.png for the rows' size, thumbs/<id>-<size>.png else."""
    return Path(folder) / "thumbs" / (f"{node_id}.png" if size == THUMB_SIZE else f"{node_id}-{size}.png")


def write_thumbnail(folder: Path, node_id: str, image: Image.Image, size: int = THUMB_SIZE) -> Path | None:
    """Save the thumbnail of ``image`` (the node's picture) that its history row shows; None when it cannot be
    written. The worker calls it with the pixels in hand as it saves a result, so the window only reads a small
    file; a workspace made before that has them made from the picture (``Workspace.thumbnail_path``).

    Thread-safe like write_node_image. A cache: no fsync, and a full disk only loses it (it is made again later).
    """
    target = thumbnail_file(folder, node_id, size)
    try:
        thumb = image.copy()  # the caller's picture stays whole
        thumb.thumbnail((size, size), reducing_gap=2.0)
        thumb = png_ready(thumb)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda h: thumb.save(h, format="PNG", compress_level=1), durable=False)
    except Exception as exc:  # noqa: BLE001 - a damaged picture (any decoder error) or a full disk: no icon, no stop
        log.warning("no thumbnail for %s: %s", node_id, exc)
        return None
    return target


def write_depth_image(folder: Path, node_id: str, image: Image.Image) -> str:
    """Save a run's depth map as depth/<node_id>-depth.png, atomically; returns the file name for ``Node.depth``.

    Thread-safe like write_node_image. Call it before writing the node's picture, which names this file.
    """
    return _write_side_image(Path(folder) / "depth", f"{node_id}-depth.png", image, "the depth map")


def write_mask_image(folder: Path, node_id: str, image: Image.Image) -> str:
    """Save a run's mask as masks/<node_id>-mask.png, atomically; returns the file name for ``Node.mask``.

    Thread-safe like write_node_image. Call it before writing the node's picture, which names this file.
    """
    return _write_side_image(Path(folder) / "masks", f"{node_id}-mask.png", image, "the mask")


def write_reference_images(folder: Path, node_id: str, paths) -> tuple[str, ...]:
    """Copy a run's reference images into references/<node_id>-ref<n>.png, atomically; returns their paths, which
    the node's parameters name, so replaying the node finds them after the originals moved or were deleted."""
    from .images import load_image

    target = Path(folder) / "references"
    return tuple(str(target / _write_side_image(target, f"{node_id}-ref{n}.png", load_image(path), "a reference"))
                 for n, path in enumerate(paths))


def _write_side_image(target: Path, name: str, image: Image.Image, what: str) -> str:
    picture = png_ready(image)
    try:
        target.mkdir(parents=True, exist_ok=True)
        atomic_write(target / name, lambda h: picture.save(h, format="PNG", compress_level=4))
    except OSError as exc:
        raise bad_input(f"Restyle could not save {what} in {target}: {exc.strerror or exc}.") from None
    return name


def read_node_chunk(path: Path) -> Node | None:
    """The node stored in a PNG's NODE_CHUNK, or None when the file has none or cannot be read."""
    try:
        with Image.open(path) as image:
            raw = image.info.get(NODE_CHUNK)
        node = Node.from_dict(json.loads(raw)) if raw is not None else None
    except Exception:  # noqa: BLE001 - a picture we cannot read simply tells us nothing.
        return None
    if node is not None:
        node.image = path.name  # the file's own name wins over what the chunk remembers
    return node
