"""Cheap previews of the latents while they denoise: a linear map of latent channels to RGB.

A full VAE decode per step would cost as much as a UNet step and, under model CPU offload, evict the UNet
every step; a 4×3 matrix costs nothing. Factors from ComfyUI's ``latent_formats.py`` (see FACTS.md), applied
to the latents as the pipeline holds them (already multiplied by the VAE scaling factor).
"""

from __future__ import annotations

import numpy as np

_FACTORS: dict[str, tuple[list[list[float]], list[float]]] = {
    "sd": (
        [[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]],
        [0.0, 0.0, 0.0],
    ),
    "sdxl": (
        [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]],
        [0.1084, -0.0175, -0.0011],
    ),
}


def latent_preview(latents, family: str) -> np.ndarray:
    """An RGB uint8 array (H, W, 3) at latent resolution for the first image of a latent batch."""
    import torch

    with torch.no_grad():
        x = latents[0].detach().float().cpu()  # (C, H, W)
        factors = _FACTORS.get(family)
        if factors is not None and x.shape[0] == 4:
            matrix, bias = (torch.tensor(v, dtype=torch.float32) for v in factors)
            rgb = torch.einsum("chw,cr->hwr", x, matrix) + bias
            rgb = ((rgb + 1.0) / 2.0).clamp(0.0, 1.0)
        else:
            # Unknown latent space (Kandinsky's MoVQ, a new family): show the first three channels,
            # each stretched to its own range. Coarse, but it shows the composition forming.
            rgb = _first_channels(x).permute(1, 2, 0)
        return (rgb * 255.0 + 0.5).to(torch.uint8).numpy()


def _first_channels(x):
    import torch

    channels = [x[min(i, x.shape[0] - 1)] for i in range(3)]
    out = torch.stack(channels)
    low = out.amin(dim=(1, 2), keepdim=True)
    high = out.amax(dim=(1, 2), keepdim=True)
    return ((out - low) / (high - low).clamp_min(1e-6)).clamp(0.0, 1.0)
