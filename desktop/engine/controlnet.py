"""Depth ControlNet: loading one, checking it fits the loaded model, and the pipelines and arguments that use it.

The ControlNet pipelines are made from the loaded base pipeline with ``from_pipe``, so they share its UNet, VAE
and text encoders: switching depth control on costs only the ControlNet's own weights.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from desktop.core.controlnet import DEFAULT_CONTROLNETS
from desktop.core.errors import RestyleError, bad_input, model_missing
from desktop.core.ranges import RANGES
from desktop.core.sources import HUB_ID, PICKLE_SUFFIXES, ModelSource
from desktop.engine.hub import first_line, load_from_hub

from .flow import denoiser
from .flux_control import check_flux_compatible

log = logging.getLogger(__name__)


# Base pipelines diffusers has a ControlNet sibling for (AutoPipeline's from_pipe maps these, and only these).
_SUPPORTED_BASES = {
    "StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
    "StableDiffusionControlNetPipeline", "StableDiffusionControlNetImg2ImgPipeline",
    "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline",
    "StableDiffusionXLControlNetPipeline", "StableDiffusionXLControlNetImg2ImgPipeline",
    # Inpainting checkpoints load as these (their ControlNet siblings exist as well).
    "StableDiffusionInpaintPipeline", "StableDiffusionXLInpaintPipeline",
}

_SUGGESTIONS = {
    "SD 1.x": f"an SD 1.5 depth ControlNet such as {DEFAULT_CONTROLNETS['sd']}",
    "SDXL": f"an SDXL depth ControlNet such as {DEFAULT_CONTROLNETS['sdxl']}",
    "SD 2.x": "a depth ControlNet made for SD 2.x",
}


def load_controlnet(name: str, dtype, device: str, status: Callable[[str], None] = lambda s: None, *,
                    model_class: str = "ControlNetModel", cancelled: Callable[[], bool] | None = None):
    """Load a ControlNet from a diffusers folder or a Hub id (local cache first) onto ``device``.

    ``model_class`` is the kind a Hub id is loaded as (FLUX's is ``FluxControlNetModel``); a folder says its own.
    """
    import diffusers

    ControlNetModel = getattr(diffusers, model_class)  # noqa: N806 - a class

    name = name.strip()
    example = DEFAULT_CONTROLNETS["sd"]
    if not name:
        raise bad_input(f"Choose a depth ControlNet: a Hugging Face id such as {example} or a local folder.")
    path = Path(name).expanduser()
    try:
        if path.is_dir():
            class_name = _check_config(path / "config.json", path.name, folder=path)
            status(f"Loading the ControlNet {path.name}…")
            controlnet = getattr(diffusers, class_name).from_pretrained(path, local_files_only=True, dtype=dtype)
        elif path.is_file():
            raise _file_refusal(path)
        elif path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1 or "\\" in name:
            raise model_missing(f"The ControlNet folder {path} does not exist. Choose an existing folder.")
        elif not HUB_ID.match(name):
            raise bad_input(f"{name!r} is neither a folder nor a Hugging Face id like {example}.")
        else:
            _check_cached_hub_repo(name)
            controlnet = load_from_hub(ControlNetModel, ModelSource(name, name, False), {"dtype": dtype}, status,
                                       cancelled=cancelled)
            _check_cached_hub_repo(name)  # the download may have brought the config that says what it is
    except RestyleError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        log.exception("loading ControlNet %s failed", name)
        raise model_missing(f"The ControlNet {name} could not be loaded: {first_line(exc)}") from exc
    return controlnet.to(device)


def default_controlnet(base_pipe) -> str:
    """The depth ControlNet to use with ``base_pipe`` when the user named none; bad_input when there is none."""
    base_class = type(base_pipe).__name__
    if base_class.startswith("Flux"):
        return DEFAULT_CONTROLNETS["flux"]
    unet = getattr(base_pipe, "unet", None)
    if base_class not in _SUPPORTED_BASES or unet is None:
        raise _unsupported(base_class)
    family = _family(dict(unet.config))
    if family == "SD 2.x":
        # No SD 2.x depth ControlNet is common enough to pick for the user; loading the SD 1.5 one would only fail.
        raise bad_input("There is no default depth ControlNet for SD 2.x models; name one made for SD 2.x.")
    return DEFAULT_CONTROLNETS["sdxl" if family == "SDXL" else "sd"]


def check_compatible(controlnet, base_pipe) -> None:
    """Refuse a ControlNet made for another model family than the loaded base pipeline."""
    base_class = type(base_pipe).__name__
    if base_class.startswith("Flux") or type(controlnet).__name__ == "FluxControlNetModel":
        check_flux_compatible(controlnet, base_pipe)
        return
    unet = getattr(base_pipe, "unet", None)
    if base_class not in _SUPPORTED_BASES or unet is None:
        raise _unsupported(base_class)
    made_for, base = dict(controlnet.config), dict(unet.config)
    # These decide the shapes the ControlNet's residuals and text inputs have; any difference breaks the UNet call.
    keys = ["cross_attention_dim", "addition_embed_type", "block_out_channels"]
    if made_for.get("addition_embed_type") == "text_time":
        keys.append("projection_class_embeddings_input_dim")
    if all(_same(made_for.get(k), base.get(k)) for k in keys):
        return
    cn_family, base_family = _family(made_for), _family(base)
    if cn_family != base_family:
        reason = f"This ControlNet is made for {cn_family} but the model is {base_family}"
    else:
        reason = f"This ControlNet does not fit this {base_family} model (its layers have other sizes)"
    raise bad_input(f"{reason}; choose {_SUGGESTIONS[base_family]}.")


def controlnet_pipelines(base_img2img_pipe, controlnet) -> tuple[object, object]:
    """The ControlNet image-to-image and text-to-image pipelines, sharing every module of the base pipeline."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

    check_compatible(controlnet, base_img2img_pipe)
    unet = denoiser(base_img2img_pipe)  # the UNet, or FLUX's transformer
    # AutoPipeline.from_pipe neither moves nor casts modules, so the ControlNet must already match the UNet.
    # Only when it does not: diffusers warns on every dtype-carrying to(), even a no-op one.
    if controlnet.dtype != unet.dtype or controlnet.device != unet.device:
        controlnet = controlnet.to(device=unet.device, dtype=unet.dtype)
    img2img = AutoPipelineForImage2Image.from_pipe(base_img2img_pipe, controlnet=controlnet)
    txt2img = AutoPipelineForText2Image.from_pipe(base_img2img_pipe, controlnet=controlnet)
    for pipe in (img2img, txt2img):
        pipe.set_progress_bar_config(disable=True)
    return img2img, txt2img


def controlnet_call_kwargs(
    control_image,
    scale: float = 0.8,
    start: float = 0.0,
    end: float = 1.0,
    *,
    width: int,
    height: int,
    img2img: bool,
) -> dict:
    """The extra pipeline arguments for a depth-controlled call; raises bad_input for values out of range."""
    RANGES["control_scale"].check(scale)
    if not (0.0 <= start < end <= 1.0):
        raise bad_input(
            f"Depth control must start before it ends, both between 0 and 1 (got start {start:g}, end {end:g})."
        )
    if width <= 0 or height <= 0 or width % 8 or height % 8:
        raise bad_input(f"Width and height must be positive multiples of 8 (got {width}×{height}).")
    # img2img takes the init picture as `image` and the control as `control_image`; text-to-image has only
    # the control, and calls it `image`.
    key = "control_image" if img2img else "image"
    return {
        key: control_image,
        "controlnet_conditioning_scale": float(scale),
        "control_guidance_start": float(start),
        "control_guidance_end": float(end),
        # Both images are resized to these; left unset, different sizes crash the img2img call (diffusers #5953).
        "height": height,
        "width": width,
    }


def _unsupported(base_class: str) -> RestyleError:
    return bad_input(
        f"Depth control works with Stable Diffusion 1.x, 2.x and SDXL models, not with this one ({base_class}); "
        "choose such a model or turn depth control off."
    )


def _same(a, b) -> bool:
    # Configs loaded from JSON hold lists where freshly built ones hold tuples.
    def plain(value):
        return list(value) if isinstance(value, (list, tuple)) else value

    return plain(a) == plain(b)


def _family(config: dict) -> str:
    """The family a UNet or ControlNet config belongs to, as users know it."""
    if config.get("addition_embed_type") == "text_time":
        return "SDXL"
    if config.get("cross_attention_dim") == 1024:
        return "SD 2.x"
    return "SD 1.x"


def _not_controlnet(label: str, what: str) -> RestyleError:
    return model_missing(
        f"{label} is not a ControlNet model folder ({what}); choose a depth ControlNet such as "
        f"{DEFAULT_CONTROLNETS['sd']} or {DEFAULT_CONTROLNETS['sdxl']}."
    )


CONTROLNET_CLASSES = ("ControlNetModel", "FluxControlNetModel")


def _check_config(config_path: Path, label: str, folder: Path | None = None) -> str:
    """The ControlNet class a config describes; refuses anything else (a base model, a UNet, a LoRA…)."""
    if folder is not None and not config_path.is_file():
        what = "it is a whole diffusers model" if (folder / "model_index.json").is_file() else "it has no config.json"
        raise _not_controlnet(label, what)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _not_controlnet(label, "its config.json cannot be read") from None
    class_name = config.get("_class_name") if isinstance(config, dict) else None
    if class_name not in CONTROLNET_CLASSES:
        raise _not_controlnet(label, f"its config.json describes a {class_name or 'different model'}")
    return class_name


def _check_cached_hub_repo(repo: str) -> None:
    """Check what a Hub repo holds from the files already in the cache; says nothing when they are not there."""
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo, "model_index.json"), str):
        raise _not_controlnet(repo, "it is a whole diffusers model")
    config = try_to_load_from_cache(repo, "config.json")
    if isinstance(config, str):
        _check_config(Path(config), repo)


def _file_refusal(path: Path) -> RestyleError:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return bad_input(
            f"{path.name} is a pickle checkpoint, which can run arbitrary code when loaded; Restyle does not open "
            "these. Use the diffusers version of the ControlNet."
        )
    if path.suffix.lower() == ".safetensors":
        return model_missing(
            f"{path.name} is a single-file ControlNet; this version loads diffusers folders and Hub ids. Choose the "
            f"folder with its config.json, or a Hub id such as {DEFAULT_CONTROLNETS['sd']}."
        )
    return model_missing(f"{path.name} is a file, not a ControlNet. Choose a ControlNet model folder.")
