"""``restyle upscale IMAGE --x2|--x4 [...]``: the window's Upscale ×2 / Super-resolution ×4, headless.

Exit codes as ``generate``: 0 success; 2 with one line on stderr for a bad argument, an unreadable image, a
missing model or an output too large for the device's memory; 1 for anything else, with the log file's path.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from desktop.core.files import is_regular_file

from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    OneLineParser,
    fail,
    fail_with,
    in_range,
)

log = logging.getLogger(__name__)


def upscale_parser() -> argparse.ArgumentParser:
    """The parser of ``restyle upscale``."""
    parser = OneLineParser(prog="restyle upscale", description="Upscale an image 2× in latent space "
                            "(sd-x2-latent-upscaler) or 4× with the super-resolution model "
                            "(stable-diffusion-x4-upscaler).")
    parser.add_argument("image", metavar="IMAGE", help="the picture to upscale")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--x2", dest="kind", action="store_const", const="x2", help="latent upscaler, 2×")
    kind.add_argument("--x4", dest="kind", action="store_const", const="x4", help="super-resolution, 4×")
    parser.add_argument("--prompt", default="", help="what the picture shows (guides the upscaler)")
    parser.add_argument("--negative", default="")
    parser.add_argument("--steps", type=in_range("steps"), default=None, help="default 20 (×2), 30 (×4)")
    parser.add_argument("--guidance", type=in_range("guidance_scale", "guidance"), default=None,
                        help="default 0 (×2), 9 (×4)")
    parser.add_argument("--noise-level", type=in_range("noise_level", "noise level"), default=20,
                        help="×4 only: noise added before upscaling (default 20)")
    parser.add_argument("--seed", type=in_range("seed"), default=None)
    parser.add_argument("--model", default="", help="the upscaler (Hub id or local folder); default per kind")
    parser.add_argument("--latents", default=None, metavar="FILE.safetensors",
                        help="×2 only: the picture's latent cache (from a Restyle workspace), used without re-encoding")
    parser.add_argument("--vae-tiling", action="store_true", help="decode in tiles: large outputs fit in memory")
    parser.add_argument("--output", default=None, metavar="FILE.png")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    return parser


def run_upscale_command(argv: list[str]) -> int:
    """Run ``restyle upscale``."""
    from desktop.core.errors import RestyleError
    from desktop.core.paths import data_dir, default_output_dir, setup_logging
    from desktop.core.upscale import UpscaleParams

    args = upscale_parser().parse_args(argv)
    log_file = setup_logging(data_dir(args.data_dir))
    output = Path(args.output).expanduser() if args.output else None
    if output is not None and output.suffix.lower() != ".png":
        return fail(EXIT_BAD_INPUT, f"--output must be a .png file (got {output.name}).")
    if output is not None and output.exists() and not args.overwrite:  # said now, not after a long run
        return fail(EXIT_BAD_INPUT, f"{output} already exists; Restyle does not replace it. Choose another name, "
                                    "or pass --overwrite to replace it.")
    if args.latents and args.kind != "x2":
        return fail(EXIT_BAD_INPUT, "--latents is only used with --x2: the ×4 upscaler works on pixels.")
    if args.latents and not is_regular_file(args.latents):
        return fail(EXIT_BAD_INPUT, f"--latents {args.latents} is not a regular file (missing, a pipe or a device).")
    if args.kind != "x4" and args.noise_level != 20:
        return fail(EXIT_BAD_INPUT, "--noise-level is only used with --x4.")
    params = UpscaleParams(kind=args.kind, image=args.image, prompt=args.prompt, negative_prompt=args.negative,
                           steps=args.steps, guidance_scale=args.guidance, noise_level=args.noise_level,
                           seed=args.seed, model=args.model, device=args.device, vae_tiling=args.vae_tiling)
    try:
        from desktop.core.images import load_image

        params.validate()
        load_image(args.image)  # fail fast, before the slow model load
        from desktop.core.output import save_result
        from desktop.engine.runner import quiet_libraries
        from desktop.engine.upscale import Upscaler

        def status(message: str) -> None:
            print(message, file=sys.stderr)

        quiet_libraries()
        result = Upscaler(status=status).run(params, source_latents=args.latents)
        for note in result.notes:
            status(note)
        path = save_result(result, output.parent if output else default_output_dir(args.data_dir), output,
                           overwrite=args.overwrite)
    except RestyleError as exc:
        return fail_with(exc, "upscale", log_file)
    except Exception:  # the user gets one line; the traceback goes to the log
        log.exception("upscale crashed")
        return fail(EXIT_FAILED, f"The upscale failed unexpectedly; the details are in {log_file}")
    print(f"{path} ({result.upscale.label}, seed {result.seed}, {result.image.width}×{result.image.height}, "
          f"{result.elapsed:.1f} s)")
    return EXIT_OK
