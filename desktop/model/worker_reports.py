"""WorkerReports: the session's part that turns what the worker reports about a run into session state.

A mixin of SessionModel (session.py), which owns the state and the signals. The one-device worker's signals
arrive here; the device pool's (device_pool_runs.py) end in the same ``_finish`` and job-done handling, so a
run ends the same way wherever it ran: its picture into the history and selected, then the run ended, then
the chain and the queue told (in that order: observers never see idle without the result).
"""

from __future__ import annotations

from desktop.core.errors import RestyleError
from desktop.core.params import GenerationResult

from .run_state import Phase


class WorkerReports:
    """Status, progress, previews, results, failures and ends of the runs, as the worker reports them."""

    def _watch_worker(self, worker) -> None:
        """Connect the window's own worker: its progress, previews and results are about the run in focus."""
        self._watch_run_reports(worker)
        worker.progress.connect(self.progress_changed)
        worker.preview.connect(self._on_worker_preview)
        worker.finished.connect(self._on_worker_finished)

    def _watch_run_reports(self, source) -> None:
        """Connect what the worker and the device pool's host report alike, with the same arguments: status
        lines, a loaded model, and a job's failure or end (each names its job)."""
        source.status.connect(self._on_worker_status)
        source.model_ready.connect(self._on_worker_model_ready)
        source.failed.connect(self._on_worker_failed)
        source.cancelled.connect(self._on_worker_job_done)  # a cancelled run frees the session like any end
        source.job_done.connect(self._on_worker_job_done)

    def _on_worker_status(self, message: str) -> None:
        self.status_changed.emit(message)

    def _on_worker_preview(self, image, step: int, total: int) -> None:
        if self.phase is Phase.RUNNING:
            self.preview_changed.emit(image)

    def _on_worker_finished(self, result: GenerationResult) -> None:
        self._finish(result, self.run.request)

    def _finish(self, result: GenerationResult, request) -> None:
        """A run's picture is saved and in the history: show it, end the run, go on with the chain and queue."""
        self.last_result = result
        if result.history_nodes:
            try:
                self.history.add_nodes(list(result.history_nodes))
            except (RestyleError, ValueError) as exc:
                self.error_raised.emit("bad_input", getattr(exc, "message", None) or str(exc))
            else:
                node = result.history_nodes[-1]
                # The imported root, for the next run (when it is the picture still being restyled: with several
                # devices another file may have become the working picture since this run started).
                if self._init is not None and self._init_node is None and len(result.history_nodes) > 1 \
                        and result.history_nodes[0].source == str(self._init.path):
                    self._init_node = result.history_nodes[0].id
                # Selecting it makes it the working picture (WorkingSource): from the pixels in hand, not the file.
                self.continue_from(node.id, pixels=result.image)
                self.history.select(node.id)
        self.result_ready.emit(result)  # before going idle, so observers never see idle without the result
        if request is not None:
            self.run.end(request.job_id)
        self.chain.after_result(result)
        self.jobs.run_ended(result, request_id=request.job_id if request is not None else None)

    def _on_worker_failed(self, job_id: int, kind: str, message: str) -> None:
        self.run.record_failure(job_id, kind, message)
        running = self.run.get(job_id)  # with several devices, the one that failed (not the one in focus)
        if not self.memory.offer(kind, message, running=running):
            self.error_raised.emit(kind, message)

    def _on_worker_job_done(self, job_id: int) -> None:
        # Whatever ended the run (failure, cancel; success is handled above), the session is free again.
        # A failed preload (another job id) leaves a queued run alone.
        reason = self.run.failure_of(job_id)
        ended = self.run.end(job_id)
        if ended is not None:
            _request, cancelled, failure = ended
            self.chain.stop()
            self.jobs.run_ended(None, cancelled=cancelled, failure=failure, reason=reason, request_id=job_id)
