"""Dispatcher: hands jobs to the free devices of a pool and collects their outcomes.

A job goes to a free device that already has its model loaded when there is one, else to the first free
device; a job pinned to a device waits for that one. A device lost mid-job (a worker killed, an actor or node
gone) puts its job back at the front of the line for another device: only a finished result is ever handed
on, so nothing is done twice. When no device is left, the run stops with a sentence.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from desktop.core.errors import ErrorKind, RestyleError

from .events import ERROR, LOST, RESULT, STEP, DeviceEvent

POLL_S = 0.1


class PoolGone(RestyleError):
    """Every device of the pool is gone (the cluster went away, every worker died)."""

    def __init__(self, message: str):
        super().__init__(ErrorKind.UNAVAILABLE, message)


def choose_slot(job, slots):
    """The free slot ``job`` should run on now, or None: its pinned device, else one with its model, else any."""
    free = [s for s in slots if s.free]
    if job.device:
        return next((s for s in free if s.id == job.device), None)
    return next((s for s in free if s.model == job.model_name), None) or (free[0] if free else None)


class Dispatcher:
    """The jobs of one pool: those waiting for a device and those running on one (job id -> (job, slot id)).

    Its owner feeds it the pool's events (``take``) and asks it to start what can start (``start_ready``):
    ``run_jobs`` for a fixed list of jobs, the window's pool host for jobs that arrive while others run.
    """

    def __init__(self, pool):
        self.pool = pool
        self.waiting: deque = deque()
        self.running: dict[str, tuple] = {}
        self.stopping = False  # everything was cancelled: a lost job is not put back

    @property
    def busy(self) -> bool:
        """True while a job waits or runs."""
        return bool(self.waiting or self.running)

    def add(self, job) -> None:
        """Queue ``job`` behind the others."""
        self.waiting.append(job)

    def cancel(self, job_id: str) -> bool:
        """Stop ``job_id``: True when it was still waiting (dropped here), else its device stops within one step."""
        for job in self.waiting:
            if job.job_id == job_id:
                self.waiting.remove(job)
                return True
        if job_id in self.running:
            self.pool.cancel(job_id)
        return False

    def stop(self) -> None:
        """Cancel the running jobs and drop the waiting ones."""
        self.stopping = True
        self.waiting.clear()
        for job_id in self.running:
            self.pool.cancel(job_id)

    def start_ready(self) -> list[tuple]:
        """Start every waiting job a free device can take; returns (job, sentence) for each job pinned to a device
        that is gone (taken out of the line)."""
        refused = []
        for job in list(self.waiting):
            if job.device and not any(s.id == job.device for s in self.pool.slots):
                self.waiting.remove(job)
                refused.append((job, (f"The device {job.device} is not available any more: choose \"any\" for the "
                                      "waiting runs.")))
                continue
            slot = choose_slot(job, self.pool.slots)
            if slot is None:
                continue
            self.waiting.remove(job)
            self.pool.submit(slot, job)
            self.running[job.job_id] = (job, slot.id)
        return refused

    def take(self, event: DeviceEvent) -> bool:
        """Note what ``event`` means for the jobs; True when it should be passed on.

        Only the device a job runs on now may end it: a device lost just after it finished has its late result
        ignored, since the job is already waiting to be done again.
        """
        current = event.job_id in self.running and self.running[event.job_id][1] == event.slot
        if event.kind == LOST:
            if current:
                job = self.running.pop(event.job_id)[0]
                if not self.stopping:
                    self.waiting.appendleft(job)  # done again elsewhere; its half-made picture was never handed on
            return True
        if event.kind in (RESULT, ERROR):
            if current:
                job = self.running.pop(event.job_id)[0]
                if event.kind == RESULT:
                    _note_model(self.pool, event, job)
            return current
        return event.kind != STEP or current  # STATUS, READY, and the steps of jobs still running there


def run_jobs(pool, jobs, on_event: Callable[[DeviceEvent], None], *, cancelled: Callable[[], bool] | None = None,
             gone_message: str = "Every device stopped before the work was done.") -> None:
    """Run ``jobs`` on ``pool`` until each has a RESULT or ERROR, passing every event to ``on_event``.

    ``on_event`` may raise to stop the run (the caller then closes the pool). Raises PoolGone when no device
    is left while jobs remain; ``cancelled()`` turning true cancels the running jobs and drops the waiting ones.
    """
    dispatcher = Dispatcher(pool)
    for job in jobs:
        dispatcher.add(job)
    while dispatcher.busy:
        if cancelled is not None and cancelled() and not dispatcher.stopping:
            dispatcher.stop()
        refused = dispatcher.start_ready()
        if refused:
            raise RestyleError(ErrorKind.BAD_INPUT, refused[0][1])
        if not pool.slots and dispatcher.busy:
            raise PoolGone(gone_message)
        event = pool.next_event(POLL_S)
        if event is not None and dispatcher.take(event):
            on_event(event)


def _note_model(pool, event: DeviceEvent, job) -> None:
    slot = next((s for s in pool.slots if s.id == event.slot), None)
    if slot is not None:
        slot.model = job.model_name


def wait_ready(pool, timeout: float = 300.0, on_event: Callable[[DeviceEvent], None] | None = None) -> None:
    """Wait until every device has started (torch loaded), so timings measure work and not start-up."""
    deadline = time.monotonic() + timeout
    while any(not s.ready for s in pool.slots) and time.monotonic() < deadline:
        event = pool.next_event(POLL_S)
        if event is not None and on_event is not None:
            on_event(event)
