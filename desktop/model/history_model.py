"""HistoryModel: the observable face of the workspace: the tree, the selection and the edits to them.

QtCore only. Generation lives in SessionModel, which adds finished nodes here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.branches import copy_branch
from desktop.core.errors import RestyleError
from desktop.core.history import Node
from desktop.core.workspace import OpenReport, Workspace

log = logging.getLogger(__name__)


class HistoryModel(QObject):
    """The open workspace, which node is selected, and star/delete/navigate/save/open."""

    history_reset = Signal()  # another workspace was opened: everything changed
    nodes_added = Signal(list)  # ids, parents before children
    node_changed = Signal(str)  # starred or unstarred
    nodes_removed = Signal(list)  # the Node objects deleted, the branch's own root first
    selection_changed = Signal(object)  # node id or None
    error_raised = Signal(str, str)
    status_changed = Signal(str)

    def __init__(self, settings):
        super().__init__()
        self.settings = settings
        self.workspace, self.open_report = self._open_at_start(settings)
        self.workspace.latent_budget = settings.latent_budget_bytes
        self._journal_problem: str | None = None  # the last journal failure said to the user
        last = settings.selected_node
        self._selected: str | None = last if last in self.workspace.tree else None

    @staticmethod
    def _open_at_start(settings) -> tuple[Workspace, OpenReport]:
        """The last workspace; when it is unusable (a file, an unplugged drive) the default one, and a notice.

        The setting is left as it was, so the workspace comes back once its drive is plugged in again.
        """
        wanted = Path(settings.workspace_dir)
        try:
            return Workspace.open(wanted)
        except RestyleError as exc:
            problem = exc.message
        except (OSError, ValueError) as exc:  # a hand-edited path: a NUL byte, a name too long
            problem = f"The saved history folder {str(wanted)!r} cannot be used ({exc})."
        fallback = settings.data_dir / "workspaces" / "default"
        note = f"{problem} The history in {fallback} was opened instead."
        try:
            workspace, report = Workspace.open(fallback) if fallback != wanted else (None, None)
        except RestyleError as exc:
            workspace, report = None, None
            note = f"{problem} {exc.message}"
        if workspace is None:  # nothing can be opened (a read-only data folder): an empty history in memory
            workspace, report = Workspace(fallback), OpenReport(0, 0, False, None)
            note += " The history is empty for this session and new results cannot be kept in it."
        log.warning("%s", note)
        message = " ".join(m for m in (note, report.message) if m)
        return workspace, OpenReport(report.recovered, report.dropped, report.corrupt_index, message)

    @property
    def tree(self):
        """The history tree of the open workspace."""
        return self.workspace.tree

    @property
    def selected_id(self) -> str | None:
        """The node shown on the canvas, or None."""
        return self._selected

    def select(self, node_id: str | None) -> None:
        """Show this node (None: nothing selected)."""
        if node_id is not None and node_id not in self.tree:
            return
        if node_id != self._selected:
            self._selected = node_id
            self.settings.selected_node = node_id or ""
            self.selection_changed.emit(node_id)

    def add_nodes(self, nodes: list[Node]) -> None:
        """Index nodes whose pictures the worker already wrote; the journal thread saves them and trims the
        latent cache."""
        added = []
        for node in nodes:
            if node.id not in self.tree:
                self.workspace.add_node(node)
                added.append(node.id)
        if added:
            self.nodes_added.emit(added)
        self._say_journal_error()

    def _say_journal_error(self) -> None:
        """Say once when the journal thread could not write a change (a full disk, say); the pictures are safe."""
        problem = self.workspace.journal_error
        if problem and problem != self._journal_problem:
            self.error_raised.emit("bad_input", f"{problem} The pictures are saved; the history's list of them "
                                   "is rebuilt from them at the next start.")
        self._journal_problem = problem

    def import_picture(self, source: Path, image) -> Node:
        """Copy a picture from outside into the workspace as a new root."""
        node = self.workspace.add_import(source, image)
        self.nodes_added.emit([node.id])
        return node

    def set_starred(self, node_id: str, flag: bool) -> None:
        """Star or unstar a node (journalled at once, off this thread)."""
        self.workspace.set_starred(node_id, flag)
        self.node_changed.emit(node_id)
        self._say_journal_error()

    def delete(self, node_id: str) -> list[Node]:
        """Delete a node and everything made from it; the selection moves to its parent."""
        parent = self.tree.get(node_id).parent
        removed = self.workspace.delete_subtree(node_id)
        self.nodes_removed.emit(removed)  # first, so views drop the deleted rows before the selection moves
        if self._selected in {n.id for n in removed}:
            self._selected = None
            self.select(parent)
            if parent is None:
                self.selection_changed.emit(None)
        self.status_changed.emit(f"Deleted {len(removed)} image{'s' if len(removed) != 1 else ''} from the history.")
        return removed

    def undo(self) -> None:
        """Select the parent of the selected node (Ctrl+Z)."""
        if self._selected:
            target = self.tree.undo_target(self._selected)
            if target:
                self.select(target)

    def redo(self) -> None:
        """Select the last child of the selected node (Ctrl+Shift+Z)."""
        if self._selected:
            target = self.tree.redo_target(self._selected)
            if target:
                self.select(target)

    def export_grid(self, node_ids: list[str], path: str | Path) -> Path | None:
        """Save the nodes as one captioned grid PNG; one node alone exports its whole chain from the root."""
        from PIL import Image

        from desktop.core.captions import node_caption
        from desktop.core.grid import make_grid

        if len(node_ids) == 1:
            node_ids = [n.id for n in self.tree.path_to_root(node_ids[0])]
        nodes = [self.tree.get(i) for i in node_ids if i in self.tree]
        if not nodes:
            return None
        images = []
        for node in nodes:
            with Image.open(self.workspace.image_path(node)) as image:
                images.append(image.convert("RGB"))
        # A chain reads left to right in one row, as in the diffusers guide; many images wrap into a square.
        grid = make_grid(images, [node_caption(n) for n in nodes], columns=len(nodes) if len(nodes) <= 6 else None)
        path = Path(path)
        try:
            grid.save(path, format="PNG")
        except OSError as exc:
            self.error_raised.emit("bad_input", f"The grid could not be saved to {path}: {exc.strerror or exc}.")
            return None
        self.status_changed.emit(f"Saved a grid of {len(nodes)} images to {path.name}.")
        return path

    def save_as(self, path: str | Path) -> Path | None:
        """Write the workspace as one portable .restyle file."""
        try:
            written = self.workspace.export_zip(path)
        except (RestyleError, OSError) as exc:
            self.error_raised.emit("bad_input", getattr(exc, "message", None) or f"Could not save {path}: {exc}.")
            return None
        self.status_changed.emit(f"Workspace saved as {Path(written).name}.")
        return Path(written)

    def open_file(self, path: str | Path) -> bool:
        """Open a .restyle file: unpacked into a new workspace folder, which becomes the current one."""
        path = Path(path)
        base = self.settings.data_dir / "workspaces"
        folder = base / path.stem
        n = 2
        while folder.exists():
            folder = base / f"{path.stem}-{n}"
            n += 1
        opened = self._try(Workspace.import_zip, path, folder)
        if opened is None:
            return False
        self._switch(*opened)
        self.status_changed.emit(f"Opened {path.name} ({len(opened[0].tree)} images).")
        return True

    def _try(self, action, *args):
        """``action(*args)``, or None after saying why it could not be done."""
        try:
            return action(*args)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return None

    def open_folder(self, folder: str | Path) -> bool:
        """Switch to the workspace at ``folder`` (made when new), without a restart."""
        folder = Path(folder)
        if folder == self.workspace.folder:
            return True
        opened = self._try(Workspace.open, folder)
        if opened is None:
            return False
        self._switch(*opened)
        self.status_changed.emit(f"Workspace “{folder.name}” ({len(opened[0].tree)} images).")
        return True

    def copy_branch(self, node_id: str, folder: str | Path, *, move: bool = False) -> bool:
        """Copy (or move) a node and everything made from it into the workspace at ``folder``."""
        folder = Path(folder)
        opened = self._try(Workspace.open, folder)
        if opened is None:
            return False
        try:
            copies = self._try(copy_branch, self.workspace, node_id, opened[0])
        finally:
            opened[0].close()  # its journal is on disk before the branch leaves this workspace
        if copies is None:
            return False
        if move:
            self.delete(node_id)
        verb = "Moved" if move else "Copied"
        self.status_changed.emit(f"{verb} {len(copies)} image{'s' if len(copies) != 1 else ''} to “{folder.name}”.")
        return True

    def set_latent_budget(self, max_bytes: int) -> None:
        """Cap the latent cache (kept in the settings) and evict the oldest latents over it now."""
        self.settings.latent_budget_bytes = max_bytes
        self.workspace.latent_budget = max_bytes
        evicted = self.workspace.enforce_latent_budget(max_bytes)
        if evicted:
            self.status_changed.emit(f"The latent cache was trimmed: {len(evicted)} oldest entries deleted.")

    def purge_latents(self) -> int:
        """Delete the open workspace's cached latents (never a picture)."""
        count = self.workspace.purge_latents()
        self.status_changed.emit(f"Deleted the cached latents of {count} image{'s' if count != 1 else ''}; "
                                 "the next run from them goes through pixels.")
        return count

    def purge_thumbnails(self) -> int:
        """Delete the open workspace's thumbnails (made again when shown)."""
        count = self.workspace.purge_thumbnails()
        self.status_changed.emit(f"Deleted {count} thumbnail{'s' if count != 1 else ''}; they are made again "
                                 "when shown.")
        return count

    def close(self) -> None:
        """Write every change still queued (the app is closing)."""
        self.workspace.close()

    def _switch(self, workspace: Workspace, report: OpenReport) -> None:
        self.workspace.close()
        workspace.latent_budget = self.settings.latent_budget_bytes
        self.workspace, self.open_report = workspace, report
        self.settings.workspace_dir = workspace.folder
        self._selected = None
        self.history_reset.emit()
        self.selection_changed.emit(None)
        if report.message:
            self.error_raised.emit("bad_input", report.message)
