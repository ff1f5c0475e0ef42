"""Background jobs that are not pipelines: model downloads, library scans, deleting a download.

They never touch a pipeline, so they do not queue behind a generation on the inference worker: each runs on a
``QThread`` of its own, reports progress as signals (queued to the UI thread) and is cancelled cooperatively
through a flag the job checks between chunks. Only the engine's Qt-free library functions run here.
"""

from __future__ import annotations

import logging
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread, Signal

from desktop.core.errors import ErrorKind, RestyleError

log = logging.getLogger(__name__)

_live_jobs: weakref.WeakSet = weakref.WeakSet()
_jobs_keepalive: set = set()  # a running QThread must not be garbage-collected


def running_jobs() -> list[BackgroundJob]:
    """Jobs whose thread still runs."""
    return [j for j in list(_live_jobs) if j.isRunning()]


def stop_all_jobs(timeout_ms: int = 30000) -> None:
    """Cancel every running job and wait for it (on quit, so no thread outlives the app)."""
    for job in running_jobs():
        job.stop(timeout_ms)


class BackgroundJob(QThread):
    """Runs ``work(report, cancelled)`` on its own thread; ``report(x)`` emits ``progressed(x)``.

    Ends with exactly one of ``succeeded(result)``, ``failed(kind, message)`` or ``cancelled(message)``.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)  # ErrorKind value, one sentence
    cancelled = Signal(str)

    def __init__(self, work: Callable[[Callable[[Any], None], Callable[[], bool]], Any], name: str = "job"):
        super().__init__()
        self.setObjectName(f"BackgroundJob-{name}")
        self._work = work
        self._cancel = threading.Event()
        _live_jobs.add(self)
        _jobs_keepalive.add(self)
        self.finished.connect(lambda: _jobs_keepalive.discard(self))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._cancel.set()

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Cancel and wait for the thread; True when it stopped in time."""
        self.cancel()
        return self.wait(timeout_ms)

    def run(self) -> None:  # QThread's entry point
        try:
            result = self._work(self.progressed.emit, self._cancel.is_set)
        except RestyleError as exc:
            if exc.kind is ErrorKind.CANCELLED:
                self.cancelled.emit(exc.message)
            else:
                self.failed.emit(exc.kind.value, exc.message)
        except Exception:  # noqa: BLE001 - exceptions never escape the thread
            log.error("%s crashed:\n%s", self.objectName(), traceback.format_exc())
            self.failed.emit(ErrorKind.INTERNAL.value, "The job failed unexpectedly; the details are in the log.")
        else:
            self.succeeded.emit(result)
