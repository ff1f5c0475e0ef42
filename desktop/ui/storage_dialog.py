"""File ▸ Storage… (``storageDialog``): what each workspace takes on disk, the latent cache cap, and purges
that free space without ever touching a picture."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.core.downloads import human_size
from desktop.core.storage import list_workspaces, workspace_size
from desktop.worker.background import BackgroundJob

COLUMNS = ("Workspace", "Pictures", "Latents", "Thumbnails", "Other", "Total")
GB = 1024 ** 3  # as the sizes beside it are shown


class StorageDialog(QDialog):
    """Sizes per workspace (measured on a background thread), the latent cap, purge buttons."""

    def __init__(self, history, parent=None):
        super().__init__(parent)
        self.setObjectName("storageDialog")
        self.setWindowTitle("Storage")
        self.resize(640, 360)
        self._history = history
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("storageTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.cap_spin = QDoubleSpinBox()
        self.cap_spin.setObjectName("storageLatentCapSpin")
        self.cap_spin.setRange(0.0, 1000.0)
        self.cap_spin.setDecimals(1)
        self.cap_spin.setSingleStep(0.5)
        self.cap_spin.setSuffix(" GB")
        self.cap_spin.setValue(history.settings.latent_budget_bytes / GB)
        self.cap_spin.setToolTip("Over this, the oldest cached latents are deleted first. Latents only make "
                                 "chaining skip a decode and encode; pictures are never deleted.")
        self.purge_latents_button = QPushButton("Delete cached latents")
        self.purge_latents_button.setObjectName("storagePurgeLatentsButton")
        self.purge_thumbs_button = QPushButton("Delete thumbnails")
        self.purge_thumbs_button.setObjectName("storagePurgeThumbsButton")
        self.status_label = QLabel("Measuring…")
        self.status_label.setObjectName("storageStatusLabel")
        self.status_label.setWordWrap(True)
        cap = QHBoxLayout()
        cap.addWidget(QLabel("Latent cache cap (each workspace)"))
        cap.addWidget(self.cap_spin)
        cap.addStretch(1)
        purge = QHBoxLayout()
        purge.addWidget(QLabel("In the open workspace:"))
        purge.addWidget(self.purge_latents_button)
        purge.addWidget(self.purge_thumbs_button)
        purge.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(cap)
        layout.addLayout(purge)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self.job: BackgroundJob | None = None
        self.cap_spin.editingFinished.connect(self._on_cap_spin_editing_finished)
        self.purge_latents_button.clicked.connect(lambda: self._purge("latents"))
        self.purge_thumbs_button.clicked.connect(lambda: self._purge("thumbnails"))
        self.finished.connect(lambda _result: self.job is not None and self.job.stop())
        self.measure()

    def confirm(self, question: str) -> bool:
        """Ask before deleting (tests replace this)."""
        answer = QMessageBox.question(self, "Storage", question)
        return answer == QMessageBox.StandardButton.Yes

    def measure(self) -> None:
        """Measure every workspace again, off the UI thread."""
        if self.job is not None and self.job.isRunning():
            return
        folders = list_workspaces(self._history.settings.data_dir, self._history.workspace.folder)
        self.status_label.setText("Measuring…")
        self.job = BackgroundJob(lambda _report, _cancelled: [workspace_size(f) for f in folders], "storage")
        self.job.succeeded.connect(self._on_job_succeeded)
        self.job.failed.connect(lambda _kind, message: self.status_label.setText(message))
        self.job.start()

    def _on_job_succeeded(self, sizes) -> None:
        current = self._history.workspace.folder
        self.table.setRowCount(len(sizes))
        for row, size in enumerate(sizes):
            name = size.folder.name + (" (open)" if size.folder == current else "")
            cells = [name] + [human_size(v) for v in (size.pictures, size.latents, size.thumbnails, size.other,
                                                      size.total)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if size.folder == current:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                item.setToolTip(str(size.folder))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        total = sum(s.total for s in sizes)
        self.status_label.setText(f"{len(sizes)} workspace{'s' if len(sizes) != 1 else ''}, {human_size(total)} "
                                  "in all. Purging never deletes a picture.")

    def _on_cap_spin_editing_finished(self) -> None:
        self._history.set_latent_budget(int(self.cap_spin.value() * GB))
        self.measure()

    def _purge(self, what: str) -> None:
        name = self._history.workspace.folder.name
        question = (f"Delete every cached latent of “{name}”? Pictures stay; the next run from one of them goes "
                    "through pixels." if what == "latents" else
                    f"Delete every thumbnail of “{name}”? They are made again when shown.")
        if not self.confirm(question):
            return
        if what == "latents":
            self._history.purge_latents()
        else:
            self._history.purge_thumbnails()
        self.measure()
