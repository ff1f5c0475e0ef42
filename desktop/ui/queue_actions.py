"""The window's queue entries: Run ▸ Sweep / Batch / Plan a chain, File ▸ Restyle a folder, and the banners the
queue raises (jobs waiting from last time, a finished sweep grid)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QInputDialog

if TYPE_CHECKING:  # the dialogs are imported when first opened: the window shows sooner
    from .queue_dialogs import ChainDialog, SweepDialog



class QueueActions:
    """Adds the queue's menu entries to ``window`` and shows what the queue reports."""

    def __init__(self, window, file_menu, run_menu):
        self._window = window
        self._session = window.model
        self.dialog = None  # the sweep or chain dialog open now (kept so it is not collected)
        run_menu.addSeparator()
        window._action(run_menu, "S&weep…", self.sweep_dialog)  # the window's own helper
        window._action(run_menu, "&Batch…", self.batch_dialog)
        window._action(run_menu, "Plan a c&hain…", self.chain_dialog)
        file_menu.addSeparator()
        window._action(file_menu, "Restyle a &folder…", self.folder_dialog)
        jobs = self._session.jobs
        jobs.grid_ready.connect(self._on_jobs_grid_ready)
        jobs.queue.changed.connect(self._on_queue_changed)
        self._on_queue_changed()
        if jobs.queue.restored:
            count = jobs.queue.restored
            window.notice_banner.show_message(
                f"{count} queued run{'s are' if count > 1 else ' is'} waiting from last time.",
                [("Run them", jobs.resume), ("Show the queue", self.show_queue)],
            )

    def show_queue(self) -> None:
        """Bring the queue tab to the front."""
        self._window.side_tabs.setCurrentWidget(self._window.queue_panel)

    def sweep_dialog(self) -> SweepDialog:
        """Open the sweep dialog (window-modal, not blocking)."""
        from .queue_dialogs import SweepDialog

        self.dialog = SweepDialog(self._session, self._window)
        self.dialog.accepted.connect(self.show_queue)
        self.dialog.open()
        return self.dialog

    def chain_dialog(self) -> ChainDialog:
        """Open the planned-chain dialog (window-modal, not blocking)."""
        from .queue_dialogs import ChainDialog

        self.dialog = ChainDialog(self._session, self._window)
        self.dialog.accepted.connect(self.show_queue)
        self.dialog.open()
        return self.dialog

    def batch_dialog(self) -> None:
        """Ask how many images, then queue them with consecutive seeds."""
        seed = self._session.params.seed
        start = "the seed field's seed" if seed is not None else "a random seed"
        count, ok = QInputDialog.getInt(self._window, "Batch", f"How many images? Seeds count up from {start}.",
                                        4, 1, 100)
        if ok and self._session.jobs.enqueue_batch(count):
            self.show_queue()

    def folder_dialog(self) -> None:
        """Pick a folder and queue every image in it with the current settings."""
        folder = QFileDialog.getExistingDirectory(self._window, "Restyle every image of a folder")
        if folder and self._session.jobs.enqueue_folder(folder):
            self.show_queue()

    def _on_queue_changed(self) -> None:
        waiting = self._session.jobs.queue.waiting_count()
        tabs = self._window.side_tabs
        tabs.setTabText(tabs.indexOf(self._window.queue_panel), f"Queue ({waiting})" if waiting else "Queue")

    def _on_jobs_grid_ready(self, path: str) -> None:
        from pathlib import Path

        self._window.notice_banner.show_message(
            f"The sweep's grid is saved as {Path(path).name}.",
            [("Show it", lambda: self._window.canvas.show_image(QImage(path), Path(path).name))],
        )
