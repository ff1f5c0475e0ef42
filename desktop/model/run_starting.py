"""RunStarting: the session's part that starts runs (Generate, the queue's jobs, replays, upscales) and stops them.

A mixin of SessionModel (session.py), which owns the state and the signals. Every run, whoever asks for it,
is built here from the current parameters and init image into one request, with the history place its
result belongs to; a picture from outside becomes a root of the history at its first run (``_pending_import``).
"""

from __future__ import annotations

import logging

from desktop.core.errors import RestyleError
from desktop.core.history import Node, timestamp
from desktop.core.params import GenerationParams
from desktop.worker import GenerateRequest, HistoryTarget

from .run_state import Phase

log = logging.getLogger(__name__)


class RunStarting:
    """Generate, the queue's and the chain's runs, replays, upscales, and Cancel."""

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

    def retry_lighter(self) -> bool:
        """After running out of memory: turn on the offered lighter setting (persisted) and run again."""
        return not self._refuse_while_busy() and self.memory.retry()

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
                                      negative_prompt=p.negative_prompt, seed=p.seed,
                                      device=self.devices.runtime.device, **options)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        self.chain.stop()
        self.progress_changed.emit(0, 0, -1.0)
        self.run.start(request)
        return True

    def cancel(self) -> None:
        """Stop the run within one step; the half-made image is discarded."""
        self.chain.stop()  # a cancel also stops the passes or replay steps still to come
        if self.run.cancel():
            self.status_changed.emit("Cancelling…")
        self.depth.cancel_estimate()  # Esc stops a depth model's download too

    # --- used by the queue (queue_runner.py) and the chain (run_chain.py) -----------------------------------------
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

    def _refuse_while_busy(self) -> bool:
        """True (and says why) when a run is in progress, so another cannot start."""
        if self.phase is Phase.IDLE:
            return False
        self.status_changed.emit("A run is in progress: wait for it or cancel it first.")
        return True
