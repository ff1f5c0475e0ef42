"""The InferenceWorker: a QObject living on its own QThread that alone owns the engine and its pipelines."""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.model_hash import HASH_CACHE_NAME

from .requests import (
    EngineOptionsRequest,
    EstimateDepthRequest,
    GenerateRequest,
    LoadModelRequest,
    UnloadModelRequest,
    UpscaleRequest,
)

log = logging.getLogger(__name__)

MEMORY_REPORT_INTERVAL_S = 2.0
NO_IMAGE_FOR_DEPTH = "Drop or open an image first: depth is estimated from the init image."


def array_to_qimage(array) -> QImage:
    """A QImage that owns a copy of an (H, W, 3) uint8 array, safe to hand to another thread."""
    height, width, _ = array.shape
    data = array.tobytes()
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class InferenceWorker(QObject):
    """Runs requests one at a time on its thread; everything it reports goes out as signals."""

    status = Signal(str)
    model_ready = Signal(object)  # ModelInfo
    progress = Signal(int, int, float)  # step, total, ETA seconds (-1 while unknown)
    preview = Signal(QImage, int, int)  # preview, step, total
    finished = Signal(object)  # GenerationResult with output_path set
    failed = Signal(int, str, str)  # job id, ErrorKind value, one sentence for the user
    cancelled = Signal(int)  # job id
    job_done = Signal(int)  # job id, after every request whatever its outcome
    depth_ready = Signal(int, str)  # job id, path of the saved depth map
    # Before ``failed`` for an out-of-memory error that has a lighter setting to offer: job id, MemoryOffer.
    out_of_memory = Signal(int, object)
    memory_changed = Signal(object)  # MemoryReport: after every job, and every few seconds during a run
    devices_found = Signal(object)  # tuple of the devices this machine has ("cuda", "mps", "cpu"), once

    def __init__(self, log_path: str = ""):
        super().__init__()
        self._engine = None
        self._depth_estimator = None  # one DepthEstimator: it keeps its depth model loaded between estimates
        self._upscaler = None  # one Upscaler: its pipelines stay loaded apart from the base model
        self._log_path = log_path
        self._last_memory_report = 0.0
        self._allow_pickles = False
        self._cluster = ""  # Settings ▸ Run on: "" this computer, else the Ray cluster's address

    def _get_engine(self):
        if self._engine is None:
            self.status.emit("Starting the engine (loading torch and diffusers)…")
            from .quiet_imports import import_engine

            Engine = import_engine()  # heavy: first use only, on this thread  # noqa: N806

            if self._cluster:  # the same engine calls, run by the cluster's actors; results come back here
                from desktop.cluster.pools import cluster_engine

                self._engine = cluster_engine(self._cluster, allow_pickles=self._allow_pickles,
                                              status=self.status.emit)
            else:
                # The log sits in <data folder>/logs: model hashes are remembered in that data folder.
                hashes = Path(self._log_path).parent.parent / HASH_CACHE_NAME if self._log_path else None
                self._engine = Engine(status=self.status.emit, allow_pickles=self._allow_pickles, hash_cache=hashes)
            from desktop.engine.runtime import available_devices

            self.devices_found.emit(available_devices())
        return self._engine

    def _drop_engine(self) -> None:
        close = getattr(self._engine, "close", None)  # a cluster's engine leaves the cluster
        self._engine = None
        if close is not None:
            try:
                close()
            except Exception:  # leaving a cluster that is already gone
                log.exception("leaving the Ray cluster failed")

    def _report_memory(self) -> None:
        """Tell the status bar what the loaded model uses (cheap: no synchronisation with the GPU)."""
        info = self._engine.model_info if self._engine is not None else None
        if info is None or self._cluster:  # on a cluster the memory is a node's, not this computer's
            return
        from desktop.engine.runtime import memory_report

        self._last_memory_report = time.monotonic()
        self.memory_changed.emit(memory_report(info.device, info.dtype))

    @Slot(object)
    def handle(self, request) -> None:
        """Run one request; exceptions never escape the thread, they become ``failed``."""
        try:
            if isinstance(request, LoadModelRequest):
                self._load(request)
            elif isinstance(request, GenerateRequest):
                self._generate(request)
            elif isinstance(request, EstimateDepthRequest):
                self._estimate_depth(request)
            elif isinstance(request, UpscaleRequest):
                self._upscale(request)
            elif isinstance(request, UnloadModelRequest):
                name = self._engine.unload() if self._engine is not None else None
                if name is not None:
                    self.status.emit(f"{name} unloaded here{request.reason}.")
            elif isinstance(request, EngineOptionsRequest):
                self._allow_pickles = request.allow_pickles
                if self._engine is not None:
                    self._engine.allow_pickles = request.allow_pickles
                if request.cluster is not None and request.cluster != self._cluster:
                    self._cluster = request.cluster
                    self._drop_engine()  # the next request starts the engine where it now runs
        except RestyleError as exc:
            if exc.kind is ErrorKind.CANCELLED:
                self.status.emit("Cancelled.")
                self.cancelled.emit(request.job_id)
            else:
                log.warning("job %s failed: %s", request.job_id, exc.message)
                if exc.kind is ErrorKind.UNAVAILABLE:
                    self._drop_engine()  # the cluster went away: joined again when next asked
                if exc.kind is ErrorKind.OUT_OF_MEMORY and exc.suggestion is not None:
                    self.out_of_memory.emit(request.job_id, exc.suggestion)
                self.failed.emit(request.job_id, exc.kind.value, exc.message)
        except Exception as exc:  # noqa: BLE001 - the thread must survive anything the libraries throw
            log.error("job %s crashed:\n%s", request.job_id, traceback.format_exc())
            kind, message = _classify(exc)
            self.failed.emit(request.job_id, kind.value, f"{message} Details are in the log: {self._log_path}")
        finally:
            try:
                self._report_memory()
            except Exception:  # a status figure must never break a job
                log.exception("reading the memory in use failed")
            self.job_done.emit(request.job_id)

    def _load(self, request: LoadModelRequest) -> None:
        engine = self._get_engine()
        if request.runtime is not None:
            engine.configure(request.runtime)
        info = engine.load(request.model, request.device)
        self.model_ready.emit(info)
        notes = "".join(f" {note}" for note in info.runtime_notes)  # e.g. fp16 asked for on the CPU
        self.status.emit(f"{info.display_name} ready on {info.device} ({info.dtype}).{notes}")

    def _estimate_depth(self, request: EstimateDepthRequest) -> None:
        if not request.image_path:
            raise RestyleError(ErrorKind.BAD_INPUT, NO_IMAGE_FOR_DEPTH)
        if request.cancel_event.is_set():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled before it started.")
        self._get_engine()  # quiets the libraries' own progress bars and warnings, once
        from desktop.core.depth_maps import DEFAULT_DEPTH_MODEL
        from desktop.core.images import load_image
        from desktop.engine.depth import DepthEstimator

        image = load_image(request.image_path)
        model = request.model.strip() or DEFAULT_DEPTH_MODEL
        if self._depth_estimator is None:
            self._depth_estimator = DepthEstimator(status=self.status.emit)  # a download's bytes and rate
        self.status.emit(f"Estimating depth with {Path(model).name or model}…")
        depth = self._depth_estimator.estimate(image, model, request.device, cancelled=request.cancel_event.is_set)
        if request.cancel_event.is_set():  # Cancel came during the estimate: the map it made is not wanted
            raise RestyleError(ErrorKind.CANCELLED, "The depth estimate was cancelled.")
        target = Path(request.output_path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            depth.save(target, format="PNG")
        except OSError as exc:
            reason = exc.strerror or exc
            raise RestyleError(ErrorKind.BAD_INPUT, f"Restyle could not save the depth map: {reason}.") from None
        self.status.emit(f"Depth estimated from {Path(request.image_path).name}.")
        self.depth_ready.emit(request.job_id, str(target))

    def _generate(self, request: GenerateRequest) -> None:
        if request.cancel_event.is_set():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled before it started.")
        engine = self._get_engine()
        before = engine.model_info
        params = request.params

        def on_step(step) -> None:
            self.progress.emit(step.step, step.total, -1.0 if step.eta is None else step.eta)
            if step.preview is not None:
                self.preview.emit(array_to_qimage(step.preview), step.step, step.total)
            if time.monotonic() - self._last_memory_report >= MEMORY_REPORT_INTERVAL_S:
                self._report_memory()

        if request.runtime is not None:
            engine.configure(request.runtime)
        if request.lora_dirs is not None or request.embedding_dirs is not None:
            from desktop.engine.styles import StyleFolders

            engine.style_folders = StyleFolders(tuple(request.lora_dirs or ()), tuple(request.embedding_dirs or ()))
        # Loading counts as part of the job for cancel purposes, so the check also covers it.
        engine.load(params.model, params.device)
        if engine.model_info is not before:
            self.model_ready.emit(engine.model_info)
        self.status.emit("Generating…")
        result = engine.generate(params, on_step=on_step, cancelled=request.cancel_event.is_set,
                                 init_latents=request.init_latents)
        self._save_and_report(result, request)

    def _upscale(self, request: UpscaleRequest) -> None:
        if request.cancel_event.is_set():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled before it started.")
        self._get_engine()  # quiets the libraries' own progress bars and warnings, once
        if self._upscaler is None:
            from desktop.engine.upscale import Upscaler

            self._upscaler = Upscaler(status=self.status.emit)

        def on_step(step) -> None:
            self.progress.emit(step.step, step.total, -1.0 if step.eta is None else step.eta)
            if step.preview is not None:
                self.preview.emit(array_to_qimage(step.preview), step.step, step.total)

        result = self._upscaler.run(request.params, on_step=on_step, cancelled=request.cancel_event.is_set,
                                    source_latents=request.source_latents)
        self._save_and_report(result, request)

    def _save_and_report(self, result, request) -> None:
        result, line = save_finished(result, request)
        self.status.emit(line)
        self.finished.emit(result)


def save_finished(result, request):
    """Save a finished run's PNG and write it into the history the request names, before anyone hears of it (a
    crash after this loses nothing); returns the result naming its file and nodes, and the status line."""
    from dataclasses import replace

    from desktop.core.output import save_result

    from .history_writer import write_to_history

    path = save_result(result, request.output_dir)
    result = replace(result, output_path=str(path))
    if request.history is not None:
        result = write_to_history(request.history, result)
    notes = "".join(f" {note}" for note in result.notes)  # e.g. the depth map had to be cropped
    return result, f"Saved {path.name} (seed {result.seed}, {result.elapsed:.1f} s).{notes}"


def _classify(exc: Exception) -> tuple[ErrorKind, str]:
    """A kind and a sentence for an exception the engine did not anticipate."""
    name = type(exc).__name__
    if "OutOfMemory" in name or "out of memory" in str(exc).lower():
        return ErrorKind.OUT_OF_MEMORY, "The device ran out of memory. Try a smaller image or fewer steps."
    return ErrorKind.INTERNAL, f"Something went wrong inside the engine ({name})."
