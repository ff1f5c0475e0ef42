"""Step-preview settings shared by the settings dialog, the worker and the engine, and the one table of tiny
autoencoders (TAESD) that decode each family's latents into a detailed preview.

A family missing from the table previews with latent colours (and the run says so once). Add a row to plug in
another TAESD (SD 3 and FLUX have theirs: ``madebyollin/taesd3`` and ``madebyollin/taef1``, 16-channel latents).
"""

from __future__ import annotations

PREVIEW_MODES = {"latent": "Latent colours, every step (free)", "taesd": "Detailed (TAESD), every few steps"}
MAX_PREVIEW_EVERY = 100

# ModelInfo.family -> the Hub id of the AutoencoderTiny that decodes that family's latents.
PREVIEW_DECODERS: dict[str, str] = {
    "sd": "madebyollin/taesd",
    "sdxl": "madebyollin/taesdxl",
    # 16-channel latents; their configs carry the VAE's scaling and shift, undone as the pipelines do.
    "sd3": "madebyollin/taesd3",
    "flux": "madebyollin/taef1",
}


def preview_decoder_for(family: str) -> str:
    """The TAESD Hub id for a family ('' when there is none)."""
    return PREVIEW_DECODERS.get(family, "")
