"""``restyle info IMAGE``: what Restyle reads from any picture (the tool, prompt, settings, what does not map).

Exit codes: 0 settings were read; 1 the picture carries none Restyle can read; 2 not a readable picture.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, OneLineParser, fail


def info_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="restyle info", description="Print the settings a picture was made with, read from "
                           "AUTOMATIC1111 (text or stealth), ComfyUI, Fooocus, InvokeAI, NovelAI or Restyle metadata.")
    parser.add_argument("image", help="a PNG, JPEG or WebP")
    parser.add_argument("--json", action="store_true", help="print the settings as one JSON object")
    return parser


def describe(settings) -> list[str]:
    """The settings as lines a person reads: tool, prompts, then one line of settings, LoRAs, what is not used."""
    from desktop.core.samplers import AUTOMATIC, schedule_label

    s = settings
    lines = [f"Tool: {s.tool}", f"Prompt: {s.prompt}"]
    if s.negative_prompt:
        lines.append(f"Negative prompt: {s.negative_prompt}")
    schedule = f"({schedule_label(s.schedule)})" if s.schedule and s.schedule != AUTOMATIC else ""
    sampler = " ".join(part for part in (s.sampler, schedule) if part)
    pairs = [("Seed", s.seed), ("Steps", s.steps), ("CFG scale", s.guidance_scale), ("Sampler", sampler or None),
             ("Size", f"{s.width}x{s.height}" if s.width and s.height else None),
             ("Strength", f"{s.strength:g}" if s.strength is not None else None)]
    lines.append(", ".join(f"{key}: {value}" for key, value in pairs if value is not None))
    if s.model_name or s.model_hash:
        lines.append(f"Model: {s.model_name or '?'}" + (f" (hash {s.model_hash})" if s.model_hash else ""))
    if s.loras:
        lines.append("LoRAs: " + ", ".join(f"{name} {weight:g}" for name, weight in s.loras))
    if s.unused:
        lines.append(f"Not used: {s.unused_text}")
    return lines


def run_info(argv: list[str]) -> int:
    """Print what Restyle reads from the picture."""
    from desktop.core.picture_settings import read_picture_settings

    args = info_parser().parse_args(argv)
    path = Path(args.image).expanduser()
    if not path.is_file():
        return fail(EXIT_BAD_INPUT, f"{path} was not found.")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError):
        return fail(EXIT_BAD_INPUT, f"{path.name} is not a picture Restyle can open.")
    settings = read_picture_settings(path)
    if settings is None:
        return fail(EXIT_FAILED, f"{path.name} carries no settings Restyle can read.")
    if args.json:
        print(json.dumps(dataclasses.asdict(settings), ensure_ascii=False))
    else:
        print("\n".join(describe(settings)))
    sys.stdout.flush()
    return EXIT_OK
