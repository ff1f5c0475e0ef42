"""The style-tool flags shared by ``restyle generate`` and ``restyle batch``: sampler and schedule type, LoRAs,
embeddings and reference images."""

from __future__ import annotations

import argparse
from pathlib import Path

# argparse dests, so batch can take the same actions
STYLE_FLAGS = ("sampler", "schedule", "lora", "lora_dir", "embedding", "embedding_dir", "reference",
               "reference_scale", "reference_style_only", "ip_adapter", "image_encoder")


def _sampler(text: str) -> str:
    from desktop.core.samplers import SAMPLERS, parse_sampler

    if not text.strip():
        return ""  # the model's own scheduler
    if parse_sampler(text) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a sampler Restyle knows; choose one of: "
                                         f"{', '.join(SAMPLERS)}")
    return text


def _lora(text: str) -> tuple[str, float]:
    """NAME_OR_PATH[:WEIGHT] → (name or path, weight)."""
    from desktop.core.ranges import RANGES

    name, sep, tail = text.rpartition(":")
    weight = 1.0
    if sep and name:
        try:
            weight = float(tail)
        except ValueError:
            name = text  # a colon that is part of the path (C:\…)
    else:
        name = text
    if not RANGES["lora_weight"].contains(weight):
        raise argparse.ArgumentTypeError(f"the weight of {name} must be {RANGES['lora_weight'].bounds_text()} "
                                         f"(got {weight:g})")
    if not name.strip():
        raise argparse.ArgumentTypeError("a LoRA needs a name or a path")
    return name, weight


def add_style_flags(parser: argparse.ArgumentParser) -> None:
    """Add the sampler, LoRA, embedding and reference-image flags to ``parser``."""
    from desktop.core.samplers import SCHEDULES

    from .common import in_range

    group = parser.add_argument_group("sampler", "by its AUTOMATIC1111 name; left out, the model's own scheduler")
    group.add_argument("--sampler", type=_sampler, default="",
                       help='e.g. "Euler a", "DPM++ 2M", "DPM++ 2M SDE", UniPC, DDIM (also "DPM++ 2M Karras")')
    group.add_argument("--schedule", choices=tuple(SCHEDULES), default=None,
                       help="the schedule type (default: automatic, the model's own)")
    styles = parser.add_argument_group("LoRAs and embeddings", "<lora:name:weight> in --prompt works too; "
                                       "an embedding is used when its name is in the prompt")
    styles.add_argument("--lora", type=_lora, action="append", default=[], metavar="PATH_OR_NAME[:WEIGHT]",
                        help="a LoRA .safetensors file, or its name in a LoRA folder (repeatable; weight 1.0)")
    styles.add_argument("--lora-dir", action="append", default=[], metavar="DIR",
                        help="look LoRAs up in this folder too (default: <data folder>/loras)")
    styles.add_argument("--embedding", action="append", default=[], metavar="PATH",
                        help="a textual-inversion embedding file (.safetensors; .pt with --allow-pickles)")
    styles.add_argument("--embedding-dir", action="append", default=[], metavar="DIR",
                        help="look embeddings up in this folder too (default: <data folder>/embeddings)")
    reference = parser.add_argument_group("reference images", "steer the style with pictures (IP-Adapter)")
    reference.add_argument("--reference", action="append", default=[], metavar="IMAGE",
                           help="a style reference image (repeatable)")
    reference.add_argument("--reference-scale", type=in_range("reference_scale", "--reference-scale"), default=0.6,
                           help="how strongly the references steer (default 0.6)")
    reference.add_argument("--reference-style-only", action="store_true",
                           help="take only the style of the references, not their layout (InstantStyle)")
    reference.add_argument("--ip-adapter", default="", metavar="PATH_OR_ID",
                           help="an IP-Adapter .safetensors file or Hub repo (default: h94/IP-Adapter's)")
    reference.add_argument("--image-encoder", default="", metavar="PATH_OR_ID",
                           help="its CLIP image encoder folder (default: the one beside the adapter)")


def style_params(args: argparse.Namespace) -> dict:
    """The GenerationParams fields the style flags set."""
    from desktop.core.samplers import AUTOMATIC, parse_sampler

    sampler, schedule = parse_sampler(args.sampler) if args.sampler else ("", AUTOMATIC)
    return {"sampler": sampler, "schedule": args.schedule or schedule, "loras": tuple(args.lora),
            "embeddings": tuple(args.embedding), "references": tuple(args.reference),
            "reference_scale": args.reference_scale, "reference_style_only": args.reference_style_only,
            "ip_adapter": args.ip_adapter, "image_encoder": args.image_encoder}


def configure_styles(engine, args: argparse.Namespace, data_folder: Path, params) -> None:
    """Tell the engine where LoRAs and embeddings are found (the flags' folders, then the data folder's), and
    refuse a missing or pickled LoRA before the slow model load."""
    from desktop.core.style_files import default_style_dirs
    from desktop.engine.styles import StyleFolders, check_styles

    loras, embeddings = default_style_dirs(data_folder)
    engine.style_folders = StyleFolders(loras=(*args.lora_dir, str(loras)),
                                        embeddings=(*args.embedding_dir, str(embeddings)))
    check_styles(params, engine.style_folders, allow_pickles=args.allow_pickles)
