"""Settings: one typed wrapper over QSettings, passed in where needed, never a global."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop.core import paths
from desktop.core.families import FAMILY_FIELDS
from desktop.core.params import GenerationParams
from desktop.core.ranges import RANGES
from desktop.core.runtime import RuntimeSettings
from desktop.core.samplers import sampler_fields
from desktop.core.schemas import load_json
from desktop.core.style_files import default_style_dirs

MAX_RECENT_MODELS = 10
MAX_DEVICE_WORKERS = 8  # the most Settings ▸ Devices at once offers (a workstation's cards)
DEFAULT_LATENT_BUDGET = 2 * 1024**3
# The family-specific GenerationParams fields and their types; None (stored as "") = the family's default.
_FAMILY_FIELDS = {name: int if RANGES[name].whole else float for name in FAMILY_FIELDS}


def _optional(raw, kind):
    if raw in ("", None):
        return None
    if kind is int and str(raw).strip().isdigit():
        return int(str(raw).strip())  # exact: a 64-bit seed would lose its last digits through float
    return kind(float(raw)) if kind is int else kind(raw)


class Settings:
    """Restyle's persisted choices, stored as an INI file in the data folder."""

    def __init__(self, data_dir: Path, *, default_output_dir: Path | None = None):
        self.data_dir = data_dir
        self._qs = QSettings(str(data_dir / "settings.ini"), QSettings.Format.IniFormat)
        # The app passes core.paths' rule for its data folder; a bare Settings(folder) keeps outputs inside it.
        self._default_output_dir = default_output_dir or paths.default_output_dir(data_dir)
        self.notice: str | None = None  # why nothing can be kept this session, for a banner at start
        if not paths.is_writable(data_dir):
            self.notice = (f"The data folder {data_dir} is read-only: Restyle works, but nothing can be saved there "
                           "this session (history, queue, settings). Make it writable, or start Restyle with "
                           "--data-dir on a writable folder.")

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._qs.sync()

    # --- model -------------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model last chosen ('' when none)."""
        return str(self._qs.value("model/current", "") or "")

    @model.setter
    def model(self, value: str) -> None:
        self._qs.setValue("model/current", value)
        recent = [value, *[m for m in self.recent_models if m != value]] if value else self.recent_models
        self._qs.setValue("model/recent", recent[:MAX_RECENT_MODELS])

    @property
    def recent_models(self) -> list[str]:
        """Models used before, newest first."""
        value = self._qs.value("model/recent", [])
        if isinstance(value, str):  # QSettings gives a str for a one-element list in INI files
            value = [value]
        return [str(v) for v in value or [] if v]

    # --- model library -----------------------------------------------------------------------------------
    def _list(self, key: str) -> list[str]:
        value = self._qs.value(key, [])
        if isinstance(value, str):  # QSettings gives a str for a one-element list in INI files
            value = [value]
        return [str(v) for v in value or [] if v]

    @property
    def library_paths(self) -> list[str]:
        """Folders and checkpoint files the user added to the model library."""
        return self._list("library/paths")

    @library_paths.setter
    def library_paths(self, value: list[str]) -> None:
        self._qs.setValue("library/paths", list(value))

    @property
    def hidden_models(self) -> list[str]:
        """Models removed from the library list whose files were left alone."""
        return self._list("library/hidden")

    @hidden_models.setter
    def hidden_models(self, value: list[str]) -> None:
        self._qs.setValue("library/hidden", list(value))

    @property
    def lora_dirs(self) -> list[str]:
        """Folders LoRAs are found in by name: the ones the user added, then <data folder>/loras."""
        return [*self._list("styles/lora_dirs"), str(default_style_dirs(self.data_dir)[0])]

    def add_lora_dir(self, folder: str) -> None:
        """Look LoRAs up in ``folder`` too (first, before the data folder's)."""
        added = self._list("styles/lora_dirs")
        if folder not in added:
            self._qs.setValue("styles/lora_dirs", [*added, folder])

    @property
    def embedding_dirs(self) -> list[str]:
        """Folders embeddings are found in by name: the ones the user added, then <data folder>/embeddings."""
        return [*self._list("styles/embedding_dirs"), str(default_style_dirs(self.data_dir)[1])]

    def add_embedding_dir(self, folder: str) -> None:
        """Look embeddings up in ``folder`` too."""
        added = self._list("styles/embedding_dirs")
        if folder not in added:
            self._qs.setValue("styles/embedding_dirs", [*added, folder])

    @property
    def allow_pickles(self) -> bool:
        """Open .ckpt/.pt/.bin pickle checkpoints (weights only); off by default, as pickles can carry code."""
        return str(self._qs.value("library/allow_pickles", "false")).lower() == "true"

    @allow_pickles.setter
    def allow_pickles(self, value: bool) -> None:
        self._qs.setValue("library/allow_pickles", "true" if value else "false")

    @property
    def cluster_address(self) -> str:
        """Settings ▸ Run on: "" for this computer, else the Ray cluster's address (never its token)."""
        return str(self._qs.value("devices/cluster", "") or "").strip()

    @cluster_address.setter
    def cluster_address(self, value: str) -> None:
        self._qs.setValue("devices/cluster", value.strip())

    @property
    def device_workers(self) -> int:
        """Settings ▸ Devices at once: 1 the window's one device (the default), 0 every GPU, N up to N workers."""
        try:
            value = int(self._qs.value("devices/workers", 1))
        except (TypeError, ValueError):
            return 1
        return value if 0 <= value <= MAX_DEVICE_WORKERS else 1

    @device_workers.setter
    def device_workers(self, value: int) -> None:
        self._qs.setValue("devices/workers", int(value))

    # --- output ------------------------------------------------------------------------------------------
    @property
    def output_dir(self) -> Path:
        """Where results are saved: the user's choice, else core.paths.default_output_dir (as the CLI's)."""
        stored = self._qs.value("output/dir", "")
        return Path(str(stored)) if stored else self._default_output_dir

    @output_dir.setter
    def output_dir(self, value: Path) -> None:
        self._qs.setValue("output/dir", str(value))

    # --- the last parameters, so a restart continues where the artist stopped ----------------------------
    def last_params(self, model: str) -> GenerationParams:
        """The parameters of the previous session (prompt, sliders), for ``model``."""
        params = GenerationParams(model=model)
        get = self._qs.value
        try:
            loaded = params.replace(
                prompt=str(get("params/prompt", params.prompt)),
                negative_prompt=str(get("params/negative", params.negative_prompt)),
                strength=float(get("params/strength", params.strength)),
                guidance_scale=float(get("params/guidance", params.guidance_scale)),
                steps=int(get("params/steps", params.steps)),
                seed=_optional(get("params/seed", ""), int),
                **{name: _optional(get(f"params/{name}", ""), kind) for name, kind in _FAMILY_FIELDS.items()},
                **sampler_fields({"Sampler": str(get("params/sampler", "") or ""),
                                  "Schedule type": str(get("params/schedule", "") or "")}),
                loras=tuple((str(n), float(w)) for n, w in load_json(str(get("params/loras", "[]") or "[]"))),
            )
        except (TypeError, ValueError, OverflowError):  # a hand-edited file must not stop the app from opening
            return params
        # A hand-edited value outside its range (1e9, nan) would not fit its slider: the default instead.
        outside = {name: getattr(params, name) for name, allowed in RANGES.items()
                   if isinstance(getattr(loaded, name, None), (int, float))
                   and not allowed.contains(getattr(loaded, name))}
        return loaded.replace(**outside)

    def store_params(self, params: GenerationParams) -> None:
        """Remember prompt, sliders and seed ("" = random); the picture is the working source, kept apart."""
        # As text: QSettings stores numbers as signed 64-bit, and a ComfyUI or Fooocus seed can be larger.
        self._qs.setValue("params/seed", "" if params.seed is None else str(params.seed))
        self._qs.setValue("params/prompt", params.prompt)
        self._qs.setValue("params/negative", params.negative_prompt)
        self._qs.setValue("params/strength", params.strength)
        self._qs.setValue("params/guidance", params.guidance_scale)
        self._qs.setValue("params/steps", params.steps)
        self._qs.setValue("params/sampler", params.sampler)
        self._qs.setValue("params/schedule", params.schedule)
        self._qs.setValue("params/loras", json.dumps([list(item) for item in params.loras]))
        for name in _FAMILY_FIELDS:  # "" = the family's default
            value = getattr(params, name)
            self._qs.setValue(f"params/{name}", "" if value is None else value)

    @property
    def params_profile(self) -> str:
        """The model family the stored parameters were last set for (families.FAMILIES key; "sd" at first)."""
        return str(self._qs.value("params/profile", "sd") or "sd")

    @params_profile.setter
    def params_profile(self, value: str) -> None:
        self._qs.setValue("params/profile", value)

    # --- depth control: the model names, tedious to type again; the map itself is per session ----------
    @property
    def depth_model(self) -> str:
        """The transformers depth model for Estimate depth ('' = Depth Anything V2 Small)."""
        return str(self._qs.value("depth/model", "") or "")

    @depth_model.setter
    def depth_model(self, value: str) -> None:
        self._qs.setValue("depth/model", value)

    @property
    def controlnet(self) -> str:
        """The depth ControlNet ('' = the model family's default)."""
        return str(self._qs.value("depth/controlnet", "") or "")

    @controlnet.setter
    def controlnet(self, value: str) -> None:
        self._qs.setValue("depth/controlnet", value)

    # --- history ---------------------------------------------------------------------------------------
    @property
    def workspace_dir(self) -> Path:
        """The workspace opened at start: the last one used, else workspaces/default in the data folder."""
        stored = self._qs.value("history/workspace", "")
        if not stored or not isinstance(stored, str) or not Path(stored).is_absolute():
            # Restyle stores absolute paths; anything else (a hand edit) would land in whatever folder the app
            # was started from.
            return self.data_dir / "workspaces" / "default"
        return Path(stored)

    @workspace_dir.setter
    def workspace_dir(self, value: Path) -> None:
        self._qs.setValue("history/workspace", str(value))

    @property
    def selected_node(self) -> str:
        """The node selected when the app last closed."""
        return str(self._qs.value("history/selected", "") or "")

    @selected_node.setter
    def selected_node(self, value: str) -> None:
        self._qs.setValue("history/selected", value)

    @property
    def latent_budget_bytes(self) -> int:
        """How much disk the latent cache may use (evicting only loses the latent shortcut)."""
        try:
            return int(self._qs.value("history/latent_budget", DEFAULT_LATENT_BUDGET))
        except (TypeError, ValueError):
            return DEFAULT_LATENT_BUDGET

    @latent_budget_bytes.setter
    def latent_budget_bytes(self, value: int) -> None:
        self._qs.setValue("history/latent_budget", int(value))

    # --- devices and memory ----------------------------------------------------------------------------
    @property
    def runtime(self) -> RuntimeSettings:
        """Device, precision and memory savings (the settings dialog); defaults for values not understood."""
        default = RuntimeSettings()
        values = {}
        for name, fallback in default.to_dict().items():
            stored = self._qs.value(f"runtime/{name}", fallback)
            if isinstance(fallback, bool):
                stored = str(stored).strip().lower() in ("true", "1", "yes", "on")
            elif isinstance(fallback, int):
                stored = int(stored)  # INI files give strings back
            values[name] = stored
        try:
            return RuntimeSettings.from_dict(values).validate()
        except Exception:  # noqa: BLE001 - a hand-edited file must not stop the app from opening
            return default

    @runtime.setter
    def runtime(self, value: RuntimeSettings) -> None:
        for name, stored in value.to_dict().items():
            self._qs.setValue(f"runtime/{name}", stored)

    # --- upscale ------------------------------------------------------------------------------------------
    def upscaler(self, kind: str) -> str:
        """The upscaler model for "x2" or "x4" ('' = the default Hub id)."""
        return str(self._qs.value(f"upscale/model_{kind}", "") or "")

    def set_upscaler(self, kind: str, value: str) -> None:
        """Choose the upscaler model for "x2" or "x4" ('' = the default Hub id)."""
        self._qs.setValue(f"upscale/model_{kind}", value.strip())

    @property
    def upscale_vae_tiling(self) -> bool:
        """Decode upscales in tiles (much larger outputs fit in memory)."""
        return str(self._qs.value("upscale/vae_tiling", "false")).lower() in ("true", "1")

    @upscale_vae_tiling.setter
    def upscale_vae_tiling(self, value: bool) -> None:
        self._qs.setValue("upscale/vae_tiling", bool(value))

    @property
    def upscale_noise_level(self) -> int:
        """The ×4 super-resolution's noise level last used."""
        try:
            return int(self._qs.value("upscale/noise_level", 20))
        except (TypeError, ValueError):
            return 20

    @upscale_noise_level.setter
    def upscale_noise_level(self, value: int) -> None:
        self._qs.setValue("upscale/noise_level", int(value))

    # --- the workbench as it was left: the working picture, panel values, sections, theme ---------------
    @property
    def working_source(self) -> str:
        """What the next run starts from: "node:<id>", "file:<path>", "text", or "" (never set)."""
        return str(self._qs.value("canvas/source", "") or "")

    @working_source.setter
    def working_source(self, value: str) -> None:
        self._qs.setValue("canvas/source", value)

    @property
    def auto_continue(self) -> tuple[bool, int, float | None]:
        """Auto-continue (loopback): on?, passes, end strength (None: the slider's)."""
        try:
            on, passes, end = str(self._qs.value("history/auto_continue", "0,4,")).split(",")
            return on == "1", max(1, int(passes)), float(end) if end else None
        except ValueError:
            return False, 4, None

    @auto_continue.setter
    def auto_continue(self, value: tuple[bool, int, float | None]) -> None:
        on, passes, end = value
        self._qs.setValue("history/auto_continue", f"{int(bool(on))},{int(passes)},{'' if end is None else end}")

    def depth_controls(self) -> dict:
        """The depth panel's values as last left: enabled, map, control_scale, control_start, control_end."""
        get = self._qs.value
        try:
            return {"enabled": str(get("depth/enabled", "false")).lower() == "true",
                    "map": str(get("depth/map", "") or ""), "control_scale": float(get("depth/scale", 0.8)),
                    "control_start": float(get("depth/start", 0.0)), "control_end": float(get("depth/end", 1.0))}
        except (TypeError, ValueError):
            return {"enabled": False, "map": "", "control_scale": 0.8, "control_start": 0.0, "control_end": 1.0}

    def store_depth_controls(self, *, enabled: bool, map_path: str, scale: float, start: float, end: float) -> None:
        """Remember the depth panel's values."""
        for key, value in (("enabled", "true" if enabled else "false"), ("map", map_path), ("scale", scale),
                           ("start", start), ("end", end)):
            self._qs.setValue(f"depth/{key}", value)

    def section_expanded(self, key: str, default: bool) -> bool:
        """Whether the side column's section ``key`` was left unfolded."""
        return str(self._qs.value(f"sections/{key}", "true" if default else "false")).lower() == "true"

    def set_section_expanded(self, key: str, expanded: bool) -> None:
        """Remember a section folded or unfolded."""
        self._qs.setValue(f"sections/{key}", "true" if expanded else "false")

    @property
    def theme(self) -> str:
        """"system" (follow the desktop's light or dark scheme), "light" or "dark"."""
        value = str(self._qs.value("ui/theme", "system") or "system")
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self._qs.setValue("ui/theme", value)

    # --- window ------------------------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved geometry and dock/toolbar state (None for anything a hand edit left that is not Qt's bytes)."""
        values = self._qs.value("window/geometry"), self._qs.value("window/state")
        return tuple(v if isinstance(v, QByteArray) else None for v in values)

    def store_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window's geometry and state."""
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
