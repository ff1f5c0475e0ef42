"""Everything one generation needs, as plain frozen dataclasses that round-trip through dicts."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Any

from .errors import bad_input
from .ranges import RANDOM_SEED_BOUND, RANGES
from .runtime import DEVICES
from .samplers import SAMPLERS, SCHEDULES, sampler_spec


@dataclass(frozen=True)
class GenerationParams:
    """The user's request: what the prompt panel and sliders say, or the CLI's flags."""

    model: str
    prompt: str = ""
    negative_prompt: str = ""
    init_image: str | None = None  # a file path; None means text-to-image
    strength: float = 0.75
    guidance_scale: float = 7.5
    steps: int = 30
    seed: int | None = None  # None: pick a random seed and record it
    width: int | None = None  # None: fitted from the init image and the model's natural resolution
    height: int | None = None
    device: str = "auto"
    # Depth ControlNet: used only when control_image (a depth map file) is set.
    control_image: str | None = None
    controlnet: str = ""  # "" = the model family's default depth ControlNet; filled in with the one used
    control_scale: float = 0.8
    control_start: float = 0.0
    control_end: float = 1.0
    # Family-specific settings (see families.py); None = the loaded family's default, and the engine fills in
    # the value used, so a result records it. A family that does not take one leaves it None.
    aesthetic_score: float | None = None  # SDXL refiner
    negative_aesthetic_score: float | None = None  # SDXL refiner
    denoising_start: float | None = None  # SDXL refiner: start at this fraction of the schedule (overrides strength)
    prior_guidance_scale: float | None = None  # Kandinsky 2.2 prior
    prior_steps: int | None = None  # Kandinsky 2.2 prior
    # The sampler by its AUTOMATIC1111 name ("DPM++ 2M"; "" = the model's own scheduler) and the schedule type
    # (samplers.SCHEDULES key: automatic, karras, exponential, sgm_uniform); see core/samplers.py. The engine
    # fills in the names really used, so a result records them.
    sampler: str = ""
    schedule: str = "automatic"
    # FLUX: real classifier-free guidance with the negative prompt (a second pass per step); 1 = off.
    true_cfg_scale: float | None = None
    # Masked restyle and outpainting (see masks.py, masked_run.py): used when mask_image or outpaint is set.
    mask_image: str | None = None  # a grey picture file: white = restyle, black = keep
    mask_blur: int = 4  # the feathered edge, in pixels (AUTOMATIC1111's default)
    inpaint_area: str = "whole"  # "whole" picture, or only the "masked" part at the model's full size
    inpaint_padding: int = 32  # "masked": pixels of context around the masked part
    inpaint_fill: str = "original"  # what the masked part starts from: "original", "fill" or "noise"
    outpaint: tuple[int, int, int, int] | None = None  # grow the picture by (left, top, right, bottom) pixels
    # LoRAs from the LoRA panel or --lora as (name or path, weight); ``<lora:name:w>`` tags in the prompt add to
    # them (the prompt's weight wins for a name in both). Names are looked up in the LoRA folders.
    loras: tuple[tuple[str, float], ...] = ()
    embeddings: tuple[str, ...] = ()  # embedding files named explicitly (--embedding); folders are searched too
    # Reference images steering the style through an IP-Adapter ("" = the family's default adapter and encoder).
    references: tuple[str, ...] = ()
    reference_scale: float = 0.6
    reference_style_only: bool = False  # InstantStyle: only the style block hears the references
    ip_adapter: str = ""
    image_encoder: str = ""

    def __post_init__(self) -> None:
        if self.outpaint is not None and not isinstance(self.outpaint, tuple):
            # JSON brings a list back; a tuple keeps equal parameters equal.
            object.__setattr__(self, "outpaint", tuple(self.outpaint))
        # The same for the style lists: tuples of tuples, whatever a JSON round trip made of them.
        if not isinstance(self.loras, tuple) or any(not isinstance(item, tuple) for item in self.loras):
            object.__setattr__(self, "loras", tuple((str(n), float(w)) for n, w in self.loras))
        for name in ("embeddings", "references"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        """Build from a dict, ignoring keys this version does not know (newer files stay readable)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> GenerationParams:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def is_img2img(self) -> bool:
        """True when an init image is set."""
        return self.init_image is not None

    @property
    def uses_depth(self) -> bool:
        """True when a depth map steers the run through a ControlNet."""
        return self.control_image is not None

    @property
    def uses_mask(self) -> bool:
        """True when only part of the picture is restyled: a mask, or outpainting (which masks the new area)."""
        return self.mask_image is not None or self.outpaint is not None

    def require_a_start(self) -> GenerationParams:
        """Refuse a run with neither a prompt nor an init image: there is nothing to generate from."""
        if not self.prompt.strip() and self.init_image is None:
            raise bad_input("Write a prompt, or drop an image to restyle: there is nothing to start from.")
        return self

    def validate(self) -> GenerationParams:
        """Raise a bad-input RestyleError with an actionable sentence for the first invalid value."""
        if not self.model.strip():
            raise bad_input(
                "Choose a model first: a Hugging Face id such as stable-diffusion-v1-5/stable-diffusion-v1-5 "
                "or a local diffusers folder."
            )
        for name in ("strength", "guidance_scale", "steps"):
            RANGES[name].check(getattr(self, name))
        if self.seed is not None:
            RANGES["seed"].check(self.seed)
        if (self.width is None) != (self.height is None):
            raise bad_input("Give both a width and a height, or neither to fit the size automatically.")
        for name in ("width", "height"):
            if getattr(self, name) is not None:
                RANGES[name].check(getattr(self, name))
        if self.device not in DEVICES:
            raise bad_input(f"Device must be one of {', '.join(DEVICES)} (got {self.device!r}).")
        # The same sentences as controlnet_call_kwargs, checked here so a bad value never waits for a model load.
        RANGES["control_scale"].check(self.control_scale)
        if not 0.0 <= self.control_start < self.control_end <= 1.0:
            raise bad_input(
                "Depth control must start before it ends, both between 0 and 1 "
                f"(got start {self.control_start:g}, end {self.control_end:g})."
            )
        self._validate_family_fields()
        self._validate_sampler()
        self._validate_mask_fields()
        self._validate_styles()
        return self

    def _validate_styles(self) -> None:
        for name, weight in self.loras:
            if not str(name).strip():
                raise bad_input("A LoRA has no name: choose its file or remove it.")
            RANGES["lora_weight"].check(weight)
        RANGES["reference_scale"].check(self.reference_scale)

    def _validate_sampler(self) -> None:
        if self.sampler and sampler_spec(self.sampler) is None:
            raise bad_input(f"{self.sampler!r} is not a sampler Restyle knows; choose one of: {', '.join(SAMPLERS)}.")
        if self.schedule not in SCHEDULES:
            raise bad_input(f"{self.schedule!r} is not a schedule type; choose one of: {', '.join(SCHEDULES)}.")

    def _validate_mask_fields(self) -> None:
        from .masks import INPAINT_AREAS, INPAINT_FILLS, check_outpaint

        RANGES["mask_blur"].check(self.mask_blur)
        RANGES["inpaint_padding"].check(self.inpaint_padding)
        if self.inpaint_area not in INPAINT_AREAS:
            raise bad_input(f"Inpaint area must be whole or masked (got {self.inpaint_area!r}).")
        if self.inpaint_fill not in INPAINT_FILLS:
            raise bad_input(f"Inpainting fill must be one of {', '.join(INPAINT_FILLS)} (got {self.inpaint_fill!r}).")
        if self.outpaint is not None:
            check_outpaint(self.outpaint)

    def _validate_family_fields(self) -> None:
        for name in ("aesthetic_score", "negative_aesthetic_score", "denoising_start", "prior_guidance_scale",
                     "prior_steps", "true_cfg_scale"):
            if getattr(self, name) is not None:
                RANGES[name].check(getattr(self, name))


def random_seed() -> int:
    """A fresh seed in the range every tool that reads A1111 metadata accepts."""
    return random.SystemRandom().randrange(RANDOM_SEED_BOUND)  # os.urandom, as secrets.randbelow


def effective_steps(steps: int, strength: float) -> int:
    """The num_inference_steps to pass so img2img runs at least one step.

    diffusers runs int(steps * strength) steps and nothing guards zero (diffusers #1867, #11092); raising
    the step count keeps the strength the artist chose, which is what decides how much of the image changes.
    """
    if strength <= 0:
        raise bad_input("Strength must be above 0.")
    needed = steps
    while int(needed * strength) < 1:
        needed = max(needed + 1, math.ceil(1 / strength))
    return needed


@dataclass(frozen=True)
class ModelInfo:
    """What the UI needs to know about the loaded model."""

    name: str  # what the user typed or chose
    display_name: str
    family: str  # "sd", "sdxl", "kandinsky22" or "other"
    natural_size: int  # the side of the square the model was trained at
    pipeline_class: str
    device: str
    dtype: str
    vae_id: str = ""  # fingerprint of the VAE: equal ids mean latents can chain without re-encoding
    # The entry of families.FAMILIES that gives its defaults and controls: sd, sdxl, sdxl-refiner,
    # kandinsky22 or other ("" from older records: read as the family).
    profile: str = ""
    runtime_notes: tuple[str, ...] = ()  # device/memory settings that could not apply here, as sentences
    model_hash: str = ""  # single-file checkpoints: first 10 hex of the file's SHA-256 (A1111's "Model hash")


@dataclass(frozen=True)
class StepInfo:
    """One denoising step finished: its number, the total, a cheap preview and the time left."""

    step: int  # 1-based
    total: int
    preview: Any  # numpy uint8 array (H, W, 3), or None
    elapsed: float
    eta: float | None  # seconds left, None until it can be estimated


@dataclass(frozen=True)
class GenerationResult:
    """A finished image with the exact parameters that made it (seed and size resolved)."""

    image: Any  # PIL.Image.Image
    params: GenerationParams
    model: ModelInfo
    steps_run: int
    sampler: str
    elapsed: float
    output_path: str | None = None
    latents: Any = None  # scaled latents (torch tensor on the CPU) for SD/SDXL, None otherwise
    chain_mode: str | None = None  # "latent" or "pixels" when it continued from an image, None for a fresh start
    history_nodes: tuple = ()  # the history records written for it (set by the session's persist step)
    depth_map: Any = None  # the depth map exactly as the ControlNet saw it (PIL, run size), None without depth
    mask: Any = None  # a masked run's mask as painted (PIL "L"), lined up with ``image``; None for whole runs
    notes: tuple[str, ...] = ()  # things the user should know about the run (the depth map was cropped, …)
    upscale: Any = None  # the UpscaleParams (resolved) when the result is an upscale of ``params.init_image``
    # A1111 fields the style tools add (("Lora hashes", "ink: 0123456789ab"), ("TI hashes", …)), in order.
    style_fields: tuple[tuple[str, str], ...] = ()

    @property
    def seed(self) -> int:
        """The seed actually used."""
        assert self.params.seed is not None
        return self.params.seed
