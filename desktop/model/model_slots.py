"""ModelSlots: what each model the app uses is doing, each in its own slot, so one failing does not make
another look broken.

QtCore only. Before, a missing depth model, ControlNet or upscaler wrote its error over the main model's status
line, which kept saying so while the main model worked. Here each slot (the main model, the ControlNet, the
depth estimator, the upscalers) has its own state and sentence, set from the request that succeeded or failed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

SLOTS = {"main": "Model", "controlnet": "ControlNet", "depth": "Depth model", "upscaler": "Upscaler"}


class ModelSlots(QObject):
    """The state ("idle", "loading", "ready", "failed") and sentence of each model slot."""

    changed = Signal(str)  # the slot's name

    def __init__(self):
        super().__init__()
        self._states: dict[str, tuple[str, str]] = dict.fromkeys(SLOTS, ("idle", ""))

    def state(self, slot: str) -> str:
        """'idle', 'loading', 'ready' or 'failed'."""
        return self._states[slot][0]

    def text(self, slot: str) -> str:
        """The slot's sentence ('' while idle)."""
        return self._states[slot][1]

    def set(self, slot: str, state: str, text: str) -> None:
        """Record what the slot is doing now."""
        if self._states[slot] != (state, text):
            self._states[slot] = (state, text)
            self.changed.emit(slot)

    def summary(self) -> str:
        """The slots other than the main model that are in use, one line each ("ControlNet: failed: …")."""
        return "\n".join(f"{SLOTS[slot]}: {text}" for slot, (state, text) in self._states.items()
                         if slot != "main" and state != "idle")


class SlotTracker(QObject):
    """Sets the slots from the worker's signals: which request failed or succeeded says whose state it is."""

    def __init__(self, slots: ModelSlots, worker, run_state, depth, model_info):
        super().__init__()
        self._slots, self._run, self._depth, self._model_info = slots, run_state, depth, model_info
        self._loads: dict[int, str] = {}  # job id of a model load -> the model's name
        worker.model_ready.connect(self._on_worker_model_ready)
        worker.failed.connect(self._on_worker_failed)
        worker.finished.connect(self._on_worker_finished)
        worker.depth_ready.connect(lambda _job, _path: slots.set("depth", "ready", "ready"))

    def watch(self, pool_host) -> None:
        """Follow the loads and failures of the window's device pool as well (Settings ▸ Devices at once)."""
        pool_host.model_ready.connect(self._on_worker_model_ready)
        pool_host.failed.connect(self._on_worker_failed)

    def loading(self, job_id: int, name: str) -> None:
        """A load of the main model was sent to the worker."""
        self._loads[job_id] = name
        self._slots.set("main", "loading", f"Loading {name}…")

    def _on_worker_model_ready(self, info) -> None:
        self._loads.clear()
        self._slots.set("main", "ready", f"{info.display_name} is ready.")

    def _on_worker_finished(self, result) -> None:
        from desktop.worker import UpscaleRequest

        request = self._run.request
        if isinstance(request, UpscaleRequest):
            self._slots.set("upscaler", "ready", f"{result.model.display_name} is ready.")
        elif getattr(result.params, "uses_depth", False):
            name = result.params.controlnet.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
            self._slots.set("controlnet", "ready", f"{name} is ready.")

    def _on_worker_failed(self, job_id: int, kind: str, message: str) -> None:
        slot = self._slot_of(job_id, kind)
        if slot is not None:
            self._slots.set(slot, "failed", message)

    def _slot_of(self, job_id: int, kind: str) -> str | None:
        """Whose failure it was: a load is the main model's, an estimate the depth model's, an upscale the
        upscaler's; a generation's missing model is the ControlNet's once the main model has loaded."""
        from desktop.worker import GenerateRequest, UpscaleRequest

        if job_id in self._loads:
            self._loads.pop(job_id)
            return "main"
        if self._depth.estimate_job == job_id:
            return "depth"
        request = self._run.get(job_id)
        if isinstance(request, UpscaleRequest):
            return "upscaler"
        if isinstance(request, GenerateRequest) and kind in ("model_missing", "out_of_memory"):
            info = self._model_info()
            if request.params.uses_depth and info is not None and info.name == request.params.model:
                return "controlnet"
            return "main"
        return None
