"""The model library dialog (``modelLibrary``): the guide's models and the ones on disk, download, add, remove.

Scans, downloads and deletions run as background jobs (``desktop.worker.background``), never on the UI thread;
the dialog is modeless, so the app stays usable while a download runs, and closing it does not stop one.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.downloads import human_size
from desktop.core.errors import RestyleError
from desktop.core.library import LibraryEntry, use_slot
from desktop.core.runtime import default_dtype_name
from desktop.core.sources import HUB_ID, check_pickle
from desktop.worker.background import BackgroundJob

from . import theme
from .widget_parts import named_button

COLUMNS = ("Model", "Role", "Family", "Size", "Licence", "Installed")


class ModelLibraryDialog(QDialog):
    """Browse, download, add and remove models; ``model_chosen(name)`` when the user clicks Use."""

    model_chosen = Signal(str)
    entries_changed = Signal()  # after every scan

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelLibrary")
        self.setWindowTitle("Model library")
        self.resize(900, 480)
        self._session = session
        self._settings = session.settings
        self._entries: list[LibraryEntry] = []
        self._scan: BackgroundJob | None = None
        # Flags, not QThread.isRunning(): a job's last signal can arrive before its thread has ended.
        self._scanning = self._rescan = self._downloading_now = False
        self.download_job: BackgroundJob | None = None
        self._remove_job: BackgroundJob | None = None
        self._downloading = ""

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("libraryTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        self.use_button = named_button("Use", "libraryUseButton", "Make the selected model the current one")
        self.download_button = named_button("Download", "libraryDownloadButton",
                                            "Download the selected model (or the Hub id typed below) into the "
                                            "Hugging Face cache: only the files Restyle needs")
        self.cancel_button = named_button("Cancel", "libraryCancelButton", "Stop the download; it resumes later")
        self.add_folder_button = named_button("Add folder…", "libraryAddFolderButton",
                                              "Add a diffusers model folder, or a folder of models and checkpoints")
        self.add_file_button = named_button("Add checkpoint file…", "libraryAddFileButton",
                                            "Add a single-file .safetensors checkpoint")
        self.remove_button = named_button("Remove…", "libraryRemoveButton",
                                          "Remove from the list; files are deleted only if Restyle downloaded them")
        self.hub_edit = QLineEdit()
        self.hub_edit.setObjectName("libraryHubIdEdit")
        self.hub_edit.setPlaceholderText("Any Hugging Face id (owner/name), then Download")
        self.progress = QProgressBar()
        self.progress.setObjectName("libraryProgressBar")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.status_label = QLabel("")
        self.status_label.setObjectName("libraryStatusLabel")
        self.status_label.setWordWrap(True)
        self.pickle_check = QCheckBox("Allow pickle checkpoints (.ckpt/.pt/.bin), read as weights only")
        self.pickle_check.setObjectName("allowPicklesCheck")
        self.pickle_check.setToolTip("Pickles can run code when opened the ordinary way. Restyle only ever reads "
                                     "them with torch.load(weights_only=True), which refuses anything but tensors.")
        self.pickle_check.setChecked(self._settings.allow_pickles)

        buttons = QHBoxLayout()
        for widget in (self.use_button, self.download_button, self.cancel_button, self.add_folder_button,
                       self.add_file_button, self.remove_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        hub_row = QHBoxLayout()
        hub_row.addWidget(self.hub_edit, 1)
        hub_row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(hub_row)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.pickle_check)

        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self._on_use_button_clicked())
        self.use_button.clicked.connect(self._on_use_button_clicked)
        self.download_button.clicked.connect(self._on_download_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.add_folder_button.clicked.connect(self._on_add_folder_button_clicked)
        self.add_file_button.clicked.connect(self._on_add_file_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.hub_edit.textChanged.connect(lambda _t: self._update_buttons())
        self.pickle_check.toggled.connect(self._session.set_allow_pickles)
        self._update_buttons()
        self.refresh()


    # --- state -------------------------------------------------------------------------------------------
    @property
    def entries(self) -> list[LibraryEntry]:
        """The rows shown, in order."""
        return list(self._entries)

    def selected(self) -> LibraryEntry | None:
        """The entry of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        return self._entries[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        """Select the row of the model called ``name``."""
        for row, entry in enumerate(self._entries):
            if entry.name == name:
                self.table.selectRow(row)
                return

    def refresh(self) -> None:
        """Scan the Hugging Face cache and the user's folders again, in the background."""
        if self._scanning:
            self._rescan = True  # the running scan may predate the change: scan again when it ends
            return
        from desktop.core.library import library_entries

        paths, hidden = self._settings.library_paths, self._settings.hidden_models
        self.status_label.setText(self.status_label.text() or "Looking for installed models…")
        self._scan = BackgroundJob(lambda report, cancelled: library_entries(paths, hidden), "scan")
        self._scan.succeeded.connect(self._on_scan_succeeded)
        self._scan.failed.connect(self._on_scan_failed)
        self._scanning = True
        self._scan.start()

    def _on_scan_failed(self, _kind: str, message: str) -> None:
        self._scanning = False
        self._say(message, error=True)

    def _on_scan_succeeded(self, entries: list[LibraryEntry]) -> None:
        self._scanning = False
        if self._rescan:
            self._rescan = False
            self.refresh()
            return
        chosen = self.selected()
        self._entries = list(entries)
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            size = human_size(e.size_bytes) if e.installed else f"≈ {human_size(e.size_bytes)}"
            installed = ("yes, downloaded by Restyle" if e.app_downloaded else "yes") if e.installed else "no"
            for column, text in enumerate((e.title, e.role, e.family, size, e.licence, installed)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{e.name}\n{e.note}".strip() if column == 0 else text)
                self.table.setItem(row, column, item)
        if chosen is not None:
            self.select(chosen.name)
        if self.status_label.text() == "Looking for installed models…":
            self.status_label.setText(f"{sum(e.installed for e in entries)} models installed.")
        self._update_buttons()
        self.entries_changed.emit()

    def _update_buttons(self) -> None:
        entry = self.selected()
        busy = self._downloading_now
        typed = self.hub_edit.text().strip()
        self.use_button.setEnabled(entry is not None and entry.installed)
        self.download_button.setEnabled(not busy and (bool(typed) or (entry is not None and entry.origin in
                                                                        ("catalogue", "hub-cache"))))
        self.cancel_button.setEnabled(busy)
        self.remove_button.setEnabled(entry is not None and entry.installed)

    def _say(self, message: str, *, error: bool = False) -> None:
        self.status_label.setText(message)
        self.status_label.setStyleSheet(f"color: {theme.tone('error')};" if error else "")

    # --- actions -----------------------------------------------------------------------------------------
    def _on_use_button_clicked(self) -> None:
        entry = self.selected()
        if entry is None or not entry.installed:
            return
        slot = use_slot(entry)  # an upscaler, ControlNet or depth model goes to its own slot, not the main one
        if slot != "main":
            self._session.use_model(entry.location if slot == "lora" else entry.name, slot)
            where = {"lora": "one of the next run's LoRAs", "controlnet": "the depth panel's ControlNet",
                     "depth": "the depth estimator",
                     "upscaler_x2": "the ×2 upscaler", "upscaler_x4": "the ×4 upscaler"}[slot]
            self._say(f"{entry.title} is now {where}.")
            return
        self.model_chosen.emit(entry.name)
        self._say(f"{entry.title} is the current model.")

    def _on_download_button_clicked(self) -> None:
        typed = self.hub_edit.text().strip()
        entry = self.selected()
        repo = typed or (entry.repo or entry.name if entry is not None else "")
        if not HUB_ID.match(repo) or "/" not in repo:
            self._say(f"{repo!r} is not a Hugging Face id like owner/name.", error=True)
            return
        # A GGUF variant fetches its one file; its base model is a catalogue entry of its own.
        self.start_download(repo, only="" if typed or entry is None else entry.file)

    def start_download(self, repo: str, only: str = "") -> None:
        """Download ``repo`` (or its one file ``only``) in the background, showing bytes and rate."""
        from desktop.core.downloads import download

        allow_pickles = self._settings.allow_pickles
        fp16 = _fp16_hint(self._session)

        def work(report, cancelled):
            return download(repo, fp16=_runs_in_fp16(fp16), allow_pickles=allow_pickles, on_progress=report,
                            cancelled=cancelled, only=only)

        self._downloading = repo
        self.download_job = BackgroundJob(work, "download")
        self.download_job.progressed.connect(self._on_download_progressed)
        self.download_job.succeeded.connect(self._on_download_succeeded)
        self.download_job.failed.connect(self._on_download_failed)
        self.download_job.cancelled.connect(self._on_download_cancelled)
        self.progress.setValue(0)
        self.progress.setFormat(f"{repo}: asking the Hub…")
        self.progress.setVisible(True)
        self._say(f"Downloading {repo}…")
        self._downloading_now = True
        self.download_job.start()
        self._update_buttons()

    def _download_ended(self) -> None:
        self._downloading_now = False
        self._update_buttons()

    def _on_download_progressed(self, p) -> None:
        self.progress.setValue(int(1000 * p.done / p.total) if p.total else 0)
        self.progress.setFormat(p.figures())

    def _on_download_succeeded(self, _snapshot) -> None:
        self._download_ended()
        self.progress.setValue(1000)
        self._say(f"{self._downloading} is downloaded. Select it and click Use.")
        self.hub_edit.clear()
        self.refresh()

    def _on_download_failed(self, _kind: str, message: str) -> None:
        self._download_ended()
        self.progress.setVisible(False)
        self._say(message, error=True)

    def _on_download_cancelled(self, message: str) -> None:
        self._download_ended()
        self.progress.setVisible(False)
        self._say(message)

    def _on_cancel_button_clicked(self) -> None:
        if self.download_job is not None:
            self.download_job.cancel()

    def _on_add_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a model folder (diffusers, or a folder of models)")
        if folder:
            self.add_path(folder)

    def _on_add_file_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a checkpoint file", "",
                                              "Checkpoints (*.safetensors *.ckpt *.pt *.pth *.bin)")
        if path:
            self.add_path(path)

    def add_path(self, path: str) -> bool:
        """Add a folder or file to the library (a pickle only when allowed); False with a sentence otherwise."""
        from pathlib import Path

        try:
            check_pickle(Path(path), self._settings.allow_pickles)
        except RestyleError as exc:
            self._say(exc.message, error=True)
            return False
        paths = self._settings.library_paths
        if path not in paths:
            self._settings.library_paths = [*paths, path]
        self._settings.hidden_models = [h for h in self._settings.hidden_models if h != path]
        self._say(f"Added {Path(path).name}.")
        self.refresh()
        return True

    def _on_remove_button_clicked(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        if entry.app_downloaded:
            answer = QMessageBox.question(
                self, "Delete downloaded files",
                f"Delete the files Restyle downloaded for {entry.title} ({human_size(entry.size_bytes)})? "
                "Files other programs put in the Hugging Face cache are left alone.")
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._delete_download(entry.name)
            return
        if entry.origin == "hub-cache" and _is_catalogue(entry.name):  # always listed: nothing to hide
            self._say(f"{entry.title} was not downloaded by Restyle, so Restyle leaves its files alone; delete it "
                      "with `hf cache delete` if you no longer need it.")
            return
        answer = QMessageBox.question(self, "Remove from the library",
                                      f"Remove {entry.title} from the library list? Its files stay on disk.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        paths = self._settings.library_paths
        if entry.name in paths:
            self._settings.library_paths = [p for p in paths if p != entry.name]
        else:
            self._settings.hidden_models = [*self._settings.hidden_models, entry.name]
        self._say(f"{entry.title} is no longer listed; its files were not touched.")
        self.refresh()

    def _delete_download(self, repo: str) -> None:
        from desktop.core.library import remove_download

        job = BackgroundJob(lambda report, cancelled: remove_download(repo), "remove")
        job.succeeded.connect(lambda freed: (self._say(f"Deleted {repo}: {human_size(freed)} freed."),
                                             self.refresh()))
        job.failed.connect(lambda _kind, message: self._say(message, error=True))
        self._remove_job = job
        job.start()


def _is_catalogue(name: str) -> bool:
    from desktop.core.catalogue import catalogue_entry

    return catalogue_entry(name) is not None


def _fp16_hint(session) -> bool | None:
    """Whether to fetch fp16 weights: as the loaded model runs; else as the worker's first device would run
    (fp16 on a GPU, fp32 on the CPU); None before the worker has said what it has."""
    info = getattr(session, "model_info", None)
    if info is not None:
        return info.dtype in ("float16", "bfloat16")
    devices = getattr(getattr(session, "devices", None), "available", None)
    if not devices:
        return None
    return default_dtype_name(devices[0]) == "fp16"


def _runs_in_fp16(hint: bool | None) -> bool:
    """Whether to fetch fp16 weights; fp32 ones (which every device runs) when nothing has told us yet."""
    return bool(hint)
