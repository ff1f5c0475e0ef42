"""PoolHost: the window's runs on several devices at once (Settings ▸ Devices at once), each job reported by its id.

One pipeline owner per device (``desktop.cluster.local_pool``: a process per CUDA card, or CPU workers that
split the cores), fed by the cluster's own dispatcher: a run goes to a free device, preferring one that has its
model loaded, or to the device it is pinned to; a device lost mid-run has the run done again on another. A model
load (the window's preload, a model change) loads it on every free device at once, so the first batch waits for no
device's load. The loop runs on a background thread (``BackgroundJob``) that also saves each finished picture into
the history, as the one-device worker does, before the window hears of it. Every signal names the job (the
request's id), so the session can tell which of the runs in flight a step, a preview or a result belongs to.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from desktop.core.errors import ErrorKind, RestyleError

from .background import BackgroundJob
from .request_host import RequestHost
from .requests import GenerateRequest, LoadModelRequest

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often the loop looks at the inbox and the cancel flags between the devices' reports
GONE = ("Every device of the pool stopped: the queue is paused and the runs in flight kept (nothing half-made was "
        "saved). Press Resume to start the devices again, or choose Devices at once: One in Settings.")
CLUSTER_GONE = ("The Ray cluster at {address} went away: the queue is paused and the runs in flight kept (nothing "
                "half-made was saved). Press Resume once it is back, or choose Run on: this computer in Settings.")


@dataclass(frozen=True)
class DeviceRow:
    """One device as the window shows it: "CPU worker 2 · step 3 of 8", "GPU 1 · loading sd-turbo", "lost"."""

    id: str  # "cpu-1", "cuda-0": what a job pinned to it names
    label: str  # "CPU worker 1 (1 thread)", "GPU 0"
    state: str  # "starting", "idle", "loading", "running", "lost"
    model: str = ""  # the model it has loaded (or is loading, while "loading")
    job: int = 0  # the request it runs (0: none)
    step: int = 0
    total: int = 0
    pid: int = 0  # its worker process, once started (for the tooltip and the logs)


class PoolHost(RequestHost):
    """Starts the pool's thread, takes Generate and Load requests, and reports each job by its id."""

    status = Signal(str)
    model_ready = Signal(object)  # ModelInfo of a load
    failed = Signal(int, str, str)  # job id, ErrorKind value, sentence
    cancelled = Signal(int)  # job id
    job_done = Signal(int)  # job id, after every request whatever its outcome
    job_started = Signal(int, str)  # job id, device id: it left the line for that device
    progress = Signal(int, int, int, float)  # job id, step, total, ETA seconds (-1 unknown)
    preview = Signal(int, QImage, int, int)  # job id, preview, step, total
    finished = Signal(int, str, object)  # job id, device id, GenerationResult (saved, and in the history)
    devices_changed = Signal(object)  # tuple of DeviceRow, whenever one changes
    # This computer has one device for the setting (one GPU, or "every GPU" without one): the pool did not start,
    # and hands back the requests it was given, for the window's own engine (a pool of one would gain nothing).
    single_device = Signal(object)  # list of requests

    def __init__(self, workers: int, *, allow_pickles: bool = False, cluster: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.workers = workers  # 0: one per GPU (one CPU worker where there is none); on a cluster, every actor
        self.cluster = cluster  # Settings ▸ Run on: "" this computer's devices, else the Ray cluster's actors
        self.allow_pickles = allow_pickles  # "Allow pickle checkpoints", sent with every job (changed any time)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = _nothing  # the pool's wake() while it runs (set on the pool's thread)
        self._pending: dict[int, object] = {}  # job id -> request not yet done
        self.rows: tuple[DeviceRow, ...] = ()
        self._broken = ""  # why the pool stopped for good (it could not start, or its loop broke)
        self._thread = BackgroundJob(self._serve, "device-pool")
        self._thread.progressed.connect(self._on_thread_progressed)
        self._thread.failed.connect(self._on_thread_failed)
        self._thread.start()

    def submit(self, request) -> None:
        """Queue a GenerateRequest or LoadModelRequest for the next free device (or the one it names)."""
        self._pending[request.job_id] = request
        if self._broken:  # answered after this call returns, as a device would answer
            QTimer.singleShot(0, lambda: self._on_thread_failed(ErrorKind.UNAVAILABLE.value, self._broken))
            return
        self._inbox.put(request)
        self._wake()  # the pool's thread takes it now, not when its wait for the devices' reports runs out

    def cancel_all(self) -> None:
        """Cancel every run and waiting request; the pool's thread passes the cancels on at once."""
        super().cancel_all()
        self._wake()

    def _in_flight(self):
        # Every run stops within one step and the waiting ones are dropped (a load has no cancel flag).
        return self._pending.values()

    def _stop_thread(self, timeout_ms: int) -> bool:
        # The devices stop (a run in flight is abandoned, nothing half-made saved), then the thread.
        return self._thread.stop(timeout_ms)

    # --- what the thread reports (queued to this thread) -------------------------------------------------------
    def _on_thread_progressed(self, message: tuple) -> None:
        kind, *args = message
        if kind == "devices":
            self.rows = args[0]
            self.devices_changed.emit(self.rows)
        elif kind == "step":
            job_id, step, total, eta, image = args
            self.progress.emit(job_id, step, total, eta)
            if image is not None:
                self.preview.emit(job_id, image, step, total)
        elif kind == "started":
            self.job_started.emit(*args)
        elif kind == "status":
            self.status.emit(args[0])
        elif kind == "model":
            self.model_ready.emit(args[0])
        elif kind == "finished":
            self.finished.emit(*args)
        elif kind == "failed":
            self.failed.emit(*args)
        elif kind == "cancelled":
            self.cancelled.emit(args[0])
        elif kind == "single":
            requests, self._pending = list(self._pending.values()), {}
            self._broken = "one device"
            self.single_device.emit(requests)
        elif kind == "done":
            self._pending.pop(args[0], None)
            self.job_done.emit(args[0])

    def _on_thread_failed(self, kind: str, message: str) -> None:
        """The pool could not start (or its loop broke): every request still here fails with the sentence."""
        self._broken = message
        self.status.emit(message)
        for job_id in list(self._pending):
            self.failed.emit(job_id, kind, message)
            self._pending.pop(job_id, None)
            self.job_done.emit(job_id)

    # --- the pool's thread -------------------------------------------------------------------------------------
    def _serve(self, report, stopped) -> None:
        if self.cluster:
            # The cluster's actors, one per GPU (or slot) there, with the same dispatcher as local devices. Joining
            # refuses an unauthenticated remote cluster with a sentence, which fails the requests waiting here.
            from desktop.cluster.pools import open_pool

            report(("status", f"Joining the Ray cluster at {self.cluster}…"))
            pool = open_pool(workers=self.workers or None, cluster=self.cluster, allow_pickles=self.allow_pickles,
                             status=lambda line: report(("status", line)))
            gone = CLUSTER_GONE.format(address=self.cluster)
        else:
            from desktop.cluster.local_pool import LocalPool, plan_local_slots

            workers = self.workers or _gpu_count() or 1
            if len(plan_local_slots(workers)) < 2:
                report(("single",))
                return
            report(("status", f"Starting {workers} devices (each loads torch once)…"))
            pool = LocalPool(workers, allow_pickles=self.allow_pickles)  # starts the processes (torch loads there)
            gone = GONE
        loop = None
        self._wake = pool.wake
        try:
            loop = _PoolLoop(pool, report, lambda: self.allow_pickles, gone)
            loop.report_rows()
            while not stopped():
                loop.accept(self._inbox)
                loop.turn()
        finally:
            self._wake = _nothing
            if loop is not None:
                loop.dispatcher.stop()  # runs in flight stop within a step, so each worker reads its stop at once
            pool.close()


def _nothing() -> None:
    pass


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class _PoolLoop:
    """The dispatcher and the requests it runs, on the pool's thread: one ``turn`` per poll."""

    def __init__(self, pool, report, allow_pickles, gone: str = GONE):
        from desktop.cluster.dispatch import Dispatcher

        self.pool, self.report, self.allow_pickles = pool, report, allow_pickles  # allow_pickles(): the setting now
        self.gone = gone  # the sentence when no device is left
        self.dispatcher = Dispatcher(pool)
        self.requests: dict[str, object] = {}  # the dispatcher's job id -> the request
        self.cancelling: set[str] = set()
        self.all_slots = list(pool.slots)  # lost ones stay listed, as "lost"
        self.steps: dict[str, tuple[int, int]] = {}  # slot id -> (step, total) of the run it has going
        self.last_model = None  # the ModelInfo last reported: a run with another model reports its own
        self.warming: dict[str, str] = {}  # load-only job sent beside the window's load, to another device -> model
        self._rows: tuple = ()

    def accept(self, inbox) -> None:
        """Take the requests the window sent since the last turn."""
        from desktop.cluster.owner import load_job, pack_job

        while True:
            try:
                request = inbox.get_nowait()
            except queue.Empty:
                return
            key = str(request.job_id)
            try:
                if isinstance(request, LoadModelRequest):
                    job = load_job(key, request.model, runtime=request.runtime, allow_pickles=self.allow_pickles())
                elif isinstance(request, GenerateRequest):
                    job = pack_job(key, request.params, init_latents=request.init_latents, runtime=request.runtime,
                                   device=request.slot, style_folders=_style_folders(request),
                                   allow_pickles=self.allow_pickles())
                else:
                    raise RestyleError(ErrorKind.INTERNAL, f"{type(request).__name__} does not run on a device pool.")
            except RestyleError as exc:
                self._end(request.job_id, ("failed", request.job_id, exc.kind.value, exc.message))
                continue
            self.requests[key] = request
            self.dispatcher.add(job)

    def turn(self) -> None:
        """Pass on cancels, start what can start, and handle what one device said."""
        for key, request in list(self.requests.items()):
            cancel = getattr(request, "cancel_event", None)
            if cancel is not None and cancel.is_set() and key not in self.cancelling:
                self.cancelling.add(key)
                if self.dispatcher.cancel(key):  # it had not started: nothing to wait for
                    self._finish_job(key, ("cancelled", request.job_id))
        before = set(self.dispatcher.running)
        for job, sentence in self.dispatcher.start_ready():
            self._finish_job(job.job_id, ("failed", int(job.job_id), ErrorKind.BAD_INPUT.value, sentence))
        for key in set(self.dispatcher.running) - before:
            self.report(("started", int(key), self.dispatcher.running[key][1]))
            if isinstance(self.requests.get(key), LoadModelRequest):
                self._load_on_free_devices(self.requests[key])
        if not self.pool.slots and self.dispatcher.busy:
            for key in list(self.requests):
                self._finish_job(key, ("failed", int(key), ErrorKind.UNAVAILABLE.value, self.gone))
            self.dispatcher.waiting.clear()
            self.dispatcher.running.clear()
        event = self.pool.next_event(POLL_S)
        if event is not None and event.job_id in self.warming:
            self._note_warmed(event)
        if event is not None and self.dispatcher.take(event):
            self._handle(event)
        self.report_rows()

    def _load_on_free_devices(self, request: LoadModelRequest) -> None:
        """Load the model the window asked for on every other free device that lacks it, at once, each as a
        load-only job of its own, so the first batch finds every device ready, not one. A device loading is busy:
        a run sent meanwhile goes to the first device free, as it would during the window's own load."""
        from desktop.cluster.owner import load_job

        for slot in self.pool.slots:
            if slot.free and slot.model != request.model:
                key = f"{request.job_id}@{slot.id}"  # never an int: the window never hears of it
                self.warming[key] = request.model
                self.pool.submit(slot, load_job(key, request.model, runtime=request.runtime, device=slot.id,
                                                allow_pickles=self.allow_pickles()))

    def _note_warmed(self, event) -> None:
        """A load sent beside the window's ended: the device has the model now (the window's own load reports
        the model, and its error, once; a device that failed here tries again with its first run)."""
        from desktop.cluster.events import ERROR, LOST, RESULT

        if event.kind not in (RESULT, ERROR, LOST):
            return
        model = self.warming.pop(event.job_id)
        slot = next((s for s in self.pool.slots if s.id == event.slot), None)
        if event.kind == RESULT and slot is not None:
            slot.model = model
        elif event.kind == ERROR:
            log.warning("loading %s on %s failed: %s", model, event.slot, event.payload)

    def _handle(self, event) -> None:
        from desktop.cluster.events import ERROR, LOST, RESULT, STATUS, STEP

        request = self.requests.get(event.job_id)
        if event.kind == STEP and request is not None:
            from .inference import array_to_qimage

            step = event.payload
            self.steps[event.slot] = (step.step, step.total)
            image = array_to_qimage(step.preview) if step.preview is not None else None
            self.report(("step", request.job_id, step.step, step.total, -1.0 if step.eta is None else step.eta, image))
        elif event.kind == STATUS and event.payload:
            self.report(("status", f"{self._label(event.slot)}: {event.payload}"))
        elif event.kind == LOST:
            self.steps.pop(event.slot, None)
            again = " its run starts again on another device" if request is not None else ""
            self.report(("status", f"{event.payload}.{again}"))
        elif event.kind == ERROR and request is not None:
            self.steps.pop(event.slot, None)
            kind, message = event.payload
            outcome = ("cancelled", request.job_id) if kind == ErrorKind.CANCELLED.value else \
                ("failed", request.job_id, kind, message)
            self._finish_job(event.job_id, outcome)
        elif event.kind == RESULT and request is not None:
            self.steps.pop(event.slot, None)
            self._finish_job(event.job_id, self._outcome(request, event))

    def _outcome(self, request, event) -> tuple:
        """What a device's result becomes: a loaded model, or a picture saved into the history."""
        if isinstance(request, LoadModelRequest):
            self.last_model = event.payload
            return ("model", event.payload)
        if event.payload.model != self.last_model:  # the window learns the family and size, as from a load
            self.last_model = event.payload.model
            self.report(("model", event.payload.model))
        if request.cancel_event.is_set():  # finished as the cancel went out: discarded, as a local run's is
            return ("cancelled", request.job_id)
        from .inference import save_finished

        try:
            result, line = save_finished(event.payload, request)
        except RestyleError as exc:
            return ("failed", request.job_id, exc.kind.value, exc.message)
        except OSError as exc:
            return ("failed", request.job_id, ErrorKind.BAD_INPUT.value,
                    f"Restyle could not save the picture in {request.output_dir}: {exc.strerror or exc}.")
        self.report(("status", f"{self._label(event.slot)}: {line}"))
        return ("finished", request.job_id, event.slot, result)

    def _finish_job(self, key: str, outcome: tuple) -> None:
        self.requests.pop(key, None)
        self.cancelling.discard(key)
        self._end(int(key), outcome)

    def _end(self, job_id: int, outcome: tuple) -> None:
        self.report(outcome)
        self.report(("done", job_id))

    def _label(self, slot_id: str) -> str:
        return next((s.label for s in self.all_slots if s.id == slot_id), slot_id)

    def report_rows(self) -> None:
        """Tell the window each device's state, when one changed."""
        live = {s.id for s in self.pool.slots}
        rows = tuple(self._row(slot, slot.id in live) for slot in self.all_slots)
        if rows != self._rows:
            self._rows = rows
            self.report(("devices", rows))

    def _row(self, slot, alive: bool) -> DeviceRow:
        pid = slot.info.get("pid", 0)
        if not alive:
            return DeviceRow(slot.id, slot.label, "lost", slot.model, pid=pid)
        if not slot.ready:
            return DeviceRow(slot.id, slot.label, "starting")
        request = self.requests.get(slot.job) if slot.job else None
        if slot.job in self.warming:
            return DeviceRow(slot.id, slot.label, "loading", self.warming[slot.job], pid=pid)
        if request is None:
            return DeviceRow(slot.id, slot.label, "idle", slot.model, pid=pid)
        model = request.params.model if isinstance(request, GenerateRequest) else request.model
        step, total = self.steps.get(slot.id, (0, 0))
        if not step and model != slot.model:
            return DeviceRow(slot.id, slot.label, "loading", model, request.job_id, pid=pid)
        return DeviceRow(slot.id, slot.label, "running", model, request.job_id, step, total, pid)


def _style_folders(request: GenerateRequest):
    if request.lora_dirs is None and request.embedding_dirs is None:
        return None
    from desktop.engine.styles import StyleFolders

    return StyleFolders(tuple(request.lora_dirs or ()), tuple(request.embedding_dirs or ()))
