"""Pictures written for sharing: the A1111 text where other tools look for it, or no metadata at all.

PNG keeps the text in a `parameters` chunk; JPEG and WebP in EXIF UserComment, as AUTOMATIC1111 writes it
(piexif: the "UNICODE\\0" code, then UTF-16 big-endian), which sd-parsers and the sites that read A1111 expect.
Only the text given is written: never the workspace's node record, and nothing the source file carried.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from .errors import bad_input
from .files import atomic_write
from .metadata import build_parameters_text, parse_parameters_text, png_info

SHARE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_JPEG_EXIF_LIMIT = 65_000  # one APP1 segment holds at most 64 KB
# Fields only older Restyle versions wrote, which said where things are on this machine.
PRIVATE_FIELDS = ("Restyle model",)


def user_comment(text: str) -> bytes:
    """An EXIF UserComment value as A1111 writes it."""
    return b"UNICODE\0" + text.encode("utf-16-be")


def exif_with_text(text: str) -> bytes:
    """EXIF bytes holding only the UserComment."""
    exif = Image.Exif()
    exif.get_ifd(_EXIF_IFD)[_USER_COMMENT] = user_comment(text)
    return exif.tobytes()


def share_format(path: str | os.PathLike) -> str:
    """PNG, JPEG or WEBP from the file name's extension; a sentence for any other."""
    fmt = SHARE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise bad_input(f"Export as .png, .jpg or .webp ({Path(path).name} has another extension).")
    return fmt


def encode_for_sharing(image: Image.Image, fmt: str, text: str | None, *, quality: int = 95) -> bytes:
    """The picture's bytes in ``fmt`` with ``text`` as its only metadata (none when ``text`` is None)."""
    import io

    buffer = io.BytesIO()
    if fmt == "PNG":
        keeps = image.mode in ("RGB", "RGBA", "L", "LA")
        picture = image if keeps else image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options = {"pnginfo": png_info(text)} if text else {}
        picture.save(buffer, format="PNG", compress_level=6, **options)
    else:
        picture = image
        if fmt == "JPEG" and image.mode != "RGB":
            # JPEG has no alpha: composite over white, as the app shows a transparent picture.
            base = Image.new("RGB", image.size, (255, 255, 255))
            rgba = image.convert("RGBA")
            base.paste(rgba, mask=rgba.getchannel("A"))
            picture = base
        elif fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
            picture = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options = {}
        if text:
            exif = exif_with_text(text)
            if fmt == "JPEG" and len(exif) > _JPEG_EXIF_LIMIT:
                raise bad_input("The settings are too long for a JPEG's metadata: export as PNG or WebP instead.")
            options["exif"] = exif
        picture.save(buffer, format=fmt, quality=quality, **options)
    return buffer.getvalue()


def shareable_text(text: str) -> str:
    """A parameters text without the fields that say where things are on this machine (older versions wrote one)."""
    parsed = parse_parameters_text(text)
    if not any(key in parsed.fields for key in PRIVATE_FIELDS):
        return text
    fields = [(key, value) for key, value in parsed.fields.items() if key not in PRIVATE_FIELDS]
    return build_parameters_text(parsed.prompt, parsed.negative_prompt, fields)


def export_for_sharing(image: Image.Image, path: str | os.PathLike, text: str | None, *, strip: bool = False) -> Path:
    """Write ``image`` at ``path`` (PNG, JPEG or WebP by its extension) with ``text``, or with no metadata when
    ``strip``; atomically. Returns the path."""
    target = Path(path)
    data = encode_for_sharing(image, share_format(target), None if strip or not text else shareable_text(text))
    try:
        return atomic_write(target, data)
    except OSError as exc:
        raise bad_input(f"Restyle could not write {target.name} in {target.parent}: {exc.strerror or exc}.") from None
