"""Depth ControlNet for FLUX.1 (dev and schnell): ``FluxControlNetModel`` through diffusers'
``FluxControlNetImg2ImgPipeline`` and ``FluxControlNetPipeline``, made from the loaded pipeline with ``from_pipe``.

What differs from SD's ControlNets, kept here: the fit check reads the transformer's config, both FLUX pipelines
call the depth map ``control_image``, and the image-to-image one has no negative prompt or true CFG.
"""

from __future__ import annotations

from desktop.core.controlnet import DEFAULT_CONTROLNETS
from desktop.core.errors import bad_input

# The transformer settings a FLUX ControlNet must share with the model it steers.
_SHAPES = ("in_channels", "joint_attention_dim", "pooled_projection_dim", "attention_head_dim",
           "num_attention_heads")


def check_flux_compatible(controlnet, base_pipe) -> None:
    """Refuse a ControlNet that is not a FLUX one of the loaded FLUX model's shapes (or a FLUX one elsewhere)."""
    transformer = getattr(base_pipe, "transformer", None)
    is_flux_base = type(base_pipe).__name__.startswith("Flux") and transformer is not None
    is_flux_net = type(controlnet).__name__ == "FluxControlNetModel"
    if not is_flux_base:
        raise bad_input("This is a FLUX ControlNet and the loaded model is not FLUX.1: choose a depth ControlNet "
                        "of the model's own family, or load FLUX.1 dev or schnell.")
    made_for, base = dict(controlnet.config), dict(transformer.config)
    if not is_flux_net or any(made_for.get(k) != base.get(k) for k in _SHAPES):
        raise bad_input(f"This ControlNet is not made for this FLUX.1 model; choose a FLUX depth ControlNet such as "
                        f"{DEFAULT_CONTROLNETS['flux']}.")


def adjust_flux_control_call(call: dict, *, img2img: bool, notes: list[str]) -> None:
    """FLUX ControlNet pipelines call the depth map ``control_image`` in text-to-image too; the image-to-image one
    takes no negative prompt or true CFG (dropped, with a note when they were asked for)."""
    if not img2img:
        call["control_image"] = call.pop("image")
        return
    negative = call.pop("negative_prompt", None)
    true_cfg = call.pop("true_cfg_scale", None) or 1.0
    if negative or true_cfg > 1.0:
        notes.append("FLUX with depth control restyling a picture has no true CFG in diffusers: the negative prompt "
                     "and true CFG were not used.")
