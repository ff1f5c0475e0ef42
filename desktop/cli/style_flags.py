"""The style-tool flags shared by ``restyle generate`` and ``restyle batch``: sampler and schedule type."""

from __future__ import annotations

import argparse

STYLE_FLAGS = ("sampler", "schedule")  # argparse dests, so batch can take the same actions


def _sampler(text: str) -> str:
    from desktop.core.samplers import SAMPLERS, parse_sampler

    if not text.strip():
        return ""  # the model's own scheduler
    if parse_sampler(text) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a sampler Restyle knows; choose one of: "
                                         f"{', '.join(SAMPLERS)}")
    return text


def add_style_flags(parser: argparse.ArgumentParser) -> None:
    """Add the sampler and schedule flags to ``parser``."""
    from desktop.core.samplers import SCHEDULES

    group = parser.add_argument_group("sampler", "by its AUTOMATIC1111 name; left out, the model's own scheduler")
    group.add_argument("--sampler", type=_sampler, default="",
                       help='e.g. "Euler a", "DPM++ 2M", "DPM++ 2M SDE", UniPC, DDIM (also "DPM++ 2M Karras")')
    group.add_argument("--schedule", choices=tuple(SCHEDULES), default=None,
                       help="the schedule type (default: automatic, the model's own)")


def style_params(args: argparse.Namespace) -> dict:
    """The GenerationParams fields the style flags set."""
    from desktop.core.samplers import AUTOMATIC, parse_sampler

    sampler, schedule = parse_sampler(args.sampler) if args.sampler else ("", AUTOMATIC)
    return {"sampler": sampler, "schedule": args.schedule or schedule}
