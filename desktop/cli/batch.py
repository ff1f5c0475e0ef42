"""``restyle batch IN_DIR OUT_DIR --model M --prompt P [...]``: restyle a whole folder headless, resumably.

The flags are the ``generate`` command's own argparse actions (same names, checks and sentences), minus the
per-image ones. Exit codes as ``generate``: 0 every image done (non-images are reported and skipped), 2 a bad
argument, a missing folder or model, or an unreadable image (the others are still done), 1 anything else or an
interruption (run the same command again to finish).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, OneLineParser, fail, fail_with
from .generate import DEFAULTS, generate_parser, given_sliders, with_family_defaults
from .mask_args import MASK_DESTS, mask_params
from .settings_from import apply_settings_from
from .style_flags import STYLE_FLAGS, configure_styles, style_params

log = logging.getLogger(__name__)

# The generate flags that make sense for every file alike.
SHARED_FLAGS = ("model", "settings_from", "prompt", "negative", "strength", "guidance", "steps", "seed", "width",
                "height", "device", "data_dir", "allow_pickles", "true_cfg", "no_t5", "quantize", "overwrite",
                *STYLE_FLAGS, *MASK_DESTS)


MAX_WORKERS = 16


def _workers(text: str) -> int:
    """--workers: a whole number of devices, 1 to MAX_WORKERS."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"workers must be a whole number from 1 to {MAX_WORKERS} (got {text})")
    return int(text)


def batch_parser() -> argparse.ArgumentParser:
    """The parser of ``restyle batch``, built from the generate parser's own actions."""
    parser = OneLineParser(prog="restyle batch", description="Restyle every image of a folder with the same "
                            "settings. Interrupted? Run the same command again: finished files are skipped.")
    parser.add_argument("in_dir", metavar="IN_DIR", help="the folder holding the images")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="where the PNGs (and restyle-batch.json) go")
    for action in generate_parser()._actions:  # reuse the exact definitions and checks
        if action.dest in SHARED_FLAGS:
            parser._add_action(action)
    devices = parser.add_argument_group("several devices", "spread the files over devices; each file is done once")
    devices.add_argument("--workers", type=_workers, help="N worker processes here: one per GPU, "
                         "or N CPU workers sharing the cores (with --cluster: at most N actors)")
    devices.add_argument("--cluster", metavar="ADDRESS", help="run on the Ray cluster at ADDRESS (HOST:PORT or "
                         "ray://HOST:10001; auto = the one on this computer, started when none runs); needs "
                         "restyle[cluster] and, off this computer, Ray token authentication")
    return parser


def run_batch_command(argv: list[str], *, on_file_done=None) -> int:
    """Run ``restyle batch``; ``on_file_done(input, output)`` is called after each finished file."""
    from desktop.core.batch import run_batch
    from desktop.core.errors import RestyleError
    from desktop.core.params import GenerationParams
    from desktop.core.paths import data_dir, setup_logging

    args = batch_parser().parse_args(argv)
    folder = data_dir(args.data_dir)
    log_file = setup_logging(folder)
    try:
        for note in apply_settings_from(args, folder, DEFAULTS, take_size=False):
            print(note, file=sys.stderr)
    except RestyleError as exc:
        return fail_with(exc, "batch", log_file)
    params = GenerationParams(model=args.model, prompt=args.prompt, negative_prompt=args.negative,
                              **given_sliders(args), seed=args.seed, width=args.width, height=args.height,
                              device=args.device, true_cfg_scale=args.true_cfg, **style_params(args),
                              **mask_params(args))

    def status(message: str) -> None:
        print(message, file=sys.stderr)

    pool = None
    try:
        if not Path(args.in_dir).expanduser().is_dir():  # before the slow engine import
            return fail(EXIT_BAD_INPUT, f"{args.in_dir} is not a folder: give the folder holding the images.")
        from desktop.core.runtime import RuntimeSettings

        runtime = RuntimeSettings(t5_encoder=not args.no_t5, quantization=args.quantize)
        if args.cluster or (args.workers or 1) > 1:
            from desktop.cluster.batch import run_batch_on_pool
            from desktop.cluster.pool_engine import PoolEngine
            from desktop.cluster.pools import open_pool

            params.validate()  # before any worker or actor starts
            pool = open_pool(workers=args.workers, cluster=args.cluster, device=args.device,
                             allow_pickles=args.allow_pickles, status=status)
            engine = PoolEngine(pool, status=status)  # the model's family, as a device of the pool reads it
        else:
            from desktop.core.model_hash import HASH_CACHE_NAME
            from desktop.engine.runner import Engine

            engine = Engine(status=status, allow_pickles=args.allow_pickles, hash_cache=folder / HASH_CACHE_NAME)
        engine.configure(runtime)
        configure_styles(engine, args, folder, params)
        params = with_family_defaults(params, engine.load(args.model, args.device).profile, given_sliders(args))
        if pool is not None:
            report = run_batch_on_pool(pool, args.in_dir, args.out_dir, params, runtime=runtime, status=status,
                                       style_folders=engine.style_folders, allow_pickles=args.allow_pickles,
                                       on_file_done=on_file_done,
                                       overwrite=args.overwrite)
        else:
            report = run_batch(engine, args.in_dir, args.out_dir, params, status=status, on_file_done=on_file_done,
                               overwrite=args.overwrite)
    except KeyboardInterrupt:
        return fail(EXIT_FAILED, "Interrupted. Finished files are kept; run the same command again to do the rest.")
    except RestyleError as exc:
        return fail_with(exc, "batch", log_file)
    except Exception:  # the user gets one line; the traceback goes to the log
        log.exception("batch crashed")
        return fail(EXIT_FAILED, f"The batch failed unexpectedly; the details are in {log_file}")
    finally:
        if pool is not None:
            pool.close()  # the workers stop; a file half-made on one is simply not recorded
    print(report.summary())
    for name, reason in report.failed:
        print(f"restyle: {name}: {reason}", file=sys.stderr)
    return EXIT_BAD_INPUT if report.failed else EXIT_OK
