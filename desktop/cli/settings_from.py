"""``restyle generate|batch --settings-from IMAGE``: another picture's settings as the defaults of this run.

Flags given on the command line win; what the picture says fills the rest; the built-in defaults fill what
neither gives. What the picture says but Restyle cannot use is printed, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.core.errors import bad_input, model_missing
from desktop.core.model_hash import HASH_CACHE_NAME
from desktop.core.model_match import find_installed_model, installed_models
from desktop.core.ranges import RANGES

# argparse destination of each family setting a picture can carry (PictureSettings.family names the field).
_FAMILY_ARGS = {"aesthetic_score": "aesthetic_score", "negative_aesthetic_score": "negative_aesthetic_score",
                "denoising_start": "denoising_start", "prior_guidance_scale": "prior_guidance",
                "prior_steps": "prior_steps", "true_cfg_scale": "true_cfg"}


def _valid_size(value: int | None) -> bool:
    return value is not None and RANGES["width"].contains(value)


def _take(args: argparse.Namespace, name: str, value) -> None:
    if hasattr(args, name) and getattr(args, name) is None and value is not None:
        setattr(args, name, value)


def apply_settings_from(args: argparse.Namespace, folder: Path, defaults: dict, *, take_size: bool) -> list[str]:
    """Fill the arguments left out from ``--settings-from`` (when given), then from ``defaults``; the notes to print.
    ``take_size``: use the picture's size (text to image; an init picture decides its own).

    Raises a bad-input RestyleError for an unreadable picture or a missing prompt, model-missing for a model that
    is not installed."""
    notes: list[str] = []
    if args.settings_from:
        notes = _from_picture(args, Path(args.settings_from).expanduser(), folder, take_size)
    for name, value in defaults.items():
        _take(args, name, value)
    if args.prompt is None:
        raise bad_input("Give --prompt (or --settings-from a picture that carries one).")
    if not args.model:
        raise bad_input("Give --model: a Hugging Face id, a local diffusers folder or a .safetensors checkpoint.")
    return notes


def _from_picture(args: argparse.Namespace, path: Path, folder: Path, take_size: bool) -> list[str]:
    from desktop.core.picture_settings import read_picture_settings

    if not path.is_file():
        raise bad_input(f"{path} was not found (--settings-from).")
    s = read_picture_settings(path)
    if s is None:
        raise bad_input(f"{path.name} carries no settings Restyle can read (--settings-from).")
    _take(args, "prompt", s.prompt)
    _take(args, "negative", s.negative_prompt)
    _take(args, "seed", s.seed)
    _take(args, "steps", s.steps)
    _take(args, "guidance", s.guidance_scale)
    _take(args, "strength", s.strength if s.strength and 0 < s.strength <= 1 else None)
    # The size it was made at, for text to image; with --init the init picture decides, as it always does.
    if take_size and args.width is None and args.height is None and _valid_size(s.width) and _valid_size(s.height):
        args.width, args.height = s.width, s.height
    for field, value in s.family:  # mask settings need a --mask of this run's own: not taken
        if field in _FAMILY_ARGS:
            _take(args, _FAMILY_ARGS[field], value)
    if s.sampler and not getattr(args, "sampler", None):  # "" is the flag's default: the model's own
        args.sampler = s.sampler
        _take(args, "schedule", s.schedule or None)
    notes = [f"Settings from {path.name} ({s.tool})."]
    if not args.model and (s.model_name or s.model_hash or s.local_model):
        candidates = installed_models(extra=[s.local_model] if s.local_model and Path(s.local_model).exists() else [])
        args.model = find_installed_model(s.model_name or s.local_model, s.model_hash, candidates,
                                          folder / HASH_CACHE_NAME)
        if args.model is None:
            raise model_missing(f"{path.name} was made with {s.model_name or s.model_hash}, which is not installed "
                                "here: download it, or pass --model to use another.")
        notes.append(f"Model: {args.model}")
    # A1111's LoRAs are <lora:…> tags in its prompt, taken with it; other tools' become --lora flags.
    if s.loras and s.tool not in ("AUTOMATIC1111", "Restyle") and not getattr(args, "lora", None):
        args.lora = list(s.loras)
        notes.append("LoRAs: " + ", ".join(f"{name} {weight:g}" for name, weight in s.loras))
    if s.unused:
        notes.append(f"Not used: {s.unused_text}")
    return notes
