"""Finding a model the user named and loading it as an image-to-image pipeline.

A model is named by a Hugging Face id (loaded from the local Hub cache when it is there, downloaded once
otherwise), by a local diffusers folder, or by a single-file checkpoint (``.safetensors``, as model-sharing
sites publish them; see ``single_file.py``). The pipeline class of a folder or Hub id is chosen from the
checkpoint's ``model_index.json`` exactly as ``AutoPipelineForImage2Image`` does, because that is what loads it.

Pickle checkpoints (.ckpt/.pt/.pth/.bin) can run arbitrary code when unpickled. They are refused everywhere by
one function, ``check_pickle``, unless the user allowed them; even then they are only read with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import RestyleError, model_missing
from desktop.core.sources import ModelSource, check_folder_pickles
from desktop.engine.flow_files import flow_load_kwargs
from desktop.engine.hub import cached_snapshot, first_line, load_from_hub, model_index, weights_variant

log = logging.getLogger(__name__)


def load_img2img_pipeline(source: ModelSource, device: str, dtype, status: Callable[[str], None] = lambda s: None,
                          *, allow_pickles: bool = False, runtime=None, cancelled: Callable[[], bool] | None = None):
    """Load the image-to-image pipeline for ``source`` on ``device``; raises RestyleError on failure."""
    if source.single_file:
        from .single_file import load_single_file

        pipe = load_single_file(Path(source.location), dtype, status, allow_pickles=allow_pickles, runtime=runtime)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(device)
    from diffusers import AutoPipelineForImage2Image

    kwargs: dict = {"dtype": dtype}
    index = model_index(source)
    if "safety_checker" in index:
        # Artists restyle their own pictures locally; the checker blacks out false positives and costs
        # memory. Like the other desktop tools, Restyle runs without it.
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    kwargs.update(flow_load_kwargs(index, runtime, dtype))  # SD 3 without T5; quantized SD 3 / FLUX weights
    try:
        if source.is_local:
            check_folder_pickles(Path(source.location), index, allow_pickles)
            status(f"Loading {source.display_name}…")
            variant = weights_variant(Path(source.location))
            pipe = AutoPipelineForImage2Image.from_pretrained(source.location, local_files_only=True, variant=variant,
                                                              **kwargs)
        else:
            snapshot = cached_snapshot(source.location)
            if snapshot is not None:
                check_folder_pickles(snapshot, index, allow_pickles)
            pipe = load_from_hub(AutoPipelineForImage2Image, source, kwargs, status, cancelled=cancelled,
                                 allow_pickles=allow_pickles)
    except RestyleError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        log.exception("loading %s failed", source.location)
        raise model_missing(f"{source.display_name} could not be loaded: {first_line(exc)}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def natural_size(pipe, family: str) -> int:
    """The side the model was trained at: UNet sample size × VAE scale factor, with family defaults."""
    unet = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)  # SD 3's transformer has one too
    scale = getattr(pipe, "vae_scale_factor", 8)
    sample = getattr(getattr(unet, "config", None), "sample_size", None)
    if isinstance(sample, int) and sample > 0:
        return int(sample * scale)
    vae_sample = getattr(getattr(getattr(pipe, "vae", None), "config", None), "sample_size", None)
    if family == "flux" and isinstance(vae_sample, int) and vae_sample > 0:
        return vae_sample  # FLUX's transformer has no sample size; its VAE's (1024 px) is the trained one
    return {"sdxl": 1024, "kandinsky22": 768, "sd3": 1024, "flux": 1024}.get(family, 512)

