"""DevicePool: the window's several devices (Settings ▸ Devices at once): whether they are used, and what each is doing.

QtCore only, owned by SessionModel. With one device (the default; on a Ray cluster, one actor) it is inactive
and the session runs through its worker host as it always has. With several (this computer's, or the actors of
the Ray cluster Settings ▸ Run on names), Generate and model loads go to a ``PoolHost``
(desktop/worker/pool_host.py), started on first use; this keeps the rows it reports
(idle / loading a model / step k of n / lost) and which device each running request is on, so the queue can
start as many jobs as there are free devices and hold a job pinned to a device until that one is free.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.worker import GenerateRequest, LoadModelRequest, PoolHost


class DevicePool(QObject):
    """The pool's host (or None), its device rows, and the device of each running request."""

    changed = Signal()  # the rows changed (a device started, took a job, stepped, was lost)
    placement_changed = Signal()  # a run went to a device or ended, or a device came or went (not every step)
    host_started = Signal(object)  # PoolHost: the session connects its signals
    capacity_changed = Signal()  # a device came or went, or one freed up: the queue may start more
    handed_back = Signal(object)  # requests for the window's own engine: there is only one device after all

    def __init__(self, settings, devices):
        super().__init__()
        self._settings = settings
        self.host: PoolHost | None = None
        self.rows: tuple = ()  # DeviceRow per device, as the host last reported them
        self.device_of: dict[int, str] = {}  # running request id -> device id, once it left the line
        self._restart = False  # Settings ▸ Devices at once changed while runs were in flight: a new pool after them
        self.single = False  # the pool found one device for the setting: the window's own engine runs everything
        self.make_host = PoolHost  # (workers, allow_pickles=) -> the host; tests give a stand-in
        devices.workers_changed.connect(self._on_devices_workers_changed)
        devices.cluster_changed.connect(self._on_devices_workers_changed)  # the devices are another machine's now

    @property
    def active(self) -> bool:
        """True when the window's runs go to several devices (Settings ▸ Devices at once): this computer's, or
        the actors of the Ray cluster that Settings ▸ Run on names."""
        return self._settings.device_workers != 1 and not self.single

    def takes(self, request) -> bool:
        """True when ``request`` goes to the pool (a generation or a model load while the pool is on)."""
        return self.active and isinstance(request, (GenerateRequest, LoadModelRequest))

    def ensure_host(self) -> PoolHost:
        """The pool's host, started now when there is none (its devices load torch in the background)."""
        if self.host is None:
            self.host = self.make_host(self._settings.device_workers, allow_pickles=self._settings.allow_pickles,
                                       cluster=self._settings.cluster_address)
            self.host.devices_changed.connect(self._on_host_devices_changed)
            self.host.job_started.connect(self._on_host_job_started)
            self.host.job_done.connect(self._on_host_job_done)
            self.host.single_device.connect(self._on_host_single_device)
            self.host_started.emit(self.host)
            self.changed.emit()  # "starting…" until the devices report
        return self.host

    def set_allow_pickles(self, allowed: bool) -> None:
        """Settings' "Allow pickle checkpoints" for the pool's next jobs too."""
        if self.host is not None:
            self.host.allow_pickles = allowed

    @property
    def capacity(self) -> int:
        """How many runs may go at once: the devices not lost (one until they report: the pool may yet find this
        computer has one device, and hand its runs to the window's own engine, which runs one at a time)."""
        if self.rows:
            return sum(row.state != "lost" for row in self.rows)
        return 1

    def free_devices(self, running: list[int]) -> set[str] | None:
        """The devices no running request is on, or None while a request has not been placed yet (a job pinned
        to a device then waits a moment: the request on its way may be taking that very device)."""
        if any(job_id not in self.device_of for job_id in running):
            return None
        busy = {self.device_of[job_id] for job_id in running}
        return {row.id for row in self.rows if row.state != "lost" and row.id not in busy}

    def label(self, device_id: str) -> str:
        """What the window calls a device ("CPU worker 2 (1 thread)"); the id itself before the pool says."""
        return next((row.label for row in self.rows if row.id == device_id), device_id)

    def shutdown(self) -> None:
        """Stop the pool's devices (the window is closing, or Settings ▸ Devices at once changed)."""
        if self.host is not None:
            host, self.host = self.host, None
            host.shutdown()
            self.rows, self.device_of = (), {}
            self.changed.emit()
            self.placement_changed.emit()

    def _on_host_single_device(self, requests) -> None:
        self.single = True
        self.shutdown()
        self.handed_back.emit(requests)

    def _on_devices_workers_changed(self, _workers: int) -> None:
        self.single = False  # asked again: the new setting may find several
        self._close_when_idle()

    def _close_when_idle(self) -> bool:
        """Close the pool now, or once the runs in flight have ended on the devices they started on (the next
        run then starts a fresh pool); True when it closed now."""
        if self.host is not None and self.host.busy:
            self._restart = True
            return False
        self.shutdown()
        return True

    def _on_host_devices_changed(self, rows) -> None:
        before = [(row.id, row.label, row.state == "lost") for row in self.rows]
        self.rows = tuple(rows)
        # Every device gone (workers died, the cluster went away): once the runs it held have failed back to the
        # queue, the pool closes, and the next run (Resume) starts a fresh one that finds them again.
        if self.rows and all(row.state == "lost" for row in self.rows) and self._close_when_idle():
            return
        self.changed.emit()
        if [(row.id, row.label, row.state == "lost") for row in self.rows] != before:
            self.placement_changed.emit()
            self.capacity_changed.emit()

    def _on_host_job_started(self, job_id: int, device: str) -> None:
        self.device_of[job_id] = device
        self.placement_changed.emit()
        self.capacity_changed.emit()  # a pinned job held back while this one was being placed may go now

    def _on_host_job_done(self, job_id: int) -> None:
        self.device_of.pop(job_id, None)
        self.placement_changed.emit()
        if self._restart and self.host is not None and not self.host.busy:
            self._restart = False
            self.shutdown()
