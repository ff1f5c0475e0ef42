"""LoRAs on the loaded model through diffusers' PEFT backend: loaded once, switched without reloading.

Each file becomes one named adapter (``load_lora_weights(path, adapter_name=…)``); a run only changes which
adapters are active and their weights (``set_adapters``). A LoRA taken off the list is deleted from the model;
a weight of 0 leaves it loaded but inactive, so the UNet runs exactly as without it. When the same set of LoRAs
runs twice in a row they are fused into the weights (``fuse_lora``), which saves the extra matrix products of
every step; any change unfuses first. kohya/AUTOMATIC1111 files (``lora_unet_…``/``lora_te_…``) are converted
by diffusers itself.

Refused with a sentence: a file that is not there, a LoRA for another model family (told from its tensor
names and shapes without loading it), a pickle unless pickles are allowed (then read as weights only), and any
LoRA on a family without a UNet LoRA loader.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import bad_input, model_missing
from desktop.core.style_files import (
    FAMILY_LABELS,
    LORA_SUFFIXES,
    PICKLE_SUFFIXES,
    StyleFile,
    find_style_file,
    lora_cross_width,
    lora_family,
    lora_hash,
    safetensors_header,
)

log = logging.getLogger(__name__)

LORA_FAMILIES = ("sd", "sdxl")  # families whose pipelines Restyle puts LoRAs on
HUB_FILE = re.compile(r"^[\w.\-]+/[\w.\-]+/[^<>:]+\.safetensors$")  # owner/repo/path/in/repo.safetensors


@dataclass(frozen=True)
class ResolvedLora:
    """A LoRA the run uses: the name it is known by, its file, its weight and its A1111 hash."""

    name: str
    path: str
    weight: float
    hash: str


def resolve_loras(refs, folders, *, allow_pickles: bool) -> list[ResolvedLora]:
    """Find every LoRA's file (by path, or by name in the folders); refuses missing files and pickles."""
    resolved: list[ResolvedLora] = []
    for ref in refs:
        found = find_style_file(ref.name, folders, LORA_SUFFIXES)
        if found is None and HUB_FILE.match(ref.name) and not Path(ref.name).expanduser().exists():
            found = _from_hub(ref.name)
        if found is None:
            where = ", ".join(str(f) for f in folders) or "no LoRA folder"
            raise model_missing(
                f"The LoRA {ref.name!r} was not found (looked in {where}). Put the .safetensors file in a LoRA "
                "folder, or give its path."
            )
        suffix = Path(found.path).suffix.lower()
        if suffix in PICKLE_SUFFIXES and not allow_pickles:
            raise bad_input(
                f"{Path(found.path).name} is a pickled LoRA ({suffix}), which can run arbitrary code when it is "
                "opened; Restyle does not open these by default. Use a .safetensors version, or turn on \"Allow "
                "pickle checkpoints\" (--allow-pickles) if you trust the file: it is then read as weights only."
            )
        digest = lora_hash(found.path) if suffix == ".safetensors" else ""
        resolved.append(ResolvedLora(found.name, found.path, float(ref.weight), digest))
    return resolved


def _from_hub(name: str) -> StyleFile:
    """A LoRA named ``owner/repo/file.safetensors``: that one file, from the Hub cache or downloaded once."""
    from .hub import hub_file

    owner, repo, filename = name.split("/", 2)
    path = Path(hub_file(f"{owner}/{repo}", filename, noun="LoRA",
                         advice="put the .safetensors file in a LoRA folder"))
    return StyleFile(path.stem, str(path))


def check_lora_family(lora: ResolvedLora, family: str, cross_width: int | None) -> None:
    """Refuse a LoRA made for another model family, with a sentence naming both."""
    if not lora.path.lower().endswith(".safetensors"):
        return
    header = safetensors_header(lora.path)
    made_for = lora_family(header)
    width = lora_cross_width(header)
    loaded = FAMILY_LABELS.get(family, family)
    if made_for is not None and made_for != family:
        raise bad_input(
            f"The LoRA {lora.name} was made for {FAMILY_LABELS.get(made_for, made_for)} models, but the loaded "
            f"model is {loaded}: choose a {loaded} LoRA or load a {FAMILY_LABELS.get(made_for, made_for)} model."
        )
    if width is not None and cross_width is not None and width != cross_width:
        raise bad_input(
            f"The LoRA {lora.name} was made for another kind of model than the loaded {loaded} one (its "
            f"attention reads {width} text features, the model gives {cross_width}): choose a LoRA for this model."
        )


class LoraSet:
    """The adapters loaded into one model, and which of them are active with what weights."""

    def __init__(self):
        self.loaded: dict[str, str] = {}  # adapter name → file path
        self._active: tuple[tuple[str, float], ...] = ()
        self._fused: tuple[tuple[str, float], ...] | None = None
        self.loads = 0  # files read (a test spy: switching weights reads none)

    @staticmethod
    def adapter_name(lora: ResolvedLora) -> str:
        """A valid module-safe adapter name, unique per file."""
        stem = re.sub(r"\W", "_", lora.name)[:40]
        return f"{stem}_{lora.hash or abs(hash(lora.path)) % 10**8}"

    def apply(self, pipe, loras: list[ResolvedLora], family: str, *, allow_pickles: bool,
              status=lambda message: None) -> None:
        """Make exactly ``loras`` active on ``pipe`` (loading, deleting, fusing as needed)."""
        with warnings.catch_warnings():
            # PEFT warns about several adapters in one model and about deleting the active one: both intended.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"peft\.")
            self._apply(pipe, loras, family, allow_pickles, status)

    def _apply(self, pipe, loras: list[ResolvedLora], family: str, allow_pickles: bool, status) -> None:
        if loras and family not in LORA_FAMILIES:
            label = FAMILY_LABELS.get(family, family)
            raise bad_input(f"LoRAs are not available for {label} models in Restyle yet: remove them to run.")
        wanted = {self.adapter_name(lora): lora for lora in loras}
        active = tuple((name, lora.weight) for name, lora in wanted.items() if lora.weight != 0)
        if self._fused is not None and self._fused != active:
            pipe.unfuse_lora()
            self._fused = None
        gone = [name for name in self.loaded if name not in wanted]
        if gone:
            if self._fused is not None:
                pipe.unfuse_lora()
                self._fused = None
            pipe.delete_adapters(gone)
            for name in gone:
                del self.loaded[name]
        cross = getattr(getattr(getattr(pipe, "unet", None), "config", None), "cross_attention_dim", None)
        for name, lora in wanted.items():
            if name in self.loaded:
                continue
            check_lora_family(lora, family, cross)
            status(f"Loading LoRA {lora.name}…")
            started = time.perf_counter()
            self._load(pipe, lora, name, allow_pickles)
            self.loaded[name] = lora.path
            self.loads += 1
            log.info("LoRA %s loaded in %.2fs", lora.name, time.perf_counter() - started)
        if active == self._fused:
            self._active = active
            return
        if not active:
            if self.loaded:
                pipe.disable_lora()
        else:
            pipe.enable_lora()
            pipe.set_adapters([n for n, _ in active], [w for _, w in active])
            if active == self._active:
                # The same LoRAs twice in a row: merge them into the weights, so each step costs what it
                # costs without LoRAs (the merge takes about as long as one step).
                pipe.fuse_lora(adapter_names=[n for n, _ in active], lora_scale=1.0)
                self._fused = active
        self._active = active

    @staticmethod
    def _load(pipe, lora: ResolvedLora, name: str, allow_pickles: bool) -> None:
        source: object = lora.path
        if Path(lora.path).suffix.lower() in PICKLE_SUFFIXES:
            import torch

            try:
                source = torch.load(lora.path, map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001 - a file carrying code or garbage: one sentence
                raise bad_input(f"{Path(lora.path).name} could not be read as LoRA weights only ({exc}).") from None
        try:
            pipe.load_lora_weights(source, adapter_name=name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            log.exception("loading LoRA %s failed", lora.path)
            raise bad_input(f"The LoRA {lora.name} could not be loaded on this model: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
