"""WorkerHost: starts the worker's QThread, forwards requests to it and shuts it down cleanly."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QThread, Signal

from .inference import InferenceWorker
from .request_host import RequestHost, cancel_requests
from .requests import EstimateDepthRequest, GenerateRequest, UpscaleRequest

_live_hosts: weakref.WeakSet = weakref.WeakSet()


def running_hosts() -> list[WorkerHost]:
    """Hosts whose thread is still running (tests fail when one is left behind)."""
    return [h for h in list(_live_hosts) if h.is_running()]


class WorkerHost(RequestHost):
    """Owns the worker thread. Signals of ``worker`` arrive on the thread that created the host."""

    _submit = Signal(object)

    def __init__(self, log_path: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.worker = InferenceWorker(log_path)
        self._thread = QThread()
        self._thread.setObjectName("InferenceWorkerThread")
        self.worker.moveToThread(self._thread)
        # Queued: handle() runs on the worker thread, in submission order.
        self._submit.connect(self.worker.handle)
        self._pending: list[GenerateRequest | UpscaleRequest] = []
        self._depth: list[EstimateDepthRequest] = []  # kept apart: an estimate does not make the host busy
        self.worker.job_done.connect(self._forget)
        self._thread.start()
        _live_hosts.add(self)

    def submit(self, request) -> None:
        """Queue a request for the worker thread."""
        if isinstance(request, (GenerateRequest, UpscaleRequest)):
            self._pending.append(request)
        elif isinstance(request, EstimateDepthRequest):
            self._depth.append(request)
        self._submit.emit(request)

    def cancel_depth(self) -> None:
        """Cancel the depth estimates (a download stops at once; an estimate running stops before it saves)."""
        cancel_requests(self._depth)

    def _forget(self, job_id: int) -> None:
        self._pending = [r for r in self._pending if r.job_id != job_id]
        self._depth = [r for r in self._depth if r.job_id != job_id]

    def _in_flight(self) -> list:
        # The running generation (it stops within one step), every queued one, and any depth estimate.
        return [*self._pending, *self._depth]

    def _stop_thread(self, timeout_ms: int) -> bool:
        self._thread.quit()  # the thread's event loop ends once the cancelled requests have returned
        stopped = self._thread.wait(timeout_ms)
        _live_hosts.discard(self)
        return stopped
