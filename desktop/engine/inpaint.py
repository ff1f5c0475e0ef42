"""Inpainting pipelines: restyling only the masked part, with an inpainting checkpoint or any SD / SDXL model.

An inpainting checkpoint (a UNet with 9 input channels: latents, mask, masked picture) loads as its own pipeline
through ``AutoPipelineForInpainting``. An ordinary checkpoint gets the inpainting pipeline of its family made with
``from_pipe`` from the modules already loaded: nothing is loaded twice, and switching between whole-picture and
masked runs costs nothing. Its UNet has no mask input, so diffusers blends the picture's own latents back outside
the mask at every step; ``core.masked_run`` then composites the decoded result so unmasked pixels are exact.
"""

from __future__ import annotations

from desktop.core.errors import RestyleError, bad_input

INPAINT_CHANNELS = 9


def has_inpainting_unet(pipe) -> bool:
    """True for a checkpoint trained for inpainting (its UNet takes the mask and the masked picture too)."""
    unet = getattr(pipe, "unet", None)
    return getattr(getattr(unet, "config", None), "in_channels", 4) == INPAINT_CHANNELS


def inpainting_pipeline(pipe):
    """The inpainting pipeline of ``pipe``'s family (its ControlNet one when ``pipe`` has a ControlNet), sharing
    every module of ``pipe``."""
    from diffusers import AutoPipelineForInpainting

    inpaint = AutoPipelineForInpainting.from_pipe(pipe)
    inpaint.set_progress_bar_config(disable=True)
    return inpaint


def refuse_text_to_image(info) -> RestyleError:
    """The sentence for a prompt-only run with an inpainting checkpoint, which restyles a given picture."""
    return bad_input(
        f"{info.display_name} is an inpainting model: it restyles a picture you give it. Drop an image (and paint "
        "a mask), or load an ordinary model to start from a prompt alone."
    )
