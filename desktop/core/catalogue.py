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
    # A GGUF variant: the one file of ``repo`` to fetch (a quantized transformer); the rest of the model comes from
    # ``base`` (its own catalogue entry), which must be downloaded too.
    file: str = ""
    base: str = ""


_OPENRAIL = "CreativeML OpenRAIL-M (use restrictions; commercial use allowed)"
_OPENRAIL_PP = "CreativeML OpenRAIL++-M (use restrictions; commercial use allowed)"
# Gated repositories: accept the licence on the model's Hub page while logged in, then log in here once with
# `hf auth login`; Restyle sends that login's token and never stores it in its own files.
_GATED = " Gated: accept its licence on the Hub page, then log in with `hf auth login`."
_SAI_COMMUNITY = "Stability AI Community License (free below USD 1 M annual revenue; enterprise licence above)"
_FLUX_DEV = "FLUX.1 [dev] Non-Commercial License (outputs may be used commercially; the weights may not)"
_SD35_MEMORY = "16-bit: about {gb} GB of GPU memory with T5, {no_t5} GB without; offload or GGUF for less."
_FLUX_MEMORY = "bf16: about 24 GB for the transformer alone; model offload, or a GGUF variant, below 24 GB."

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
    # SD 3.5 and FLUX.1 (diffusers repositories: the root single-file copies are not fetched).
    CatalogueEntry("stabilityai/stable-diffusion-3.5-medium", "Stable Diffusion 3.5 Medium", "base", "SD 3.5",
                   int(16.3 * GB), _SAI_COMMUNITY,
                   "1024 px, 2.5 B transformer. " + _SD35_MEMORY.format(gb=16, no_t5=7) + _GATED),
    CatalogueEntry("stabilityai/stable-diffusion-3.5-large", "Stable Diffusion 3.5 Large", "base", "SD 3.5",
                   int(27.6 * GB), _SAI_COMMUNITY,
                   "1024 px, 8.1 B transformer. " + _SD35_MEMORY.format(gb=28, no_t5=18) + _GATED),
    CatalogueEntry("stabilityai/stable-diffusion-3.5-large-turbo", "Stable Diffusion 3.5 Large Turbo", "base",
                   "SD 3.5", int(27.6 * GB), _SAI_COMMUNITY, "4 steps, no guidance. " +
                   _SD35_MEMORY.format(gb=28, no_t5=18) + _GATED),
    CatalogueEntry("black-forest-labs/FLUX.1-schnell", "FLUX.1 schnell", "base", "FLUX.1", int(33.7 * GB),
                   "Apache-2.0", "4 steps, no guidance, no negative prompt. " + _FLUX_MEMORY),
    CatalogueEntry("black-forest-labs/FLUX.1-dev", "FLUX.1 dev", "base", "FLUX.1", int(33.7 * GB), _FLUX_DEV,
                   "Distilled guidance 3.5, 28 steps; true CFG optional. " + _FLUX_MEMORY + _GATED),
    CatalogueEntry("black-forest-labs/FLUX.1-Kontext-dev", "FLUX.1 Kontext dev", "base", "FLUX.1 Kontext",
                   int(33.7 * GB), _FLUX_DEV,
                   "Edits a picture by instruction (\"make it a watercolour, keep the faces\"). "
                   + _FLUX_MEMORY + _GATED),
    CatalogueEntry("Shakker-Labs/FLUX.1-dev-ControlNet-Depth", "ControlNet depth (FLUX.1)", "ControlNet", "FLUX.1",
                   int(3.6 * GB), _FLUX_DEV, "The depth panel's default for FLUX.1 models."),
    # GGUF variants (city96's and QuantStack's quantizations): one transformer file; the base above gives the rest.
    # File names and sizes checked against diffusers' own GGUF tests and public download scripts (2026-11-30).
    CatalogueEntry("city96/FLUX.1-dev-gguf", "FLUX.1 dev, GGUF Q4_K_S", "transformer", "FLUX.1", int(6.8 * GB),
                   _FLUX_DEV, "Fits 12 GB cards with model offload. Needs FLUX.1 dev (above) for the rest.",
                   file="flux1-dev-Q4_K_S.gguf", base="black-forest-labs/FLUX.1-dev"),
    CatalogueEntry("city96/FLUX.1-dev-gguf", "FLUX.1 dev, GGUF Q8_0", "transformer", "FLUX.1", int(12.7 * GB),
                   _FLUX_DEV, "Close to bf16 quality at half the memory. Needs FLUX.1 dev (above) for the rest.",
                   file="flux1-dev-Q8_0.gguf", base="black-forest-labs/FLUX.1-dev"),
    CatalogueEntry("city96/FLUX.1-schnell-gguf", "FLUX.1 schnell, GGUF Q4_K_S", "transformer", "FLUX.1",
                   int(6.8 * GB), "Apache-2.0", "Needs FLUX.1 schnell (above) for the rest.",
                   file="flux1-schnell-Q4_K_S.gguf", base="black-forest-labs/FLUX.1-schnell"),
    CatalogueEntry("QuantStack/FLUX.1-Kontext-dev-GGUF", "FLUX.1 Kontext dev, GGUF Q4_K_S", "transformer",
                   "FLUX.1 Kontext", int(6.8 * GB), _FLUX_DEV,
                   "Needs FLUX.1 Kontext dev (above) for the rest; keep \"kontext\" in the file name.",
                   file="flux1-kontext-dev-Q4_K_S.gguf", base="black-forest-labs/FLUX.1-Kontext-dev"),
    CatalogueEntry("city96/stable-diffusion-3.5-large-gguf", "Stable Diffusion 3.5 Large, GGUF Q4_0", "transformer",
                   "SD 3.5", int(4.8 * GB), _SAI_COMMUNITY, "Needs SD 3.5 Large (above) for the rest.",
                   file="sd3.5_large-Q4_0.gguf", base="stabilityai/stable-diffusion-3.5-large"),
)


def catalogue_entry(repo: str) -> CatalogueEntry | None:
    """The catalogue's entry for a Hub id (case-insensitive), or None; GGUF variants (one file) are not whole
    repositories and are left out."""
    lowered = repo.lower()
    return next((e for e in CATALOGUE if e.repo.lower() == lowered and not e.file), None)
