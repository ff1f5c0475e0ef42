"""The models the diffusers img2img guide uses, with what a user needs to choose one before downloading it.

Sizes are approximate downloads of what the library fetches (safetensors only; the fp16 variant where the
repository has one, as on a GPU), rounded; the real figure is shown once the file list is known. The licence
note is a pointer, not legal advice: the model card on the Hub is the authority.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1024**3


@dataclass(frozen=True)
class CatalogueEntry:
    """One model of the guide."""

    repo: str  # the Hugging Face id
    title: str
    role: str  # base / refiner / ControlNet / upscaler / style / prior / depth
    family: str  # SD 1.x, SDXL, Kandinsky 2.2, …
    approx_bytes: int
    licence: str
    note: str = ""


_OPENRAIL = "CreativeML OpenRAIL-M (use restrictions; commercial use allowed)"
_OPENRAIL_PP = "CreativeML OpenRAIL++-M (use restrictions; commercial use allowed)"

CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("stable-diffusion-v1-5/stable-diffusion-v1-5", "Stable Diffusion 1.5", "base", "SD 1.x",
                   int(2.1 * GB), _OPENRAIL, "The guide's first model; 512 px."),
    CatalogueEntry("stabilityai/stable-diffusion-xl-base-1.0", "SDXL base 1.0", "base", "SDXL", int(6.9 * GB),
                   _OPENRAIL_PP, "1024 px; needs about 8 GB of GPU memory in fp16."),
    CatalogueEntry("stabilityai/stable-diffusion-xl-refiner-1.0", "SDXL refiner 1.0", "refiner", "SDXL",
                   int(6.1 * GB), _OPENRAIL_PP, "Used as img2img on SDXL base results."),
    CatalogueEntry("kandinsky-community/kandinsky-2-2-decoder", "Kandinsky 2.2 decoder", "base", "Kandinsky 2.2",
                   int(5.0 * GB), "Apache-2.0", "Needs the Kandinsky 2.2 prior as well."),
    CatalogueEntry("kandinsky-community/kandinsky-2-2-prior", "Kandinsky 2.2 prior", "prior", "Kandinsky 2.2",
                   int(4.6 * GB), "Apache-2.0", "Turns the prompt into image embeddings for the decoder."),
    CatalogueEntry("ogkalu/Comic-Diffusion", "Comic-Diffusion", "style", "SD 1.x", int(2.2 * GB), _OPENRAIL,
                   "Comic styles; trigger words are on the model card."),
    CatalogueEntry("kohbanye/pixel-art-style", "Pixel art style", "style", "SD 1.x", int(2.2 * GB), _OPENRAIL,
                   "Add 'pixelartstyle' to the prompt."),
    CatalogueEntry("nitrosocke/elden-ring-diffusion", "Elden Ring Diffusion", "style", "SD 1.x", int(2.2 * GB),
                   _OPENRAIL, "Add 'elden ring style' to the prompt."),
    CatalogueEntry("lllyasviel/control_v11f1p_sd15_depth", "ControlNet depth (SD 1.5)", "ControlNet", "SD 1.x",
                   int(0.7 * GB), "OpenRAIL", "The depth panel's default for SD 1.x models."),
    CatalogueEntry("diffusers/controlnet-depth-sdxl-1.0", "ControlNet depth (SDXL)", "ControlNet", "SDXL",
                   int(2.5 * GB), _OPENRAIL_PP, "The depth panel's default for SDXL models."),
    CatalogueEntry("depth-anything/Depth-Anything-V2-Small-hf", "Depth Anything V2 Small", "depth", "depth estimator",
                   int(0.1 * GB), "Apache-2.0", "Estimate depth's default model."),
    CatalogueEntry("stabilityai/sd-x2-latent-upscaler", "Latent upscaler ×2", "upscaler", "SD 1.x", int(2.4 * GB),
                   _OPENRAIL_PP, "Upscales latents 2× before decoding."),
    CatalogueEntry("stabilityai/stable-diffusion-x4-upscaler", "Upscaler ×4", "upscaler", "SD 2.x", int(1.8 * GB),
                   _OPENRAIL_PP, "Upscales pictures 4× with a prompt."),
)


def catalogue_entry(repo: str) -> CatalogueEntry | None:
    """The catalogue's entry for a Hub id (case-insensitive), or None."""
    lowered = repo.lower()
    return next((e for e in CATALOGUE if e.repo.lower() == lowered), None)
