"""Upscale requests and their limits: kinds, defaults, parameters and the memory check before a run (torch-free)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import bad_input
from .params import random_seed
from .ranges import RANGES
from .runtime import DEVICES

X2, X4 = "x2", "x4"


KINDS = (X2, X4)


FACTORS = {X2: 2, X4: 4}


LABELS = {X2: "upscale ×2 latent", X4: "super-resolution ×4"}


DEFAULT_MODELS = {X2: "stabilityai/sd-x2-latent-upscaler", X4: "stabilityai/stable-diffusion-x4-upscaler"}


# The ×2 upscaler was trained for guidance 0 and about 20 steps (its model card); ×4 keeps diffusers' guidance.
DEFAULT_STEPS = {X2: 20, X4: 30}


DEFAULT_GUIDANCE = {X2: 0.0, X4: 9.0}




DEFAULT_NOISE_LEVEL = 20


MAX_OUTPUT_SIDE = 16384


@dataclass(frozen=True)
class UpscaleParams:
    """One upscale of one picture: which kind, with which prompt, steps, seed and (×4) noise level."""

    kind: str  # "x2" (latent upscaler) | "x4" (super-resolution)
    image: str  # the picture to upscale (a file path)
    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = None  # None: the kind's default
    guidance_scale: float | None = None  # None: the kind's default
    noise_level: int = DEFAULT_NOISE_LEVEL  # ×4 only: how much noise is added to the low-res picture first
    seed: int | None = None  # None: a random one, recorded
    model: str = ""  # "" = the kind's default Hub id; or a local diffusers folder
    device: str = "auto"
    vae_tiling: bool = False  # decode in tiles: much larger outputs fit in memory

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UpscaleParams:
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> UpscaleParams:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def factor(self) -> int:
        """2 or 4."""
        return FACTORS[self.kind]

    @property
    def label(self) -> str:
        """What was done, in words: "upscale ×2 latent" or "super-resolution ×4"."""
        return LABELS[self.kind]

    def resolved(self) -> UpscaleParams:
        """With the model, steps, guidance and seed filled in, as the run will use them."""
        return self.replace(
            model=self.model.strip() or DEFAULT_MODELS[self.kind],
            steps=DEFAULT_STEPS[self.kind] if self.steps is None else self.steps,
            guidance_scale=DEFAULT_GUIDANCE[self.kind] if self.guidance_scale is None else self.guidance_scale,
            seed=random_seed() if self.seed is None else self.seed,
        )

    def validate(self) -> UpscaleParams:
        """Raise a bad-input RestyleError with an actionable sentence for the first invalid value."""
        if self.kind not in KINDS:
            raise bad_input(f"Unknown upscale {self.kind!r}: use x2 (latent upscaler) or x4 (super-resolution).")
        if not self.image:
            raise bad_input("Choose an image to upscale first.")
        if self.steps is not None:
            dataclasses.replace(RANGES["steps"], label="Upscale steps").check(self.steps)
        for name in ("guidance_scale", "noise_level", "seed"):
            if getattr(self, name) is not None:
                RANGES[name].check(getattr(self, name))
        if self.device not in DEVICES:
            raise bad_input(f"Device must be one of {', '.join(DEVICES)} (got {self.device!r}).")
        return self


# --- memory -------------------------------------------------------------------------------------------------------
def decode_bytes(width: int, height: int, dtype_bytes: int, channels: int = 256) -> int:
    """Rough peak memory of a VAE decode at ``width``×``height``: SD's decoder keeps about three 256-channel
    activations at full resolution alive at once (its last up-blocks run at 256 and 128 channels)."""
    return width * height * channels * dtype_bytes * 3


def check_output_fits(kind: str, size: tuple[int, int], device: str, dtype_bytes: int, free: int | None,
                      tiling: bool) -> None:
    """Refuse, before anything runs, an output whose VAE decode would not fit in ``free`` bytes (unless tiling)."""
    width, height = size
    if max(width, height) > MAX_OUTPUT_SIDE:
        raise bad_input(f"The {LABELS[kind]} result would be {width}×{height} pixels, larger than Restyle writes "
                        f"({MAX_OUTPUT_SIDE} px a side). Upscale a smaller image.")
    if tiling or free is None:
        return
    need = decode_bytes(width, height, dtype_bytes)
    if need > free:
        where = "the GPU has" if device == "cuda" else "this machine has"
        raise bad_input(
            f"The {LABELS[kind]} result would be {width}×{height} pixels; decoding it needs about {_gb(need)} but "
            f"{where} {_gb(free)} free. Turn on VAE tiling (it decodes in tiles, with far less memory), "
            "or upscale a smaller image."
        )


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"
