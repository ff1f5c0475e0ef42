"""The mask and outpainting flags shared by ``restyle generate`` and ``restyle batch``."""

from __future__ import annotations

import argparse

from .common import in_range

MASK_DESTS = ("mask", "mask_blur", "inpaint_area", "inpaint_padding", "inpaint_fill", "outpaint")


def _outpaint(text: str) -> tuple[int, int, int, int]:
    from desktop.core.errors import RestyleError
    from desktop.core.masks import parse_outpaint

    try:
        return parse_outpaint(text)
    except RestyleError as exc:
        raise argparse.ArgumentTypeError(exc.message.rstrip(".")) from None


def add_mask_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the "mask and outpainting" group (the window's Mask panel, headless)."""
    from desktop.core.masks import INPAINT_AREAS, INPAINT_FILLS, OUTPAINT_MAX

    group = parser.add_argument_group("mask and outpainting", "restyle only part of the picture (white = restyle), "
                                      "or extend it; needs --init")
    group.add_argument("--mask", metavar="MASK.png", help="a black-and-white picture: white is restyled, black kept "
                       "exactly (scaled to the picture when its size differs)")
    group.add_argument("--mask-blur", type=in_range("mask_blur", "mask blur"), default=4, metavar="PX",
                       help="feathered edge of the mask in pixels (default 4)")
    group.add_argument("--inpaint-area", choices=INPAINT_AREAS, default="whole",
                       help="whole picture, or only the masked part at the model's full size (default whole)")
    group.add_argument("--inpaint-padding", type=in_range("inpaint_padding", "inpaint padding"), default=32,
                       metavar="PX",
                       help="--inpaint-area masked: pixels of context around the mask (default 32)")
    group.add_argument("--inpaint-fill", choices=INPAINT_FILLS, default="original",
                       help="what the masked part starts from (default original)")
    group.add_argument("--outpaint", type=_outpaint, metavar="LEFT,TOP,RIGHT,BOTTOM",
                       help=f"grow the picture by these pixels (0–{OUTPAINT_MAX} each) and restyle the new area")


def mask_params(args: argparse.Namespace) -> dict:
    """The GenerationParams fields the mask flags give."""
    return dict(mask_image=args.mask, mask_blur=args.mask_blur, inpaint_area=args.inpaint_area,
                inpaint_padding=args.inpaint_padding, inpaint_fill=args.inpaint_fill, outpaint=args.outpaint)
