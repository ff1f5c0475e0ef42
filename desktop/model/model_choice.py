"""ModelChoice: the session's part that chooses models and takes in what a loaded one reports.

A mixin of SessionModel (session.py), which owns the state it reads and writes (``_params``, ``_model_info``,
``settings``, ``devices``, ``depth``, ``run``, ``_slot_tracker``, ``_host``, ``pool``) and the signals it emits.
Kept apart because choosing a model touches several slots (main, LoRA, ControlNet, depth, upscalers) and a
model of another family resets the sliders to that family's defaults: rules of their own, not session wiring.
"""

from __future__ import annotations

from pathlib import Path

from desktop.core.families import spec_for
from desktop.core.params import ModelInfo
from desktop.worker import EngineOptionsRequest, LoadModelRequest

from .run_state import Phase

DEFAULT_NATURAL_SIZE = 512  # SD 1.5's, shown until the real model reports its own


def profile_of_info(info: ModelInfo | None) -> str:
    """The families.FAMILIES key of a loaded model ("sd" before any loads; the family for older records)."""
    if info is None:
        return "sd"
    return info.profile or info.family


class ModelChoice:
    """The chosen models, the loaded model's facts, and the family defaults a new family brings."""

    @property
    def model_info(self) -> ModelInfo | None:
        """The loaded model's facts, once the worker reports them."""
        return self._model_info

    @property
    def family(self):
        """The loaded model's FamilySpec (its defaults and the controls it accepts); SD's until one loads."""
        return spec_for(profile_of_info(self._model_info))

    @property
    def natural_size(self) -> int:
        """The side the loaded model was trained at, which sizes every run (SD 1.5's until one reports)."""
        return self._model_info.natural_size if self._model_info else DEFAULT_NATURAL_SIZE

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

    def _on_devices_runtime_changed(self, runtime) -> None:
        # Applied now when nothing runs (a new precision reloads the model); else the next run carries it.
        if self.phase is Phase.IDLE and self._params.model:
            self._submit_load()
