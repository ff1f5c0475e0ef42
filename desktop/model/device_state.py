"""DeviceState: the device and memory settings, the devices this machine has, and the memory in use.

QtCore only, owned by SessionModel. The settings are persisted at once; the worker applies them from the next
request on (``LoadModelRequest`` and ``GenerateRequest`` carry them). After an out-of-memory failure the worker
offers the next lighter setting; DeviceState keeps that offer until it is taken or replaced. It also says where
runs go (Settings ▸ Run on: this computer, or a Ray cluster at an address) and tells the worker.
"""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import QObject, Signal

from desktop.core.cluster_address import RAY_MISSING, parse_address, refusal
from desktop.core.errors import RestyleError
from desktop.core.params import GenerationParams
from desktop.core.runtime import MemoryOffer, MemoryReport, RuntimeSettings
from desktop.worker import EngineOptionsRequest

DEVICE_NAMES = {"cuda": "CUDA GPU", "mps": "Apple GPU (MPS)", "cpu": "CPU"}


class DeviceState(QObject):
    """What runs where: the persisted RuntimeSettings, the devices present and the last memory report."""

    runtime_changed = Signal(object)  # RuntimeSettings
    devices_changed = Signal(object)  # tuple of devices present ("cuda", "mps", "cpu")
    memory_changed = Signal(object)  # MemoryReport
    workers_changed = Signal(int)  # Settings ▸ Devices at once: 1 one device, 0 every GPU, N up to N workers
    cluster_changed = Signal(str)  # Settings ▸ Run on: "" this computer, else the Ray cluster's address
    error_raised = Signal(str, str)  # ErrorKind value, message

    def __init__(self, settings, worker_host):
        super().__init__()
        self._settings = settings
        self._runtime = settings.runtime
        self.available: tuple[str, ...] | None = None  # None until the worker has started its engine
        self.memory: MemoryReport | None = None
        self._offer: MemoryOffer | None = None
        worker = worker_host.worker
        worker.devices_found.connect(self._on_worker_devices_found)
        worker.memory_changed.connect(self._on_worker_memory_changed)
        worker.out_of_memory.connect(self._on_worker_out_of_memory)
        self._host = worker_host
        if settings.cluster_address:  # chosen last time: the worker starts its engine there
            worker_host.submit(EngineOptionsRequest(allow_pickles=settings.allow_pickles,
                                                    cluster=settings.cluster_address))

    @property
    def runtime(self) -> RuntimeSettings:
        """The settings the next request carries."""
        return self._runtime

    def resolved_device(self) -> str | None:
        """What "auto" picks on this machine (CUDA → MPS → CPU), once the worker has said what is present."""
        if self._runtime.device != "auto":
            return self._runtime.device
        return self.available[0] if self.available else None

    def apply(self, params: GenerationParams) -> GenerationParams:
        """The parameters with the chosen device (the device is recorded with each result)."""
        return params.replace(device=self._runtime.device)

    def refusal(self, runtime: RuntimeSettings) -> str | None:
        """Why ``runtime`` cannot be used here (a value not understood, a device not present), or None."""
        try:
            runtime.validate()
        except RestyleError as exc:
            return exc.message
        if runtime.device != "auto" and self.available is not None and runtime.device not in self.available:
            present = ", ".join(DEVICE_NAMES[d] for d in self.available)
            return (f"This machine has no {DEVICE_NAMES[runtime.device]}; it can run on: {present}. "
                    "Choose one of those, or Automatic.")
        return None

    def set_runtime(self, runtime: RuntimeSettings) -> bool:
        """Persist new settings; refused with a sentence for a value not understood or a device not present."""
        refusal = self.refusal(runtime)
        if refusal is not None:
            self.error_raised.emit("bad_input", refusal)
            return False
        if runtime != self._runtime:
            self._runtime = runtime
            self._settings.runtime = runtime
            self._settings.sync()
            self.runtime_changed.emit(runtime)
        return True

    # --- where runs go --------------------------------------------------------------------------------------
    @property
    def cluster(self) -> str:
        """Settings ▸ Run on: "" for this computer, else the Ray cluster's address."""
        return self._settings.cluster_address

    def cluster_refusal(self, address: str) -> str | None:
        """Why runs cannot go to the Ray cluster at ``address`` (Ray missing, not an address, no token), or None."""
        if not address.strip():
            return None
        if importlib.util.find_spec("ray") is None:
            return RAY_MISSING
        try:
            return refusal(parse_address(address))
        except RestyleError as exc:
            return exc.message

    def set_cluster(self, address: str) -> bool:
        """Run from now on at the Ray cluster at ``address`` ("" = this computer); refused with a sentence."""
        address = address.strip()
        problem = self.cluster_refusal(address)
        if problem is not None:
            self.error_raised.emit("bad_input", problem)
            return False
        if address != self._settings.cluster_address:
            self._settings.cluster_address = address
            self._settings.sync()
            self._host.submit(EngineOptionsRequest(allow_pickles=self._settings.allow_pickles, cluster=address))
            self.cluster_changed.emit(address)
        return True

    # --- how many devices ---------------------------------------------------------------------------------
    @property
    def workers(self) -> int:
        """Settings ▸ Devices at once: 1 the window's one device (the default), 0 every GPU, N up to N workers."""
        return self._settings.device_workers

    def set_workers(self, workers: int) -> None:
        """Run the window's queue on that many devices from the next run on (persisted)."""
        if workers != self._settings.device_workers:
            self._settings.device_workers = workers
            self._settings.sync()
            self.workers_changed.emit(workers)

    # --- out of memory -----------------------------------------------------------------------------------
    @property
    def offer(self) -> MemoryOffer | None:
        """The lighter setting offered after the last out-of-memory failure, if any."""
        return self._offer

    def take_offer(self) -> MemoryOffer | None:
        """Apply (and persist) the offered setting; returns it, or None when there was none to take."""
        offer, self._offer = self._offer, None
        if offer is None or not self.set_runtime(offer.settings.replace(device=self._runtime.device)):
            return None
        return offer

    def drop_offer(self) -> None:
        """Forget the offer (a new run started, so it no longer answers the latest failure)."""
        self._offer = None

    # --- worker signals ----------------------------------------------------------------------------------
    def _on_worker_devices_found(self, devices) -> None:
        self.available = tuple(devices)
        self.devices_changed.emit(self.available)

    def _on_worker_memory_changed(self, report: MemoryReport) -> None:
        self.memory = report
        self.memory_changed.emit(report)

    def _on_worker_out_of_memory(self, job_id: int, offer: MemoryOffer) -> None:
        self._offer = offer
