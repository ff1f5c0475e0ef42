"""Collections: File ▸ Workspaces lists every workspace and switches without a restart; History ▸ Copy/Move
branch to workspace… sends the selected image and everything made from it to another one."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QInputDialog

_NAME = re.compile(r"[^\w\- ]+")


class WorkspaceMenu:
    """The Workspaces submenu (``workspacesMenu``) and the branch actions of the History menu."""

    def __init__(self, window, file_menu):
        self._window = window
        self._history = window.model.history
        self.menu = file_menu.addMenu("&Workspaces")
        self.menu.setObjectName("workspacesMenu")
        self.menu.aboutToShow.connect(self.refresh)
        self._group: QActionGroup | None = None

    def add_branch_actions(self, history_menu) -> None:
        """History ▸ Copy branch to workspace… and Move branch to workspace…."""
        history_menu.addSeparator()
        window = self._window
        window._action(history_menu, "&Copy branch to workspace…", lambda: self.send_branch(move=False))
        window._action(history_menu, "&Move branch to workspace…", lambda: self.send_branch(move=True))

    # --- what tests replace ------------------------------------------------------------------------------
    def ask_name(self) -> str | None:
        """The new workspace's name, or None when cancelled."""
        name, ok = QInputDialog.getText(self._window, "New workspace", "Name of the new workspace:")
        return name if ok else None

    def ask_target(self, names: list[str], move: bool) -> str | None:
        """Which workspace the branch goes to, or None when cancelled."""
        verb = "Move" if move else "Copy"
        name, ok = QInputDialog.getItem(self._window, f"{verb} branch", f"{verb} the branch to:", names, 0, False)
        return name if ok else None

    # --- actions -----------------------------------------------------------------------------------------
    def folders(self) -> list[Path]:
        """Every workspace, the open one included."""
        from desktop.core.storage import list_workspaces  # used when the menu opens, not at start-up

        return list_workspaces(self._history.settings.data_dir, self._history.workspace.folder)

    def refresh(self) -> None:
        """Rebuild the submenu: one checkable entry per workspace, then New workspace…."""
        self.menu.clear()
        self._group = QActionGroup(self.menu)
        current = self._history.workspace.folder
        for folder in self.folders():
            action = self.menu.addAction(folder.name, lambda f=folder: self.switch_to(f))
            action.setCheckable(True)
            action.setChecked(folder == current)
            action.setToolTip(str(folder))
            self._group.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction("&New workspace…", self.new_workspace)

    def _busy(self) -> bool:
        if self._window.model.phase.value == "idle":
            return False
        self._window.error_banner.show_message("A run is going: let it finish (or cancel it) before switching "
                                               "workspace, so its result lands in the history it started from.")
        return True

    def switch_to(self, folder: Path) -> bool:
        """Open another workspace (its history and its own queue) in place of this one."""
        if self._busy():
            return False
        return self._history.open_folder(folder)

    def new_workspace(self) -> bool:
        """Make a workspace under the data folder and switch to it."""
        name = self.ask_name()
        clean = _NAME.sub("", name or "").strip()
        if not clean:
            if name is not None:
                self._window.error_banner.show_message("A workspace name needs letters or digits.")
            return False
        folder = self._history.settings.data_dir / "workspaces" / clean
        if folder.exists():
            self._window.error_banner.show_message(f"There is already a workspace called “{clean}”: pick it from "
                                                   "File ▸ Workspaces, or choose another name.")
            return False
        return self.switch_to(folder)

    def send_branch(self, *, move: bool) -> bool:
        """Copy or move the selected image and its descendants to another workspace."""
        node_id = self._history.selected_id
        if node_id is None:
            self._window.error_banner.show_message("Select an image in the history first: its branch is what goes.")
            return False
        others = [f for f in self.folders() if f != self._history.workspace.folder]
        if not others:
            self._window.error_banner.show_message("There is no other workspace yet: make one with File ▸ "
                                                   "Workspaces ▸ New workspace….")
            return False
        if move and self._busy():
            return False
        name = self.ask_target([f.name for f in others], move)
        target = next((f for f in others if f.name == name), None)
        return target is not None and self._history.copy_branch(node_id, target, move=move)
