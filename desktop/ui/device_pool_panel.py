"""The queue tab's device rows (Settings ▸ Devices at once: several at once): what each device is doing now."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

STATE_MARKS = {"starting": "○", "idle": "●", "loading": "◐", "running": "▶", "lost": "✕"}


class DevicePoolPanel(QFrame):
    """One line per device ("▶ CPU worker 2 (1 thread) · step 3 of 8 · Batch 2 of 4"); shown only while the
    window runs on several devices."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("devicePoolPanel")
        self._session = session
        self._pool = session.pool
        self.title = QLabel()
        self.title.setObjectName("devicePoolTitle")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 4)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.title)
        self.rows: dict[str, QLabel] = {}  # device id -> its line
        self._pool.changed.connect(self._refresh)
        session.devices.workers_changed.connect(lambda _workers: self._refresh())
        self._refresh()

    def row_text(self, row) -> str:
        """What a device is doing, as its line says it."""
        mark = STATE_MARKS.get(row.state, "")
        if row.state == "running":
            job = self._session.jobs.job_of(row.job)
            what = job.label if job is not None else "a run from the panel"
            step = f"step {row.step} of {row.total}" if row.total else "starting"
            return f"{mark} {row.label} · {step} · {what}"
        if row.state == "loading":
            return f"{mark} {row.label} · loading {_short(row.model)}…"
        if row.state == "idle":
            loaded = f" · {_short(row.model)} loaded" if row.model else ""
            return f"{mark} {row.label} · idle{loaded}"
        if row.state == "lost":
            return f"{mark} {row.label} · lost (its run went to another device)"
        return f"{mark} {row.label} · starting…"

    def _refresh(self) -> None:
        self.setVisible(self._pool.active)
        rows = self._pool.rows
        for device_id in [d for d in self.rows if d not in {row.id for row in rows}]:
            label = self.rows.pop(device_id)
            self._layout.removeWidget(label)
            label.deleteLater()
        for row in rows:
            label = self.rows.get(row.id)
            if label is None:
                label = QLabel()
                label.setObjectName(f"deviceRow-{row.id}")
                label.setWordWrap(True)
                self._layout.addWidget(label)
                self.rows[row.id] = label
            label.setText(self.row_text(row))
            label.setToolTip(f"{row.id}, process {row.pid}" if row.pid else row.id)
        busy = sum(row.state in ("running", "loading") for row in rows)
        if rows:
            self.title.setText(f"Devices: {busy} of {len(rows)} busy")
        elif self._pool.host is not None:
            self.title.setText("Devices: starting…")
        else:
            self.title.setText("Devices: they start with the first run (Settings ▸ Devices at once)")


def _short(model: str) -> str:
    return Path(model.replace("\\", "/").rstrip("/")).name or model
