"""The queue panel: the runs waiting their turn, with up/down, remove, cancel and pause/resume; with several
devices (Settings ▸ Devices at once), each device's state and the device a run must use."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .device_pool_panel import DevicePoolPanel

THUMB = 40
# The settings a queued run can differ in from the panel, as the row names them.
DIFF_FIELDS = (("model", "model"), ("prompt", "prompt"), ("strength", "strength"), ("guidance_scale", "guidance"),
               ("steps", "steps"), ("seed", "seed"))
STATE_MARKS = {"running": "▶", "waiting": "•", "blocked": "⛔"}
WAITS_FOR_DEVICE = "waiting for a free device"
EMPTY_TEXT = ("Nothing queued. Press Generate while a run goes to queue the next, or use Run ▸ Sweep, "
              "Batch or Plan a chain.")


class QueuePanel(QWidget):
    """A list over the session's JobQueue; the list is rebuilt whenever the queue changes."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._runner = session.jobs
        self.view = QListWidget()
        self.view.setObjectName("queueView")
        self.view.setWordWrap(True)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self._icons: dict = {}  # source thumbnails by path
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)  # drag a row to reorder
        # After the drop has finished: the queue then rebuilds the rows it owns.
        self.view.model().rowsMoved.connect(lambda *_: QTimer.singleShot(0, self._on_view_rows_moved))
        self.status_label = QLabel()
        self.status_label.setObjectName("queueStatusLabel")
        self.status_label.setWordWrap(True)
        # The last folder run's report, kept here (not a status line that flashes past).
        self.folder_summary_label = QLabel(session.jobs.last_folder_summary)
        self.folder_summary_label.setObjectName("folderSummaryLabel")
        self.folder_summary_label.setWordWrap(True)
        self.folder_summary_label.setVisible(bool(session.jobs.last_folder_summary))
        self._runner.folder_summary_changed.connect(self._on_runner_folder_summary_changed)
        self.up_button = self._button("▲ Up", "queueUpButton", lambda: self._move(-1))
        self.down_button = self._button("▼ Down", "queueDownButton", lambda: self._move(1))
        self.remove_button = self._button("Remove", "queueRemoveButton", self._remove)
        self.cancel_button = self._button("Cancel running", "queueCancelButton", session.cancel)
        self.pause_button = self._button("Pause", "queuePauseButton", self._toggle_pause)
        self.devices_panel = DevicePoolPanel(session)  # each device's state, with several (device_pool_panel.py)
        self.device_combo = QComboBox()  # the device the selected run must use ("Any device")
        self.device_combo.setObjectName("queueDeviceCombo")
        self.device_combo.setToolTip("The device the selected run must use; Any device: whichever is free first")
        self.device_combo.activated.connect(self._on_device_combo_activated)
        session.pool.placement_changed.connect(self._on_queue_changed)  # "on CPU worker 2"; not at every step
        buttons = QGridLayout()
        buttons.addWidget(self.up_button, 0, 0)
        buttons.addWidget(self.down_button, 0, 1)
        buttons.addWidget(self.remove_button, 0, 2)
        buttons.addWidget(self.cancel_button, 1, 0, 1, 2)
        buttons.addWidget(self.pause_button, 1, 2)
        buttons.addWidget(self.device_combo, 2, 0, 1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.devices_panel)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.folder_summary_label)
        layout.addLayout(buttons)
        self._runner.queue.changed.connect(self._on_queue_changed)
        session.params_changed.connect(lambda _params: self._on_queue_changed())  # "differs from the panel"
        self.view.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.view.currentItemChanged.connect(lambda *_: self._runner.focus(self.selected_job_id()))
        session.phase_changed.connect(lambda _phase: self._update_buttons())
        self._on_queue_changed()

    def _on_runner_folder_summary_changed(self, summary: str) -> None:
        self.folder_summary_label.setText(summary)
        self.folder_summary_label.setVisible(bool(summary))

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    def selected_job_id(self) -> str | None:
        """The id of the selected job, or None."""
        item = self.view.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select_job(self, job_id: str) -> None:
        """Select the row of this job."""
        for row in range(self.view.count()):
            if self.view.item(row).data(Qt.ItemDataRole.UserRole) == job_id:
                self.view.setCurrentRow(row)

    # --- actions -----------------------------------------------------------------------------------------
    def _move(self, delta: int) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            self._runner.move(job_id, delta)

    def _remove(self) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            self._runner.remove(job_id)

    def _on_view_rows_moved(self) -> None:
        ids = [self.view.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.view.count())]
        self._runner.queue.reorder(ids)

    def _toggle_pause(self) -> None:
        if self._runner.queue.paused:
            self._runner.resume()
        else:
            self._runner.pause()

    # --- queue signals -----------------------------------------------------------------------------------
    def _on_queue_changed(self) -> None:
        selected = self.selected_job_id()
        self.view.clear()
        for job in self._runner.queue.jobs:
            where = self._placement(job)
            waits = where == WAITS_FOR_DEVICE  # sent to the devices, every one busy: not running yet
            text = f"{STATE_MARKS.get('waiting' if waits else job.state, '')} {job.label}"
            if job.state == "blocked":
                text += f" (blocked: {job.note}; remove it)"
            if where:
                text += f" · {where}"
            # Identical labels no longer: what this run does unlike the panel, less what its label says already
            # (a batch's label has its seed).
            differs = " · ".join(part for part in settings_that_differ(job.params, self._session.params).split(" · ")
                                 if part and part not in job.label)
            if differs:
                text += f"\n{differs}"
            item = QListWidgetItem(text)
            icon = self._source_icon(job)
            if icon is not None:
                item.setIcon(icon)
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            item.setToolTip(_tooltip(text, job.params))
            self.view.addItem(item)
        if selected is not None:
            self.select_job(selected)
        queue = self._runner.queue
        waiting = queue.waiting_count()
        if not queue.jobs:
            self.status_label.setText(EMPTY_TEXT)
        else:
            paused = " · paused: press Resume to run them" if queue.paused and waiting else ""
            self.status_label.setText(f"{waiting} waiting{paused}")
        self.pause_button.setText("Resume" if queue.paused else "Pause")
        self._update_buttons()

    def _placement(self, job) -> str:
        """Where a job runs, as its row says: "on CPU worker 2" (running there, or pinned to it while waiting),
        WAITS_FOR_DEVICE (sent to the devices while every one is busy, or loading the model), or "" (any device,
        or the window's one device)."""
        pool = self._session.pool
        if not pool.active:
            return ""
        request = self._runner.request_of(job.id)
        if request is None:
            device = job.device
        elif request in pool.device_of:
            device = pool.device_of[request]
        else:
            return WAITS_FOR_DEVICE if job.state == "running" else ""
        return f"on {pool.label(device)}" if device else ""

    def _on_device_combo_activated(self, index: int) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            self._runner.set_device(job_id, self.device_combo.itemData(index))

    def _update_device_combo(self, job) -> None:
        pool = self._session.pool
        self.device_combo.setVisible(pool.active)
        self.device_combo.clear()
        self.device_combo.addItem("Device: any (whichever is free first)", "")
        for row in pool.rows:
            self.device_combo.addItem(f"Device: {row.label}", row.id)
        if job is not None and job.device and self.device_combo.findData(job.device) < 0:
            self.device_combo.addItem(f"Device: {job.device} (not started)", job.device)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(job.device if job else "")))
        self.device_combo.setEnabled(job is not None and job.state != "running")

    def _source_icon(self, job):
        """A thumbnail of the picture the job starts from (a history node's, or the file's), cached by path."""
        history = self._session.history
        if job.init_node is not None and job.init_node in history.tree:
            path = str(history.workspace.thumbnail_path(history.tree.get(job.init_node)))
        elif job.init_path:
            path = job.init_path
        else:
            return None  # from text, or from the step before it: no picture yet
        icon = self._icons.get(path)
        if icon is None:
            image = QImage(path)
            if image.isNull():
                return None
            icon = QIcon(QPixmap.fromImage(image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                         Qt.TransformationMode.SmoothTransformation)))
            self._icons[path] = icon
        return icon

    def _update_buttons(self) -> None:
        job = self._runner.queue.get(self.selected_job_id() or "")
        movable = job is not None and job.state != "running"
        self.up_button.setEnabled(movable)
        self.down_button.setEnabled(movable)
        self.remove_button.setEnabled(movable)
        self.cancel_button.setEnabled(self._session.phase.value == "running")
        self._update_device_combo(job)


def _tooltip(text: str, params: dict) -> str:
    """The row's text and the settings the run will use."""
    seed = params.get("seed")
    return (f"{text}\nModel: {params.get('model', '')}\nPrompt: {params.get('prompt', '')}\n"
            f"Strength {params.get('strength')}, guidance {params.get('guidance_scale')}, "
            f"{params.get('steps')} steps, seed {'random' if seed is None else seed}")


def settings_that_differ(job_params: dict, panel) -> str:
    """"strength 0.4 · seed 7": the job's settings that are not the panel's now ('' when none)."""
    parts = []
    for field, label in DIFF_FIELDS:
        value, current = job_params.get(field), getattr(panel, field)
        if value == current or value in (None, ""):
            continue
        if field == "model":
            value = str(value).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        elif field == "prompt":
            value = f"“{value if len(value) <= 30 else value[:29] + '…'}”"
        parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    return " · ".join(parts)
