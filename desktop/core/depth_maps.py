"""Depth maps as files: loading one as an upright RGB image and lining it up with the picture (torch-free)."""

from __future__ import annotations

import os

from .errors import bad_input
from .files import is_regular_file
from .images import describe_size, load_image, resize_for_model
from .lazy_modules import lazy_module

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)

DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"


# Up to 2% apart the shapes are the same for the eye: a plain resize distorts nothing visible.
SAME_ASPECT = 1.02


# Past this the depth map was made for another picture (a portrait map for a landscape photo).
MAX_ASPECT_MISMATCH = 1.5


def load_depth_map(path: str | os.PathLike) -> Image.Image:
    """Open a depth map file (8/16-bit grey or RGB) as an upright RGB image with the depth in every channel."""
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    if os.path.exists(path) and not is_regular_file(path):
        return load_image(path)  # its sentence: not a regular file (a pipe would block Image.open for ever)
    try:
        with Image.open(path):
            pass
    except Image.UnidentifiedImageError:
        raise bad_input(
            f"{name} is not an image; a depth map must be a PNG, JPEG or TIFF (grayscale or RGB)."
        ) from None
    except OSError:
        pass  # missing, unreadable or damaged: load_image says which, in its own words
    # load_image brings 16-bit maps to 8 bits over their full range (65535 -> 255, no clipping) and applies EXIF.
    grey = load_image(path).convert("L")
    # One channel copied three times: a colourised map would otherwise feed the ControlNet three different depths.
    return Image.merge("RGB", (grey, grey, grey))


def match_depth_to(depth: Image.Image, size: tuple[int, int]) -> tuple[Image.Image, str | None]:
    """Bring ``depth`` to exactly ``size``, cropping its centre when the shapes differ; also a note for the user."""
    depth = depth if depth.mode == "RGB" else depth.convert("RGB")
    width, height = depth.size
    target_w, target_h = size
    source_aspect, target_aspect = width / height, target_w / target_h
    mismatch = max(source_aspect / target_aspect, target_aspect / source_aspect)
    if mismatch > MAX_ASPECT_MISMATCH:
        raise bad_input(
            f"The depth map is {describe_size(depth.size)} but the image is {describe_size(size)}: their shapes "
            "differ too much to line up. Use a depth map made from this image, or press Estimate depth."
        )
    if mismatch <= SAME_ASPECT:
        if depth.size == tuple(size):
            return depth, None
        note = f"The depth map was resized from {describe_size(depth.size)} to {describe_size(size)}."
        return resize_for_model(depth, size), note
    # Cropping keeps the geometry true; stretching would move every edge the ControlNet is meant to keep.
    if source_aspect > target_aspect:
        crop_w, crop_h = round(height * target_aspect), height
        sides = "left and right"
    else:
        crop_w, crop_h = width, round(width / target_aspect)
        sides = "top and bottom"
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    cropped = depth.crop((left, top, left + crop_w, top + crop_h))
    lost = round(100 * (1 - crop_w * crop_h / (width * height)))
    resized = "" if cropped.size == tuple(size) else f" and resized to {describe_size(size)}"
    note = (
        f"The depth map ({describe_size(depth.size)}) has a different shape from the image, so its centre "
        f"{describe_size(cropped.size)} was used ({lost}% cut from the {sides}){resized}."
    )
    return resize_for_model(cropped, size), note
