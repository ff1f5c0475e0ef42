"""A history workspace on disk, written so that a crash or a kill at any moment loses no finished result.

    <folder>/index.json                the tree as of journal record ``seq`` (index_file.py), replaced atomically
    <folder>/journal.jsonl             every change since, one fsync'd line each (journal.py), written off the UI thread
    <folder>/images/<id>.png           every picture, each carrying its own node as JSON in a PNG text chunk
    <folder>/latents/<id>.safetensors  cached latents (written by the engine; only counted and evicted here)
    <folder>/depth/<id>-depth.png      the depth map a ControlNet run used, as the ControlNet saw it
    <folder>/masks/<id>-mask.png       the mask a masked run used, as painted, lined up with the node's picture
    <folder>/thumbs/<id>.png           thumbnails, written with each result (made on demand for older ones)

The pictures are the truth: when the index is lost or damaged it is rebuilt from their chunks (node_files.py writes
and reads them). No Qt here.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from desktop.core.errors import bad_input
from desktop.core.metadata import read_parameters

from .files import atomic_write, is_temp_name, random_hex
from .history import HistoryTree, Node, gc_paused, new_node_id, timestamp
from .index_file import decode_index, encode_index
from .journal import JOURNAL_NAME, Journal, cut_torn_tail, read_journal
from .lazy_modules import lazy_module
from .node_files import (
    THUMB_SIZE,
    read_node_chunk,
    thumbnail_file,
    write_node_image,
    write_thumbnail,
)
from .schemas import Damaged, read_bounded
from .zip_limits import UNREADABLE, ZipRefused, check_entries, copy_entry, free_bytes

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)
log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
# depth/ is apart from images/ because everything in images/ is a history picture (recovery reads each one).
FOLDERS = ("images", "latents", "thumbs", "depth", "masks")
# Workspaces open in this process by folder: opening one again first writes out the other's queued changes.
_open_workspaces: weakref.WeakValueDictionary[str, Workspace] = weakref.WeakValueDictionary()


def _remove_stale_temps(*folders: Path, age_s: float = 600.0) -> None:
    """Delete temp files a killed process left; only old ones, in case another process is writing now."""
    cutoff = time.time() - age_s
    for folder in folders:
        for entry in os.scandir(folder):
            try:
                if is_temp_name(entry.name) and entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.remove(entry.path)
            except OSError:
                pass


def _scan_pictures(images: Path, age_s: float = 600.0) -> set[str]:
    """The picture names in images/, in one pass that also deletes temp files a killed process left there."""
    names = os.listdir(images)  # names only: 100,000 DirEntry objects cost more than the rest of this
    temps = [name for name in names if name[0] == "." and is_temp_name(name)]  # no call for a picture's name
    cutoff = time.time() - age_s
    for name in temps:
        path = images / name
        try:  # never a complete picture; only old ones go, in case another process is writing now
            if path.is_file() and path.stat().st_mtime < cutoff:
                os.remove(path)
        except OSError:
            pass
    return set(names).difference(temps)


@dataclass(frozen=True)
class OpenReport:
    """What opening a workspace had to repair; ``message`` is for the user, None when all was fine."""

    recovered: int
    dropped: int
    corrupt_index: bool
    message: str | None


def _read_index(path: Path) -> tuple[list[Node], bool, int, bool]:
    """The valid nodes of index.json, whether anything in it was damaged, the last journal record it holds, and
    whether it is in the old format (the workspace then saves it in the new one)."""
    try:
        nodes, damaged, seq, version = decode_index(read_bounded(path, "the history index"))
    except FileNotFoundError:
        return [], False, 0, False
    except Damaged as exc:
        log.warning("%s: %s", path, exc)
        return [], True, 0, False
    return nodes, damaged, seq, version == 1


def _replay(nodes: list[Node], records: list[dict], after: int) -> tuple[list[Node], list[Node], int]:
    """Apply the journal records newer than the index; returns the nodes, those deleted, and the last record."""
    fresh = [r for r in records if r["seq"] > after]
    if not fresh:
        return nodes, [], after
    tree = HistoryTree()
    tree.add_all(nodes)
    deleted: list[Node] = []
    for record in fresh:
        op = record["op"]
        try:
            if op == "add":
                node = Node.from_dict(record["node"])
                if node.id not in tree:
                    tree.add_all([node])  # a parent deleted meanwhile makes it a root rather than lost
            elif op == "star" and record["id"] in tree:
                tree.set_starred(record["id"], bool(record["flag"]))
            elif op == "delete" and record["id"] in tree:
                deleted += tree.remove_subtree(record["id"])
            elif op == "latents":
                for node_id in record["ids"]:
                    if node_id in tree:
                        tree.get(node_id).latent = None
        except (KeyError, TypeError, ValueError):
            log.warning("skipped a damaged history journal record %s", record.get("seq"))
    return list(tree), deleted, max(after, *(r["seq"] for r in fresh))


def _remove_node_files(folder: Path, nodes: list[Node]) -> None:
    """Delete deleted nodes' pictures, thumbnails (every size), latents and depth maps."""
    paths = []
    for node in nodes:
        paths.append(folder / "images" / node.image)
        if node.latent is not None:
            paths.append(folder / "latents" / node.latent)
        if node.depth is not None:
            paths.append(folder / "depth" / node.depth)
        if node.mask is not None:
            paths.append(folder / "masks" / node.mask)
    ids = {node.id for node in nodes}
    with os.scandir(folder / "thumbs") as entries:  # one pass over the folder, not one per node and size
        paths += [Path(e.path) for e in entries if e.name[:-4].split("-", 1)[0] in ids]
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not delete %s: %s", path, exc)


def _surviving_ancestor(parent: str | None, dropped: dict[str, str | None]) -> str | None:
    """The nearest ancestor not in ``dropped``: children of a lost picture move up rather than vanish."""
    for _ in range(len(dropped) + 1):  # bounded, in case a damaged file made the parents loop
        if parent not in dropped:
            return parent
        parent = dropped[parent]
    return None


class Workspace:
    """A history tree and the folder that holds its pictures; every change is saved before returning."""

    def __init__(self, folder: Path | str, tree: HistoryTree | None = None, seq: int = 0):
        self.folder = Path(folder)
        self.tree = tree if tree is not None else HistoryTree()
        # Guards the tree and the sequence numbers, in case a change arrives from another thread.
        self._lock = threading.RLock()
        # Held while an index is written and the journal emptied; always taken before _lock.
        self._index_lock = threading.Lock()
        self._seq = seq  # the last journal record made
        self._journal: Journal | None = None  # started by the first change
        self.latent_budget: int | None = None  # bytes; checked on the journal thread after each new node
        self._latent_sizes_seen: dict[str, int] = {}

    @classmethod
    def open(cls, folder: Path | str) -> tuple[Workspace, OpenReport]:
        """Open the workspace at ``folder`` (an empty one when missing), repairing what a crash left."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise bad_input(f"{folder} is a file, not a history folder: choose a folder.")
        already = _open_workspaces.get(str(folder.resolve()))
        if already is not None:
            already.flush()
        try:
            for name in FOLDERS:
                (folder / name).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or exc
            raise bad_input(f"Restyle could not create the history folder {folder}: {reason}.") from None
        on_disk = _scan_pictures(folder / "images")
        # The other folders' leftovers only take space: swept in the background, not before the window opens.
        sweep = (folder, folder / "thumbs", folder / "depth", folder / "masks")
        threading.Thread(target=_remove_stale_temps, args=sweep, name="history-sweep", daemon=True).start()
        index_path = folder / INDEX_NAME
        with gc_paused():  # a big tree is built here: see gc_paused
            indexed, corrupt, seq, old_format = _read_index(index_path)
            journal_path = folder / JOURNAL_NAME
            cut_torn_tail(journal_path)
            from_index = len(indexed)
            indexed, deleted, seq = _replay(indexed, read_journal(journal_path), seq)
            # With the index lost, the journal's new nodes count as recovered, like those read from the pictures.
            from_journal = max(0, len(indexed) - from_index) if corrupt else 0
            if deleted:  # deleted, but killed before the files went: finish the job
                _remove_node_files(folder, deleted)
                on_disk -= {node.image for node in deleted}
            # open() writes an index before any picture exists, so pictures without one mean it was lost.
            corrupt = corrupt or (not index_path.exists() and any(n.endswith(".png") for n in on_disk))

            seen = {node.id for node in indexed}
            if len(seen) == len(indexed) and on_disk.issuperset([node.image for node in indexed]):
                kept, dropped = indexed, {}  # the usual case, checked in bulk
            else:
                kept, dropped, seen = [], {}, set()
                for node in indexed:
                    if node.id in seen:
                        corrupt = True
                    elif node.image in on_disk:
                        kept.append(node)
                    else:
                        dropped[node.id] = node.parent
                    seen.add(node.id)
            for node in kept if dropped else ():
                node.parent = _surviving_ancestor(node.parent, dropped)
            # Pictures the index does not name: killed between the picture and the index, or a damaged index.
            recovered = []
            for name in sorted(on_disk - {n.image for n in kept}):
                node = read_node_chunk(folder / "images" / name) if name.endswith(".png") else None
                if node is not None and node.id not in seen:
                    seen.add(node.id)
                    node.parent = _surviving_ancestor(node.parent, dropped)
                    recovered.append(node)

            tree = HistoryTree()
            tree.add_all(kept)  # index order is creation order
            tree.add_all(sorted(recovered, key=lambda n: (n.created, n.id)))
        workspace = cls(folder, tree, seq)
        _open_workspaces[str(folder.resolve())] = workspace
        report = _report(len(recovered) + from_journal, len(dropped), corrupt)
        latents_fixed = workspace._forget_missing_latents()
        if corrupt and index_path.exists():
            # Keep the damaged file beside the rebuilt one: it may still hold stars the pictures do not.
            os.replace(index_path, folder / f"{INDEX_NAME}.damaged-{random_hex(3)}")
        if report.message or latents_fixed or old_format or not index_path.exists():
            workspace.save_index()  # an old-format index is written in the new one once
        if report.message:
            log.warning("%s (%s)", report.message, folder)
        return workspace, report

    def _forget_missing_latents(self) -> bool:
        present = {e.name for e in os.scandir(self.folder / "latents")}
        missing = [n for n in self.tree if n.latent is not None and n.latent not in present]
        for node in missing:
            node.latent = None
        return bool(missing)

    # --- paths -------------------------------------------------------------------------------------------
    def new_node_id(self) -> str:
        """A fresh id that no node in this workspace has."""
        while (node_id := new_node_id()) in self.tree:
            pass
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

    def depth_path(self, node_or_id: Node | str) -> Path | None:
        """Where the depth map the node was made with is, or None when it was made without one."""
        node = self._node(node_or_id)
        return None if node.depth is None else self.folder / "depth" / node.depth

    def mask_path(self, node_or_id: Node | str) -> Path | None:
        """Where the mask the node was made with is, or None when it was made without one."""
        node = self._node(node_or_id)
        return None if node.mask is None else self.folder / "masks" / node.mask

    def thumbnail_path(self, node_or_id: Node | str, size: int = THUMB_SIZE) -> Path | None:
        """The node's thumbnail (fits size×size), made now when missing; None when the picture is damaged or
        the thumbnail cannot be written (a full or read-only disk). Thread-safe; a disk job, not UI work.
        A result's thumbnail is written with its picture (``write_thumbnail``); this makes older ones."""
        node = self._node(node_or_id)
        target = thumbnail_file(self.folder, node.id, size)
        if target.is_file() and target.stat().st_size > 0:
            return target
        picture = self.folder / "images" / node.image
        try:
            if not picture.is_file():
                return None
            with Image.open(picture) as image:
                return write_thumbnail(self.folder, node.id, image, size)
        except Exception as exc:  # noqa: BLE001 - a damaged picture (any decoder error) must not stop the view
            log.warning("no thumbnail for %s: %s", picture, exc)
            return None

    # --- changes -----------------------------------------------------------------------------------------
    def add_import(self, source: Path | str, image: Image.Image) -> Node:
        """Copy a picture the user brought into the workspace as a new root, and save the index."""
        source = Path(source)
        node_id = self.new_node_id()
        node = Node(id=node_id, parent=None, kind="import", image=f"{node_id}.png", created=timestamp(),
                    width=image.width, height=image.height, source=str(source))
        # The picture's own A1111 settings travel with the copy, so "restore from image" still works on it.
        write_node_image(self.folder, node, image, read_parameters(source) if source.is_file() else None)
        self.add_node(node)
        return node

    def add_node(self, node: Node) -> None:
        """Add a node whose picture write_node_image already saved; journalled off this thread."""
        if not (self.folder / "images" / node.image).is_file():
            raise ValueError(f"the picture of node {node.id} has not been written")
        with self._lock:
            self.tree.add(node)
            self._record({"op": "add", "node": node.to_dict()},
                         self._keep_latent_budget if node.latent is not None else None)

    def set_starred(self, node_id: str, flag: bool) -> None:
        """Star or unstar a node; journalled off this thread."""
        with self._lock:
            self.tree.set_starred(node_id, flag)
            self._record({"op": "star", "id": node_id, "flag": bool(flag)})

    def delete_subtree(self, node_id: str) -> list[Node]:
        """Delete a node and its descendants; their files go once the deletion is on disk. Returns the nodes."""
        with self._lock:
            removed = self.tree.remove_subtree(node_id)
            # Files after the record: a kill in between is finished by the next open, which replays the record.
            self._record({"op": "delete", "id": node_id}, lambda: _remove_node_files(self.folder, removed))
        return removed

    def _record(self, record: dict, after=None) -> None:
        """Journal one change (the lock is held); ``after`` runs on the journal thread once it is on disk."""
        self._seq += 1
        record["seq"] = self._seq
        if self._journal is None:
            self._journal = Journal(self.folder / JOURNAL_NAME, self._compact)
        self._journal.append(record, after)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every change so far is on disk; False when that took longer than ``timeout``."""
        return self._journal is None or self._journal.flush(timeout)

    def close(self) -> None:
        """Write the changes still queued and stop the journal thread (another workspace is opening)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    @property
    def journal_error(self) -> str | None:
        """The last failure to write a change, in words, or None."""
        return None if self._journal is None else self._journal.error

    def save_index(self) -> None:
        """Write index.json atomically and empty the journal: until the rename, the previous pair stays whole."""
        with self._index_lock, self._lock:
            nodes, seq = list(self.tree), self._seq
            try:
                self._write_index(nodes, seq)
            except OSError as exc:
                reason = exc.strerror or exc
                raise bad_input(f"Restyle could not save the history in {self.folder}: {reason}.") from None

    def _compact(self) -> None:
        """On the journal thread: fold the journal into a fresh index, without holding up changes meanwhile."""
        with self._index_lock:
            with self._lock:
                nodes, seq = list(self.tree), self._seq
            # Node by node, so the UI thread gets the interpreter between nodes; a node changed after the
            # snapshot is written as it is now, and its later record replays to the same result.
            self._write_index(nodes, seq)

    def _write_index(self, nodes: list[Node], seq: int) -> None:
        data = encode_index(nodes, seq)
        atomic_write(self.folder / INDEX_NAME, lambda h: h.write(data))
        if self._journal is not None:
            self._journal.truncate()  # every record in it is at most ``seq``: the index holds them now
        else:
            (self.folder / JOURNAL_NAME).unlink(missing_ok=True)

    # --- latent cache ------------------------------------------------------------------------------------
    def _latent_sizes(self) -> list[tuple[Node, int]]:
        """Cached latents and their sizes, oldest node first; each file is measured once."""
        sizes, seen = [], self._latent_sizes_seen
        for node in self.tree:
            if node.latent is not None:
                size = seen.get(node.latent)
                if size is None:
                    try:
                        size = (self.folder / "latents" / node.latent).stat().st_size
                    except OSError:
                        size = 0
                    seen[node.latent] = size
                sizes.append((node, size))
        return sizes

    def latent_bytes(self) -> int:
        """Bytes taken by the cached latents of the nodes in the tree."""
        return sum(size for _, size in self._latent_sizes())

    def enforce_latent_budget(self, max_bytes: int) -> list[str]:
        """Delete the oldest cached latents until the rest fit in ``max_bytes``; returns the ids evicted."""
        with self._lock:
            sizes = self._latent_sizes()
            total, evicted = sum(size for _, size in sizes), []
            for node, size in sorted(sizes, key=lambda pair: pair[0].created) if total > max_bytes else ():
                if total <= max_bytes:
                    break
                (self.folder / "latents" / node.latent).unlink(missing_ok=True)
                self._latent_sizes_seen.pop(node.latent, None)
                node.latent = None
                total -= size
                evicted.append(node.id)
            if evicted:
                self._record({"op": "latents", "ids": evicted})
        return evicted

    def purge_latents(self) -> int:
        """Delete every cached latent (pictures stay; chaining goes through pixels until new ones are made)."""
        with self._lock:
            cached = [n for n in self.tree if n.latent is not None]
            for node in cached:
                node.latent = None
            self._latent_sizes_seen.clear()
            if cached:
                self._record({"op": "latents", "ids": [n.id for n in cached]})
        # Every file goes, also those no node names any more (left by a crash).
        for entry in os.scandir(self.folder / "latents"):
            if entry.is_file():
                try:
                    os.remove(entry.path)
                except OSError as exc:
                    log.warning("Could not delete %s: %s", entry.path, exc)
        return len(cached)

    def purge_thumbnails(self) -> int:
        """Delete every thumbnail; they are made again as rows scroll into view. Returns how many went."""
        count = 0
        for entry in os.scandir(self.folder / "thumbs"):
            try:
                if entry.is_file():
                    os.remove(entry.path)
                    count += 1
            except OSError as exc:
                log.warning("Could not delete %s: %s", entry.path, exc)
        return count

    def _keep_latent_budget(self) -> None:
        """On the journal thread, after a node with latents: evict the oldest when over ``latent_budget``."""
        if self.latent_budget is not None:
            evicted = self.enforce_latent_budget(self.latent_budget)
            if evicted:
                log.info("latent cache over budget: evicted %d", len(evicted))

    # --- one portable file -------------------------------------------------------------------------------
    def export_zip(self, path: Path | str) -> Path:
        """Write the workspace (index, pictures, latents, depth maps, masks; no thumbnails) as one zip file,
        atomically."""
        path = Path(path)
        with self._lock:
            index = encode_index(list(self.tree), 0)  # the journal stays behind: seq starts again
            files = [(f"images/{n.image}", self.image_path(n)) for n in self.tree]
            files += [(f"latents/{n.latent}", self.latent_path(n)) for n in self.tree if n.latent is not None]
            files += [(f"depth/{n.depth}", self.depth_path(n)) for n in self.tree if n.depth is not None]
            files += [(f"masks/{n.mask}", self.mask_path(n)) for n in self.tree if n.mask is not None]

        def write(handle) -> None:
            with zipfile.ZipFile(handle, "w") as archive:
                archive.writestr(INDEX_NAME, index, compress_type=zipfile.ZIP_DEFLATED)
                archive.writestr("images/", b"")  # an empty history still unpacks as one
                for name, source in files:
                    if source.is_file():  # PNG and safetensors barely compress: store them, much faster
                        archive.write(source, name, compress_type=zipfile.ZIP_STORED)

        try:
            atomic_write(path, write)
        except OSError as exc:
            raise bad_input(f"Restyle could not write {path.name}: {exc.strerror or exc}.") from None
        return path

    @classmethod
    def import_zip(cls, zip_path: Path | str, folder: Path | str) -> tuple[Workspace, OpenReport]:
        """Unpack an exported workspace into ``folder`` (missing or empty) and open it."""
        zip_path, folder = Path(zip_path), Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise bad_input(f"Choose an empty folder to open {zip_path.name} into: {folder} already has files.")
        not_ours = f"{zip_path.name} is not a Restyle history file"
        try:
            archive = zipfile.ZipFile(zip_path)
        except (OSError, zipfile.BadZipFile):
            raise bad_input(f"{not_ours}: it cannot be read as a zip archive.") from None
        with archive:
            members = {}
            for info in archive.infolist():
                parts = PurePosixPath(info.filename).parts
                if info.filename.startswith("/") or "\\" in info.filename or ":" in info.filename or ".." in parts:
                    raise bad_input(f"{not_ours}: a file in it points outside its folder, so it was not opened.")
                # Only our own files are taken; anything else (a __MACOSX folder, say) stays in the zip.
                if parts == (INDEX_NAME,) or (len(parts) == 2 and parts[0] in FOLDERS and not info.is_dir()):
                    members[info.filename] = info
            if INDEX_NAME not in members or not any(n.startswith("images/") for n in archive.namelist()):
                raise bad_input(f"{not_ours}: it has no history index or no images folder.")
            # Unpack beside the target and rename once, so a failure halfway leaves no half-made workspace.
            staging = folder.with_name(f".{folder.name}.{random_hex(4)}.tmp")
            try:
                check_entries(list(members.values()), free_bytes(folder.parent))
                for name in FOLDERS:
                    (staging / name).mkdir(parents=True)
                for name, info in members.items():
                    copy_entry(archive, info, staging / name)
                if folder.exists():
                    folder.rmdir()
                os.replace(staging, folder)
            except ZipRefused as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise bad_input(f"{zip_path.name} was not opened: {exc}.") from None
            except UNREADABLE as exc:  # a bad CRC, encryption, an unknown compression, a broken stream
                shutil.rmtree(staging, ignore_errors=True)
                log.warning("unpacking %s failed: %r", zip_path, exc)
                raise bad_input(f"{zip_path.name} is damaged or uses a kind of zip Restyle cannot read "
                                f"({exc.__class__.__name__}: {exc}), so it was not opened.") from None
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                reason = exc.strerror or exc
                raise bad_input(f"Restyle could not unpack {zip_path.name} into {folder}: {reason}.") from None
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return cls.open(folder)


def _report(recovered: int, dropped: int, corrupt: bool) -> OpenReport:
    """Counts and one message, in sentences a user can read."""
    def many(count: int, one: str, more: str) -> str:
        return f"{count} {one if count == 1 else more}"

    sentences = []
    if corrupt:
        sentences.append(f"The history index was damaged; {many(recovered, 'image was', 'images were')} "
                         f"recovered from {'its' if recovered == 1 else 'their'} own metadata.")
    elif recovered:
        sentences.append(f"{many(recovered, 'result', 'results')} saved just before Restyle last stopped "
                         f"{'was' if recovered == 1 else 'were'} recovered from the image metadata.")
    if dropped:
        sentences.append(f"{many(dropped, 'history entry was', 'history entries were')} removed because "
                         f"{'its picture is' if dropped == 1 else 'their pictures are'} missing.")
    return OpenReport(recovered, dropped, corrupt, " ".join(sentences) or None)
