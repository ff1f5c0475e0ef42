"""``restyle generate …``: one picture headless, saved as a PNG with AUTOMATIC1111-compatible metadata.

Exit codes of ``generate``: 0 success; 2 with one line on stderr for a bad argument, an unreadable image or a
missing model; 1 for anything else, with the log file's path.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    OneLineParser,
    fail,
    fail_with,
    in_range,
)
from .mask_args import add_mask_arguments, mask_params
from .settings_from import apply_settings_from
from .style_flags import add_style_flags, configure_styles, style_params

log = logging.getLogger(__name__)
# What neither a flag nor --settings-from gave; strength, guidance and steps take the model family's defaults later.
DEFAULTS = {"negative": ""}


def generate_parser() -> argparse.ArgumentParser:
    from desktop.core.runtime import DEVICES, DTYPES, OFFLOADS, QUANTIZATIONS

    parser = OneLineParser(prog="restyle generate", description="Generate one image headless and save it as PNG "
                            "with AUTOMATIC1111-compatible metadata.")
    parser.add_argument("--model",
                        help="a Hugging Face id, a local diffusers folder (SD 1.x/2.x, SDXL, Kandinsky 2.2, SD 3.5, "
                        "FLUX.1, FLUX.1 Kontext) or a .safetensors / .gguf checkpoint (with --settings-from: the "
                        "picture's model when it is installed)")
    parser.add_argument("--allow-pickles", action="store_true", help="open .ckpt/.pt/.bin pickle checkpoints "
                        "(read as weights only; refused by default because pickles can carry code)")
    parser.add_argument("--settings-from", metavar="IMAGE", help="take prompt, seed, steps, CFG, size, strength and "
                        "model from a picture made by Restyle, AUTOMATIC1111, ComfyUI, Fooocus, InvokeAI or NovelAI "
                        "(flags given here win)")
    parser.add_argument("--prompt", help="required unless --settings-from gives one")
    parser.add_argument("--init", help="the image to restyle (omit for text-to-image)")
    parser.add_argument("--negative", help="negative prompt (default: none)")
    # Left out: the model family's default (SD 1.x 0.75 / 7.5 / 30, FLUX.1 dev 3.5 distilled / 28, schnell 4 steps…).
    parser.add_argument("--strength", type=in_range("strength"),
                        help="how much the image may change (default: the family's, 0.75 for most)")
    parser.add_argument("--guidance", type=in_range("guidance_scale", "guidance"),
                        help="CFG scale; FLUX.1: the distilled guidance (default: the family's)")
    parser.add_argument("--steps", type=in_range("steps"), help="denoising steps (default: the family's)")
    parser.add_argument("--seed", type=in_range("seed"), help="empty: random (the seed used is printed)")
    parser.add_argument("--width", type=in_range("width"))
    parser.add_argument("--height", type=in_range("height"))
    parser.add_argument("--output", help="the PNG to write (default: a new file in the output folder)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --output file (batch: existing files in OUT_DIR)")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--data-dir", help="keep logs (and default outputs) in this folder")
    depth = parser.add_argument_group("depth control", "keep the composition (a depth map), change the style")
    source = depth.add_mutually_exclusive_group()
    source.add_argument("--control-image", metavar="DEPTH", help="a depth map (8/16-bit grey or RGB, near = bright)")
    source.add_argument("--estimate-depth", action="store_true", help="estimate the depth map from --init first")
    depth.add_argument("--depth-model", default="", help="the transformers depth model for --estimate-depth "
                       "(default: depth-anything/Depth-Anything-V2-Small-hf)")
    depth.add_argument("--controlnet", default="", help="a depth ControlNet: Hub id or diffusers folder "
                       "(default: the one for the model's family)")
    depth.add_argument("--control-scale", type=in_range("control_scale"), default=0.8)
    depth.add_argument("--control-start", type=in_range("control_start"), default=0.0)
    depth.add_argument("--control-end", type=in_range("control_end"), default=1.0)
    family = parser.add_argument_group("model families", "settings only some families take; left out, the "
                                       "family's default is used (and ignored by families that do not take it)")
    family.add_argument("--aesthetic-score", type=in_range("aesthetic_score"),
                        help="SDXL refiner: the rating to aim for (default 6.0)")
    family.add_argument("--negative-aesthetic-score", type=in_range("negative_aesthetic_score"),
                        help="SDXL refiner: the rating to steer away from (default 2.5)")
    family.add_argument("--denoising-start", type=float,
                        help="SDXL refiner: start at this fraction of the schedule, instead of --strength")
    family.add_argument("--prior-guidance", type=in_range("prior_guidance_scale", "prior guidance"),
                        help="Kandinsky 2.2: guidance of the prior (default 4.0)")
    family.add_argument("--prior-steps", type=in_range("prior_steps"),
                        help="Kandinsky 2.2: steps of the prior (default 25)")
    family.add_argument("--true-cfg", type=in_range("true_cfg_scale", "true CFG"), metavar="S",
                        help="FLUX.1 / Kontext: real classifier-free guidance with the negative prompt, a second "
                        "pass per step (default 1 = off)")
    add_style_flags(parser)
    add_mask_arguments(parser)
    memory = parser.add_argument_group("devices and memory", "as in the window's File ▸ Settings…")
    memory.add_argument("--dtype", choices=DTYPES, default="auto",
                        help="precision (auto: fp16 on a GPU, fp32 on the CPU)")
    memory.add_argument("--offload", choices=OFFLOADS, default="none",
                        help="CPU offload, for GPUs short of memory")
    memory.add_argument("--vae-tiling", action="store_true",
                        help="decode large images tile by tile (and a batch one image at a time)")
    memory.add_argument("--attention-slicing", action="store_true", help="attention in slices (less memory)")
    memory.add_argument("--compile", action="store_true", help="torch.compile the UNet (CUDA; slow first run)")
    memory.add_argument("--no-t5", action="store_true", help="SD 3.5: leave the T5 text encoder out (about 9.5 GB "
                        "less; prompts read by CLIP only, 77 tokens, weaker at text and long descriptions)")
    memory.add_argument("--quantize", choices=QUANTIZATIONS, default="none", help="SD 3.5 / FLUX.1: quantize the "
                        "transformer and T5 on load (bitsandbytes: CUDA; torchao), where the package is installed")
    parser.add_argument("--cluster", metavar="ADDRESS", help="run on a GPU of the Ray cluster at ADDRESS (HOST:PORT, "
                        "ray://HOST:10001, or auto for the one on this computer); the picture is saved here. Needs "
                        "restyle[cluster]; see docs/CLUSTER.md")
    return parser


def run_generate(argv: list[str]) -> int:
    """``restyle generate``: the same engine as the window, without Qt."""
    from desktop.core.errors import RestyleError
    from desktop.core.params import GenerationParams
    from desktop.core.paths import data_dir, default_output_dir, setup_logging

    args = generate_parser().parse_args(argv)
    folder = data_dir(args.data_dir)
    log_file = setup_logging(folder)
    try:
        notes = apply_settings_from(args, folder, DEFAULTS, take_size=not args.init)
    except RestyleError as exc:
        return fail_with(exc, "generate", log_file)
    for note in notes:
        print(note, file=sys.stderr)
    output = Path(args.output).expanduser() if args.output else None
    if output is not None and output.suffix.lower() != ".png":
        return fail(EXIT_BAD_INPUT, f"--output must be a .png file (got {output.name}).")
    if output is not None and output.exists() and not args.overwrite:  # said now, not after a long run
        return fail(EXIT_BAD_INPUT, f"{output} already exists; Restyle does not replace it. Choose another name, "
                                    "or pass --overwrite to replace it.")
    depth_refusal = _check_depth_args(args)
    if depth_refusal:
        return fail(EXIT_BAD_INPUT, depth_refusal)
    params = GenerationParams(
        model=args.model, prompt=args.prompt, negative_prompt=args.negative, init_image=args.init,
        **given_sliders(args), seed=args.seed,
        width=args.width, height=args.height, device=args.device, control_image=args.control_image,
        controlnet=args.controlnet, control_scale=args.control_scale, control_start=args.control_start,
        control_end=args.control_end, aesthetic_score=args.aesthetic_score,
        negative_aesthetic_score=args.negative_aesthetic_score, denoising_start=args.denoising_start,
        prior_guidance_scale=args.prior_guidance, prior_steps=args.prior_steps, true_cfg_scale=args.true_cfg,
        **style_params(args), **mask_params(args),
    )
    engine = None
    try:
        params.validate()
        init = None
        if args.init:
            from desktop.core.images import load_image

            init = load_image(args.init)  # fail fast, before the slow model load
        if args.control_image:
            from desktop.core.depth_maps import load_depth_map

            load_depth_map(args.control_image)
        if args.mask:
            from desktop.core.masks import load_mask

            load_mask(args.mask)
        from desktop.core.output import save_result
        from desktop.engine.runner import Engine

        def status(message: str) -> None:
            print(message, file=sys.stderr)

        if args.cluster:  # the same engine calls, run by an actor of the cluster
            from desktop.cluster.pools import cluster_engine

            engine = cluster_engine(args.cluster, allow_pickles=args.allow_pickles, status=status)
        else:
            from desktop.core.model_hash import HASH_CACHE_NAME

            engine = Engine(status=status, allow_pickles=args.allow_pickles, hash_cache=folder / HASH_CACHE_NAME)
        configure_styles(engine, args, folder, params)
        from desktop.core.runtime import RuntimeSettings

        engine.configure(RuntimeSettings(dtype=args.dtype, offload=args.offload, vae_tiling=args.vae_tiling,
                                         vae_slicing=args.vae_tiling, attention_slicing=args.attention_slicing,
                                         compile_unet=args.compile, channels_last=args.compile,
                                         t5_encoder=not args.no_t5, quantization=args.quantize))
        params = with_family_defaults(params, engine.load(args.model, args.device).profile, given_sliders(args))
        if args.estimate_depth:
            params = params.replace(control_image=str(_estimate_depth(init, args, folder, status)))
        result = engine.generate(params)
        for note in (*result.model.runtime_notes, *result.notes):
            status(note)
        path = save_result(result, output.parent if output else default_output_dir(args.data_dir), output,
                           overwrite=args.overwrite)
    except RestyleError as exc:
        return fail_with(exc, "generate", log_file)
    except Exception:  # the user gets one line; the traceback goes to the log
        log.exception("generate crashed")
        return fail(EXIT_FAILED, f"Generation failed unexpectedly; the details are in {log_file}")
    finally:
        if args.cluster and engine is not None:
            engine.close()
    print(f"{path} (seed {result.seed}, {result.image.width}×{result.image.height}, {result.elapsed:.1f} s)")
    return EXIT_OK


def given_sliders(args: argparse.Namespace) -> dict:
    """The strength, guidance and steps the user gave (the others take the model family's defaults)."""
    names = {"strength": "strength", "guidance_scale": "guidance", "steps": "steps"}
    return {field: getattr(args, flag) for field, flag in names.items() if getattr(args, flag, None) is not None}


def with_family_defaults(params, profile: str, given: dict):
    """``params`` with the family's strength, guidance and steps where the user gave none."""
    from desktop.core.families import spec_for

    spec = spec_for(profile)
    defaults = {"strength": spec.strength, "guidance_scale": spec.guidance_scale, "steps": spec.steps}
    return params.replace(**{**defaults, **given})


def _check_depth_args(args: argparse.Namespace) -> str | None:
    """A sentence for depth flags that cannot work together, or None."""
    if args.estimate_depth and not args.init:
        return "--estimate-depth needs --init: the depth map is estimated from the init image."
    if not (args.control_image or args.estimate_depth):
        given = [flag for flag, value in (("--controlnet", args.controlnet), ("--depth-model", args.depth_model),
                                          ("--control-scale", args.control_scale != 0.8),
                                          ("--control-start", args.control_start != 0.0),
                                          ("--control-end", args.control_end != 1.0)) if value]
        if given:
            return f"{given[0]} needs --control-image or --estimate-depth."
    elif args.depth_model and not args.estimate_depth:
        return "--depth-model is only used with --estimate-depth."
    return None  # start before end is checked by GenerationParams.validate, in the same words as the window


def _estimate_depth(init, args: argparse.Namespace, folder: Path, status) -> Path:
    """Estimate the depth of the init image into the data folder's inputs/ (kept, so the run can be repeated)."""
    import datetime as _dt

    from desktop.core.depth_maps import DEFAULT_DEPTH_MODEL
    from desktop.core.errors import bad_input
    from desktop.engine.depth import DepthEstimator

    model = args.depth_model.strip() or DEFAULT_DEPTH_MODEL
    status(f"Estimating depth with {Path(model).name or model}…")
    depth = DepthEstimator().estimate(init, model, args.device)
    target = folder / "inputs" / f"depth-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}.png"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        depth.save(target, format="PNG")
    except OSError as exc:
        reason = exc.strerror or exc
        raise bad_input(f"The estimated depth map could not be saved in {target.parent}: {reason}.") from None
    status(f"Depth map saved as {target}.")
    return target
