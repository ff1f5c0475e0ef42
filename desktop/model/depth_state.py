"""DepthState: the depth map that steers the next run through a ControlNet, and its controls.

QtCore only, owned by SessionModel. A map comes from a file the user brought or from an estimate the worker
made of the init image; an estimate goes stale when the init image changes. The depth map files are never
edited: an inverted map is a new file in the data folder's inputs/.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import RestyleError
from desktop.core.params import GenerationParams
from desktop.worker import EstimateDepthRequest
from desktop.worker.inference import NO_IMAGE_FOR_DEPTH

CONTROL_FIELDS = ("controlnet", "control_scale", "control_start", "control_end")


class DepthState(QObject):
    """The depth map (file, estimated?, stale?, inverted?), whether it is used, and the ControlNet settings."""

    changed = Signal()  # the map, its flags or the controls changed
    # No bool argument: PySide6 6.12 on Python 3.11 drops a reference to True/False on every emit of a Python
    # bool, and after enough emits the interpreter aborts ("bool_dealloc"). Observers read ``estimating``.
    estimating_changed = Signal()
    error_raised = Signal(str, str)  # ErrorKind value, message
    status_changed = Signal(str)

    def __init__(self, settings, worker_host):
        super().__init__()
        self._settings = settings
        self._host = worker_host
        self._init = None  # the session's InitImage, pushed by init_image_changed (no back reference, no cycle)
        self._original: Path | None = None  # the file loaded or estimated
        self._path: Path | None = None  # the file a run uses: the original or its inverted copy
        self.estimated = False
        self.stale = False
        self.inverted = False
        self.enabled = False
        self.depth_model = settings.depth_model
        self.controlnet = settings.controlnet
        saved = settings.depth_controls()  # the panel as it was left, map included when the file is still there
        self.control_scale, self.control_start, self.control_end = (
            saved["control_scale"], saved["control_start"], saved["control_end"])
        if saved["map"] and Path(saved["map"]).is_file():
            self._original = self._path = Path(saved["map"])
            self.enabled = saved["enabled"]
        self._estimate: tuple[int, Path | None] | None = None  # (job id, the init image it estimates)
        self.changed.connect(self._store)
        worker = worker_host.worker
        worker.depth_ready.connect(self._on_worker_depth_ready)
        worker.job_done.connect(self._on_worker_job_done)

    def _store(self) -> None:
        self._settings.store_depth_controls(enabled=self.enabled, map_path=str(self._path or ""),
                                            scale=self.control_scale, start=self.control_start, end=self.control_end)

    # --- state -------------------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The depth map file the next run uses (inverted copy included), or None."""
        return self._path

    @property
    def has_map(self) -> bool:
        """True when a depth map is loaded."""
        return self._path is not None

    @property
    def estimate_job(self) -> int | None:
        """The job id of the estimate under way, or None."""
        return self._estimate[0] if self._estimate is not None else None

    @property
    def estimating(self) -> bool:
        """True while the worker estimates a depth map."""
        return self._estimate is not None

    def apply(self, params: GenerationParams) -> GenerationParams:
        """``params`` with the depth map and ControlNet settings when depth is on, without them when off."""
        if not (self.enabled and self._path is not None):
            return params.replace(control_image=None)
        return params.replace(control_image=str(self._path), controlnet=self.controlnet.strip(),
                              control_scale=self.control_scale, control_start=self.control_start,
                              control_end=self.control_end)

    # --- actions -----------------------------------------------------------------------------------------
    def load_file(self, path: str | Path) -> bool:
        """Use the depth map at ``path`` (8/16-bit grey or RGB); a bad file is reported, the old map kept."""
        from desktop.core.depth_maps import load_depth_map

        path = Path(path)
        try:
            depth = load_depth_map(path)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        self._set_map(path, estimated=False)
        self.status_changed.emit(f"Depth map {path.name} ({depth.width}×{depth.height}) steers the next run.")
        return True

    def estimate(self, device: str = "auto") -> bool:
        """Ask the worker to estimate a depth map of the init image; the map arrives later."""
        init = self._init
        if init is None:
            self.error_raised.emit("bad_input", NO_IMAGE_FOR_DEPTH)
            return False
        if self.estimating:
            self.status_changed.emit("A depth map is being estimated already.")
            return False
        target = self._inputs_file("depth")
        request = EstimateDepthRequest(str(init.path), str(target), self.depth_model.strip(), device)
        self._estimate = (request.job_id, init.path)
        self.estimating_changed.emit()
        self.status_changed.emit(f"Estimating the depth of {init.path.name}…")
        self._host.submit(request)
        return True

    def cancel_estimate(self) -> bool:
        """Stop the estimate under way: its download at once, else before the map is saved (the old map stays)."""
        if not self.estimating:
            return False
        self._host.cancel_depth()
        self.status_changed.emit("Cancelling the depth estimate…")
        return True

    def invert(self) -> bool:
        """Swap near and far (some tools save far = bright); the original file is left as it is."""
        if self._original is None:
            return False
        if self.inverted:
            self._path, self.inverted = self._original, False
        else:
            from PIL import ImageOps

            from desktop.core.depth_maps import load_depth_map

            try:
                inverted = ImageOps.invert(load_depth_map(self._original))
                target = self._inputs_file("depth-inverted")
                inverted.save(target, format="PNG")
            except RestyleError as exc:
                self.error_raised.emit(exc.kind.value, exc.message)
                return False
            except OSError as exc:
                reason = exc.strerror or exc
                self.error_raised.emit("bad_input", f"The inverted depth map could not be saved: {reason}.")
                return False
            self._path, self.inverted = target, True
        self.changed.emit()
        return True

    def clear(self) -> None:
        """Forget the depth map: runs go back to the plain pipelines."""
        self._original = self._path = None
        self.estimated = self.stale = self.inverted = self.enabled = False
        self.changed.emit()

    def set_enabled(self, flag: bool) -> None:
        """Use the depth map for the next runs, or not (it stays loaded)."""
        flag = bool(flag) and self._path is not None
        if flag != self.enabled:
            self.enabled = flag
            self.changed.emit()

    def update(self, **changes) -> None:
        """Change depth_model, controlnet, control_scale, control_start or control_end."""
        for name, value in changes.items():
            if name not in (*CONTROL_FIELDS, "depth_model"):
                raise TypeError(f"unknown depth setting {name}")
            setattr(self, name, value)
        if "depth_model" in changes:
            self._settings.depth_model = self.depth_model.strip()
        if "controlnet" in changes:
            self._settings.controlnet = self.controlnet.strip()
        self.changed.emit()

    def init_image_changed(self, init) -> None:
        """The init image changed: an estimated map no longer shows it (a map the user brought is kept as is)."""
        self._init = init
        if self.estimated and not self.stale:
            self.stale = True
            self.changed.emit()

    # --- worker signals ----------------------------------------------------------------------------------
    def _on_worker_depth_ready(self, job_id: int, path: str) -> None:
        if self._estimate is None or self._estimate[0] != job_id:
            return
        source = self._estimate[1]
        self._set_map(Path(path), estimated=True)
        init = self._init
        # The image may have changed while the worker was busy: then this estimate shows the old one.
        self.stale = init is None or init.path != source
        if self.stale:
            self.changed.emit()

    def _on_worker_job_done(self, job_id: int) -> None:
        if self._estimate is not None and self._estimate[0] == job_id:
            self._estimate = None
            self.estimating_changed.emit()

    # --- helpers -----------------------------------------------------------------------------------------
    def _set_map(self, path: Path, *, estimated: bool) -> None:
        self._original = self._path = path
        self.estimated, self.stale, self.inverted = estimated, False, False
        self.enabled = True  # bringing a map means wanting it used; the checkbox turns it off
        self.changed.emit()

    def _inputs_file(self, prefix: str) -> Path:
        # Kept in the data folder (like pasted images) so the run can be replayed later from the same file.
        folder = Path(self._settings.data_dir) / "inputs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{prefix}-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}.png"


def replay_depth(params: GenerationParams, source_node, workspace) -> GenerationParams:
    """The depth settings for re-making ``source_node``: the workspace's copy of its depth map, which outlives
    the original file, and the family default ControlNet when the replay uses another model."""
    if not params.uses_depth:
        return params
    copy = workspace.depth_path(source_node) if source_node.depth else None
    if copy is not None and copy.is_file():
        params = params.replace(control_image=str(copy))
    if params.model != source_node.params.get("model"):
        params = params.replace(controlnet="")
    return params
