"""Tiny random-weight inpainting models (SD 1.5 and SDXL layouts) in diffusers format, for tests and benchmarks.

An inpainting checkpoint differs from its base in one place: the UNet's first convolution takes 9 channels (the
4 noisy latents, the 1-channel mask and the 4 latents of the masked picture), and ``model_index.json`` names the
inpainting pipeline. Everything else is the tiny SD / SDXL model of ``tiny.py`` / ``tiny_sdxl.py``, saved with
``save_pretrained`` and loaded back through the same ``from_pretrained`` path as a real checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

from .tiny import tiny_sd_components

INPAINT_CHANNELS = 9  # 4 latents + 1 mask + 4 masked-picture latents


def _mark(folder: Path, seed: int, kind: str) -> None:
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed, "kind": kind}))


def _nine_channel(unet, seed: int):
    """The same UNet with a 9-channel input, as inpainting checkpoints have."""
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    config = {**dict(unet.config), "in_channels": INPAINT_CHANNELS}
    return UNet2DConditionModel.from_config(config)


def _save(folder: str | Path, pipeline_class, components: dict, seed: int, kind: str) -> Path:
    folder = Path(folder)
    components["unet"] = _nine_channel(components["unet"], seed)
    pipeline_class(**components).save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, kind)
    return folder


def build_tiny_sd_inpainting(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny SD 1.5-layout inpainting pipeline (9-channel UNet) at ``folder`` and return the path."""
    from diffusers import StableDiffusionInpaintPipeline

    return _save(folder, StableDiffusionInpaintPipeline, tiny_sd_components(seed), seed, "sd-inpainting")


def build_tiny_sdxl_inpainting(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny SDXL-layout inpainting pipeline (two text encoders, 9-channel UNet) at ``folder``."""
    from diffusers import StableDiffusionXLInpaintPipeline

    from .tiny_sdxl import tiny_sdxl_components

    return _save(folder, StableDiffusionXLInpaintPipeline, tiny_sdxl_components(seed), seed, "sdxl-inpainting")
