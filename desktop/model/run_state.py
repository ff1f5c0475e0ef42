"""RunState: the one record of what the session is running (a generation or an upscale), and its phase.

QtCore only. Before this there were four answers to "is something running?" (a phase flag, the current request,
the host's pending list and the queue's running job) that could disagree; now the phase is derived from the
one request held here, and the queue and the window ask this.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QObject, Signal


class Phase(str, enum.Enum):
    """What the session is doing."""

    IDLE = "idle"
    RUNNING = "running"
    CANCELLING = "cancelling"


class RunState(QObject):
    """The request running now (or None), submitted and cancelled through the worker host."""

    phase_changed = Signal(str)  # Phase value

    def __init__(self, host):
        super().__init__()
        self._host = host
        self._request = None  # GenerateRequest | UpscaleRequest
        self._failure: str | None = None  # the ErrorKind value the running request failed with, if it did
        self.failure_message = ""  # and its sentence
        self._phase = Phase.IDLE

    @property
    def request(self):
        """The running request, or None."""
        return self._request

    @property
    def phase(self) -> Phase:
        """Idle, running or cancelling."""
        return self._phase

    def is_running(self, job_id: int) -> bool:
        """True when ``job_id`` is the running request's."""
        return self._request is not None and self._request.job_id == job_id

    def start(self, request) -> None:
        """Send ``request`` to the worker; it is what runs now."""
        self._request, self._failure, self.failure_message = request, None, ""
        self._set(Phase.RUNNING)
        self._host.submit(request)

    def cancel(self) -> bool:
        """Ask the running request to stop within one step; False when nothing runs."""
        if self._request is None or self._phase is not Phase.RUNNING:
            return False
        self._request.cancel_event.set()
        self._host.cancel_all()
        self._set(Phase.CANCELLING)
        return True

    def record_failure(self, job_id: int, kind: str, message: str = "") -> None:
        """Remember why the running request failed (the queue keeps a job that ran out of memory, and a folder
        run's summary names the reason)."""
        if self.is_running(job_id):
            self._failure, self.failure_message = kind, message

    def end(self, job_id: int) -> tuple[object, bool, str | None] | None:
        """The run ``job_id`` is over: (its request, whether it was cancelled, its failure kind), or None when
        it was not the running one (a model preload, a depth estimate)."""
        if not self.is_running(job_id):
            return None
        request, failure = self._request, self._failure
        self._request, self._failure = None, None
        self._set(Phase.IDLE)
        return request, request.cancel_event.is_set(), failure

    def _set(self, phase: Phase) -> None:
        if phase is not self._phase:
            self._phase = phase
            self.phase_changed.emit(phase.value)
