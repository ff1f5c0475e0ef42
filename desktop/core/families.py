"""Model families: what each accepts, its defaults, and how parameters become its pipeline's arguments.

The table (``FAMILIES``) is plain data with no torch import, so the UI reads it to show only the controls the
loaded model accepts and to switch defaults when the family changes. ``profile_of`` tells the family of a
loaded pipeline from its class, as ``AutoPipelineForImage2Image`` chose it from the checkpoint's
``model_index.json``; ``family_call_kwargs`` adds the family's own arguments to a pipeline call.

Profiles are finer than ``ModelInfo.family`` (which decides latents and previews): the SDXL refiner is an
``sdxl`` model with its own profile, because it takes aesthetic scores and ``denoising_start`` and cannot
start from nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The optional controls a family may accept (the panels show exactly these).
# The GenerationParams fields only some families take; None = the loaded family's default.
FAMILY_FIELDS = ("aesthetic_score", "negative_aesthetic_score", "denoising_start", "prior_guidance_scale",
                 "prior_steps", "true_cfg_scale")

AESTHETIC = "aesthetic_score"  # aesthetic_score and negative_aesthetic_score
DENOISING_START = "denoising_start"
PRIOR = "prior"  # prior_guidance_scale and prior_steps
TEXT2IMG = "text2img"  # can start from nothing (no init image)
DEPTH = "depth"  # a depth ControlNet exists for it
INPAINT = "inpaint"  # diffusers has an inpainting pipeline for it (masked restyle, outpainting)
TRUE_CFG = "true_cfg"  # FLUX: real classifier-free guidance (and so a negative prompt) on top of distilled guidance


# T5 reads the prompt as plain words: no (word:1.2) weights, no 75-token chunks, its own token limit.
_T5_NOTE = "T5 reads up to {limit} tokens of plain words; (word:1.2) weights are not applied."

# The families that denoise with a transformer over 16-channel latents (flow matching): SD 3 and FLUX.
FLOW_FAMILIES = ("sd3", "flux")
# Maximum T5 tokens per profile (diffusers' max_sequence_length; FLUX schnell and SD 3 were trained with 256).
T5_TOKENS = {"sd3": 256, "sd3-turbo": 256, "flux": 512, "flux-schnell": 256, "flux-kontext": 512}


@dataclass(frozen=True)
class FamilySpec:
    """One family's defaults and the controls its pipelines accept."""

    key: str
    label: str  # as the user reads it
    natural_size: int  # used when the checkpoint does not say (the UNet has no sample_size)
    guidance_scale: float
    strength: float
    steps: int
    controls: frozenset[str]
    # Defaults of the family's own parameters (GenerationParams field → value), filled in when left None.
    extra_defaults: dict[str, Any] = field(default_factory=dict)
    coarse_preview: bool = False  # True: the live preview is a per-channel stretch, not calibrated colours
    size_multiple: int = 8  # sides are rounded to this (Kandinsky's UNet needs latents in multiples of 8)
    uses_strength: bool = True  # False: the init picture is a condition (FLUX Kontext), every step runs
    uses_guidance: bool = True  # False: guidance-free distillations (FLUX schnell, SD 3.5 Large Turbo)
    guidance_label: str = "Guidance"  # FLUX dev's guidance is a distilled input, not classifier-free guidance
    negative_prompt: str = "always"  # "always", "true_cfg" (only with true CFG above 1) or "never"
    text_encoder_note: str = ""  # what the prompt goes through (T5 has no A1111 weights; its token limit)

    def accepts(self, control: str) -> bool:
        """True when the family's pipelines take this control."""
        return control in self.controls

    @property
    def slider_defaults(self) -> dict[str, Any]:
        """The GenerationParams values to apply when a model of this family is loaded after another family."""
        return {"guidance_scale": self.guidance_scale, "strength": self.strength, "steps": self.steps,
                **dict.fromkeys(FAMILY_FIELDS)}


FAMILIES: dict[str, FamilySpec] = {
    spec.key: spec
    for spec in (
        FamilySpec("sd", "Stable Diffusion 1.x/2.x", 512, 7.5, 0.75, 30, frozenset({TEXT2IMG, DEPTH, INPAINT})),
        # diffusers' SDXL pipelines default to guidance 5.0; SDXL looks burnt at SD's 7.5 sooner.
        FamilySpec("sdxl", "SDXL", 1024, 5.0, 0.75, 30, frozenset({TEXT2IMG, DEPTH, INPAINT})),
        # The refiner polishes an image: low strength, the aesthetic scores it was trained with (6.0 / 2.5).
        FamilySpec("sdxl-refiner", "SDXL refiner", 1024, 5.0, 0.3, 30, frozenset({AESTHETIC, DENOISING_START}),
                   {"aesthetic_score": 6.0, "negative_aesthetic_score": 2.5, "denoising_start": None}),
        # Kandinsky 2.2's combined pipelines default to guidance 4.0, strength 0.3, prior guidance 4.0 and 25
        # prior steps; its DDPM decoder wants more steps than SD's schedulers.
        FamilySpec("kandinsky22", "Kandinsky 2.2", 768, 4.0, 0.3, 50, frozenset({TEXT2IMG, PRIOR}),
                   {"prior_guidance_scale": 4.0, "prior_steps": 25}, coarse_preview=True, size_multiple=64),
        # SD 3 / 3.5: the model cards recommend guidance 3.5–4.5 with 28–40 steps; flow matching, 16-px sides
        # (VAE factor 8 × patch 2). Large Turbo is distilled to 4 steps without guidance.
        FamilySpec("sd3", "Stable Diffusion 3.5", 1024, 4.5, 0.75, 28, frozenset({TEXT2IMG}), size_multiple=16,
                   text_encoder_note=_T5_NOTE.format(limit=256)),
        FamilySpec("sd3-turbo", "Stable Diffusion 3.5 Turbo", 1024, 0.0, 0.75, 4, frozenset({TEXT2IMG}),
                   size_multiple=16, uses_guidance=False, text_encoder_note=_T5_NOTE.format(limit=256)),
        # FLUX.1 dev is guidance-distilled: "guidance" is an input of the transformer (3.5 as the model card),
        # one pass per step; true CFG (a second pass with the negative prompt) is optional. Sides in 16s (2×2
        # packing of the 8× latents).
        FamilySpec("flux", "FLUX.1", 1024, 3.5, 0.75, 28, frozenset({TEXT2IMG, TRUE_CFG, DEPTH}),
                   {"true_cfg_scale": 1.0}, size_multiple=16, guidance_label="Distilled guidance",
                   negative_prompt="true_cfg", text_encoder_note=_T5_NOTE.format(limit=512)),
        # schnell: timestep-distilled to 4 steps, no guidance input at all, T5 reads 256 tokens.
        FamilySpec("flux-schnell", "FLUX.1 schnell", 1024, 0.0, 0.75, 4, frozenset({TEXT2IMG, DEPTH}),
                   size_multiple=16,
                   uses_guidance=False, negative_prompt="never", text_encoder_note=_T5_NOTE.format(limit=256)),
        # Kontext edits by instruction: the picture is a condition, not a start point, so there is no strength;
        # the model card uses guidance 2.5 and 28 steps.
        FamilySpec("flux-kontext", "FLUX.1 Kontext", 1024, 2.5, 1.0, 28, frozenset({TEXT2IMG, TRUE_CFG}),
                   {"true_cfg_scale": 1.0}, size_multiple=16, uses_strength=False,
                   guidance_label="Distilled guidance", negative_prompt="true_cfg",
                   text_encoder_note=_T5_NOTE.format(limit=512)),
        FamilySpec("other", "other", 512, 7.5, 0.75, 30, frozenset({TEXT2IMG})),
    )
}


def spec_for(profile: str | None) -> FamilySpec:
    """The spec of a profile key; SD 1.x's when unknown or None (the parameters' own defaults)."""
    return FAMILIES.get(profile or "sd", FAMILIES["other"])


def profile_of(pipe) -> str:
    """The profile of a loaded pipeline, told from its class as AutoPipeline* chose it, and for SDXL its config."""
    name = type(pipe).__name__
    if "StableDiffusionXL" in name:
        config = getattr(pipe, "config", {})
        refiner = bool(getattr(config, "requires_aesthetics_score", False) or
                       (isinstance(config, dict) and config.get("requires_aesthetics_score")))
        # The refiner ships without the first text encoder; either sign is enough.
        if refiner or ("text_encoder" in getattr(pipe, "components", {}) and pipe.text_encoder is None):
            return "sdxl-refiner"
        return "sdxl"
    if "Kandinsky" in name and "V22" in name:
        return "kandinsky22"
    if "StableDiffusion3" in name:
        # Large Turbo has Large's architecture and config; only its name tells it apart.
        return "sd3-turbo" if "turbo" in str(getattr(pipe, "name_or_path", "")).lower() else "sd3"
    if name.startswith("Flux"):
        if "Kontext" in name:
            return "flux-kontext"
        transformer = getattr(pipe, "transformer", None)
        guidance = getattr(getattr(transformer, "config", None), "guidance_embeds", True)
        return "flux" if guidance else "flux-schnell"  # schnell has no guidance input
    if "StableDiffusion" in name or "LatentConsistency" in name:
        return "sd"
    return "other"


def resolve_family_params(params, profile: str):
    """``params`` with the family's own fields filled in where None, and cleared where the family ignores them,
    so the result's metadata records exactly what the pipeline used."""
    spec = spec_for(profile)
    changes: dict[str, Any] = {}
    for name in FAMILY_FIELDS:
        value = getattr(params, name)
        if name in spec.extra_defaults:
            if value is None:
                changes[name] = spec.extra_defaults[name]
        elif value is not None:
            changes[name] = None
    return params.replace(**changes) if changes else params


def refuse_unsupported(params, profile: str, *, img2img: bool) -> None:
    """Raise a bad-input RestyleError, with what to do instead, for a run the family cannot do."""
    from .errors import bad_input

    spec = spec_for(profile)
    if not img2img and not spec.accepts(TEXT2IMG):
        raise bad_input(
            f"The {spec.label} only refines an existing picture: drop an image or continue from a result, "
            "or load an SDXL base model to start from a prompt alone."
        )
    multiple = spec.size_multiple
    if params.width is not None and (params.width % multiple or params.height % multiple):
        raise bad_input(
            f"The {spec.label} needs a width and height in multiples of {multiple} "
            f"(got {params.width}×{params.height}); leave the size empty to fit it automatically."
        )
    if params.uses_mask and not spec.accepts(INPAINT):
        raise bad_input(
            f"Masked restyle and outpainting are not available for the {spec.label}: clear the mask and outpainting "
            "to restyle the whole picture, or use an SD 1.x, 2.x or SDXL model (or their inpainting checkpoints)."
        )
    if profile == "flux-kontext" and params.uses_depth:
        raise bad_input("FLUX.1 Kontext edits by instruction and takes no depth map: switch depth off and say what "
                        "to keep in the prompt (\"keep the pose and the faces\").")
    if params.uses_depth and not spec.accepts(DEPTH) and profile != "other":
        why = _NO_DEPTH.get(profile, "")
        raise bad_input(
            f"Depth control is not available for the {spec.label}{why}: switch depth off, or use an SD 1.x, 2.x "
            "or SDXL base model."
        )


# Why the transformer families take no depth map yet (a sentence part after the family's name).
_NO_DEPTH = {
    "sd3": " in Restyle (diffusers has no SD 3 ControlNet image-to-image pipeline; its text-to-image one is not "
           "wired in yet)",
    "sd3-turbo": " in Restyle (diffusers has no SD 3 ControlNet image-to-image pipeline; its text-to-image one is "
                 "not wired in yet)",
}


def family_call_kwargs(params, profile: str, *, img2img: bool) -> dict[str, Any]:
    """The pipeline arguments particular to the family, for params already passed through
    ``resolve_family_params`` (size and seed resolved)."""
    kwargs: dict[str, Any] = {}
    if profile == "sdxl-refiner":
        kwargs.update(aesthetic_score=params.aesthetic_score, negative_aesthetic_score=params.negative_aesthetic_score)
        if params.denoising_start is not None:
            kwargs["denoising_start"] = params.denoising_start  # overrides strength (diffusers' rule)
    elif profile == "kandinsky22":
        kwargs.update(prior_guidance_scale=params.prior_guidance_scale, prior_num_inference_steps=params.prior_steps)
        if img2img:
            # The Kandinsky 2.2 img2img pipeline resizes the image with preprocess(image, width, height), whose
            # parameters are (height, width): passing the sides swapped is what gives a width × height result.
            kwargs.update(height=params.width, width=params.height)
        else:
            kwargs.update(height=params.height, width=params.width)
    elif profile in T5_TOKENS:
        # SD 3 and FLUX size their output from height/width (1024 px when left out), image-to-image too.
        kwargs.update(height=params.height, width=params.width, max_sequence_length=T5_TOKENS[profile])
        if spec_for(profile).accepts(TRUE_CFG):
            kwargs["true_cfg_scale"] = params.true_cfg_scale
        if profile == "flux-kontext":
            # The run's own size, not Kontext's preferred resolutions: max_area caps the area at width × height
            # and the picture is not first resized to a preferred size.
            kwargs.update(max_area=params.width * params.height, _auto_resize=False)
    return kwargs
