"""Cheap previews of the latents while they denoise: a linear map of latent channels to RGB.

A full VAE decode per step would cost as much as a UNet step and, under model CPU offload, evict the UNet
every step; a 4×3 matrix (16×3 for SD 3 and FLUX) costs nothing. Factors from ComfyUI's ``latent_formats.py``
(see FACTS.md), applied to the latents as the pipeline holds them (already multiplied by the VAE scaling factor).
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
    # 16 latent channels (ComfyUI's SD3 and Flux formats), applied to the shifted and scaled latents the
    # pipelines hold; FLUX's packed sequence is unpacked by the runner first (flow.unpacked).
    "sd3": (
        [[-0.0922, -0.0175, 0.0749], [0.0311, 0.0633, 0.0954], [0.1994, 0.0927, 0.0458], [0.0856, 0.0339, 0.0902],
         [0.0587, 0.0272, -0.0496], [-0.0006, 0.1104, 0.0309], [0.0978, 0.0306, 0.0427], [-0.0042, 0.1038, 0.1358],
         [-0.0194, 0.0020, 0.0669], [-0.0488, 0.0130, -0.0268], [0.0922, 0.0988, 0.0951], [-0.0278, 0.0524, -0.0542],
         [0.0332, 0.0456, 0.0895], [-0.0069, -0.0030, -0.0810], [-0.0596, -0.0465, -0.0293],
         [-0.1448, -0.1463, -0.1189]],
        [0.2394, 0.2135, 0.1925],
    ),
    "flux": (
        [[-0.0346, 0.0244, 0.0681], [0.0034, 0.0210, 0.0687], [0.0275, -0.0668, -0.0433], [-0.0174, 0.0160, 0.0617],
         [0.0859, 0.0721, 0.0329], [0.0004, 0.0383, 0.0115], [0.0405, 0.0861, 0.0915], [-0.0236, -0.0185, -0.0259],
         [-0.0245, 0.0250, 0.1180], [0.1008, 0.0755, -0.0421], [-0.0515, 0.0201, 0.0011], [0.0428, -0.0012, -0.0036],
         [0.0817, 0.0765, 0.0749], [-0.1264, -0.0522, -0.1103], [-0.0280, -0.0881, -0.0499],
         [-0.1262, -0.0982, -0.0778]],
        [-0.0329, -0.0718, -0.0851],
    ),
}


def latent_preview(latents, family: str) -> np.ndarray:
    """An RGB uint8 array (H, W, 3) at latent resolution for the first image of a latent batch."""
    import torch

    with torch.no_grad():
        x = latents[0].detach().float().cpu()  # (C, H, W)
        factors = _FACTORS.get(family)
        if factors is not None and x.shape[0] == len(factors[0]):
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
