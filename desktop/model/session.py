"""SessionModel: the observable state of one editing session and the actions that change it.

Widgets call the actions and observe the signals; the worker's signals arrive here and become state. Holds
no widgets and imports no torch (images from the worker arrive as QImage objects and are passed on as-is).

This file is the composition: the signals, the state, and the owners it is made of. The actions live by
role in the mixins it is built from (each a module of its own, on the same object, so the session's API is
one surface): model_choice.py, init_image_loading.py, settings_restore.py, run_starting.py,
worker_reports.py and device_pool_runs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import RestyleError
from desktop.core.images import fit_size
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.worker import EngineOptionsRequest

from .depth_state import DepthState
from .device_pool import DevicePool
from .device_pool_runs import DevicePoolRuns
from .device_state import DeviceState
from .history_model import HistoryModel
from .init_image_loading import InitImage, InitImageLoading
from .mask_state import MaskState
from .memory_retry import MemoryRetry
from .model_choice import ModelChoice, profile_of_info
from .model_slots import ModelSlots, SlotTracker
from .queue_runner import QueueRunner
from .run_chain import RunChain
from .run_starting import RunStarting
from .run_state import Phase, RunState
from .settings import Settings
from .settings_restore import SettingsRestore
from .style_library import StyleLibrary
from .web_images import WebImageFetch
from .worker_reports import WorkerReports
from .working_source import WorkingSource

if TYPE_CHECKING:
    from desktop.core.history import Node

    from .picture_restore import RestoreOffer

__all__ = ["InitImage", "Phase", "SessionModel", "profile_of_info"]


class SessionModel(QObject, ModelChoice, InitImageLoading, SettingsRestore, RunStarting, WorkerReports,
                   DevicePoolRuns):
    """Parameters, init image, job state and results of the session."""

    params_changed = Signal(object)  # GenerationParams
    init_image_changed = Signal(object)  # InitImage | None
    model_info_changed = Signal(object)  # ModelInfo | None
    planned_size_changed = Signal(int, int)
    phase_changed = Signal(str)  # Phase value
    progress_changed = Signal(int, int, float)  # step, total, ETA seconds (-1 unknown)
    preview_changed = Signal(object)  # QImage
    result_ready = Signal(object)  # GenerationResult (output_path set)
    error_raised = Signal(str, str)  # ErrorKind value, message
    status_changed = Signal(str)
    metadata_found = Signal(object)  # RestoreOffer: what a dropped picture's settings would change
    restore_applied = Signal(object)  # the RestoreOffer just applied; undo_restore() puts the settings back
    source_changed = Signal(str)  # the canvas caption of the working picture ("Restyling: …", "From text")
    # Out of memory with a lighter setting to offer: the sentence and the setting's name ("VAE tiling").
    out_of_memory_offered = Signal(str, str)  # forwarded from MemoryRetry

    def __init__(self, settings: Settings, worker_host, *, log_path: str = ""):
        super().__init__()
        self.settings = settings
        self._host = worker_host
        self.log_path = log_path
        self._params = settings.last_params(settings.model)
        self._init: InitImage | None = None
        self._model_info: ModelInfo | None = None
        self.run = RunState(worker_host, route=self._route)  # what is running: the one answer (run_state.py)
        self.run.phase_changed.connect(self.phase_changed)
        self.last_result: GenerationResult | None = None
        self.history = HistoryModel(settings)
        self.history.error_raised.connect(self.error_raised)
        self.history.status_changed.connect(self.status_changed)
        self.depth = DepthState(settings, worker_host)
        self.depth.error_raised.connect(self.error_raised)
        self.depth.status_changed.connect(self.status_changed)
        self.mask = MaskState(settings.data_dir)  # the painted mask and outpainting (mask_state.py)
        self.mask.error_raised.connect(self.error_raised)
        self.mask.status_changed.connect(self.status_changed)
        self.result_ready.connect(self.mask.run_finished)  # before a loopback pass starts: it must not grow again
        self.styles = StyleLibrary(settings)  # the user's LoRAs and embeddings, by name
        self.devices = DeviceState(settings, worker_host)
        self.devices.error_raised.connect(self.error_raised)
        self.devices.runtime_changed.connect(self._on_devices_runtime_changed)
        self.pool = DevicePool(settings, self.devices)  # Settings ▸ Devices at once: several at once (device_pool.py)
        self.pool.host_started.connect(self._watch_pool)
        self.pool.handed_back.connect(self._on_pool_handed_back)
        self._init_node: str | None = None  # the history node the init image is, when it is one
        # (parameters before, the offer applied, whether the model was switched) of the last restore, for Undo.
        self._before_restore: tuple[GenerationParams, RestoreOffer, bool] | None = None
        self._pending_import: Node | None = None  # the imported root the run in progress will write
        self.chain = RunChain(self)  # auto-continue passes and replay steps (run_chain.py)
        self.jobs = QueueRunner(self)  # queued runs, sweeps, batches, planned chains (queue_runner.py)
        self.jobs.error_raised.connect(self.error_raised)
        self.jobs.status_changed.connect(self.status_changed)
        self.memory = MemoryRetry(self.devices, rerun=self.start_run, reload=self.preload_model,
                                  requeue=self.jobs.take_retry)  # out-of-memory offers (memory_retry.py)
        self.memory.offered.connect(self.out_of_memory_offered)
        self.source = WorkingSource(self)  # where the working picture came from; File ▸ New (working_source.py)
        self.web = WebImageFetch(settings.data_dir)  # images dragged from a browser (web_images.py)
        self.web.fetched.connect(lambda path, name: self.load_init_image(path, label=name))
        self.web.status_changed.connect(self.status_changed)
        self.web.error_raised.connect(self.error_raised)
        self.source.restore()
        # The working picture follows the history: the node selected is the one the next run restyles.
        self.history.selection_changed.connect(self.source.follow_selection)
        worker = worker_host.worker
        # Each model's own state (main, ControlNet, depth, upscaler), before the handlers below end the run.
        self.slots = ModelSlots()
        self._slot_tracker = SlotTracker(self.slots, worker, self.run, self.depth, lambda: self._model_info)
        self._watch_worker(worker)  # worker_reports.py
        if settings.allow_pickles:
            worker_host.submit(EngineOptionsRequest(allow_pickles=True))

    # --- state -------------------------------------------------------------------------------------------
    @property
    def params(self) -> GenerationParams:
        """The parameters the next Generate will use (init image excluded)."""
        return self._params

    @property
    def phase(self) -> Phase:
        """Idle, running or cancelling (RunState holds the one answer)."""
        return self.run.phase

    @property
    def last_output_path(self) -> Path | None:
        """The PNG written by the last finished run."""
        if self.last_result is None or self.last_result.output_path is None:
            return None
        return Path(self.last_result.output_path)

    def planned_size(self) -> tuple[int, int]:
        """The size the next run will use, as the engine will fit it."""
        natural = self.natural_size
        if self._init is None:
            return natural, natural
        return fit_size(*self._init.size, natural, self.family.size_multiple)

    def masked_area_size(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """"Only masked": (the painted area with its padding, the size it runs at); None without a mask."""
        box = self.mask.painted_box()
        if box is None or self._init is None:
            return None
        pad = self._params.inpaint_padding
        width, height = self._init.size
        left, top, right, bottom = max(0, box[0] - pad), max(0, box[1] - pad), min(width, box[2] + pad), \
            min(height, box[3] + pad)
        area = (right - left, bottom - top)
        return area, fit_size(*area, self.natural_size, self.family.size_multiple)

    def _emit_planned_size(self) -> None:
        self.planned_size_changed.emit(*self.planned_size())

    # --- actions that hand over to one owner -------------------------------------------------------------
    def update_params(self, **changes) -> None:
        """Change some parameters (prompt, strength, seed, …)."""
        new = self._params.replace(**changes)
        if new != self._params:
            self._params = new
            self.settings.store_params(new)
            self.params_changed.emit(new)

    def estimate_depth(self) -> bool:
        """Estimate a depth map of the init image on the worker (refused, with a sentence, without one)."""
        return self.depth.estimate(self._params.device)

    def mask_from_depth(self, threshold: float, *, near: bool = True) -> bool:
        """Make the mask from the depth panel's map: what is nearer (or farther) than ``threshold`` (0–1)."""
        depth = None
        if self.depth.path is not None:
            from desktop.core.depth_maps import load_depth_map  # at first use: it loads PIL (start-up)

            try:
                depth = load_depth_map(self.depth.path)
            except RestyleError as exc:
                self.error_raised.emit(exc.kind.value, exc.message)
                return False
        return self.mask.from_depth(depth, threshold, near=near)

    def set_auto_continue(self, enabled: bool, passes: int, end_strength: float | None) -> None:
        """Loopback: chain every new result into the next run, ``passes`` in a row, strength going linearly
        from the slider's value to ``end_strength`` (None: constant)."""
        self.chain.set_auto_continue(enabled, passes, end_strength)

    def start_from_text(self) -> None:
        """File ▸ New: the next run starts from text; ``back_to_picture`` returns to the picture left."""
        self.source.start_from_text()

    def back_to_picture(self) -> bool:
        """Return to the picture File ▸ New left; False when there is none."""
        return self.source.back()

    @property
    def can_go_back(self) -> bool:
        """True after File ▸ New, while the picture it left can be returned to."""
        return self.source.can_go_back
