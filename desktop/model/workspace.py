"""A history workspace on disk, written so that a crash or a kill at any moment loses no finished result.

    <folder>/index.json              the tree (HistoryTree.to_list), replaced atomically after every change
    <folder>/images/<id>.png         every result, each carrying its own node as JSON in a PNG text chunk
    <folder>/latents/<id>.safetensors  cached latents (written by the engine; only counted and evicted here)
    <folder>/thumbs/<id>.png         thumbnails, made on demand

The images are the truth: when the index is lost or damaged it is rebuilt from their chunks. No Qt here.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from desktop.engine.errors import bad_input
from desktop.engine.metadata import read_parameters

from .history import HistoryTree, Node, new_node_id, timestamp

log = logging.getLogger(__name__)

NODE_CHUNK = "restyle-node"
INDEX_VERSION = 1
INDEX_NAME = "index.json"
_SUBFOLDERS = ("images", "latents", "thumbs")
_DEFAULT_THUMB = 128


def _temp_name(target: Path) -> Path:
    # Dot-prefixed and .tmp-suffixed: open() skips such leftovers, and a random part keeps writers apart.
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


def _is_temp(name: str) -> bool:
    return name.startswith(".") or name.endswith(".tmp")


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); Windows cannot open folders and does not need it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(target: Path, write, *, durable: bool = True) -> None:
    """Call ``write(handle)`` on a temp file beside ``target``, then rename it over ``target``."""
    temp = _temp_name(target)
    try:
        with open(temp, "xb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(target.parent)


def _png_ready(image: Image.Image) -> Image.Image:
    if image.mode in ("1", "L", "LA", "I;16", "P", "RGB", "RGBA"):
        return image
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def write_node_image(folder: Path, node: Node, image: Image.Image, parameters_text: str | None) -> Path:
    """Save the node's picture as images/<node.image>, atomically, with its parameters and node chunks.

    Thread-safe: it touches only its own temp file and the final name, so the worker thread may call it.
    """
    images = Path(folder) / "images"
    images.mkdir(parents=True, exist_ok=True)
    target = images / node.image
    info = PngInfo()
    if parameters_text:
        info.add_text("parameters", parameters_text)  # A1111's chunk, so other tools read the settings
    # ASCII JSON keeps the chunk a plain tEXt, written before the pixels so open() reads it cheaply.
    info.add_text(NODE_CHUNK, json.dumps(node.to_dict(), ensure_ascii=True))
    picture = _png_ready(image)
    try:
        _write_atomic(target, lambda h: picture.save(h, format="PNG", pnginfo=info, compress_level=4))
    except OSError as exc:
        raise bad_input(f"Restyle could not save the picture in {images}: {exc.strerror or exc}.") from None
    return target


def read_node_chunk(path: Path) -> Node | None:
    """The node stored in a PNG's NODE_CHUNK, or None when the file has none or cannot be read."""
    try:
        with Image.open(path) as image:
            raw = image.info.get(NODE_CHUNK)
            if raw is None and image.format == "PNG":
                raw = image.text.get(NODE_CHUNK)  # type: ignore[attr-defined]
        if raw is None:
            return None
        node = Node.from_dict(json.loads(raw))
    except Exception:  # noqa: BLE001 - a picture we cannot read simply tells us nothing.
        return None
    node.image = path.name  # the file's own name wins over what the chunk remembers
    return node


@dataclass(frozen=True)
class OpenReport:
    """What opening a workspace had to repair; ``message`` is one sentence for the user, or None."""

    recovered: int
    dropped: int
    corrupt_index: bool
    message: str | None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _surviving_ancestor(parent: str | None, dropped: dict[str, str | None]) -> str | None:
    """The nearest ancestor not in ``dropped``: children of a lost picture move up rather than vanish."""
    for _ in range(len(dropped) + 1):  # bounded, in case a damaged file made the parents loop
        if parent not in dropped:
            return parent
        parent = dropped[parent]
    return None


def _add_parents_first(nodes: list[Node], tree: HistoryTree) -> None:
    """Add ``nodes`` to ``tree`` in the given order, holding back each one until its parent is in.

    A parent that is neither in the tree nor among ``nodes`` is gone for good: the node becomes a root.
    """
    known = {n.id for n in nodes}
    waiting: dict[str, list[Node]] = {}

    def add_with_children(node: Node) -> None:
        ready = [node]
        while ready:
            current = ready.pop()
            tree.add(current)
            ready.extend(reversed(waiting.pop(current.id, [])))

    for node in nodes:
        if node.parent is not None and node.parent not in known and node.parent not in tree:
            node.parent = None
        if node.parent is not None and node.parent not in tree:
            waiting.setdefault(node.parent, []).append(node)
        else:
            add_with_children(node)
    # Only a loop of parents (a damaged or hand-edited file) is still waiting: break it at its oldest node.
    while waiting:
        stuck = waiting.pop(next(iter(waiting)))
        for node in stuck:
            if node.id not in tree:
                node.parent = None
                add_with_children(node)


def _read_index(path: Path) -> tuple[list[Node], bool]:
    """The valid nodes of index.json and whether anything in it was damaged."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return [], False
    except (OSError, ValueError):
        return [], True
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return [], True
    nodes, damaged = [], False
    for item in data["nodes"]:
        try:
            nodes.append(Node.from_dict(item))
        except (ValueError, TypeError):
            damaged = True  # the node's own image will bring it back
    return nodes, damaged


class Workspace:
    """A history tree and the folder that holds its pictures; every change is saved before returning."""

    def __init__(self, folder: Path | str, tree: HistoryTree | None = None):
        self.folder = Path(folder)
        self.tree = tree if tree is not None else HistoryTree()
        # Guards the tree and index.json, in case a change arrives from the worker thread.
        self._lock = threading.RLock()

    # --- opening -----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path | str) -> tuple[Workspace, OpenReport]:
        """Open the workspace at ``folder`` (an empty one when missing), repairing what a crash left."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise bad_input(f"{folder} is a file, not a history folder: choose a folder.")
        try:
            for name in _SUBFOLDERS:
                (folder / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise bad_input(f"Restyle could not create the history folder {folder}: {exc.strerror or exc}.") from None
        on_disk = {e.name for e in os.scandir(folder / "images") if e.is_file() and not _is_temp(e.name)}
        index_path = folder / INDEX_NAME
        indexed, corrupt = _read_index(index_path)
        if not index_path.exists() and any(n.endswith(".png") for n in on_disk):
            corrupt = True  # pictures without an index: the index was lost

        kept, dropped, seen = [], {}, set()
        for node in indexed:
            if node.id in seen:
                corrupt = True
                continue
            seen.add(node.id)
            if node.image in on_disk:
                kept.append(node)
            else:
                dropped[node.id] = node.parent
        for node in kept:
            node.parent = _surviving_ancestor(node.parent, dropped)
        named = {n.image for n in kept}
        recovered = []
        for name in sorted(on_disk - named):
            node = read_node_chunk(folder / "images" / name) if name.endswith(".png") else None
            if node is not None and node.id not in seen:
                seen.add(node.id)
                recovered.append(node)

        tree = HistoryTree()
        _add_parents_first(kept, tree)  # index order is creation order
        _add_parents_first(sorted(recovered, key=lambda n: (n.created, n.id)), tree)
        workspace = cls(folder, tree)
        latents_fixed = workspace._forget_missing_latents()
        report = _report(len(recovered), len(dropped), corrupt)
        if corrupt and index_path.exists():
            # Keep the damaged file beside the rebuilt one: someone may still get something out of it.
            os.replace(index_path, folder / f"{INDEX_NAME}.damaged-{secrets.token_hex(3)}")
        if report.message or latents_fixed or not index_path.exists():
            workspace.save_index()
        if report.message:
            log.warning("%s (%s)", report.message, folder)
        return workspace, report

    def _forget_missing_latents(self) -> bool:
        present = {e.name for e in os.scandir(self.folder / "latents") if e.is_file()}
        changed = False
        for node in self.tree:
            if node.latent is not None and node.latent not in present:
                node.latent = None
                changed = True
        return changed

    # --- paths -------------------------------------------------------------------------------------------
    def new_node_id(self) -> str:
        """A fresh id that no node in this workspace has."""
        while True:
            node_id = new_node_id()
            if node_id not in self.tree:
                return node_id

    def _node(self, node_or_id: Node | str) -> Node:
        return node_or_id if isinstance(node_or_id, Node) else self.tree.get(node_or_id)

    def image_path(self, node_or_id: Node | str) -> Path:
        """Where the node's picture is."""
        return self.folder / "images" / self._node(node_or_id).image

    def latent_path(self, node_or_id: Node | str) -> Path | None:
        """Where the node's cached latents are, or None when they are not cached."""
        node = self._node(node_or_id)
        return None if node.latent is None else self.folder / "latents" / node.latent

    def thumbnail_path(self, node_or_id: Node | str, size: int = _DEFAULT_THUMB) -> Path:
        """The node's thumbnail (at most size×size), made now if it does not exist yet. Thread-safe."""
        node = self._node(node_or_id)
        name = f"{node.id}.png" if size == _DEFAULT_THUMB else f"{node.id}-{size}.png"
        target = self.folder / "thumbs" / name
        if target.exists() and target.stat().st_size > 0:
            return target
        with Image.open(self.folder / "images" / node.image) as image:
            image.thumbnail((size, size), reducing_gap=2.0)
            thumb = _png_ready(image)
            # A thumbnail is a cache: no fsync, a lost one is simply made again.
            _write_atomic(target, lambda h: thumb.save(h, format="PNG", compress_level=1), durable=False)
        return target

    # --- changes -----------------------------------------------------------------------------------------
    def add_import(self, source: Path | str, image: Image.Image) -> Node:
        """Copy a picture the user brought into the workspace as a new root."""
        source = Path(source)
        node_id = self.new_node_id()
        node = Node(
            id=node_id, parent=None, kind="import", image=f"{node_id}.png", created=timestamp(),
            width=image.width, height=image.height, source=str(source),
        )
        # The picture's own A1111 settings travel with the copy, so "restore from image" still works.
        write_node_image(self.folder, node, image, read_parameters(source) if source.exists() else None)
        self.add_node(node)
        return node

    def add_node(self, node: Node) -> None:
        """Add a node whose picture write_node_image already saved, and save the index."""
        if not (self.folder / "images" / node.image).is_file():
            raise ValueError(f"the picture of node {node.id} has not been written")
        with self._lock:
            self.tree.add(node)
            self.save_index()

    def save_index(self) -> None:
        """Write index.json atomically: until the rename, the previous index stays whole."""
        with self._lock:
            data = json.dumps({"version": INDEX_VERSION, "nodes": self.tree.to_list()}, ensure_ascii=False)
            target = self.folder / INDEX_NAME
            temp = self.folder / f"{INDEX_NAME}.tmp"
            try:
                with open(temp, "w", encoding="utf-8") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except OSError as exc:
                temp.unlink(missing_ok=True)
                raise bad_input(f"Restyle could not save the history in {self.folder}: {exc.strerror or exc}.") from None
            _fsync_dir(self.folder)

    def delete_subtree(self, node_id: str) -> list[Node]:
        """Delete a node, its descendants and their files; returns the removed nodes."""
        with self._lock:
            removed = self.tree.remove_subtree(node_id)
            # Files first: a crash before the index is saved then drops these nodes on the next open
            # instead of bringing them back as recovered orphans.
            for node in removed:
                self._remove_files(node)
            self.save_index()
        return removed

    def _remove_files(self, node: Node) -> None:
        paths = [self.image_path(node), self.folder / "thumbs" / f"{node.id}.png"]
        paths += (self.folder / "thumbs").glob(f"{node.id}-*.png")
        if node.latent is not None:
            paths.append(self.folder / "latents" / node.latent)
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("Could not delete %s: %s", path, exc)

    def set_starred(self, node_id: str, flag: bool) -> None:
        """Star or unstar a node and save the index."""
        with self._lock:
            self.tree.set_starred(node_id, flag)
            self.save_index()

    # --- latent cache ------------------------------------------------------------------------------------
    def _latent_sizes(self) -> list[tuple[Node, int]]:
        sizes = []
        for node in self.tree:
            if node.latent is not None:
                try:
                    sizes.append((node, (self.folder / "latents" / node.latent).stat().st_size))
                except OSError:
                    sizes.append((node, 0))
        return sizes

    def latent_bytes(self) -> int:
        """Bytes taken by the cached latents of the nodes in the tree."""
        return sum(size for _, size in self._latent_sizes())

    def enforce_latent_budget(self, max_bytes: int) -> list[str]:
        """Delete the oldest cached latents until they fit in ``max_bytes``; pictures are never touched."""
        with self._lock:
            sizes = sorted(self._latent_sizes(), key=lambda pair: pair[0].created)
            total = sum(size for _, size in sizes)
            evicted = []
            for node, size in sizes:
                if total <= max_bytes:
                    break
                (self.folder / "latents" / node.latent).unlink(missing_ok=True)
                node.latent = None
                total -= size
                evicted.append(node.id)
            if evicted:
                self.save_index()
        return evicted

    # --- one portable file -------------------------------------------------------------------------------
    def export_zip(self, path: Path | str) -> Path:
        """Write the whole workspace (index, pictures, latents) as one zip file, atomically."""
        from .workspace_zip import export_zip

        return export_zip(self, Path(path))

    @classmethod
    def import_zip(cls, zip_path: Path | str, folder: Path | str) -> tuple[Workspace, OpenReport]:
        """Unpack an exported workspace into ``folder`` (new or empty) and open it."""
        from .workspace_zip import unpack_zip

        unpack_zip(Path(zip_path), Path(folder))
        return cls.open(folder)


def _report(recovered: int, dropped: int, corrupt: bool) -> OpenReport:
    sentences = []
    if corrupt:
        sentences.append(
            f"The history index was damaged; {_plural(recovered, 'image was', 'images were')} recovered "
            "from their own metadata."
        )
    elif recovered:
        sentences.append(
            f"{_plural(recovered, 'result', 'results')} saved just before Restyle last stopped "
            f"{'was' if recovered == 1 else 'were'} recovered from {'its' if recovered == 1 else 'their'} "
            "own metadata."
        )
    if dropped:
        sentences.append(
            f"{_plural(dropped, 'history entry was', 'history entries were')} removed because "
            f"{'its picture is' if dropped == 1 else 'their pictures are'} missing from the images folder."
        )
    return OpenReport(recovered, dropped, corrupt, " ".join(sentences) or None)
