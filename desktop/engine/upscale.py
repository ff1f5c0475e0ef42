"""The upscale chain: ×2 in latent space (``StableDiffusionLatentUpscalePipeline``) and ×4 super-resolution on
pixels (``StableDiffusionUpscalePipeline``), with previews, cancel and a memory check before the run.

The ×2 upscaler shares SD's VAE, so a result whose cached latents were made by that same VAE goes straight in
as latents (a 4-channel ``image`` is taken as scaled latents: no VAE encode, no decode/encode round trip). Both
pipelines only have the legacy ``callback(step, timestep, latents)``; raising from it stops the loop within one
step and skips the decode, as the Engine does for ``callback_on_step_end``.

Not thread-safe, like the Engine: one thread owns an ``Upscaler``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop.core.errors import ErrorKind, RestyleError, bad_input, model_missing
from desktop.core.images import load_image
from desktop.core.output import sampler_name
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo, StepInfo
from desktop.core.schemas import latents_match
from desktop.core.sources import resolve_model
from desktop.core.upscale import (
    DEFAULT_MODELS,
    LABELS,
    X2,
    UpscaleParams,
    check_output_fits,
)
from desktop.engine.hub import first_line, load_cached_or_download, model_index

from .device import default_dtype, pick_device
from .latents import decode_latents, load_latents, vae_fingerprint
from .previews import latent_preview
from .runtime import free_hooks

log = logging.getLogger(__name__)


StepCallback = Callable[[StepInfo], None]
CancelCheck = Callable[[], bool]
MemoryProbe = Callable[[str], "int | None"]


class _Cancelled(Exception):
    """Raised from the legacy callback: the loop stops at once and the decode never runs."""


def available_memory(device: str) -> int | None:
    """Free memory for a run on ``device`` in bytes (free GPU memory on CUDA, available RAM otherwise)."""
    if device == "cuda":
        import torch

        return int(torch.cuda.mem_get_info()[0])
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


# --- running ------------------------------------------------------------------------------------------------------
@dataclass
class _Pipe:
    key: tuple[str, str]
    pipe: Any
    info: ModelInfo


class Upscaler:
    """Holds the upscaler pipelines (one per kind, apart from the base model) and runs upscales."""

    def __init__(self, status: Callable[[str], None] | None = None, memory: MemoryProbe | None = None):
        self._status = status or (lambda message: None)
        self._memory = memory  # None: available_memory, looked up at each run
        self._pipes: dict[str, _Pipe] = {}

    def _free(self, device: str) -> int | None:
        return (self._memory or available_memory)(device)

    def pipeline(self, kind: str, model: str = "", device: str = "auto"):
        """The loaded pipeline for ``kind`` (loaded once, then cached); raises RestyleError."""
        return self._load(kind, model.strip() or DEFAULT_MODELS[kind], pick_device(device)).pipe

    def _load(self, kind: str, model: str, device: str, cancelled: CancelCheck | None = None) -> _Pipe:
        source = resolve_model(model)
        if source.single_file:
            raise bad_input(f"{source.display_name} is a single-file checkpoint; upscalers load from diffusers folders "
                            f"or Hub ids such as {DEFAULT_MODELS[kind]}.")
        key = (source.location, device)
        cached = self._pipes.get(kind)
        if cached is not None and cached.key == key:
            return cached
        self._pipes.pop(kind, None)  # drop the old one first, so both never share memory
        from diffusers import (
            StableDiffusionLatentUpscalePipeline,
            StableDiffusionUpscalePipeline,
        )

        cls = StableDiffusionLatentUpscalePipeline if kind == X2 else StableDiffusionUpscalePipeline
        dtype = default_dtype(device)
        kwargs: dict = {"dtype": dtype}
        if "safety_checker" in model_index(source):
            kwargs.update(safety_checker=None)
        started = time.perf_counter()
        try:
            if source.is_local:
                self._status(f"Loading {source.display_name}…")
                pipe = cls.from_pretrained(source.location, local_files_only=True, **kwargs)
            else:
                pipe = load_cached_or_download(
                    lambda local_only: cls.from_pretrained(source.location, local_files_only=local_only, **kwargs),
                    source.location, noun="upscaler", subject=f"The upscaler {source.location}",
                    advice="choose a local upscaler folder", status=self._status, cancelled=cancelled,
                )
        except RestyleError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.exception("loading upscaler %s failed", source.location)
            raise model_missing(
                f"{source.display_name} could not be loaded as a {LABELS[kind]} model ({cls.__name__}): "
                f"{first_line(exc)}"
            ) from exc
        pipe.set_progress_bar_config(disable=True)
        pipe = pipe.to(device)
        info = ModelInfo(
            name=source.name, display_name=source.display_name, family="sd" if kind == X2 else "other",
            natural_size=0, pipeline_class=cls.__name__, device=device, dtype=str(dtype).removeprefix("torch."),
            vae_id=vae_fingerprint(pipe.vae),
        )
        log.info("loaded upscaler %s on %s in %.2fs", source.location, device, time.perf_counter() - started)
        loaded = _Pipe(key, pipe, info)
        self._pipes[kind] = loaded
        return loaded

    def run(self, params: UpscaleParams, on_step: StepCallback | None = None, cancelled: CancelCheck | None = None,
            source_latents: str | None = None) -> GenerationResult:
        """Upscale ``params.image``; raises RestyleError (kind CANCELLED when ``cancelled()`` turns true).

        ``source_latents`` names the latent cache of the picture (see ``latents.save_latents``): the ×2 upscale
        takes it as is when it was made by the upscaler's VAE, else it upscales the pixels and says so in ``notes``.
        """
        import torch

        params = params.validate().resolved()
        cancelled = cancelled or (lambda: False)
        image = load_image(params.image)
        cached = load_latents(source_latents) if params.kind == X2 and source_latents else None
        if cached is not None and not latents_match(tuple(cached[0].shape), image.size, 8, 4):
            cached = None  # not this picture's latents (another shape): its pixels are upscaled instead
        device = pick_device(params.device)
        dtype_bytes = 2 if device in ("cuda", "mps") else 4
        # The output is exactly factor × the picture (the latents' size is the picture's ÷ 8).
        source_size = (cached[0].shape[-1] * 8, cached[0].shape[-2] * 8) if cached is not None else image.size
        out_size = (source_size[0] * params.factor, source_size[1] * params.factor)
        # Before any model is loaded: the user hears at once that the result would not fit.
        check_output_fits(params.kind, out_size, device, dtype_bytes, self._free(device), params.vae_tiling)
        loaded = self._load(params.kind, params.model, device, cancelled)
        pipe, info = loaded.pipe, loaded.info
        if cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled.")
        if params.vae_tiling:
            pipe.vae.enable_tiling()
        else:
            pipe.vae.disable_tiling()
        # Every UNet level halves the latents: pad them (edge pixels repeated) to a size each level divides, and
        # crop the padding off the result, so any picture size works and nothing is resized.
        unit = 2 ** (len(pipe.unet.config.block_out_channels) - 1)

        notes: list[str] = []
        chain_mode = "pixels"
        if params.kind == X2 and cached is not None and cached[1] == info.vae_id:
            latents_in = cached[0].to(device=pipe.unet.device, dtype=pipe.unet.dtype)
            image_arg = _pad_latents(latents_in, max(1, unit // 2))  # the UNet runs on 2× these
            chain_mode = "latent"
        else:
            if params.kind == X2 and source_latents:
                notes.append("The picture's latents were made by another VAE or are no longer cached, so it was "
                             "upscaled from its pixels.")
            if cached is not None:  # sizes came from the unusable latents: take them from the picture again
                source_size = image.size
                out_size = (source_size[0] * params.factor, source_size[1] * params.factor)
                check_output_fits(params.kind, out_size, device, dtype_bytes, self._free(device),
                                  params.vae_tiling)
            vae_scale = getattr(pipe, "vae_scale_factor", 8)
            # ×2: the VAE encodes by 8 and the UNet runs at 2×; ×4: the UNet runs at the picture's own size.
            image_arg = _pad_image(image, vae_scale * max(1, unit // 2) if params.kind == X2 else max(unit, vae_scale))
        call: dict = dict(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt or None,
            image=image_arg,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(params.seed),
            callback_steps=1,
        )
        if params.kind == X2:
            call["output_type"] = "latent"  # decoded below, so the latents can be cached for further chaining
        else:
            call["noise_level"] = params.noise_level
        preview_family = "sd" if params.kind == X2 else "other"  # ×4 latents: another VAE, a coarse stretch
        started = time.perf_counter()
        steps_done = 0

        def callback(step: int, _timestep, latents) -> None:
            nonlocal steps_done
            if cancelled():
                raise _Cancelled
            steps_done = step + 1
            elapsed = time.perf_counter() - started
            eta = elapsed / steps_done * (params.steps - steps_done)
            if on_step is not None:
                on_step(StepInfo(steps_done, params.steps, latent_preview(latents, preview_family), elapsed, eta))

        self._status(f"{params.label.capitalize()} to {out_size[0]}×{out_size[1]}…")
        try:
            with torch.inference_mode():
                output = pipe(**call, callback=callback)
                latents = None
                if params.kind == X2:
                    kept = output.images[:1, :, : out_size[1] // 8, : out_size[0] // 8]  # the padding cropped off
                    latents = kept.detach().cpu()
                    result_image = decode_latents(pipe, kept)
                else:
                    result_image = output.images[0].crop((0, 0, *out_size))
        except _Cancelled:
            free_hooks(pipe)
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.") from None
        except torch.OutOfMemoryError as exc:
            free_hooks(pipe)
            raise RestyleError(
                ErrorKind.OUT_OF_MEMORY,
                f"The device ran out of memory making the {out_size[0]}×{out_size[1]} {params.label}. Turn on VAE "
                "tiling, or upscale a smaller image.",
            ) from exc
        if cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.")
        record = GenerationParams(
            model=params.model, prompt=params.prompt, negative_prompt=params.negative_prompt,
            init_image=params.image, strength=1.0, guidance_scale=params.guidance_scale, steps=params.steps,
            seed=params.seed, width=result_image.width, height=result_image.height, device=params.device,
        )
        return GenerationResult(
            image=result_image, params=record, model=info, steps_run=steps_done,
            sampler=sampler_name(type(pipe.scheduler).__name__), elapsed=time.perf_counter() - started,
            latents=latents, chain_mode=chain_mode, notes=tuple(notes), upscale=params,
        )


def _pad_latents(latents, multiple: int):
    """Latents padded on the right and bottom (edge values repeated) to multiples of ``multiple``."""
    import torch.nn.functional as F  # noqa: N812

    height, width = latents.shape[-2:]
    pad_w, pad_h = -width % multiple, -height % multiple
    if not pad_w and not pad_h:
        return latents
    return F.pad(latents.float(), (0, pad_w, 0, pad_h), mode="replicate").to(latents.dtype)


def _pad_image(image, multiple: int):
    """The picture padded on the right and bottom (edge pixels repeated) to multiples of ``multiple``."""
    import numpy as np
    from PIL import Image

    width, height = image.size
    pad_w, pad_h = -width % multiple, -height % multiple
    if not pad_w and not pad_h:
        return image
    array = np.pad(np.asarray(image.convert("RGB")), ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return Image.fromarray(array)
