"""Cheap looks into a picture file before anything decodes its pixels: PNG text chunks written after the image
data, and AUTOMATIC1111's "stealth" settings in the alpha channel's lowest bits.

Stealth format (the sd-webui-stealth-pnginfo extension, as sd-parsers reads it): the bits run down each column,
left to right; "stealth_pngcomp", a 32-bit big-endian length in bits, then that many bits of gzip'd UTF-8 text.
Decoded here with numpy (sd-parsers' pure-Python reader takes about a second per megapixel on this machine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

import gzip
import struct
from typing import BinaryIO

from PIL import Image

STEALTH_HEADER = b"stealth_pngcomp"
MAX_STEALTH_PIXELS = 64_000_000  # reading hidden bits decodes every pixel: not for gigapixel files
_MAX_STEALTH_BYTES = 1 << 20  # gzip'd settings are a few KB; a bigger claim is noise, not settings
_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")


def png_text_after_pixels(handle: BinaryIO) -> bool:
    """True when a PNG has text chunks after its image data (Pillow reads those only by decoding every pixel)."""
    position = handle.tell()
    try:
        handle.seek(8)
        seen_pixels = False
        while True:
            head = handle.read(8)
            if len(head) < 8:
                return False
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IDAT":
                seen_pixels = True
            elif kind == b"IEND":
                return False
            elif seen_pixels and kind in _TEXT_CHUNKS:
                return True
            handle.seek(length + 4, 1)  # the data and its CRC
    finally:
        handle.seek(position)


def _column_bits(alpha: np.ndarray, start: int, count: int) -> np.ndarray:
    """The low bits ``start`` … ``start + count`` in column order, copying only the columns they lie in."""
    import numpy as np
    height = alpha.shape[0]
    first, last = start // height, (start + count - 1) // height
    columns = alpha[:, first:last + 1].T.ravel()
    offset = start - first * height
    return (columns[offset:offset + count] & 1).astype(np.uint8)


def read_stealth_text(image: Image.Image) -> str | None:
    """The text hidden in an RGBA picture's alpha bits, or None when there is none."""
    import numpy as np
    if image.mode != "RGBA" or not 0 < image.width * image.height <= MAX_STEALTH_PIXELS:
        return None
    header_bits = len(STEALTH_HEADER) * 8 + 32
    if image.width * image.height < header_bits:
        return None
    alpha = np.asarray(image.getchannel("A"))
    head = np.packbits(_column_bits(alpha, 0, header_bits)).tobytes()
    if head[: len(STEALTH_HEADER)] != STEALTH_HEADER:
        return None
    length = int.from_bytes(head[len(STEALTH_HEADER):], "big")
    if length % 8 or not 0 < length <= min(alpha.size - header_bits, _MAX_STEALTH_BYTES * 8):
        return None
    payload = np.packbits(_column_bits(alpha, header_bits, length)).tobytes()
    try:
        return gzip.decompress(payload).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError):
        return None
