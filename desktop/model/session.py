"""SessionModel: the observable state of one editing session and the actions that change it.

Widgets call the actions and observe the signals; the worker's signals arrive here and become state. Holds
no widgets and imports no torch (images from the worker arrive as QImage objects and are passed on as-is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import RestyleError
from desktop.core.families import spec_for
from desktop.core.history import Node, timestamp
from desktop.core.captions import source_caption
from desktop.core.images import fit_size, load_image_noting
from desktop.core.model_hash import HASH_CACHE_NAME
from desktop.core.model_match import installed_models
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.worker import (
    EngineOptionsRequest,
    GenerateRequest,
    HistoryTarget,
    LoadModelRequest,
    UnloadModelRequest,
)

from .depth_state import DepthState
from .device_pool import DevicePool
from .device_state import DeviceState
from .history_model import HistoryModel
from .mask_state import MaskState
from .memory_retry import MemoryRetry
from .model_slots import ModelSlots, SlotTracker
from .picture_restore import RestoreOffer, build_offer, undo_changes
from .queue_runner import QueueRunner
from .run_chain import RunChain
from .web_images import WebImageFetch
from .working_source import WorkingSource
from .run_state import Phase, RunState
from .settings import Settings
from .style_library import StyleLibrary

if TYPE_CHECKING:
    from desktop.core.picture_settings import PictureSettings

log = logging.getLogger(__name__)

DEFAULT_NATURAL_SIZE = 512  # SD 1.5's, shown until the real model reports its own


__all__ = ["InitImage", "Phase", "SessionModel", "profile_of_info"]


@dataclass(frozen=True)
class InitImage:
    """The image the next run starts from, already normalised to RGB."""

    path: Path
    image: object  # PIL.Image.Image (RGB)
    label: str = ""  # what the canvas calls it ("Restyling: landscape.png"); the file name when empty
    note: str = ""  # something to know about the file (an animation's first frame was taken)

    @property
    def name(self) -> str:
        """The file name the artist knows it by (a history copy is named after its original)."""
        return self.label.removeprefix("Restyling: ") if self.label else self.path.name

    @property
    def size(self) -> tuple[int, int]:
        """Its size in pixels before fitting."""
        return self.image.size


class SessionModel(QObject):
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
        worker.status.connect(self._on_worker_status)
        worker.model_ready.connect(self._on_worker_model_ready)
        worker.progress.connect(self.progress_changed)
        worker.preview.connect(self._on_worker_preview)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        worker.cancelled.connect(self._on_worker_job_done)  # a cancelled run frees the session like any end
        worker.job_done.connect(self._on_worker_job_done)
        if settings.allow_pickles:
            worker_host.submit(EngineOptionsRequest(allow_pickles=True))

    # --- state -------------------------------------------------------------------------------------------
    @property
    def params(self) -> GenerationParams:
        """The parameters the next Generate will use (init image excluded)."""
        return self._params

    @property
    def init_image(self) -> InitImage | None:
        """The current init image, or None for text-to-image."""
        return self._init

    @property
    def source_node(self) -> str | None:
        """The history node the working picture is, or None (a file from outside, or text)."""
        return self._init_node if self._init is not None else None

    @property
    def source_label(self) -> str:
        """What the next run starts from, as the canvas says it: "Restyling: landscape.png", "From text"."""
        if self._init is None:
            return "From text"
        return self._init.label or f"Restyling: {self._init.path.name}"

    @property
    def model_info(self) -> ModelInfo | None:
        """The loaded model's facts, once the worker reports them."""
        return self._model_info

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
        natural = self._model_info.natural_size if self._model_info else DEFAULT_NATURAL_SIZE
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
        natural = self._model_info.natural_size if self._model_info else DEFAULT_NATURAL_SIZE
        area = (right - left, bottom - top)
        return area, fit_size(*area, natural, self.family.size_multiple)

    @property
    def family(self):
        """The loaded model's FamilySpec (its defaults and the controls it accepts); SD's until one loads."""
        return spec_for(profile_of_info(self._model_info))

    # --- actions -----------------------------------------------------------------------------------------
    def update_params(self, **changes) -> None:
        """Change some parameters (prompt, strength, seed, …)."""
        new = self._params.replace(**changes)
        if new != self._params:
            self._params = new
            self.settings.store_params(new)
            self.params_changed.emit(new)

    def set_model(self, name: str, *, preload: bool = True) -> None:
        """Choose the model; it loads on the worker in the background."""
        name = name.strip()
        self.settings.model = name
        self.update_params(model=name)
        if name and preload:
            self._submit_load()

    def use_model(self, name: str, slot: str) -> None:
        """Put a model in its own slot (the library's Use): the main model, the depth panel's ControlNet or depth
        model, or the ×2 / ×4 upscaler."""
        if slot == "main":
            self.set_model(name)
            return
        if slot == "lora":  # ``name`` is the LoRA file; the LoRA panel shows it with its weight
            if name not in dict(self._params.loras):
                self.update_params(loras=(*self._params.loras, (name, 1.0)))
            self.status_changed.emit(f"{Path(name).stem} is one of the next run's LoRAs (weight 1).")
            return
        if slot in ("controlnet", "depth"):
            self.depth.update(**{"controlnet" if slot == "controlnet" else "depth_model": name})
            what = "the depth panel's ControlNet" if slot == "controlnet" else "the model Estimate depth uses"
        else:
            kind = slot.removeprefix("upscaler_")
            self.settings.set_upscaler(kind, name)
            what = f"the {'×2' if kind == 'x2' else '×4'} upscaler"
        self.status_changed.emit(f"{name} is now {what}.")

    def set_allow_pickles(self, allowed: bool) -> None:
        """Remember whether pickle checkpoints may be opened (weights only) and tell the worker."""
        self.settings.allow_pickles = allowed
        self._host.submit(EngineOptionsRequest(allow_pickles=allowed))
        self.pool.set_allow_pickles(allowed)

    def preload_model(self) -> None:
        """Start loading the chosen model, if any (called once the window is on screen)."""
        if self._params.model:
            self._submit_load()

    def _submit_load(self) -> None:
        runtime = self.devices.runtime
        request = LoadModelRequest(self._params.model, runtime.device, runtime=runtime)
        self._slot_tracker.loading(request.job_id, self._params.model)
        self._route(request).submit(request)

    def retry_lighter(self) -> bool:
        """After running out of memory: turn on the offered lighter setting (persisted) and run again."""
        return not self._refuse_while_busy() and self.memory.retry()

    def load_init_image(self, path: str | Path, *, node_id: str | None = None, label: str = "") -> bool:
        """Make the image at ``path`` the init image; a bad file is reported, the old image kept.

        ``node_id`` says the picture is that history node (the next result becomes its child); a file from
        outside becomes an imported root when the first run starts from it. ``label`` names a downloaded file
        after its URL.
        """
        path = Path(path)
        try:
            image, note = load_image_noting(path)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        if node_id is not None:
            label = source_caption(self.history.tree, node_id)
        elif label:
            label = f"Restyling: {label}"
        self._init = InitImage(path, image, label, note)
        self._init_node = node_id
        self.source.changed(f"node:{node_id}" if node_id else f"file:{path}")
        if node_id is None and self.history.selected_id is not None:
            self.history.select(None)  # a picture from outside: no history node is the working picture now
        self.init_image_changed.emit(self._init)
        self.source_changed.emit(self.source_label)
        self.depth.init_image_changed(self._init)
        node_mask = self.history.workspace.mask_path(node_id) if node_id in self.history.tree else None
        self.mask.picture_changed(image.size, node_mask=node_mask, continuing=node_id is not None)
        self._emit_planned_size()
        width, height = self.planned_size()
        extra = f" {note}" if note else ""
        self.status_changed.emit(f"{self._init.name}: {image.width}×{image.height}, runs at {width}×{height}.{extra}")
        if node_id is None:
            # Imported at the first picture, not with the window: the readers of every tool's settings and PIL's
            # PNG plugin are about 15 ms of start-up.
            from desktop.core.picture_settings import read_picture_settings

            try:
                settings = read_picture_settings(path)
            except RestyleError as exc:  # a settings text no tool writes: say so, keep the picture
                self.status_changed.emit(exc.message)
                settings = None
            if settings is not None:
                self.metadata_found.emit(self.offer_for(settings, path.name))
        return True

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

    def continue_from(self, node_id: str) -> bool:
        """Make a history node the next init image; running from an older node starts a branch."""
        if node_id not in self.history.tree:
            return False
        if node_id == self._init_node and self._init is not None:
            return True  # it is the working picture already
        if not self.load_init_image(self.history.workspace.image_path(node_id), node_id=node_id):
            return False
        self.status_changed.emit("The next run continues from the selected image.")
        return True

    def continue_from_selected(self) -> bool:
        """Continue from the node selected in the history."""
        return self.history.selected_id is not None and self.continue_from(self.history.selected_id)

    def set_auto_continue(self, enabled: bool, passes: int, end_strength: float | None) -> None:
        """Loopback: chain every new result into the next run, ``passes`` in a row, strength going linearly
        from the slider's value to ``end_strength`` (None: constant)."""
        self.chain.set_auto_continue(enabled, passes, end_strength)

    def replay(self, node_id: str, changes: dict) -> bool:
        """Re-run the branch from its root to ``node_id`` with ``changes``; the results form a sibling branch."""
        return not self._refuse_while_busy() and self.chain.replay(node_id, changes)

    def upscale(self, node_id: str, kind: str, **options) -> bool:
        """Upscale a history node ("x2": latent upscaler, "x4": super-resolution with ``noise_level``); the result
        becomes its child. ``options``: noise_level, steps, vae_tiling, model (see ``upscale_request``)."""
        if self._refuse_while_busy() or node_id not in self.history.tree:
            return False
        from .upscale_requests import upscale_request

        workspace = self.history.workspace
        p = self._params
        options.setdefault("model", self.settings.upscaler(kind))
        # Tiled when asked for here (History menu, ×4 dialog) or in the settings dialog, for every run.
        options.setdefault("vae_tiling", self.settings.upscale_vae_tiling or self.devices.runtime.vae_tiling)
        try:
            request = upscale_request(workspace, node_id, kind, str(self.settings.output_dir),
                                      HistoryTarget(workspace, node_id), prompt=p.prompt,
                                      negative_prompt=p.negative_prompt, seed=p.seed, device=self.devices.runtime.device,
                                      **options)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        self.chain.stop()
        self.progress_changed.emit(0, 0, -1.0)
        self.run.start(request)
        return True

    def clear_init_image(self) -> None:
        """Go back to text-to-image."""
        self._init = None
        self._init_node = None
        self.source.changed("text")
        self.init_image_changed.emit(None)
        self.source_changed.emit(self.source_label)
        self.depth.init_image_changed(None)
        self.mask.picture_changed(None)
        self._emit_planned_size()

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

    def offer_for(self, settings: PictureSettings, source: str = "The picture") -> RestoreOffer:
        """What restoring ``settings`` would change now, with its model looked up among the installed ones."""
        installed = installed_models(self.settings.library_paths, [self._params.model, *self.settings.recent_models])
        notes: list[str] = []
        if settings.style_hashes:  # A1111's <lora:…> tags, pointed at the user's files by name or by hash
            prompt, notes = self.styles.match_restored(settings.prompt, dict(settings.style_hashes))
            settings = replace(settings, prompt=prompt)
        return build_offer(source, settings, self._params, installed, self.settings.data_dir / HASH_CACHE_NAME,
                           has_lora=lambda name: self.styles.lora(name) is not None, notes=tuple(notes))

    def restore_settings(self, offer: RestoreOffer, *, use_model: bool = False) -> None:
        """Apply a picture's settings (the seed too, so the result can be remade); ``use_model`` also switches to
        the installed model it was made with. ``undo_restore`` puts everything back."""
        self._before_restore = (self._params, offer, use_model and bool(offer.model))
        self.update_params(**offer.changes)
        if use_model and offer.model:
            self.set_model(offer.model)
        self.status_changed.emit(" ".join([f"Settings restored from {offer.source}.", *offer.notes]))
        self.restore_applied.emit(offer)

    def undo_restore(self) -> bool:
        """Put back the settings (and model) the last restore replaced; False when there is nothing to undo."""
        if self._before_restore is None:
            return False
        before, offer, switched = self._before_restore
        self._before_restore = None
        if switched and before.model != self._params.model:
            self.set_model(before.model)
        self.update_params(**undo_changes(before, offer))
        self.status_changed.emit("The settings from before the restore are back.")
        return True

    def generate(self) -> bool:
        """Start a run with the current parameters (queued while another runs); False, with a sentence, when
        it cannot."""
        if self.depth.estimating:  # pressed Estimate then Generate: the run is meant to use the new map
            self.status_changed.emit("The depth map is still being estimated: generate once it is shown.")
            return False
        if self.phase is not Phase.IDLE or self.chain.active:
            return self.jobs.enqueue_generate()
        return self.chain.start_loopback()

    def loopback_strengths(self) -> list[float]:
        """The strength of each auto-continue pass the next Generate makes; [] when it makes one run."""
        return self.chain.loopback_strengths()

    # --- used by the queue (queue_runner.py) ---------------------------------------------------------------------
    def idle_for_queue(self) -> bool:
        """True when no loopback pass or replay step is still to come, so a queued job may start."""
        return not self.chain.active

    def start_job_run(self, params: GenerationParams, slot: str = "") -> bool:
        """Run a queued job's exact parameters from the current init image (set by the queue); ``slot`` pins it
        to one device of the pool ("" any)."""
        self.chain.stop()
        return self.start_run(params, use_depth_panel=False, slot=slot)

    def init_node_for_queue(self) -> str | None:
        """The history node of the init image, importing a picture from outside now so every queued run from
        it hangs under one root; None when it cannot be saved (the runs then import it themselves)."""
        if self._init is None or self._init_node is not None:
            return self._init_node
        pending = self._pending_import
        if self.run.request is not None and pending is not None and pending.source == str(self._init.path):
            return pending.id  # the run in progress imports it: the queued ones hang under the same root
        try:
            node = self.history.import_picture(self._init.path, self._init.image)
        except (RestyleError, ValueError, OSError):
            log.exception("could not import %s for the queue", self._init.path)
            return None
        self._init_node = node.id
        return node.id

    def start_run(self, base: GenerationParams, *, use_depth_panel: bool = True, replay_of: str | None = None,
                  slot: str = "") -> bool:
        """Start one run of ``base`` from the current init image (the queue, the chain and a retry call this)."""
        self.memory.remember_run(base, use_depth_panel)
        params = self.devices.apply(base.replace(init_image=str(self._init.path) if self._init else None))
        if use_depth_panel:  # a replay keeps the depth settings each step was made with
            params = self.mask.apply(self.depth.apply(params))
        try:
            params.validate().require_a_start()
        except RestyleError as exc:
            self.chain.stop()
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        workspace = self.history.workspace
        parent = self._init_node if self._init is not None else None
        pending_import = None
        if self._init is not None and parent is None:
            # A picture from outside: it becomes a root of the history, written with the result.
            node_id = workspace.new_node_id()
            pending_import = Node(id=node_id, parent=None, kind="import", image=f"{node_id}.png",
                                  created=timestamp(), width=self._init.size[0], height=self._init.size[1],
                                  source=str(self._init.path))
            parent = node_id
        self._pending_import = pending_import
        init_latents = workspace.latent_path(parent) if parent and parent in workspace.tree else None
        target = HistoryTarget(workspace, parent, pending_import, self._init.image if pending_import else None,
                               str(self._init.path) if pending_import else None, replay_of)
        request = GenerateRequest(params, str(self.settings.output_dir),
                                  init_latents=str(init_latents) if init_latents else None, history=target,
                                  runtime=self.devices.runtime, lora_dirs=tuple(self.settings.lora_dirs),
                                  embedding_dirs=tuple(self.settings.embedding_dirs), slot=slot)
        self.progress_changed.emit(0, 0, -1.0)
        self.run.start(request)
        return True

    def cancel(self) -> None:
        """Stop the run within one step; the half-made image is discarded."""
        self.chain.stop()  # a cancel also stops the passes or replay steps still to come
        if self.run.cancel():
            self.status_changed.emit("Cancelling…")
        self.depth.cancel_estimate()  # Esc stops a depth model's download too

    # --- worker signals ----------------------------------------------------------------------------------
    def _on_worker_status(self, message: str) -> None:
        self.status_changed.emit(message)

    def _on_worker_model_ready(self, info: ModelInfo) -> None:
        # A model of another family gets that family's defaults (guidance, strength, steps, its own settings);
        # another model of the same family keeps what the artist set, across restarts too.
        previous = profile_of_info(self._model_info) if self._model_info else self.settings.params_profile
        self._model_info = info
        profile = profile_of_info(info)
        if profile != previous:
            spec = spec_for(profile)
            self.update_params(**spec.slider_defaults)
            settings = [f"{spec.guidance_label.lower()} {spec.guidance_scale:g}" if spec.uses_guidance else "",
                        f"strength {spec.strength:g}" if spec.uses_strength else "", f"{spec.steps} steps"]
            self.status_changed.emit(f"{spec.label}: its defaults are set ({', '.join(s for s in settings if s)}).")
        self.settings.params_profile = profile
        self.model_info_changed.emit(info)
        self._emit_planned_size()

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

    def _on_devices_runtime_changed(self, runtime) -> None:
        # Applied now when nothing runs (a new precision reloads the model); else the next run carries it.
        if self.phase is Phase.IDLE and self._params.model:
            self._submit_load()

    def _on_worker_job_done(self, job_id: int) -> None:
        # Whatever ended the run (failure, cancel; success is handled above), the session is free again.
        # A failed preload (another job id) leaves a queued run alone.
        reason = self.run.failure_of(job_id)
        ended = self.run.end(job_id)
        if ended is not None:
            _request, cancelled, failure = ended
            self.chain.stop()
            self.jobs.run_ended(None, cancelled=cancelled, failure=failure, reason=reason, request_id=job_id)

    # --- several devices (Settings ▸ Devices at once; device_pool.py) -------------------------------------------------
    def _route(self, request):
        """Where a request goes: the device pool for generations and loads while it is on, else the worker."""
        return self.pool.ensure_host() if self.pool.takes(request) else self._host

    def _watch_pool(self, host) -> None:
        """The pool's host started: its signals name the job, so each reaches the run it belongs to. The window's
        own engine lets go of its model, which would otherwise sit beside the first device's copy on its card."""
        self._host.submit(UnloadModelRequest(": the devices load their own copies"))
        host.status.connect(self._on_worker_status)
        host.model_ready.connect(self._on_worker_model_ready)
        self._slot_tracker.watch(host)
        host.progress.connect(self._on_pool_progress)
        host.preview.connect(self._on_pool_preview)
        host.finished.connect(self._on_pool_finished)
        host.failed.connect(self._on_worker_failed)
        host.cancelled.connect(self._on_worker_job_done)
        host.job_done.connect(self._on_worker_job_done)

    def _on_pool_handed_back(self, requests) -> None:
        """One device after all (one GPU, or none for "every GPU"): the window's own engine runs these, as always."""
        for request in requests:
            self._host.submit(request)

    def focus_run(self, job_id: int | None) -> None:
        """Follow run ``job_id`` on the canvas and the progress bar (None: the latest started)."""
        self.run.focus_on(job_id)

    def _on_pool_progress(self, job_id: int, step: int, total: int, eta: float) -> None:
        if job_id == self.run.focus_id:
            self.progress_changed.emit(step, total, eta)

    def _on_pool_preview(self, job_id: int, image, step: int, total: int) -> None:
        if job_id == self.run.focus_id and self.phase is Phase.RUNNING:
            self.preview_changed.emit(image)

    def _on_pool_finished(self, job_id: int, device: str, result: GenerationResult) -> None:
        self._finish(result, self.run.get(job_id))  # saved on a device of the pool: into the history like any

    def _refuse_while_busy(self) -> bool:
        """True (and says why) when a run is in progress, so another cannot start."""
        if self.phase is Phase.IDLE:
            return False
        self.status_changed.emit("A run is in progress: wait for it or cancel it first.")
        return True

    def _emit_planned_size(self) -> None:
        self.planned_size_changed.emit(*self.planned_size())


def profile_of_info(info: ModelInfo | None) -> str:
    """The families.FAMILIES key of a loaded model ("sd" before any loads; the family for older records)."""
    if info is None:
        return "sd"
    return info.profile or info.family
