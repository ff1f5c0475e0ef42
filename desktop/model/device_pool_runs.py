"""DevicePoolRuns: the session's part that sends runs to the device pool and takes in what the pool reports.

A mixin of SessionModel (session.py); the pool itself (whether it is on, its rows, its host) is DevicePool
(device_pool.py). With several devices (Settings ▸ Devices at once) many runs are in flight at once and every
report of the pool's host names its job, so progress and previews reach the screen only for the run in focus,
while results, failures and ends go to the same handlers as the one-device worker's (worker_reports.py).
"""

from __future__ import annotations

from desktop.core.params import GenerationResult
from desktop.worker import UnloadModelRequest

from .run_state import Phase


class DevicePoolRuns:
    """Routing requests to the pool or the window's own worker, and the pool host's reports."""

    def _route(self, request):
        """Where a request goes: the device pool for generations and loads while it is on, else the worker."""
        return self.pool.ensure_host() if self.pool.takes(request) else self._host

    def _watch_pool(self, host) -> None:
        """The pool's host started: its signals name the job, so each reaches the run it belongs to. The window's
        own engine lets go of its model, which would otherwise sit beside the first device's copy on its card."""
        self._host.submit(UnloadModelRequest(": the devices load their own copies"))
        self._slot_tracker.watch(host)  # first, as on the worker: a slot's state is set before the session acts
        self._watch_run_reports(host)  # worker_reports.py: the same handlers as the worker's
        host.progress.connect(self._on_pool_progress)
        host.preview.connect(self._on_pool_preview)
        host.finished.connect(self._on_pool_finished)

    def _on_pool_handed_back(self, requests) -> None:
        """One device after all (one GPU, or none for "every GPU"): the window's own engine runs these, as always."""
        for request in requests:
            self._host.submit(request)

    def focus_run(self, job_id: int | None) -> None:
        """Follow run ``job_id`` on the canvas and the progress bar (None: the latest started)."""
        self.run.focus_on(job_id)

    def _on_pool_progress(self, job_id: int, step: int, total: int, eta: float) -> None:
        if job_id == self.run.focus_id:
            self.progress_changed.emit(step, total, eta)

    def _on_pool_preview(self, job_id: int, image, step: int, total: int) -> None:
        if job_id == self.run.focus_id and self.phase is Phase.RUNNING:
            self.preview_changed.emit(image)

    def _on_pool_finished(self, job_id: int, device: str, result: GenerationResult) -> None:
        self._finish(result, self.run.get(job_id))  # saved on a device of the pool: into the history like any
