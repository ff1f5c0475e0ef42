"""LocalPool: N worker processes on this computer, each owning the pipelines of one device.

One process per CUDA card (``CUDA_VISIBLE_DEVICES`` makes each see only its own), or N CPU workers that split
the cores between them (each gets ``cores // N`` torch threads, so they do not fight over the same cores). A
process, not a thread: pipelines are not thread-safe and Python code between the kernels holds the GIL, so
only processes make two CPU workers twice as fast.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import traceback
from multiprocessing.connection import wait

from desktop.core.errors import ErrorKind, RestyleError

from .events import ERROR, LOST, READY, RESULT, STATUS, STEP, DeviceEvent, Slot, note_event

log = logging.getLogger(__name__)

MAX_WORKERS = 16


def plan_local_slots(workers: int, device: str = "auto", threads: int | None = None) -> list[tuple[Slot, dict]]:
    """The slots for ``workers`` processes and the environment each starts with (its device and thread count:
    ``threads``, or the cores split evenly)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise RestyleError(ErrorKind.BAD_INPUT, f"--workers takes 1 to {MAX_WORKERS} (got {workers}).")
    gpus = _cuda_count() if device in ("auto", "cuda") else 0
    if gpus:
        count = min(workers, gpus)  # one owner per card: two on one card would only share its memory
        return [(Slot(f"cuda-{i}", f"GPU {i}"), {"CUDA_VISIBLE_DEVICES": str(i)}) for i in range(count)]
    cores = os.cpu_count() or 1
    threads = threads or max(1, cores // workers)
    plural = "s" if threads > 1 else ""
    return [(Slot(f"cpu-{i + 1}", f"CPU worker {i + 1} ({threads} thread{plural})"),
             {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": str(threads), "RESTYLE_THREADS": str(threads)})
            for i in range(workers)]


def _context():
    """A fork server that has imported the engine once, so each worker starts in a moment (where there is one);
    else a fresh interpreter per worker. Never a plain fork: it would copy Qt's and CUDA's threads and state."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["desktop.cluster.preload", "desktop.cluster.owner"])
        return context
    return multiprocessing.get_context("spawn")


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class LocalPool:
    """Worker processes fed one job at a time; ``next_event`` collects what they report."""

    def __init__(self, workers: int, *, device: str = "auto", allow_pickles: bool = False, threads: int | None = None):
        context = _context()
        self._procs: dict[str, tuple] = {}  # slot id -> (process, inbox, cancel value)
        # One pipe per worker, not one shared queue: a worker killed while writing would leave a shared queue's
        # lock held, and every other worker would then wait on it forever.
        self._pipes: dict = {}  # reading end -> slot id
        self._seq = 0
        self._running_seq: dict[str, int] = {}  # job id -> the sequence number its cancel flag is compared with
        # What wake() writes a byte to: a wait for the workers' reports ends at once when a job is waiting to go out
        # (the lock keeps a wake from another thread off the descriptors while close() shuts them).
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe already wakes the reader: never block the caller
        self._wake_lock = threading.Lock()
        self.slots: list[Slot] = []
        for slot, env in plan_local_slots(workers, device, threads):
            inbox = context.Queue()
            cancel = context.Value("q", 0, lock=False)
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_serve, name=f"restyle-{slot.id}", daemon=True,
                                      args=(slot.id, env, allow_pickles, inbox, writer, cancel))
            process.start()
            writer.close()  # the worker holds the only writing end: its death closes the pipe
            self._pipes[reader] = slot.id
            self._procs[slot.id] = (process, inbox, cancel)
            self.slots.append(slot)

    def submit(self, slot: Slot, job) -> None:
        """Start ``job`` on ``slot`` (which must be free)."""
        self._seq += 1
        slot.job = job.job_id
        self._running_seq[job.job_id] = self._seq
        self._procs[slot.id][1].put((self._seq, job))

    def cancel(self, job_id: str) -> None:
        """Stop ``job_id`` within one step, wherever it runs."""
        for slot in self.slots:
            if slot.job == job_id:
                self._procs[slot.id][2].value = self._running_seq.get(job_id, -1)

    def wake(self) -> None:
        """End the ``next_event`` under way now (from any thread): something is waiting to be dispatched."""
        with self._wake_lock, contextlib.suppress(OSError):  # a full pipe, or closed: nobody needs more waking
            if self._wake_w is not None:
                os.write(self._wake_w, b"\0")

    def next_event(self, timeout: float = 0.1) -> DeviceEvent | None:
        """The next thing a worker said, a LOST event for a worker that died, or None after ``timeout`` (or once
        ``wake`` is called)."""
        lost = self._reap()  # first: a dead worker's job must not wait behind the others' steps
        if lost is not None:
            return lost
        event = self._receive(timeout)
        if event is None:
            return None
        note_event(self.slots, event)
        if event.kind in (RESULT, ERROR):
            self._running_seq.pop(event.job_id, None)
        return event

    def _receive(self, timeout: float) -> DeviceEvent | None:
        wakes = [] if self._wake_r is None else [self._wake_r]
        for reader in wait([*self._pipes, *wakes], timeout):
            if reader == self._wake_r:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
                continue
            try:
                return reader.recv()
            except (EOFError, OSError):  # the worker died: _reap reports it
                del self._pipes[reader]
        return None

    def _reap(self) -> DeviceEvent | None:
        for slot in list(self.slots):
            process = self._procs[slot.id][0]
            if not process.is_alive():
                self.slots.remove(slot)
                self._drop_pipe(slot.id)
                log.warning("worker %s ended (exit code %s)", slot.id, process.exitcode)
                return DeviceEvent(LOST, slot.id, slot.job, f"{slot.label} stopped (exit code {process.exitcode})")
        return None

    def _drop_pipe(self, slot_id: str) -> None:
        for reader, owner in list(self._pipes.items()):
            if owner == slot_id:
                del self._pipes[reader]
                reader.close()

    def close(self) -> None:
        """Stop every worker (a running job is abandoned: nothing half-made is saved) and free what each held."""
        for process, inbox, _ in self._procs.values():
            if process.is_alive():
                inbox.put(None)
        for process, inbox, _ in self._procs.values():
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
                inbox.cancel_join_thread()  # nobody reads it any more: what is still buffered is dropped
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
            # An inbox's locks are named semaphores, unlinked when the queue is freed; left for interpreter exit, an
            # abrupt exit (os._exit, a kill) skips that, and the resource tracker reports them leaked.
            inbox.close()
            inbox.join_thread()
            if process.exitcode is not None:
                process.close()
        for reader in self._pipes:
            reader.close()
        self._procs, self._pipes, self.slots = {}, {}, []
        with self._wake_lock:
            if self._wake_w is not None:
                os.close(self._wake_w)
                os.close(self._wake_r)
                self._wake_r = self._wake_w = None


def _serve(slot_id: str, env: dict, allow_pickles: bool, inbox, events, cancel) -> None:  # events: a Connection
    """A worker process: one pipeline owner, running the jobs its inbox brings until it gets None."""
    os.environ.update(env)  # before torch loads: the card it sees and its thread count
    from desktop.engine.runner import quiet_libraries  # noqa: F401 - heavy imports here, once

    from .owner import PipelineOwner

    def say(message: str) -> None:
        events.send(DeviceEvent(STATUS, slot_id, "", message))

    threads = int(env.get("RESTYLE_THREADS", "0")) or None
    owner = PipelineOwner(threads=threads, allow_pickles=allow_pickles, status=say)
    events.send(DeviceEvent(READY, slot_id, "", owner.describe()))
    while (item := _next_job(inbox)) is not None:
        seq, job = item

        def on_step(step, job_id=job.job_id) -> None:
            events.send(DeviceEvent(STEP, slot_id, job_id, step))

        try:
            outcome = owner.run(job, on_step, cancelled=lambda seq=seq: cancel.value == seq)
        except RestyleError as exc:
            events.send(DeviceEvent(ERROR, slot_id, job.job_id, (exc.kind.value, exc.message)))
        except Exception as exc:  # noqa: BLE001 - the worker must outlive anything a library throws
            events.send(DeviceEvent(ERROR, slot_id, job.job_id, internal_error(exc, job)))
        else:
            events.send(DeviceEvent(RESULT, slot_id, job.job_id, outcome))


def _next_job(inbox):
    """The next job, or None to stop: asked to, or this computer's process that started the worker is gone."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            return inbox.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return None  # never outlive a killed client: nobody is left to read the results


def internal_error(exc: Exception, job=None) -> tuple[str, str]:
    """(kind, sentence) for an exception a device did not anticipate; the traceback goes to the device's log."""
    log.error("device job %s crashed (%r):\n%s", getattr(job, "job_id", "?"), getattr(job, "params", None),
              traceback.format_exc())
    name = type(exc).__name__
    if "OutOfMemory" in name or "out of memory" in str(exc).lower():
        return ErrorKind.OUT_OF_MEMORY.value, "The device ran out of memory. Try a smaller image or fewer steps."
    return ErrorKind.INTERNAL.value, f"Something went wrong inside the engine on a worker ({name}: {exc})."
