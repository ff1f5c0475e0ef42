"""The status bar's device figure: "cuda:0 · float16 · VRAM 5.1/24 GB" or "cpu · float32 · RAM 1.2 GB"; with
several devices (Settings ▸ Devices at once), "2 devices · 1 busy"."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from desktop.core.runtime import process_rss_bytes

REFRESH_MS = 5000


class DeviceStatus(QLabel):
    """Shows the device, precision and memory in use. GPU figures come from the worker (after every job and
    during runs); on the CPU the process's RAM is also re-read every few seconds (no torch: /proc)."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("deviceStatusLabel")
        self.setToolTip("Device · precision · memory in use. Change them in File ▸ Settings… (Ctrl+,)")
        self._devices = model.devices
        self._devices.memory_changed.connect(self._refresh)
        self._devices.runtime_changed.connect(self._refresh)
        model.model_info_changed.connect(self._refresh)
        self._pool = model.pool  # several devices (Settings ▸ Devices at once): how many, and how many are busy
        self._pool.changed.connect(self._refresh)
        self._devices.workers_changed.connect(self._refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._refresh()

    def _on_timer_timeout(self) -> None:
        report = self._devices.memory
        if report is not None and report.device == "cpu":
            self._devices.memory = dataclasses.replace(report, used_bytes=process_rss_bytes())
            self._refresh()

    def _refresh(self, *_args) -> None:
        if self._pool.active:
            rows = self._pool.rows
            busy = sum(row.state in ("running", "loading") for row in rows)
            live = sum(row.state != "lost" for row in rows)
            self.setText(f"{live} devices · {busy} busy" if rows else "several devices · not started")
            return
        report = self._devices.memory
        if report is not None:
            self.setText(report.text())
            return
        runtime = self._devices.runtime
        self.setText(f"{runtime.device} · {runtime.dtype} · model not loaded")
