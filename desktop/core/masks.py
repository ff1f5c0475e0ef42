"""Masks for restyling part of a picture: loading, lining up, blurring, cropping, filling and compositing.

A mask is an 8-bit grey image ("L"): white = restyle, black = keep, grey = in between (a feathered edge). Every
function here is plain Pillow and numpy, so the window, the CLI and the tests share the same rules. The last step
of every masked run is ``composite``: where the mask is black the result's pixels are the source's own bytes, so
the VAE's small drift never reaches the part the artist meant to keep.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import bad_input
from .files import atomic_write, is_regular_file
from .images import describe_size, load_image
from .lazy_modules import lazy_module

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)
ImageFilter = lazy_module("PIL.ImageFilter")
ImageOps = lazy_module("PIL.ImageOps")

OUTPAINT_MAX = 2048  # per side
INPAINT_AREAS = ("whole", "masked")
INPAINT_FILLS = ("original", "fill", "noise")
AREA_LABELS = {"whole": "Whole picture", "masked": "Only masked"}  # AUTOMATIC1111's words
# Below this a pixel counts as unmasked: a mask saved as JPEG has faint noise where it should be black.
EMPTY_LEVEL = 8


def load_mask(path: str | os.PathLike) -> Image.Image:
    """Open a mask file as "L": its grey levels, or for a picture with transparency its opaque parts."""
    import numpy as np  # here, not at import: the window starts without numpy
    if os.path.exists(path) and not is_regular_file(path):
        load_image(path)  # raises its sentence: not a regular file (a pipe would block Image.open for ever)
    try:
        with Image.open(path) as opened:
            opened.load()
            if "A" in opened.getbands() or "transparency" in opened.info:
                # Painted strokes on a transparent layer (as painting programs export them): transparent = keep.
                rgba = ImageOps.exif_transpose(opened).convert("RGBA")
                alpha = rgba.getchannel("A")
                if alpha.getextrema()[0] < 255:
                    grey = np.asarray(rgba.convert("L"), dtype=np.uint16)
                    return Image.fromarray((grey * np.asarray(alpha, dtype=np.uint16) // 255).astype(np.uint8), "L")
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        pass  # load_image says what is wrong, in its usual words
    return load_image(path).convert("L")


def save_mask(mask: Image.Image, path: str | os.PathLike) -> Path:
    """Write ``mask`` as a grey PNG at ``path``, atomically (its folder is made); bad_input when it cannot be."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, lambda handle: mask.convert("L").save(handle, format="PNG", compress_level=4))
    except OSError as exc:
        raise bad_input(f"Restyle could not save the mask in {path.parent}: {exc.strerror or exc}.") from None


def fit_mask(mask: Image.Image, size: tuple[int, int]) -> tuple[Image.Image, str | None]:
    """``mask`` at exactly ``size`` (scaled when it is not), and a note for the user when it was scaled."""
    mask = mask if mask.mode == "L" else mask.convert("L")
    if mask.size == tuple(size):
        return mask, None
    note = f"The mask ({describe_size(mask.size)}) was scaled to the picture's {describe_size(size)}."
    return mask.resize(tuple(size), Image.Resampling.BILINEAR), note


def require_painted(mask: Image.Image) -> Image.Image:
    """Refuse a mask with nothing on it: the run would change nothing."""
    if mask.getextrema()[1] < EMPTY_LEVEL:
        raise bad_input(
            "The mask is empty (all black), so nothing would change: paint the part to restyle in white, "
            "or clear the mask to restyle the whole picture."
        )
    return mask


def blur_mask(mask: Image.Image, radius: float) -> Image.Image:
    """A Gaussian blur of ``radius`` pixels: the feathered edge the result is blended in with."""
    if radius <= 0:
        return mask
    box = mask.getbbox()
    if box is None:
        return mask
    # Only around what is painted (black stays black): a small mask on a 2048² picture blurs in milliseconds.
    margin = int(4 * radius) + 2
    width, height = mask.size
    box = (max(0, box[0] - margin), max(0, box[1] - margin), min(width, box[2] + margin),
           min(height, box[3] + margin))
    out = Image.new("L", mask.size, 0)
    out.paste(mask.crop(box).filter(ImageFilter.GaussianBlur(radius)), box[:2])
    return out


def painted_box(mask: Image.Image) -> tuple[int, int, int, int]:
    """The bounding box (left, top, right, bottom) of the mask's painted pixels."""
    box = mask.point(lambda v: 255 if v >= EMPTY_LEVEL else 0).getbbox()
    if box is None:
        require_painted(mask)  # raises
    return box


def crop_box(mask: Image.Image, padding: int) -> tuple[int, int, int, int]:
    """AUTOMATIC1111's "only masked" region: the painted box grown by ``padding`` on every side, inside the picture."""
    left, top, right, bottom = painted_box(mask)
    width, height = mask.size
    return max(0, left - padding), max(0, top - padding), min(width, right + padding), min(height, bottom + padding)


def composite(source: Image.Image, result: Image.Image, mask: Image.Image) -> Image.Image:
    """``result`` where the mask is white, ``source`` (its exact pixels) where it is black, blended in between."""
    if result.size != source.size:
        result = result.resize(source.size, Image.Resampling.LANCZOS)
    return Image.composite(result.convert("RGB"), source.convert("RGB"), mask)


def paste_back(source: Image.Image, result: Image.Image, box: tuple[int, int, int, int],
               mask: Image.Image) -> Image.Image:
    """``result`` (a restyled crop of ``box``, any size) scaled back into ``source`` through the feathered ``mask``."""
    left, top, right, bottom = box
    region = result.convert("RGB").resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    blended = Image.composite(region, source.crop(box).convert("RGB"), mask.crop(box))
    out = source.convert("RGB").copy()
    out.paste(blended, (left, top))
    return out


def fill_masked(image: Image.Image, mask: Image.Image, how: str, seed: int = 0) -> Image.Image:
    """The start picture under the mask: the picture itself ("original"), the colours around the mask blurred
    inwards ("fill", as AUTOMATIC1111 does it), or random noise ("noise")."""
    import numpy as np  # here, not at import: the window starts without numpy
    if how == "original":
        return image
    hard = mask.point(lambda v: 255 if v >= 128 else 0)
    if how == "noise":
        rng = np.random.default_rng(seed)
        noise = Image.fromarray(rng.integers(0, 256, (image.height, image.width, 3), dtype=np.uint8), "RGB")
        return Image.composite(noise, image, hard)
    if how != "fill":
        raise bad_input(f"Inpainting fill must be one of {', '.join(INPAINT_FILLS)} (got {how!r}).")
    # Premultiplied colour of the kept part, blurred at shrinking radii and laid over itself: far from any kept
    # pixel the coarse blur's average shows, near one the fine blur's local colour does.
    kept = Image.new("RGBa", image.size)
    kept.paste(image.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(hard))
    filled = Image.new("RGBA", image.size)
    for radius, repeats in ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)):
        blurred = kept.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA")
        for _ in range(repeats):
            filled.alpha_composite(blurred)
    return Image.composite(filled.convert("RGB"), image, hard)


def parse_outpaint(text: str) -> tuple[int, int, int, int]:
    """"LEFT,TOP,RIGHT,BOTTOM" in pixels (as the CLI takes it); bad_input with the rule otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        sides = tuple(int(p) for p in parts)
    except ValueError:
        sides = ()
    if len(sides) != 4:
        raise bad_input(f"Outpaint takes four whole numbers LEFT,TOP,RIGHT,BOTTOM in pixels, e.g. 0,0,256,0 "
                        f"(got {text!r}).")
    return check_outpaint(sides)


def check_outpaint(sides) -> tuple[int, int, int, int]:
    """The four sides as ints, each 0–2048 and not all 0; bad_input otherwise."""
    sides = tuple(int(s) for s in sides)
    if len(sides) != 4 or any(not 0 <= s <= OUTPAINT_MAX for s in sides):
        raise bad_input(f"Each outpaint side must be from 0 to {OUTPAINT_MAX} pixels "
                        f"(got {','.join(map(str, sides))}).")
    if not any(sides):
        raise bad_input("Outpainting needs at least one side to grow: give it a number of pixels above 0.")
    return sides


def outpaint_to_aspect(size: tuple[int, int], ratio: float) -> tuple[int, int, int, int]:
    """The sides that grow a picture of ``size`` to the aspect ``ratio`` (width / height), centred."""
    width, height = size
    if ratio <= 0:
        raise bad_input("The aspect ratio must be above 0.")
    if width / height < ratio:
        extra = round(height * ratio) - width
        return extra // 2, 0, extra - extra // 2, 0
    extra = round(width / ratio) - height
    return 0, extra // 2, 0, extra - extra // 2


def grow_canvas(image: Image.Image, mask: Image.Image | None, sides, *, seam: int = 8, seed: int = 0,
                fill: str = "original") -> tuple[Image.Image, Image.Image, Image.Image]:
    """The picture extended by ``sides`` (left, top, right, bottom), its mask and the new area alone.

    The mask is white over the new area and reaches ``seam`` pixels into the old picture on the sides that grew,
    so the restyle blends over the join; a painted ``mask`` is kept inside the old picture.
    """
    import numpy as np  # here, not at import: the window starts without numpy
    left, top, right, bottom = check_outpaint(sides)
    # The edge colours stretched outwards: a start the model continues more readily than a flat colour.
    grown = np.pad(np.asarray(image.convert("RGB")), ((top, bottom), (left, right), (0, 0)), mode="edge")
    height, width = grown.shape[:2]
    new_area = np.full((height, width), 255, dtype=np.uint8)
    new_area[top:height - bottom, left:width - right] = 0
    seamed = np.full((height, width), 255, dtype=np.uint8)
    # Only the sides that grew get a seam; the others keep the picture up to its edge.
    inner_l, inner_t = left + seam if left else 0, top + seam if top else 0
    inner_r = width - right - seam if right else width
    inner_b = height - bottom - seam if bottom else height
    if inner_r > inner_l and inner_b > inner_t:
        seamed[inner_t:inner_b, inner_l:inner_r] = 0
    if mask is not None:
        painted = np.zeros((height, width), dtype=np.uint8)
        painted[top:height - bottom, left:width - right] = np.asarray(fit_mask(mask, image.size)[0])
        seamed = np.maximum(seamed, painted)
    new = Image.fromarray(new_area, "L")
    out = fill_masked(Image.fromarray(grown, "RGB"), new, fill, seed) if fill != "original" else Image.fromarray(grown)
    return out, Image.fromarray(seamed, "L"), new


def mask_from_depth(depth: Image.Image, size: tuple[int, int], threshold: float, *, near: bool = True) -> Image.Image:
    """A mask of what is nearer (``near``) or farther than ``threshold`` (0–1 of the depth map's range)."""
    import numpy as np  # here, not at import: the window starts without numpy
    grey = np.asarray(depth.convert("L").resize(tuple(size), Image.Resampling.BILINEAR), dtype=np.uint8)
    low, high = int(grey.min()), int(grey.max())
    level = low + threshold * (high - low)
    chosen = grey >= level if near else grey < level
    return Image.fromarray(np.where(chosen, 255, 0).astype(np.uint8), "L")
