"""LoRAs and textual-inversion embeddings, torch-free: prompt tags, folders, families and hashes.

- ``<lora:name:weight>`` in a prompt (AUTOMATIC1111, Forge, Fooocus, Krita) is read by ``parse_lora_tags`` and
  stripped from the text the encoder gets; the saved prompt keeps it, as A1111 does.
- An embedding is triggered by its name as a word of the prompt (A1111) or by ``embedding:name`` (ComfyUI).
- ``lora_family`` reads a ``.safetensors`` header (no torch, no weights read) to tell SD 1.x, SD 2.x, SDXL, SD3
  and FLUX LoRAs apart, so one made for another family is refused with a sentence naming both.
- Hashes as A1111 writes them: ``Lora hashes`` is the first 12 hex digits of the SHA-256 of a .safetensors
  file's tensor data (the "AddNet" hash, header left out, as Civitai's AutoV3), ``TI hashes`` of the whole file.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

LORA_SUFFIXES = (".safetensors",)
EMBEDDING_SUFFIXES = (".safetensors", ".pt", ".bin")
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
PREVIEW_SUFFIXES = (".preview.png", ".png", ".jpg", ".jpeg", ".webp", ".preview.jpg", ".preview.jpeg")

# <lora:name>, <lora:name:0.8>, <lora:name:0.8:0.5> (text encoder : UNet, A1111) and <lyco:…> (LyCORIS).
_LORA_TAG = re.compile(r"<(?:lora|lyco):([^:<>]+)(?::([^:<>]*))?(?::[^<>]*)?>", re.IGNORECASE)
_EMBEDDING_PREFIX = re.compile(r"\bembedding:([\w.\-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class LoraRef:
    """A LoRA by name (a file stem in the LoRA folders) or path, with its weight."""

    name: str
    weight: float = 1.0

    @property
    def tag(self) -> str:
        """The A1111 prompt tag: ``<lora:name:0.8>``."""
        return f"<lora:{self.name}:{self.weight:g}>"


@dataclass(frozen=True)
class StyleFile:
    """A LoRA or embedding file found in a folder: its name (the stem), path and preview image, if any."""

    name: str
    path: str
    preview: str | None = None


def parse_lora_tags(prompt: str) -> tuple[str, tuple[LoraRef, ...]]:
    """The prompt without its ``<lora:…>`` tags (tidied), and the LoRAs they name in order.

    A weight that is not a number is read as 1.0, as A1111 does with a missing one.
    """
    refs: list[LoraRef] = []

    def take(match: re.Match) -> str:
        raw = (match.group(2) or "").strip()
        try:
            weight = float(raw) if raw else 1.0
        except ValueError:
            weight = 1.0
        refs.append(LoraRef(match.group(1).strip(), weight))
        return ""

    text = _LORA_TAG.sub(take, prompt)
    if refs:
        text = _tidy(text)
    return text, tuple(refs)


def _tidy(text: str) -> str:
    """Collapse the commas and spaces a removed tag leaves behind ("a, , b" → "a, b")."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s*,(\s*,)+", ",", text)
    text = re.sub(r" +,", ",", text)
    return text.strip().strip(",").strip()


def prompt_with_lora_tags(prompt: str, loras) -> str:
    """The prompt as A1111 writes it: the LoRAs not already tagged in it appended as ``<lora:name:w>``, so any
    tool that reads the PNG runs them too."""
    _, tagged = parse_lora_tags(prompt)
    names = {ref.name for ref in tagged}
    extra = [LoraRef(Path(name).stem if name.endswith(LORA_SUFFIXES) else name, weight).tag
             for name, weight in loras if (Path(name).stem if name.endswith(LORA_SUFFIXES) else name) not in names]
    if not extra:
        return prompt
    return f"{prompt}{' ' if prompt and not prompt.endswith((' ', chr(10))) else ''}{' '.join(extra)}"


def lora_tag_spans(prompt: str) -> list[tuple[int, int]]:
    """Where the ``<lora:…>`` tags are (start, end), for the editor to colour them."""
    return [m.span() for m in _LORA_TAG.finditer(prompt)]


def combine_loras(panel: tuple[LoraRef, ...], prompt_tags: tuple[LoraRef, ...]) -> tuple[LoraRef, ...]:
    """The LoRAs a run uses: the panel's, then the prompt's; a name in both takes the prompt's weight."""
    tagged = {ref.name for ref in prompt_tags}
    return tuple(ref for ref in panel if ref.name not in tagged) + tuple(prompt_tags)


def embedding_names_in(prompt: str, names) -> list[str]:
    """The embeddings a prompt triggers: each known name that is a word of it, or written ``embedding:name``."""
    found: list[str] = []
    for match in _EMBEDDING_PREFIX.finditer(prompt):
        if match.group(1) in names and match.group(1) not in found:
            found.append(match.group(1))
    for name in names:
        if name not in found and re.search(rf"(?<![\w\-]){re.escape(name)}(?![\w\-])", prompt):
            found.append(name)
    return found


def replace_embedding_triggers(prompt: str, tokens: dict[str, str]) -> str:
    """The prompt with each embedding's trigger (``name`` or ``embedding:name``) replaced by its tokens."""
    for name, replacement in tokens.items():
        prompt = re.sub(rf"\bembedding:{re.escape(name)}(?![\w\-])", lambda _m, text=replacement: text, prompt,
                        flags=re.IGNORECASE)
        prompt = re.sub(rf"(?<![\w\-<]){re.escape(name)}(?![\w\-])", lambda _m, text=replacement: text, prompt)
    return prompt


def scan_folders(folders, suffixes: tuple[str, ...]) -> list[StyleFile]:
    """The files with these suffixes in the folders (and their subfolders), by name; the first folder wins."""
    seen: dict[str, StyleFile] = {}
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in suffixes:
                continue
            if any(path.name.lower().endswith(s) for s in (".preview.png",)) or _is_preview(path, suffixes):
                continue
            seen.setdefault(path.stem, StyleFile(path.stem, str(path), _preview_of(path)))
    return sorted(seen.values(), key=lambda f: f.name.lower())


def _is_preview(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") and path.suffix.lower() not in suffixes


def _preview_of(path: Path) -> str | None:
    """A picture beside the file with the same stem (A1111 ``name.preview.png`` or ``name.png``), or None."""
    for suffix in PREVIEW_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return str(candidate)
    return None


def find_style_file(name: str, folders, suffixes: tuple[str, ...]) -> StyleFile | None:
    """A file named by path, or by its stem in the folders; None when there is none."""
    path = Path(name).expanduser()
    if path.suffix.lower() in (*suffixes, *PICKLE_SUFFIXES) and path.is_file():
        return StyleFile(path.stem, str(path), _preview_of(path))
    for found in scan_folders(folders, (*suffixes, *PICKLE_SUFFIXES)):
        if found.name == name:
            return found
    lowered = name.lower()
    for found in scan_folders(folders, (*suffixes, *PICKLE_SUFFIXES)):
        if found.name.lower() == lowered:
            return found
    return None


def safetensors_header(path: str | os.PathLike) -> dict:
    """The JSON header of a .safetensors file (tensor names → dtype, shape; ``__metadata__``); {} if unreadable."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                return {}
            return json.loads(handle.read(length))
    except (OSError, ValueError, struct.error):
        return {}


# Cross-attention widths (the text features a UNet reads) of the families a LoRA can be made for.
_CROSS_WIDTHS = {768: "sd", 1024: "sd", 2048: "sdxl"}
FAMILY_LABELS = {"sd": "SD 1.x/2.x", "sdxl": "SDXL", "sd3": "SD3", "flux": "FLUX", "other": "another kind of model"}


def lora_family(header: dict) -> str | None:
    """The family a LoRA was made for, from its tensor names: "sd", "sdxl", "sd3", "flux"; None when unsure."""
    keys = [k for k in header if k != "__metadata__"]
    meta = header.get("__metadata__") or {}
    base = str(meta.get("ss_base_model_version", "")).lower()
    if any(k.startswith(("lora_te2_", "text_encoder_2.", "lora_te1_")) for k in keys) or base.startswith("sdxl"):
        return "sdxl"
    if any("double_blocks" in k or "single_blocks" in k or "single_transformer_blocks" in k for k in keys):
        return "flux"
    if any("joint_blocks" in k or (k.startswith("transformer.transformer_blocks") and "context" in k) for k in keys):
        return "sd3"
    if any(k.startswith(("lora_transformer_", "transformer.")) for k in keys):
        return "flux" if base.startswith("flux") else None
    width = lora_cross_width(header)
    if width in _CROSS_WIDTHS:
        return _CROSS_WIDTHS[width]
    if any(k.startswith(("lora_te_", "text_encoder.")) for k in keys) or base.startswith("sd_v"):
        return "sd"
    return None


def lora_cross_width(header: dict) -> int | None:
    """The width of the text features the LoRA's cross-attention keys read (768 SD 1.x, 2048 SDXL), or None."""
    for key, info in header.items():
        if key == "__metadata__" or not isinstance(info, dict):
            continue
        flat = key.replace(".", "_")
        if "attn2_to_k" in flat and ("lora_down" in key or "lora_A" in key or "lora.down" in key):
            shape = info.get("shape") or []
            if len(shape) == 2:
                return int(shape[1])
    return None


_hash_cache: dict[tuple[str, int, int, bool], str] = {}


def file_hash(path: str | os.PathLike, *, tensors_only: bool) -> str:
    """The SHA-256 of a file (hex), or of a .safetensors file's tensor data only (A1111's LoRA hash)."""
    path = os.fspath(path)
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, tensors_only)
    if key in _hash_cache:
        return _hash_cache[key]
    import hashlib  # here, not at import: OpenSSL's hashes are a few ms of the window's start-up

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        if tensors_only and path.lower().endswith(".safetensors"):
            (length,) = struct.unpack("<Q", handle.read(8))
            handle.seek(8 + length)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def lora_hash(path: str | os.PathLike) -> str:
    """A1111's short LoRA hash (12 hex digits) as ``Lora hashes`` writes it."""
    return file_hash(path, tensors_only=True)[:12]


def embedding_hash(path: str | os.PathLike) -> str:
    """A1111's short embedding hash (12 hex digits) as ``TI hashes`` writes it."""
    return file_hash(path, tensors_only=False)[:12]


def format_hashes(pairs) -> str:
    """``name: hash, name: hash`` as A1111 writes ``Lora hashes`` (names with , or : lose them)."""
    return ", ".join(f"{re.sub(r'[,:]', '', name)}: {digest}" for name, digest in pairs)


def parse_hashes(text: str) -> dict[str, str]:
    """``Lora hashes`` / ``TI hashes`` back into {name: hash}."""
    out: dict[str, str] = {}
    for part in text.split(","):
        name, sep, digest = part.rpartition(":")
        if sep and name.strip() and digest.strip():
            out[name.strip()] = digest.strip()
    return out


def default_style_dirs(data_folder: str | os.PathLike) -> tuple[Path, Path]:
    """The LoRA and embedding folders inside the data folder (``loras``, ``embeddings``)."""
    return Path(data_folder) / "loras", Path(data_folder) / "embeddings"
