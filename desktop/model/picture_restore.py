"""The restore bar's offer: what a dropped picture's settings would change, shown before anything changes.

Built from the picture's PictureSettings (any tool) and the current parameters: the exact changes Restore
makes, one line per visible change ("seed 12 → 99"), what the picture says that Restyle cannot use, and its model
matched against what is installed ("use it" / "not installed: find it"). No Qt: the session holds the offer and
the parameters from before, so Undo puts them back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.model_match import find_installed_model, model_key
from desktop.core.params import GenerationParams
from desktop.core.ranges import RANGES
from desktop.core.samplers import AUTOMATIC, sampler_spec, schedule_label

if TYPE_CHECKING:  # only annotations here; the reader (sd-parsers, PIL) loads with the first picture
    from desktop.core.picture_settings import PictureSettings

_LABELS = {"prompt": "prompt", "negative_prompt": "negative prompt", "seed": "seed", "steps": "steps",
           "guidance_scale": "CFG", "strength": "strength", "sampler": "sampler", "schedule": "schedule",
           "aesthetic_score": "aesthetic score", "negative_aesthetic_score": "negative aesthetic score",
           "denoising_start": "denoising start", "prior_guidance_scale": "prior CFG", "prior_steps": "prior steps",
           "loras": "LoRAs"}


@dataclass(frozen=True)
class RestoreOffer:
    """What restoring a picture's settings would do."""

    source: str  # the picture's file name
    settings: PictureSettings
    changes: dict  # GenerationParams field -> value: exactly what Restore sets
    preview: tuple[str, ...]  # one line per change the artist sees: 'seed 12 → 99'
    not_used: tuple[str, ...]  # what the picture says that Restyle cannot use
    model: str = ""  # the installed model it was made with, when that is not the current one
    missing_model: str = ""  # the model's name when it is not installed here
    missing_loras: tuple[str, ...] = ()  # LoRAs it uses that are in none of the LoRA folders
    notes: tuple[str, ...] = ()  # what matching its LoRA tags and embeddings to the user's files found

    @property
    def text(self) -> str:
        """The bar's sentence: where from, what changes, the model, and what is not used."""
        lines = [f"{self.source} was made with {self.settings.tool}."]
        if self.preview:
            lines.append("Restore changes: " + "; ".join(self.preview) + ".")
        else:
            lines.append("Its settings are the ones in use now.")
        if self.model:
            lines.append(f"Model {self.settings.model_name or Path(self.model).name}: installed.")
        elif self.missing_model:
            lines.append(f"Model {self.missing_model}: not installed.")
        if self.missing_loras:
            lines.append(f"LoRA {', '.join(self.missing_loras)}: not installed.")
        lines += self.notes
        if self.not_used:
            lines.append("Not used: " + ", ".join(self.not_used) + ".")
        return "\n".join(lines)


def _label(field: str) -> str:
    return _LABELS.get(field, field.replace("_", " "))


def _show(field: str, value: object) -> str:
    if value is None or value == "":
        return {"sampler": "the model's own", "seed": "random"}.get(field, "none")
    if field == "schedule":
        return schedule_label(str(value))
    if field == "loras":
        return ", ".join(f"{name} {weight:g}" for name, weight in value) if value else "none"
    if field in ("prompt", "negative_prompt"):
        flat = " ".join(str(value).split())
        return f"“{flat if len(flat) <= 40 else flat[:39] + '…'}”"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _tags_in_prompt(s: PictureSettings) -> bool:
    """A1111 and Restyle keep a picture's LoRAs as <lora:…> tags in its prompt."""
    return s.tool in ("AUTOMATIC1111", "Restyle")


def _changes(s: PictureSettings) -> tuple[dict, list[str]]:
    """The parameters the settings give (values Restyle accepts) and what it cannot use."""
    changes: dict = {"prompt": s.prompt, "negative_prompt": s.negative_prompt}
    not_used: list[str] = []
    for field, value in (("seed", s.seed), ("steps", s.steps), ("guidance_scale", s.guidance_scale),
                         ("strength", s.strength)):
        if value is None:
            continue
        if RANGES[field].contains(value):
            changes[field] = value
        else:
            not_used.append(f"{_label(field)} {_show(field, value)}")
    if s.sampler and sampler_spec(s.sampler):
        changes["sampler"] = sampler_spec(s.sampler).name
        changes["schedule"] = s.schedule or AUTOMATIC
    changes.update(dict(s.family))
    # A1111 (and Restyle) keep LoRAs as <lora:…> tags in the prompt, which restores them; the panel's own are
    # cleared so the picture is remade with its LoRAs only. Other tools' LoRAs become the panel's.
    changes["loras"] = () if _tags_in_prompt(s) else tuple(s.loras)
    not_used += [f"{key} {value}" for key, value in s.unused]
    return changes, not_used


def build_offer(source: str, settings: PictureSettings, current: GenerationParams, installed: list[str],
                hash_cache: Path | None = None, *, has_lora: Callable[[str], bool] = lambda name: False,
                notes: tuple[str, ...] = ()) -> RestoreOffer:
    """The offer for ``settings`` read from the picture named ``source``, against the parameters in use.

    ``installed``: the models here (model_match.installed_models); ``has_lora``: whether a LoRA name is in the
    user's folders; ``notes``: what matching the picture's A1111 LoRA tags found (StyleLibrary.match_restored)."""
    changes, not_used = _changes(settings)
    # A1111's tags were matched already (``notes`` says what is missing); other tools' LoRAs are checked here.
    missing_loras = () if settings.style_hashes or _tags_in_prompt(settings) else tuple(
        name for name, _ in settings.loras if not has_lora(name))
    try:
        GenerationParams(model=current.model or "x", **changes).validate()
    except Exception as exc:  # noqa: BLE001 - a value out of range: say so and leave it out
        not_used.append(getattr(exc, "message", str(exc)))
        changes = {k: v for k, v in changes.items() if k in ("prompt", "negative_prompt")}
    preview = tuple(f"{_label(field)} {_show(field, getattr(current, field))} → {_show(field, value)}"
                    for field, value in changes.items() if getattr(current, field) != value)
    model = missing = ""
    name = settings.model_name or settings.local_model
    if name or settings.model_hash:
        same = bool(name) and model_key(name) == model_key(current.model)
        if not same:
            found = find_installed_model(name, settings.model_hash, installed, hash_cache)
            if found and model_key(found) != model_key(current.model):
                model = found
            elif not found:
                missing = settings.model_name or settings.model_hash
    return RestoreOffer(source, settings, changes, preview, tuple(not_used), model, missing, missing_loras, notes)


def undo_changes(before: GenerationParams, offer: RestoreOffer) -> dict:
    """The parameters that put back what restoring ``offer`` changed."""
    return {field: getattr(before, field) for field in offer.changes}
