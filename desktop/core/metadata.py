"""Generation settings as AUTOMATIC1111-style "parameters" text, written into and read from images."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass

from desktop.core.errors import bad_input
from desktop.core.files import atomic_write, is_regular_file
from desktop.core.lazy_modules import lazy_module

Image = lazy_module("PIL.Image")  # Pillow loads with the first picture, not the window (lazy_modules.py)
PngImagePlugin = lazy_module("PIL.PngImagePlugin")

# The reader A1111 and most other tools use: the last line is parameters when
#     \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
# matches 3+ times. That pattern is quadratic: where no key follows, findall retries at every character of a run
# of key characters and rescans the run each time (a 60 KB line took 21 s). A key can only end where its run of
# key characters ends, and every try inside one run ends there too; so the same matches come from trying only the
# first word character of each run (the lookbehind and the possessive ``[ \-/]*+``): one pass, same results.
_PARAM_RE = re.compile(r'(?<![\w \-/])[ \-/]*+(\w[\w \-/]++):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
# Texts longer than this are not read at all: no tool writes such settings, and a prompt box would choke on it.
MAX_PARAMETERS_CHARS = 128 * 1024
_KEY_RE = re.compile(r"\w[\w \-/]+")
_NEGATIVE_PREFIX = "Negative prompt:"
_MIN_PARAM_MATCHES = 3

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286

def _format_value(value: object) -> str:
    """A value as A1111 writes it: bare unless the reader would split or mangle it."""
    text = str(value)  # str(7.0) == "7.0", as A1111 writes CFG scale; ints stay ints.
    # Besides , : and newlines (A1111's rule), quote what the reader would otherwise change:
    # a leading quote would be json-decoded, surrounding whitespace would be eaten.
    if any(c in text for c in ",:\n\r") or text.startswith('"') or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def build_parameters_text(prompt: str, negative_prompt: str, fields: list[tuple[str, object]]) -> str:
    """The A1111 "parameters" text: prompt, optional negative line, then one line of `Key: value`."""
    parts = []
    for key, value in fields:
        if value is None:
            continue
        if not _KEY_RE.fullmatch(key):
            raise ValueError(f"{key!r} cannot be a parameters key")
        parts.append(f"{key}: {_format_value(value)}")
    lines = [prompt]
    if negative_prompt:
        lines.append(f"{_NEGATIVE_PREFIX} {negative_prompt}")
    if parts:
        lines.append(", ".join(parts))
    return "\n".join(lines)


@dataclass(frozen=True)
class ParsedParameters:
    """What a parameters text says: the prompts and the `Key: value` fields, as strings."""

    prompt: str
    negative_prompt: str
    fields: dict[str, str]

    def get_float(self, key: str) -> float | None:
        """The field as a finite float, or None when it is missing or not a number."""
        try:
            number = float(self.fields[key])
        except (KeyError, ValueError):
            return None
        return number if math.isfinite(number) else None

    def get_int(self, key: str) -> int | None:
        """The field as an int ("20" or "20.0"), or None when it is missing or not a whole number."""
        raw = self.fields.get(key)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            number = self.get_float(key)
            return int(number) if number is not None and number.is_integer() else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value
    return value


def parse_parameters_text(text: str) -> ParsedParameters:
    """Split a parameters text back into prompt, negative prompt and fields (A1111's rules).

    Linear in the length of the text; a text over ``MAX_PARAMETERS_CHARS`` is refused with a sentence.
    """
    if len(text) > MAX_PARAMETERS_CHARS:
        raise bad_input(f"The picture's settings text is {len(text) // 1024:,} KB long, far longer than any tool "
                        "writes, so Restyle did not read it; the picture itself opened as usual.")
    *lines, last = text.replace("\r\n", "\n").strip().split("\n")
    matches = _PARAM_RE.findall(last)
    if len(matches) < _MIN_PARAM_MATCHES:
        lines.append(last)
        matches = []
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    in_negative = False
    for line in lines:
        if not in_negative and line.startswith(_NEGATIVE_PREFIX):
            in_negative = True
            # One space after the prefix belongs to the format; anything more is the user's.
            rest = line[len(_NEGATIVE_PREFIX):]
            negative_lines.append(rest.removeprefix(" "))
        elif in_negative:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    fields = {key: _unquote(value) for key, value in matches}
    return ParsedParameters("\n".join(prompt_lines), "\n".join(negative_lines), fields)


def png_info(text: str) -> PngImagePlugin.PngInfo:
    """A PngInfo with the `parameters` chunk (tEXt, or iTXt when the text is not Latin-1)."""
    info = PngImagePlugin.PngInfo()
    # add_text falls back to UTF-8 iTXt by itself, so "猫, 🎨" survives and ASCII stays tEXt like A1111.
    info.add_text("parameters", text)
    return info


def save_png_with_parameters(image: Image.Image, path: str | os.PathLike, text: str) -> None:
    """Write `image` as a PNG carrying `text`, atomically (temp file in the same folder, then replace)."""
    target = os.fspath(path)
    name = os.path.basename(target)
    folder = os.path.dirname(os.path.abspath(target))
    if image.mode not in ("1", "L", "LA", "I;16", "P", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    try:
        atomic_write(target, lambda handle: image.save(handle, format="PNG", pnginfo=png_info(text), compress_level=4))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise bad_input(f"Restyle could not save {name} in {folder}: {reason}.") from None


def read_parameters(path: str | os.PathLike) -> str | None:
    """The raw parameters text of a PNG chunk or a JPEG/WebP EXIF UserComment; None when there is none."""
    if not is_regular_file(path):
        return None
    try:
        with Image.open(path) as image:
            text = image.info.get("parameters")
            if text is None and image.format == "PNG":
                # Text chunks may sit after the pixel data; .text reads to the end of the file.
                text = image.text.get("parameters")  # type: ignore[attr-defined]
            if text is None:
                comment = image.getexif().get_ifd(_EXIF_IFD).get(_USER_COMMENT)
                text = _decode_user_comment(comment) if comment is not None else None
    except Exception:  # noqa: BLE001 - any unreadable file simply has no parameters for us.
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return str(text) if text else None


def _decode_user_comment(raw: object) -> str | None:
    """Decode an EXIF UserComment: an 8-byte character-code prefix, then the text."""
    if isinstance(raw, str):
        return raw.rstrip("\0") or None
    if not isinstance(raw, bytes):
        return None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        text = _decode_utf16(body)
    elif prefix.startswith(b"ASCII"):
        # Many writers put UTF-8 behind the ASCII code; decoding as UTF-8 is a superset.
        text = body.decode("utf-8", errors="replace")
    else:
        text = raw.lstrip(b"\0").decode("utf-8", errors="replace")
    return text.rstrip("\0") or None


def _decode_utf16(body: bytes) -> str:
    # Some writers pad the prefix with an extra NUL ("UNICODE\0\0"), leaving an odd length.
    if len(body) % 2 and body.startswith(b"\0"):
        body = body[1:]
    if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return body.decode("utf-16", errors="replace")
    # piexif (used by A1111) writes big-endian; ASCII-heavy text has its NULs at even offsets then.
    even_nuls, odd_nuls = body[0::2].count(0), body[1::2].count(0)
    order = ("utf-16-be", "utf-16-le") if even_nuls >= odd_nuls else ("utf-16-le", "utf-16-be")
    for encoding in order:
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode(order[0], errors="replace")
