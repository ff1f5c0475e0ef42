"""RunState: the one record of what the session is running (a generation or an upscale), and its phase.

With several devices (Settings ▸ Devices at once) several generations run at once; each is known by its job id, and the
window follows one of them (the queue's selection, else the latest started).

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
    """The requests running now, submitted and cancelled through the worker host (or, with several devices,
    the pool's host that ``route`` names); one at a time on one device, as many as there are devices on several."""

    phase_changed = Signal(str)  # Phase value

    def __init__(self, host, route=None):
        super().__init__()
        self._host = host
        self._route = route or (lambda request: host)  # the host a request goes to
        self._requests: dict[int, object] = {}  # job id -> GenerateRequest | UpscaleRequest, in start order
        self._failures: dict[int, tuple[str, str]] = {}  # job id -> (ErrorKind value, sentence) it failed with
        self._focus: int | None = None  # the run the window follows (the queue's selection), if it runs
        self._phase = Phase.IDLE

    @property
    def request(self):
        """The running request the window follows (the one in focus, else the latest started), or None."""
        focus = self.focus_id
        return None if focus is None else self._requests[focus]

    @property
    def requests(self) -> list:
        """Every running request, oldest first."""
        return list(self._requests.values())

    @property
    def focus_id(self) -> int | None:
        """The job id whose steps and previews the window shows: the one chosen, else the latest started."""
        if self._focus in self._requests:
            return self._focus
        return next(reversed(self._requests), None)

    def focus_on(self, job_id: int | None) -> None:
        """Follow ``job_id`` (None: the latest started)."""
        self._focus = job_id

    @property
    def failure_message(self) -> str:
        """The sentence the request in focus failed with ("" when it has not)."""
        return self._failures.get(self.focus_id, ("", ""))[1]

    def failure_of(self, job_id: int) -> str:
        """The sentence ``job_id`` failed with ("" when it has not)."""
        return self._failures.get(job_id, ("", ""))[1]

    @property
    def phase(self) -> Phase:
        """Idle, running or cancelling."""
        return self._phase

    def get(self, job_id: int):
        """The running request ``job_id``, or None."""
        return self._requests.get(job_id)

    def is_running(self, job_id: int) -> bool:
        """True when ``job_id`` is a running request's."""
        return job_id in self._requests

    def start(self, request) -> None:
        """Send ``request`` to the worker; it runs now (beside the others, on a pool of devices)."""
        self._requests[request.job_id] = request
        self._failures.pop(request.job_id, None)
        if self._phase is Phase.IDLE:
            self._set(Phase.RUNNING)
        self._route(request).submit(request)

    def cancel(self) -> bool:
        """Ask every running request to stop within one step; False when nothing runs."""
        if not self._requests or self._phase is not Phase.RUNNING:
            return False
        for request in self._requests.values():
            request.cancel_event.set()
        self._host.cancel_all()
        self._set(Phase.CANCELLING)
        return True

    def cancel_one(self, job_id: int) -> bool:
        """Ask one running request to stop within one step (the others go on); False when it does not run."""
        request = self._requests.get(job_id)
        if request is None:
            return False
        request.cancel_event.set()
        if len(self._requests) == 1:
            self._host.cancel_all()
        return True

    def record_failure(self, job_id: int, kind: str, message: str = "") -> None:
        """Remember why a running request failed (the queue keeps a job that ran out of memory, and a folder
        run's summary names the reason)."""
        if self.is_running(job_id):
            self._failures[job_id] = (kind, message)

    def end(self, job_id: int) -> tuple[object, bool, str | None] | None:
        """The run ``job_id`` is over: (its request, whether it was cancelled, its failure kind), or None when
        it was not a running one (a model preload, a depth estimate)."""
        request = self._requests.pop(job_id, None)
        if request is None:
            return None
        failure = self._failures.pop(job_id, (None, ""))[0]
        if not self._requests:
            self._set(Phase.IDLE)
        return request, request.cancel_event.is_set(), failure

    def _set(self, phase: Phase) -> None:
        if phase is not self._phase:
            self._phase = phase
            self.phase_changed.emit(phase.value)
