"""Depth ControlNet names and ranges the UI, the model and the metadata share (torch-free)."""

from __future__ import annotations

DEFAULT_CONTROLNETS = {"sd": "lllyasviel/control_v11f1p_sd15_depth", "sdxl": "diffusers/controlnet-depth-sdxl-1.0",
                       "flux": "Shakker-Labs/FLUX.1-dev-ControlNet-Depth"}




def controlnet_display_name(name: str) -> str:
    """A short name for metadata and captions: the folder's or the Hub repo's last part."""
    return name.strip().replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
