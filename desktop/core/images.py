"""Loading user photos as plain 8-bit RGB, and picking the size the model runs at."""

from __future__ import annotations

import math
import os
import re
import struct
import warnings

from desktop.core.errors import bad_input
from desktop.core.files import is_regular_file
from desktop.core.lazy_modules import lazy_module

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)
ImageOps = lazy_module("PIL.ImageOps")

SUPPORTED_SUFFIXES: tuple[str, ...] = (".png", ".apng", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")

# Decided by the format Pillow detects, not the suffix, so a PNG named .jpg still opens.
# MPO is what Pillow calls many phone JPEGs; DIB is a BMP variant.
# An animation (GIF, APNG, animated WebP) gives its first frame, as every peer does, with a note saying so.
_SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "BMP", "DIB", "TIFF", "GIF"})
_FORMATS_SENTENCE = "PNG, JPEG, WebP, BMP, TIFF or GIF"

# What broken or truncated image data raises while decoding, across Pillow's plugins.
_DECODE_ERRORS = (OSError, ValueError, EOFError, SyntaxError, struct.error)

_WHITE = (255, 255, 255)


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file and return it fully loaded, upright, as 8-bit RGB."""
    return load_image_noting(path)[0]


def load_image_noting(path: str | os.PathLike) -> tuple[Image.Image, str]:
    """``load_image``, plus a note for the artist when only part of the file is used ('' otherwise)."""
    return _open_checked(path, decode=True)


def image_size_noting(path: str | os.PathLike) -> tuple[tuple[int, int], str]:
    """The upright (width, height) of an image file and ``load_image_noting``'s note, from its header alone.

    The same checks and sentences as loading it, bar damage further into the file, in a fraction of a
    millisecond: a picture chosen from the history is shown at once and decoded off the UI thread."""
    return _open_checked(path, decode=False)


# EXIF orientations that turn the picture a quarter: its upright width is the stored height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def _open_checked(path: str | os.PathLike, *, decode: bool):
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    if os.path.isdir(path):
        raise bad_input(f"{name} is a folder, not an image; choose an image file inside it.")
    if os.path.exists(path) and not is_regular_file(path):
        raise bad_input(f"{name} is not a regular file (a pipe or a device), so Restyle does not read it as an "
                        "image; save the picture to a file first.")
    try:
        # Over MAX_IMAGE_PIXELS Pillow only warns; that zone is fine for us, only the Error is refused.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if opened.format not in _SUPPORTED_FORMATS:
                    raise bad_input(
                        f"{name} is in {opened.format or 'an unknown'} format, which Restyle cannot read; "
                        f"use {_FORMATS_SENTENCE}."
                    )
                frames = getattr(opened, "n_frames", 1) if getattr(opened, "is_animated", False) else 1
                note = f"{name} is an animation of {frames} frames: its first frame is used." if frames > 1 else ""
                if not decode:
                    width, height = opened.size
                    turned = _header_orientation(opened) in _QUARTER_TURNS
                    return ((height, width) if turned else (width, height)), note
                opened.seek(0)
                opened.load()
                return _to_rgb(_upright(opened), name), note
    except FileNotFoundError:
        raise bad_input(f"{name} was not found; check that the file still exists.") from None
    except PermissionError:
        raise bad_input(f"Restyle is not allowed to read {name}; check the file's permissions.") from None
    except Image.UnidentifiedImageError:
        raise bad_input(f"{name} is not an image Restyle can read ({_FORMATS_SENTENCE}).") from None
    except Image.DecompressionBombError as exc:
        raise bad_input(_too_large_sentence(name, str(exc))) from None
    except _DECODE_ERRORS:
        raise bad_input(f"{name} is damaged or incomplete and cannot be opened; try saving it again.") from None


def _header_orientation(opened) -> int | None:
    """The EXIF Orientation tag, read without decoding the picture."""
    if opened.format != "PNG":
        return opened.getexif().get(0x0112)
    # Pillow's PNG getexif decodes the whole picture in case an eXIf chunk follows the pixels; one before
    # them is in ``info`` already.
    raw = opened.info.get("exif")
    if not raw:
        return None
    exif = Image.Exif()
    exif.load(raw)
    return exif.get(0x0112)


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a malformed EXIF block should not cost the user the photo."""
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image


def _too_large_sentence(name: str, pillow_message: str) -> str:
    # Pillow refuses before it hands us the image, so the sizes only exist in its message.
    numbers = [int(n) for n in re.findall(r"\d+", pillow_message)]
    if len(numbers) >= 2:
        pixels, limit = numbers[0], numbers[1]
        return (
            f"{name} is too large to open safely: {pixels:,} pixels, over the limit of {limit:,} pixels; "
            "scale it down first."
        )
    return f"{name} is too large to open safely; scale it down first."


def _to_rgb(image: Image.Image, name: str) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, compositing transparency over white."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # convert("L") clips 16-bit values at 255; shift instead (point() on "I" floors: v >> 8).
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif mode == "F":
        # Float data has no fixed range. Rule: max <= 1 means 0..1, max <= 255 means 0..255,
        # anything larger means 0..65535; +0.5 rounds, because F -> L truncates.
        high = image.getextrema()[1]
        scale = 255.0 if high <= 1.0 else 1.0 if high <= 255.0 else 1 / 256
        image = image.point(lambda v: v * scale + 0.5).convert("L")
    elif mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Palette/L/RGB with a tRNS colour need RGBA first so the transparent colour is honoured.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return background
    if image.mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError:
        raise bad_input(
            f"{name} uses a colour format ({mode}) Restyle cannot convert; save it as an 8-bit RGB image."
        ) from None


def fit_size(width: int, height: int, natural: int, multiple: int = 8) -> tuple[int, int]:
    """Keep the aspect ratio, scale to about natural² pixels, round each side to `multiple`."""
    if width <= 0 or height <= 0 or natural <= 0 or multiple <= 0:
        raise ValueError(f"fit_size needs positive numbers, got {width}, {height}, {natural}, {multiple}")
    scale = natural / math.sqrt(width * height)

    def side(length: int) -> int:
        return max(multiple, round(length * scale / multiple) * multiple)

    return side(width), side(height)


def resize_for_model(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize with LANCZOS to exactly `size`; the same object when it already is that size."""
    if tuple(image.size) == tuple(size):
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def describe_size(size: tuple[int, int]) -> str:
    """A size as the user reads it, e.g. "512×768"."""
    width, height = size
    return f"{width}×{height}"
