"""Saving results: unique file names and the AUTOMATIC1111-compatible ``parameters`` text."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from desktop import APP_NAME, __version__

from .controlnet import controlnet_display_name
from .errors import bad_input
from .families import spec_for
from .mask_metadata import mask_fields
from .metadata import build_parameters_text, save_png_with_parameters
from .params import GenerationParams, GenerationResult
from .samplers import AUTOMATIC, sampler_for_scheduler, schedule_label
from .style_files import prompt_with_lora_tags


def sampler_name(scheduler_class: str, config: dict | None = None) -> str:
    """The A1111 name of a diffusers scheduler as configured (the class name itself when unknown)."""
    return sampler_for_scheduler(scheduler_class, config)[0]


def parameters_text(result: GenerationResult) -> str:
    """The ``parameters`` text for a result, in A1111's field order."""
    p = result.params
    fields: list[tuple[str, object]] = [
        ("Steps", p.steps),
        ("Sampler", result.sampler),
        # A1111 ≥ 1.6 writes the schedule apart from the sampler; "Automatic" is left out, as the model's own.
        ("Schedule type", schedule_label(p.schedule) if p.schedule != AUTOMATIC else None),
        *guidance_fields(result),
        ("Seed", result.seed),
        ("Size", f"{result.image.width}x{result.image.height}"),
        # Before Model: readers that split this line at every comma (sd-parsers) take the last "Model:" they
        # see, and the ControlNet unit's quoted value holds one.
        ("ControlNet 0", controlnet_field(p) if p.uses_depth else None),
        # A name and a hash, as A1111 writes them: never where the model is on this machine (the workspace's
        # own record keeps that).
        ("Model hash", result.model.model_hash or None),
        ("Model", result.model.display_name),
        ("Denoising strength", p.strength if p.is_img2img and result.upscale is None and _uses_strength(result)
         else None),
        *mask_fields(p),
        # The family's own settings, present only when the family used them (None is left out).
        ("Aesthetic score", p.aesthetic_score),
        ("Negative aesthetic score", p.negative_aesthetic_score),
        ("Denoising start", p.denoising_start),
        ("Prior CFG scale", p.prior_guidance_scale),
        ("Prior steps", p.prior_steps),
        *upscale_fields(result),
        *result.style_fields,  # Lora hashes, TI hashes, reference images
        ("Version", f"{APP_NAME} {__version__}"),
    ]
    return build_parameters_text(prompt_with_lora_tags(p.prompt, p.loras), p.negative_prompt, fields)


def guidance_fields(result: GenerationResult) -> list[tuple[str, object]]:
    """``CFG scale``, and for FLUX the distilled guidance as Forge writes it (``Distilled CFG Scale``), with
    ``CFG scale`` then the true CFG (1 = off)."""
    p = result.params
    spec = spec_for(result.model.profile or result.model.family)
    if spec.guidance_label == "Distilled guidance":
        return [("CFG scale", p.true_cfg_scale or 1.0), ("Distilled CFG Scale", p.guidance_scale)]
    return [("CFG scale", p.guidance_scale if spec.uses_guidance else 1.0)]


def _uses_strength(result: GenerationResult) -> bool:
    return spec_for(result.model.profile or result.model.family).uses_strength


def upscale_fields(result: GenerationResult) -> list[tuple[str, object]]:
    """A1111's hires-fix fields for an upscale (the scale and the upscaler), plus what Restyle did exactly."""
    upscale = result.upscale
    if upscale is None:
        return []
    return [
        ("Hires upscale", upscale.factor),
        ("Hires upscaler", result.model.display_name),
        ("Restyle upscale", upscale.label),
        ("Noise level", upscale.noise_level if upscale.kind == "x4" else None),
    ]


def controlnet_field(p: GenerationParams) -> str:
    """The value A1111's ControlNet extension writes for a unit, so tools that read it show the depth settings."""
    return (
        f"Module: depth, Model: {controlnet_display_name(p.controlnet)}, Weight: {float(p.control_scale)}, "
        f"Guidance Start: {float(p.control_start)}, Guidance End: {float(p.control_end)}"
    )


def unique_output_path(folder: Path, seed: int, now: _dt.datetime | None = None) -> Path:
    """restyle-YYYYMMDD-HHMMSS-SEED.png in ``folder``, with -2, -3… so nothing is overwritten."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"restyle-{stamp}-{seed}"
    candidate = folder / f"{base}.png"
    n = 2
    while candidate.exists():
        candidate = folder / f"{base}-{n}.png"
        n += 1
    return candidate


def save_result(result: GenerationResult, folder: str | Path, path: str | Path | None = None, *,
                overwrite: bool = False) -> Path:
    """Write the result as PNG with its parameters into ``folder`` (or at ``path``); returns the path.

    An existing ``path`` is never replaced unless ``overwrite``; every failure is a sentence naming the folder.
    """
    folder = Path(folder)
    target = Path(path) if path is not None else None
    for where in {folder, *(() if target is None else (target.parent,))}:
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            what = "is a file, not a folder" if where.is_file() or isinstance(exc, FileExistsError) \
                else f"cannot be made ({exc.strerror or exc})"
            raise bad_input(f"The output folder {where} {what}: choose another output folder.") from None
    if target is None:
        target = unique_output_path(folder, result.seed)
    elif target.exists() and not overwrite:
        raise bad_input(f"{target} already exists; Restyle does not replace it. Choose another name, or pass "
                        "--overwrite to replace it.")
    save_png_with_parameters(result.image, target, parameters_text(result))
    return target
