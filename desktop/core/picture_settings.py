"""The settings a picture was made with, read from any tool's metadata and mapped onto Restyle's parameters.

sd-parsers (https://github.com/d3x-at/sd-parsers) recognises the tool and reads its format: AUTOMATIC1111 text
(PNG chunk, JPEG/WebP EXIF UserComment, or "stealth" bits in the alpha channel), ComfyUI's prompt graph,
Fooocus' JSON, InvokeAI's three formats and NovelAI's chunks. This module maps what it finds onto our fields,
and lists what has no place in Restyle ("not used: sharpness 2, perlin 0"). A picture nothing can read gives
None: no restore offer is better than a wrong one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from dataclasses import dataclass

from PIL import Image

from .comfy_graph import ComfyGraph, is_sampler
from .errors import RestyleError
from .mask_metadata import mask_changes_from
from .metadata import parse_parameters_text
from .picture_chunks import png_text_after_pixels, read_stealth_text
from .samplers import parse_sampler, sampler_fields, schedule_key
from .style_files import parse_lora_tags

log = logging.getLogger(__name__)

# A1111 keys Restyle maps; everything else a picture says is listed as not used.
_A1111_MAPPED = {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model", "Model hash",
                 "Denoising strength", "Lora hashes", "Version", "Restyle model", "Distilled CFG Scale",
                 "Mask blur", "Inpaint area", "Masked area padding", "Inpainting fill", "TI hashes", "Hashes"}
_A1111_FAMILY = {"Aesthetic score": ("aesthetic_score", float), "Negative aesthetic score":
                 ("negative_aesthetic_score", float), "Denoising start": ("denoising_start", float),
                 "Prior CFG scale": ("prior_guidance_scale", float), "Prior steps": ("prior_steps", int)}
# Keys that describe the file or the tool, not a setting anyone could use.
_NOT_SETTINGS = {"full_prompt", "full_negative_prompt", "prompt_expansion", "version", "metadata_scheme",
                 "created_by", "app_id", "app_version", "model", "type", "generation_mode", "rand_device",
                 "request_type", "signed_hash", "uc", "positive_style_prompt", "negative_style_prompt", "image",
                 "width", "height", "resolution", "loras", "base_model_hash", "steps", "noise_schedule",
                 "random_seed_after_every_gen", "id", "variations", "postprocessing"}


@dataclass(frozen=True)
class PictureSettings:
    """What a picture says it was made with, in Restyle's terms (None/"" where it says nothing)."""

    tool: str  # "AUTOMATIC1111", "ComfyUI", "Fooocus", "InvokeAI", "NovelAI" or "Restyle"
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    sampler: str = ""  # AUTOMATIC1111's name ("DPM++ 2M"), which Restyle's sampler picker uses
    schedule: str = ""  # a samplers.SCHEDULES key: automatic, karras, exponential, sgm_uniform
    width: int | None = None
    height: int | None = None
    strength: float | None = None
    model_name: str = ""
    model_hash: str = ""  # first 10 hex of the file's SHA-256 as A1111 writes it, or the tool's own hash
    # (name, weight); a name is a file stem, as Restyle's LoRA folders list them. For A1111 text (and Restyle's)
    # they are the prompt's own <lora:…> tags, which the prompt restores by itself.
    loras: tuple[tuple[str, float], ...] = ()
    # Other GenerationParams fields the picture sets, by field name: family settings (aesthetic_score, …), the
    # mask settings of an inpainting run, FLUX's true CFG.
    family: tuple[tuple[str, object], ...] = ()
    unused: tuple[tuple[str, str], ...] = ()  # what has no place in Restyle: ("sharpness", "2")
    local_model: str = ""  # where an older Restyle PNG said the model was on the machine that made it
    # A1111's "Lora hashes" and "TI hashes" fields, to find its LoRAs and embeddings among the user's files.
    style_hashes: tuple[tuple[str, str], ...] = ()

    @property
    def unused_text(self) -> str:
        """The unused fields as one line: "sharpness 2, perlin 0"."""
        return ", ".join(f"{key} {value}" for key, value in self.unused)


def _lora_name(name: str) -> str:
    """A LoRA as the folders know it: "SDXL/film-grain.safetensors" is film-grain."""
    last = re.split(r"[\\/]", name.strip())[-1]
    stem, ext = os.path.splitext(last)
    return stem if ext.lower() in (".safetensors", ".pt", ".ckpt", ".bin") else last


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"


def _int(value: object) -> int | None:
    """A whole number from an int, a float or a string ("6952411511246973023" stays exact)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _seed(value: object) -> int | None:
    seed = _int(value)
    return seed if seed is not None and 0 <= seed < 2**64 else None


def _size(text: object) -> tuple[int | None, int | None]:
    match = re.fullmatch(r"\s*\(?\s*(\d+)\s*[x×,]\s*(\d+)\s*\)?\s*", str(text or ""))
    return (int(match[1]), int(match[2])) if match else (None, None)


def _sampler_fields(name: str, schedule_name: str = "") -> dict:
    """sampler/schedule for a tool's sampler and schedule names, and what does not map."""
    key = name.strip().lower().removeprefix("sample_")  # ComfyUI's first releases: sample_dpmpp_2m
    implied = None
    if key.endswith("_k"):  # InvokeAI: dpmpp_2m_k is DPM++ 2M with Karras sigmas
        key, implied = key[:-2], "karras"
    parsed = parse_sampler(key) if key else None
    schedule = schedule_key(schedule_name) if schedule_name else None
    unused = []
    if name and parsed is None:
        unused.append(("sampler", name))
    if schedule_name and schedule is None:
        unused.append(("schedule", schedule_name))
    return {"sampler": parsed[0] if parsed else "",
            "schedule": (schedule or implied or (parsed[1] if parsed and not schedule_name else "")) if parsed else "",
            "unused": unused}


def a1111_settings(text: str) -> PictureSettings:
    """The settings an AUTOMATIC1111 ``parameters`` text gives (Restyle's own PNGs write the same format).

    Raises a bad-input RestyleError for a text far longer than any tool writes (see metadata.py)."""
    parsed = parse_parameters_text(text)
    f = parsed.fields
    version = f.get("Version", "")
    sampler = sampler_fields(f)  # {} when it names no sampler Restyle has
    width, height = _size(f.get("Size"))
    family = []
    for key, (name, kind) in _A1111_FAMILY.items():
        value = _int(f.get(key)) if kind is int else _float(f.get(key))
        if value is not None:
            family.append((name, value))
    family += list(mask_changes_from(parsed).items())  # Mask blur, Inpaint area, Masked area padding, fill
    guidance = _float(f.get("CFG scale"))
    distilled = _float(f.get("Distilled CFG Scale"))
    if distilled is not None:  # FLUX, as Forge writes it: CFG scale is then the true CFG (1 = off)
        family.append(("true_cfg_scale", max(1.0, guidance if guidance is not None else 1.0)))
        guidance = distilled
    unused = [(key, _short(value)) for key, value in f.items() if key not in _A1111_MAPPED and key not in _A1111_FAMILY]
    if f.get("Sampler") and not sampler:
        unused.insert(0, ("Sampler", f["Sampler"]))
    return PictureSettings(
        tool="Restyle" if version.startswith("Restyle") else "AUTOMATIC1111",
        prompt=parsed.prompt, negative_prompt=parsed.negative_prompt,
        seed=_seed(f.get("Seed")), steps=_int(f.get("Steps")), guidance_scale=guidance,
        sampler=sampler.get("sampler", ""), schedule=sampler.get("schedule", ""),
        width=width, height=height, strength=_float(f.get("Denoising strength")),
        model_name=f.get("Model", ""), model_hash=f.get("Model hash", "").lower(),
        loras=tuple((ref.name, ref.weight) for ref in parse_lora_tags(parsed.prompt)[1]),
        family=tuple(family), unused=tuple(unused), local_model=f.get("Restyle model", ""),
        style_hashes=tuple((key, f[key]) for key in ("Lora hashes", "TI hashes") if f.get(key)),
    )


def _from_comfyui(info) -> PictureSettings | None:
    prompt = info.raw_parameters.get("prompt")
    graph = ComfyGraph(prompt if isinstance(prompt, dict) else json.loads(prompt))
    ids = [str(s.sampler_id) for s in info.samplers if s.sampler_id is not None and str(s.sampler_id) in graph.nodes]
    first = graph.first_sampler(ids)
    if first is None:
        return None
    comfy = graph.settings(first)
    sampler = _sampler_fields(comfy.sampler_name, comfy.scheduler)
    unused = sampler["unused"] + comfy.unused
    strength = comfy.denoise if comfy.from_image else None
    if not comfy.from_image and comfy.denoise is not None and comfy.denoise < 1.0:
        unused.append(("denoise", _short(comfy.denoise)))
    for other in ids:
        if other != first:
            cls = graph.class_type(other)
            unused.append((f"{cls} #{other}", f"{graph.number(other, ('steps',), int)} steps"))
    return PictureSettings(
        tool="ComfyUI", prompt=comfy.positive, negative_prompt=comfy.negative, seed=_seed(comfy.seed),
        steps=comfy.steps, guidance_scale=comfy.cfg, sampler=sampler["sampler"], schedule=sampler["schedule"],
        width=comfy.width, height=comfy.height, strength=strength, model_name=comfy.checkpoint,
        loras=tuple((_lora_name(name), weight) for name, weight in comfy.loras), unused=tuple(unused),
    )


def _unused(pairs: dict, skip: set[str] = frozenset()) -> list[tuple[str, str]]:
    out = []
    for key, value in pairs.items():
        if key in _NOT_SETTINGS or key in skip or value in (None, "", [], {}, "None"):
            continue
        out.append((str(key).replace("_", " "), _short(value)))
    return out


def _first_sampler_values(info) -> tuple:
    sampler = info.samplers[0]
    prompt = ", ".join(p.value for p in sampler.prompts)
    negative = ", ".join(p.value for p in sampler.negative_prompts)
    return sampler, dict(sampler.parameters), prompt, negative


def _from_fooocus(info) -> PictureSettings:
    sampler, params, prompt, negative = _first_sampler_values(info)
    meta = dict(info.metadata)
    fields = _sampler_fields(sampler.name, str(params.pop("scheduler", "")))
    width, height = _size(meta.get("resolution"))
    loras = []
    for item in meta.get("loras") or []:
        if isinstance(item, (list, tuple)) and len(item) >= 2 and _float(item[1]) is not None:
            loras.append((_lora_name(str(item[0])), float(_float(item[1]))))
    for key, value in list(meta.items()):
        if key.startswith("lora_combined_") and isinstance(value, str) and " : " in value:
            name, weight = value.rsplit(" : ", 1)
            if _float(weight) is not None:
                loras.append((_lora_name(name), float(_float(weight))))
            del meta[key]
    meta.pop("vae", None) if meta.get("vae") == "Default (model)" else None
    if meta.get("refiner_model") in ("None", ""):
        meta.pop("refiner_switch", None)
    unused = fields["unused"] + _unused({k: v for k, v in params.items() if k not in ("seed", "steps", "cfg_scale")})
    unused += _unused(meta, {"prompt", "negative_prompt"})
    return PictureSettings(
        tool="Fooocus", prompt=prompt, negative_prompt=negative, seed=_seed(params.get("seed")),
        steps=_int(params.get("steps")), guidance_scale=_float(params.get("cfg_scale")),
        sampler=fields["sampler"], schedule=fields["schedule"], width=width, height=height,
        model_name=str(sampler.model.name or "") if sampler.model else "",
        model_hash=str(sampler.model.hash or "").lower() if sampler.model else "",
        loras=tuple(loras), unused=tuple(unused),
    )


def _from_invokeai(info) -> PictureSettings:
    sampler, params, prompt, negative = _first_sampler_values(info)
    meta = dict(info.metadata)
    fields = _sampler_fields(sampler.name)
    loras = []
    for item in meta.pop("loras", None) or []:
        if isinstance(item, dict):
            model = item.get("model") or item.get("lora") or {}
            name = model.get("model_name") or model.get("name") if isinstance(model, dict) else None
            if name and _float(item.get("weight")) is not None:
                loras.append((_lora_name(str(name)), float(_float(item["weight"]))))
    img2img = "img2img" in str(meta.get("generation_mode", meta.get("type", "")))
    strength = _float(meta.get("strength")) if img2img else None
    model = sampler.model
    model_hash = str(model.hash or "").lower() if model else ""
    unused = fields["unused"] + _unused({k: v for k, v in params.items() if k not in ("seed", "steps", "cfg_scale")})
    unused += _unused(meta, {"hires_fix", "seamless"} | ({"strength"} if strength is not None else set()))
    return PictureSettings(
        tool="InvokeAI", prompt=prompt, negative_prompt=negative, seed=_seed(params.get("seed")),
        steps=_int(params.get("steps")), guidance_scale=_float(params.get("cfg_scale")),
        sampler=fields["sampler"], schedule=fields["schedule"],
        width=_int(meta.get("width")), height=_int(meta.get("height")), strength=strength,
        model_name=str(model.name or "") if model else "",
        model_hash=model_hash[:10] if len(model_hash) == 64 else model_hash,
        loras=tuple(loras), unused=tuple(unused),
    )


def _from_novelai(info) -> PictureSettings:
    sampler, params, prompt, negative = _first_sampler_values(info)
    meta = dict(info.metadata)
    fields = _sampler_fields(sampler.name, str(meta.get("noise_schedule", "")))
    unused = fields["unused"] + _unused({k: v for k, v in params.items() if k not in ("seed", "cfg_scale", "strength")})
    unused += _unused(meta)
    model = sampler.model
    return PictureSettings(
        tool="NovelAI", prompt=prompt, negative_prompt=negative, seed=_seed(params.get("seed")),
        steps=_int(meta.get("steps")), guidance_scale=_float(params.get("cfg_scale")),
        sampler=fields["sampler"], schedule=fields["schedule"],
        width=_int(meta.get("width")), height=_int(meta.get("height")), strength=_float(params.get("strength")),
        model_name=str(model.name or "") if model else "", model_hash=str(model.hash or "") if model else "",
        unused=tuple(unused),
    )


_lock = threading.Lock()


def _forget_sd_parsers_cache() -> None:
    """sd-parsers 0.6 keeps the last JPEG/WebP UserComment by id(image), and a new picture can get the id of a
    freed one: without this, a picture dropped after another could show the other's settings."""
    from sd_parsers.extractors import _jpeg_usercomment

    _jpeg_usercomment._image_id = None


def _from_stealth(image: Image.Image):
    """sd-parsers' PromptInfo for text hidden in the alpha bits (A1111 text, or NovelAI's JSON), or None."""
    from sd_parsers.exceptions import ParserError
    from sd_parsers.parsers import AUTOMATIC1111Parser, NovelAIParser

    text = read_stealth_text(image)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    try:
        if isinstance(data, dict):
            return NovelAIParser().parse(data)
        return AUTOMATIC1111Parser().parse({"parameters": text})
    except ParserError:
        return None


def _parse(image: Image.Image, text_after_pixels: bool):
    from sd_parsers import Eagerness, ParserManager
    from sd_parsers.parsers import ComfyUIParser

    manager = ParserManager()
    # FAST reads the chunks before the pixels; DEFAULT also those after them, which costs decoding every pixel.
    info = manager.parse(image, eagerness=Eagerness.DEFAULT if text_after_pixels else Eagerness.FAST)
    if info is None and image.format == "PNG":
        text = image.text if text_after_pixels else image.info
        if "prompt" in text and "workflow" not in text:  # saved through ComfyUI's API: the graph alone
            try:
                prompt = json.loads(text["prompt"])
                if any(is_sampler(node) for node in prompt.values()):
                    info = ComfyUIParser().parse({"prompt": prompt, "workflow": {"links": []}})
            except Exception:  # noqa: BLE001 - not a graph after all
                info = None
        if info is None:
            info = _from_stealth(image)
    return info


def read_picture_settings(source: str | os.PathLike | Image.Image) -> PictureSettings | None:
    """The settings a picture carries, from whichever tool made it; None when nothing readable is there.

    Raises a bad-input RestyleError only for a settings text far longer than any tool writes, so the caller can
    say why nothing was offered."""
    try:
        with _lock:
            if isinstance(source, Image.Image):
                _forget_sd_parsers_cache()
                info = _parse(source, True)
            else:
                with Image.open(source) as image:
                    after = image.format == "PNG" and png_text_after_pixels(image.fp)
                    _forget_sd_parsers_cache()
                    info = _parse(image, after)
    except Exception:  # an unreadable file or metadata simply offers nothing
        log.info("no settings read from %s", source, exc_info=True)
        return None
    if info is None:
        return None
    try:
        settings = _map(info)
    except RestyleError:
        raise
    except Exception:  # malformed values in a known format: offer nothing rather than garbage
        log.info("settings of %s could not be mapped", source, exc_info=True)
        return None
    if settings is None or not (settings.prompt or settings.seed is not None or settings.steps is not None):
        return None
    return settings


def _map(info) -> PictureSettings | None:
    generator = getattr(info.generator, "value", str(info.generator))
    if generator == "AUTOMATIC1111":
        return a1111_settings(str(info.raw_parameters.get("parameters", "")))
    if generator == "ComfyUI":
        return _from_comfyui(info)
    if generator == "Fooocus":
        return _from_fooocus(info)
    if generator == "InvokeAI":
        return _from_invokeai(info)
    if generator == "NovelAI":
        return _from_novelai(info)
    return None
