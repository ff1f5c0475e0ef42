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


def run_jobs(pool, jobs, on_event: Callable[[DeviceEvent], None], *, cancelled: Callable[[], bool] | None = None,
             gone_message: str = "Every device stopped before the work was done.") -> None:
    """Run ``jobs`` on ``pool`` until each has a RESULT or ERROR, passing every event to ``on_event``.

    ``on_event`` may raise to stop the run (the caller then closes the pool). Raises PoolGone when no device
    is left while jobs remain; ``cancelled()`` turning true cancels the running jobs and drops the waiting ones.
    """
    waiting = deque(jobs)
    running: dict[str, tuple] = {}  # job id -> (job, the slot it runs on)
    stopping = False
    while waiting or running:
        if cancelled is not None and cancelled() and not stopping:
            stopping = True
            waiting.clear()
            for job_id in running:
                pool.cancel(job_id)
        _start_ready(pool, waiting, running)
        if not pool.slots and (waiting or running):
            raise PoolGone(gone_message)
        event = pool.next_event(POLL_S)
        if event is None:
            continue
        # Only the device a job runs on now may end it: a device lost just after it finished has its late
        # result ignored, since the job is already waiting to be done again.
        current = event.job_id in running and running[event.job_id][1] == event.slot
        if event.kind == LOST:
            if current:
                job = running.pop(event.job_id)[0]
                if not stopping:
                    waiting.appendleft(job)  # done again elsewhere; its half-made picture was never handed on
            on_event(event)
        elif event.kind in (RESULT, ERROR):
            if current:
                job = running.pop(event.job_id)[0]
                if event.kind == RESULT:
                    _note_model(pool, event, job)
                on_event(event)
        elif event.kind != STEP or current:  # STATUS, READY, and the steps of jobs still running there
            on_event(event)


def _start_ready(pool, waiting: deque, running: dict) -> None:
    for job in list(waiting):
        if job.device and not any(s.id == job.device for s in pool.slots):
            raise RestyleError(ErrorKind.BAD_INPUT, f"The device {job.device} is not available any more: choose "
                               "\"any\" for the waiting runs.")
        slot = choose_slot(job, pool.slots)
        if slot is None:
            continue
        waiting.remove(job)
        pool.submit(slot, job)
        running[job.job_id] = (job, slot.id)


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
