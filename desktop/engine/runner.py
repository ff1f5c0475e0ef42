"""Running generations: the one object that holds pipelines and turns parameters into images.

Not thread-safe, by design: pipelines, schedulers and fast tokenizers are stateful (diffusers #1606, #3672),
so exactly one thread (the worker's, or the CLI's main thread) owns an ``Engine``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop.core.depth_maps import load_depth_map, match_depth_to
from desktop.core.errors import ErrorKind, RestyleError, bad_input
from desktop.core.families import (
    PRIOR,
    family_call_kwargs,
    profile_of,
    refuse_unsupported,
    resolve_family_params,
    spec_for,
)
from desktop.core.images import fit_size, load_image, resize_for_model
from desktop.core.masked_run import MaskedRun, plan_masked_run
from desktop.core.masks import load_mask
from desktop.core.model_hash import short_hash
from desktop.core.params import (
    GenerationParams,
    GenerationResult,
    ModelInfo,
    StepInfo,
    effective_steps,
    random_seed,
)
from desktop.core.runtime import RuntimeSettings
from desktop.core.schemas import latents_match
from desktop.core.sources import family_of, resolve_model

from .controlnet import (
    controlnet_call_kwargs,
    controlnet_pipelines,
    default_controlnet,
    load_controlnet,
)
from .device import pick_device
from .flow import adjust_prompts, denoiser, unpacked
from .flow_files import check_quantization
from .flux_control import adjust_flux_control_call
from .inpaint import has_inpainting_unet, inpainting_pipeline, refuse_text_to_image
from .latents import LATENT_FAMILIES, decode_latents, load_latents, vae_fingerprint
from .memory import check_memory
from .models import load_img2img_pipeline, natural_size
from .preview_decoder import PreviewDecoders
from .preview_stream import PreviewStream
from .prompt_embeds import prompt_call_kwargs
from .runtime import (
    apply_in_place,
    free_hooks,
    free_memory,
    is_out_of_memory,
    load_device,
    out_of_memory_error,
    place,
    resolve_runtime,
    torch_dtype,
)
from .styles import StyleFolders, StyleState, check_styles

log = logging.getLogger(__name__)

StepCallback = Callable[[StepInfo], None]
CancelCheck = Callable[[], bool]


class _Cancelled(Exception):
    """Raised from the step callback: it stops the loop at once and skips the final VAE decode."""


@dataclass
class _Loaded:
    key: tuple[str, str]
    info: ModelInfo
    img2img: object
    txt2img: object | None = None
    # (ControlNet name, img2img, txt2img), made from img2img with from_pipe. One ControlNet at a time: each
    # weighs about a third of the UNet, and artists switch depth on and off far more often than ControlNets.
    control: tuple[str, object, object] | None = None
    # Inpainting pipelines made with from_pipe, by ControlNet name ("" = none); for an inpainting checkpoint
    # ``img2img`` itself is one, and every run of it goes through the mask path.
    inpaint: dict[str, object] = field(default_factory=dict)
    inpainting_unet: bool = False
    applied: RuntimeSettings | None = None  # the device and memory settings in force on these pipelines
    styles: StyleState | None = None  # sampler, LoRAs, embeddings and references already on this model


class Engine:
    """Loads one model at a time and runs image-to-image (or text-to-image without an init image)."""

    def __init__(self, status: Callable[[str], None] | None = None, *, allow_pickles: bool = False,
                 hash_cache: Path | None = None):
        self._status = status or (lambda message: None)
        self._hash_cache = hash_cache  # where single-file model hashes are remembered (None: this process only)
        self._loaded: _Loaded | None = None
        self.allow_pickles = allow_pickles  # the user's "Allow pickle checkpoints" (read as weights only)
        self.runtime = RuntimeSettings()
        self.style_folders = StyleFolders()  # where LoRAs and embeddings are found by name
        self._cancelled: CancelCheck = lambda: False  # the running generate()'s, for downloads made during it
        self._preview_decoders = PreviewDecoders(self._status)  # TAESD for detailed previews, kept loaded
        quiet_libraries()

    @property
    def model_info(self) -> ModelInfo | None:
        """The loaded model, or None."""
        return self._loaded.info if self._loaded else None

    def configure(self, runtime: RuntimeSettings) -> None:
        """Use these device and memory settings from the next ``load`` on (``runtime.device`` is ignored:
        the device travels in GenerationParams). Tiling and the like switch on the loaded model; a new dtype
        or offload reloads it."""
        self.runtime = runtime.validate()

    def unload(self) -> str | None:
        """Let go of the loaded model and give its memory back; the name of the one unloaded, or None."""
        if self._loaded is None:
            return None
        name, self._loaded = self._loaded.info.display_name, None
        free_memory()
        return name

    def load(self, model: str, device: str = "auto", cancelled: CancelCheck | None = None) -> ModelInfo:
        """Make ``model`` the loaded one (no-op when it already is); raises RestyleError. ``cancelled`` stops a
        download the load needs."""
        source = resolve_model(model, allow_pickles=self.allow_pickles)
        device = pick_device(device)
        runtime, notes = resolve_runtime(self.runtime, device)
        key = (source.location, device, runtime.reload_key())
        if self._loaded and self._loaded.key == key:
            self._loaded.applied = apply_in_place(self._loaded.img2img, runtime, self._loaded.applied)
            if notes != self._loaded.info.runtime_notes:
                self._loaded.info = replace(self._loaded.info, runtime_notes=notes)
            return self._loaded.info
        self._loaded = None  # drop the old pipeline before loading the next, so both never share memory
        dtype = torch_dtype(runtime.dtype)
        started = time.perf_counter()
        try:
            check_quantization(runtime.quantization, device)
            check_memory(source, runtime, device, self._status)  # the estimate; refused when it cannot fit
            pipe = load_img2img_pipeline(source, load_device(runtime, device), dtype, self._status,
                                         allow_pickles=self.allow_pickles, runtime=runtime, cancelled=cancelled)
            inpainting_unet = has_inpainting_unet(pipe)
            if inpainting_unet:
                # AutoPipelineForImage2Image maps an inpainting checkpoint to the img2img class, which cannot feed
                # a 9-channel UNet: the same modules become the family's inpainting pipeline.
                pipe = inpainting_pipeline(pipe)
            place(pipe, runtime, device)
            applied = apply_in_place(pipe, runtime, None)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            raise out_of_memory_error(self.runtime, device, None) from exc
        pipeline_class = type(pipe).__name__
        family = family_of(pipeline_class)
        info = ModelInfo(
            name=source.name,
            display_name=source.display_name,
            family=family,
            natural_size=natural_size(pipe, family),
            pipeline_class=pipeline_class,
            device=device,
            dtype=str(dtype).removeprefix("torch."),
            vae_id=vae_fingerprint(pipe.vae) if getattr(pipe, "vae", None) is not None else "",
            profile=profile_of(pipe),
            runtime_notes=notes,
            model_hash=short_hash(source.location, self._hash_cache) if source.single_file else "",
        )
        self._loaded = _Loaded(key, info, pipe, applied=applied, styles=StyleState(pipe, family),
                               inpainting_unet=inpainting_unet)
        log.info("loaded %s as %s on %s in %.2fs", source.location, pipeline_class, device,
                 time.perf_counter() - started)
        return info

    def _txt2img(self):
        assert self._loaded is not None
        if self._loaded.txt2img is None:
            from diffusers import AutoPipelineForText2Image

            # from_pipe shares every module with the img2img pipeline: no second load, no extra memory.
            self._loaded.txt2img = AutoPipelineForText2Image.from_pipe(self._loaded.img2img)
            place(self._loaded.txt2img, self._loaded.applied, self._loaded.info.device)
            self._loaded.txt2img.set_progress_bar_config(disable=True)
        return self._loaded.txt2img

    def _control_pipelines(self, name: str) -> tuple[object, object]:
        """The depth ControlNet's (img2img, txt2img) pipelines, sharing the loaded model's modules; cached."""
        loaded = self._loaded
        assert loaded is not None
        if loaded.control is not None and loaded.control[0] == name:
            return loaded.control[1], loaded.control[2]
        loaded.control = None  # drop the old ControlNet before loading the next, so both never share memory
        base = loaded.img2img
        kind = "FluxControlNetModel" if loaded.info.family == "flux" else "ControlNetModel"
        controlnet = load_controlnet(name, denoiser(base).dtype, loaded.info.device, self._status, model_class=kind,
                                     cancelled=self._cancelled)
        img2img, txt2img = controlnet_pipelines(base, controlnet)  # refuses a ControlNet of another family
        for pipe in (img2img, txt2img):
            place(pipe, loaded.applied, loaded.info.device)
        loaded.control = (name, img2img, txt2img)
        loaded.inpaint = {k: v for k, v in loaded.inpaint.items() if not k}  # the old ControlNet's go with it
        return img2img, txt2img

    def _inpaint(self, control_name: str = ""):
        """The inpainting pipeline (with the named ControlNet, or none), sharing the loaded modules; cached."""
        loaded = self._loaded
        assert loaded is not None
        if control_name not in loaded.inpaint:
            if not control_name and loaded.inpainting_unet:
                loaded.inpaint[""] = loaded.img2img
            else:
                base = self._control_pipelines(control_name)[0] if control_name else loaded.img2img
                loaded.inpaint[control_name] = inpainting_pipeline(base)
                place(loaded.inpaint[control_name], loaded.applied, loaded.info.device)
        return loaded.inpaint[control_name]

    def generate(
        self,
        params: GenerationParams,
        on_step: StepCallback | None = None,
        cancelled: CancelCheck | None = None,
        init_latents: str | None = None,
    ) -> GenerationResult:
        """Run one generation; raises RestyleError (kind CANCELLED when ``cancelled()`` turns true).

        ``init_latents`` names a latent cache of the init image (see ``latents.save_latents``); it is used
        instead of encoding the image when it was made by the same VAE, else the image is encoded as usual.
        With ``params.control_image`` the depth map is matched to the run's size and a depth ControlNet
        pipeline made from the loaded one runs instead (the result's ``notes`` say when the map was cropped).
        """
        import torch

        params.validate()
        cancelled = cancelled or (lambda: False)
        # What a download started during this run (a ControlNet, a preview decoder) checks to stop with Cancel.
        self._cancelled = cancelled
        init = load_image(params.init_image) if params.init_image else None
        # Read before the slow model load, so a file that is not a depth map (or a mask) is refused at once.
        depth = load_depth_map(params.control_image) if params.uses_depth else None
        mask = load_mask(params.mask_image) if params.mask_image else None
        if params.uses_mask and init is None:
            raise bad_input("A mask or outpainting needs a picture to work on: drop an image first, or clear the "
                            "mask to start from a prompt alone.")
        check_styles(params, self.style_folders, allow_pickles=self.allow_pickles)  # missing LoRAs, before the load
        info = self.load(params.model, params.device, cancelled)
        if cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled.")
        inpainting_unet = self._loaded.inpainting_unet
        masked_run = init is not None and (params.uses_mask or inpainting_unet)
        if inpainting_unet and init is None:
            raise refuse_text_to_image(info)
        latent_init = None
        # A masked run needs the picture's pixels (the mask is applied to them); its latents are not used.
        if init is not None and init_latents and info.family in LATENT_FAMILIES and not masked_run:
            cached = load_latents(init_latents)
            scale = getattr(self._loaded.img2img, "vae_scale_factor", 8)
            channels = getattr(getattr(self._loaded.img2img, "vae", None), "config", None)
            channels = getattr(channels, "latent_channels", 4)
            # Only the picture's own latents: a file of another shape would set the run's size (80×56 → 8192²).
            if cached is not None and cached[1] == info.vae_id and \
                    latents_match(tuple(cached[0].shape), init.size, scale, channels):
                latent_init = cached[0]
            elif cached is not None:
                log.warning("cached latents %s do not fit the picture; it goes through pixels", init_latents)
        if latent_init is not None:
            # The latents fix the size: the run continues exactly where the parent left off.
            scale = getattr(self._loaded.img2img, "vae_scale_factor", 8)
            params = params.replace(width=latent_init.shape[-1] * scale, height=latent_init.shape[-2] * scale)
        notes: list[str] = []
        plan: MaskedRun | None = None
        if masked_run:
            refuse_unsupported(params, info.profile, img2img=True)  # before any work on the mask
            seed = params.seed if params.seed is not None else random_seed()
            whole = ("This is an inpainting model and no mask was given, so the whole picture was restyled."
                     if inpainting_unet else None)
            plan = plan_masked_run(init, mask, params.replace(seed=seed), info.natural_size,
                                   spec_for(info.profile).size_multiple, whole_if_missing=whole)
            init = plan.image  # the run's size is the plan's: the crop's for "only masked"
            params = params.replace(seed=seed, width=plan.size[0], height=plan.size[1])
            notes.extend(plan.notes)
        params = self._resolve(params, init, info)
        refuse_unsupported(params, info.profile, img2img=init is not None)
        params = resolve_family_params(params, info.profile)  # the family's defaults, recorded in the result
        control = control_pipes = None
        if depth is not None:
            if plan is not None and plan.box is not None:
                # Lined up with the whole picture first, then cut out like the masked area.
                full, note = match_depth_to(depth, plan.source.size)
                control = plan.crop_for_run(full)
            else:
                control, note = match_depth_to(depth, (params.width, params.height))
            if note:
                notes.append(note)
            name = params.controlnet.strip() or default_controlnet(self._loaded.img2img)
            control_pipes = self._control_pipelines(name)
            params = params.replace(controlnet=name)  # the metadata names the ControlNet really used
            if cancelled():
                raise RestyleError(ErrorKind.CANCELLED, "Cancelled.")
        call: dict = dict(
            guidance_scale=params.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(params.seed),
            height=params.height,
            width=params.width,
        )
        uses_strength = spec_for(info.profile).uses_strength
        if plan is not None:
            pipe = self._inpaint(params.controlnet if control_pipes else "")
            num_steps = effective_steps(params.steps, params.strength)
            # The inpainting pipelines take height/width (and need them: the mask is resized to them).
            call.update(image=plan.image, mask_image=plan.mask, strength=params.strength)
        elif init is not None:
            pipe = control_pipes[0] if control_pipes else self._loaded.img2img
            num_steps = effective_steps(params.steps, params.strength) if uses_strength else params.steps
            if latent_init is not None:
                # The execution device, not unet.device: under offload the UNet sits on the CPU (or meta).
                image_arg = latent_init.to(device=pipe._execution_device, dtype=denoiser(pipe).dtype)
            else:
                image_arg = resize_for_model(init, (params.width, params.height))
            call.update(image=image_arg)
            if uses_strength:  # FLUX Kontext takes the picture as a condition: every step runs, no strength
                call["strength"] = params.strength
            # The img2img pipelines size the output from the image; passing height/width is not accepted by all.
            call.pop("height"), call.pop("width")
        else:
            pipe = control_pipes[1] if control_pipes else self._txt2img()
            num_steps = params.steps
        # Sampler, LoRAs, embeddings and references on the loaded modules (styles.py): nothing is reloaded.
        styled = self._loaded.styles.prepare_run(pipe, params, self.style_folders, allow_pickles=self.allow_pickles,
                                                 status=self._status)
        params = styled.params
        notes.extend(styled.notes)
        call.update(styled.call_kwargs)
        # Plain text as typed, or weighted / long prompts as embeddings (the pipelines share one text encoder).
        prompt_kwargs, prompt_notes = prompt_call_kwargs(pipe, info.family, styled.prompt, styled.negative_prompt)
        call.update(prompt_kwargs)
        notes.extend(prompt_notes)
        adjust_prompts(call, pipe, params, info.profile, notes)
        if control is not None:
            # ControlNet img2img does take height/width, and needs them when the two images differ (#5953).
            call.update(controlnet_call_kwargs(control, params.control_scale, params.control_start,
                                               params.control_end, width=params.width, height=params.height,
                                               img2img=init is not None))
        call["num_inference_steps"] = num_steps
        call.update(family_call_kwargs(params, info.profile, img2img=init is not None))
        if control is not None and info.family == "flux":
            adjust_flux_control_call(call, img2img=init is not None, notes=notes)
        keep_latents = info.family in LATENT_FAMILIES
        if keep_latents:
            call["output_type"] = "latent"  # decoded below, so the latents can be cached for chaining
        expected_total = (min(int(num_steps * params.strength), num_steps) if init is not None and uses_strength
                          else num_steps)

        started = time.perf_counter()
        steps_done = 0
        previews = PreviewStream(info.family)
        # Detailed previews (TAESD every k steps) when the settings ask for them; else latent colours.
        detailed = self._preview_decoders.for_run(self.runtime, info.family, pipe._execution_device,
                                                  getattr(getattr(pipe, "vae", None), "dtype", None), notes,
                                                  cancelled=cancelled)

        def step_end(pipeline, i, t, tensors):
            nonlocal steps_done
            if cancelled():
                raise _Cancelled
            steps_done = i + 1
            total = max(getattr(pipeline, "_num_timesteps", 0) or expected_total, steps_done)
            elapsed = time.perf_counter() - started
            eta = elapsed / steps_done * (total - steps_done) if steps_done else None
            if on_step is not None:
                # FLUX's packed latents unpacked first (views on the device); on CUDA a step or two late, no sync.
                latents = unpacked(pipeline, tensors["latents"], params.width, params.height)
                preview = (detailed.take(latents, steps_done, total) if detailed is not None
                           else previews.take(latents))
                on_step(StepInfo(steps_done, total, preview, elapsed, eta))
            return tensors

        def prior_step_end(pipeline, i, t, tensors):
            if cancelled():  # the prior runs first: a cancel there must not wait for the whole prior
                raise _Cancelled
            return tensors

        if spec_for(info.profile).accepts(PRIOR):
            call["prior_callback_on_step_end"] = prior_step_end
        try:
            with torch.inference_mode():
                output = pipe(**call, callback_on_step_end=step_end, callback_on_step_end_tensor_inputs=["latents"])
        except _Cancelled:
            free_hooks(pipe)
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.") from None
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            free_hooks(pipe)
            raise out_of_memory_error(self.runtime, info.device, (params.width, params.height),
                                      t5_optional=info.family == "sd3") from exc
        if cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.")
        latents = None
        if keep_latents:
            held = unpacked(pipe, output.images[:1], params.width, params.height)
            latents = held.detach().cpu()
            try:
                image = decode_latents(pipe, held, notes)  # redone in fp32 if fp16 gives NaN
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                raise out_of_memory_error(self.runtime, info.device, (params.width, params.height),
                                          t5_optional=info.family == "sd3") from exc
        else:
            image = output.images[0]
        if plan is not None:
            # Outside the mask, the picture's own pixels: the VAE's drift never reaches what was meant to stay.
            image = plan.finish(image)
            latents = None  # they hold the unblended run; the next run starts from the composited pixels
        return GenerationResult(
            image=image,
            params=params,
            model=info,
            steps_run=steps_done,
            sampler=params.sampler,
            elapsed=time.perf_counter() - started,
            latents=latents,
            chain_mode=None if init is None else ("latent" if latent_init is not None else "pixels"),
            depth_map=control,
            notes=tuple(notes),
            mask=plan.painted if plan is not None else None,
            style_fields=tuple(styled.fields),
        )

    @staticmethod
    def _resolve(params: GenerationParams, init, info: ModelInfo) -> GenerationParams:
        """Fill in the seed and the size the run will really use."""
        seed = params.seed if params.seed is not None else random_seed()
        width, height = params.width, params.height
        if width is None or height is None:
            if init is not None:
                width, height = fit_size(init.width, init.height, info.natural_size,
                                         spec_for(info.profile).size_multiple)
            else:
                width = height = info.natural_size
        params.require_a_start()
        return params.replace(seed=seed, width=width, height=height)


def quiet_libraries() -> None:
    """Silence tqdm bars and advisory warnings from diffusers/transformers: the app shows its own progress."""
    import warnings

    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=FutureWarning, module="diffusers")
