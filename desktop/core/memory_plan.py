"""How much memory a model needs before it is loaded, and the fastest memory setting that fits the card.

The estimate comes from the checkpoint itself: the tensor shapes in each component's safetensors header (no
weights are read) times the bytes per parameter of the run's precision; a GGUF transformer counts as its file
size (it stays quantized in memory), a bitsandbytes one as 4 or 8 bits per weight. The peak of each setting:
everything at once without offload; the largest component (plus room for activations) with model CPU offload;
little more than the activations with sequential offload. SD 3 can also leave T5 out.

Torch-free: the engine calls it before loading and the library can call it on the UI thread.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from .runtime import OFFLOAD_LABELS, MemoryOffer, RuntimeSettings

GB = 1e9
BYTES_PER_PARAMETER = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0}
QUANTIZED_BYTES = {"bnb-8bit": 1.0, "bnb-4bit": 0.55, "torchao-int8": 1.0}  # NF4 carries per-block scales
# Room for activations, the CUDA context and the allocator's slack at 1024 px: FLUX.1 dev in bf16 with model
# offload is known to run on 24 GB cards (a 23.8 GB transformer), so about 1.5 GB.
ACTIVATIONS = 1.5 * GB
T5_COMPONENTS = {"sd3": "text_encoder_3", "flux": "text_encoder_2"}


@dataclass(frozen=True)
class MemoryEstimate:
    """The weights of each component at the run's precision, in bytes, biggest first."""

    parts: tuple[tuple[str, int], ...]
    dtype: str
    t5: str = ""  # the component that is T5 (SD 3 may leave it out), "" when none

    @property
    def total(self) -> int:
        """Every component's weights together."""
        return sum(size for _name, size in self.parts)

    def peak(self, settings: RuntimeSettings) -> int:
        """About the most memory the GPU holds at once with ``settings`` (weights plus activations)."""
        parts = [size for name, size in self.parts if not (name == self.t5 and not settings.t5_encoder
                                                           and self.t5 == "text_encoder_3")]
        if not parts:
            return int(ACTIVATIONS)
        if settings.offload == "model":
            return int(max(parts) + ACTIVATIONS)
        if settings.offload == "sequential":
            return int(ACTIVATIONS + 0.5 * GB)  # one layer at a time
        return int(sum(parts) + ACTIVATIONS)


def safetensors_parameters(path: Path) -> int:
    """The number of parameters in a safetensors file, from its header alone."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > 100_000_000:
            raise ValueError(f"{path.name} has an implausible header")
        header = json.loads(handle.read(length))
    count = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        size = 1
        for dim in info.get("shape", []):
            size *= int(dim)
        count += size
    return count


def _component_parameters(folder: Path) -> int:
    files = sorted(folder.glob("*.safetensors"))
    plain = [f for f in files if ".fp16." not in f.name and ".fp16-" not in f.name]
    return sum(safetensors_parameters(f) for f in (plain or files))


def estimate_folder(folder: Path, dtype: str, *, quantization: str = "none",
                    transformer_file: Path | None = None) -> MemoryEstimate | None:
    """The estimate for a diffusers folder (a local one or a Hub cache snapshot); None when it cannot be read.

    ``transformer_file`` replaces the folder's transformer (a GGUF or one-file safetensors transformer).
    """
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    per_parameter = BYTES_PER_PARAMETER.get(dtype, 2.0)
    family = "flux" if str(index.get("_class_name", "")).startswith("Flux") else (
        "sd3" if "StableDiffusion3" in str(index.get("_class_name", "")) else "")
    t5 = T5_COMPONENTS.get(family, "")
    quantized = {"transformer", t5} if quantization in QUANTIZED_BYTES and family else set()
    parts: list[tuple[str, int]] = []
    try:
        for name, value in index.items():
            if name.startswith("_") or not isinstance(value, list) or value[0] is None:
                continue
            if name == "transformer" and transformer_file is not None:
                if transformer_file.suffix.lower() == ".gguf":
                    parts.append((name, transformer_file.stat().st_size))
                else:
                    parts.append((name, int(safetensors_parameters(transformer_file) * per_parameter)))
                continue
            if not (folder / name).is_dir():
                continue
            count = _component_parameters(folder / name)
            if count:
                rate = QUANTIZED_BYTES[quantization] if name in quantized else per_parameter
                parts.append((name, int(count * rate)))
    except (OSError, ValueError, struct.error):
        return None
    if not parts:
        return None
    return MemoryEstimate(tuple(sorted(parts, key=lambda p: -p[1])), dtype, t5)


def fitting_settings(estimate: MemoryEstimate, settings: RuntimeSettings, capacity: int) -> list[MemoryOffer]:
    """The settings that fit in ``capacity`` bytes, the lightest change first: as set, model CPU offload (a little
    slower, same pictures), then for SD 3 leaving T5 out (same speed, weaker prompt reading), then sequential
    offload (very slow) — the order of the out-of-memory retry too."""
    candidates = [MemoryOffer(settings, "the current settings")]
    t5_optional = estimate.t5 == "text_encoder_3" and settings.t5_encoder
    model = settings.replace(offload="model", compile_unet=False) if settings.offload == "none" else settings
    if settings.offload == "none":
        candidates.append(MemoryOffer(model, OFFLOAD_LABELS["model"]))
    if t5_optional:
        label = "SD 3.5 without T5" if model is settings else f"{OFFLOAD_LABELS['model']} without T5"
        candidates.append(MemoryOffer(model.replace(t5_encoder=False), label))
    if settings.offload != "sequential":
        candidates.append(MemoryOffer(settings.replace(offload="sequential", compile_unet=False),
                                      OFFLOAD_LABELS["sequential"]))
    return [c for c in candidates if estimate.peak(c.settings) <= capacity]


def estimate_sentence(label: str, estimate: MemoryEstimate, settings: RuntimeSettings, capacity: int | None,
                      where: str = "this GPU") -> str:
    """"FLUX.1-dev needs about 33.7 GB in bf16 (transformer 23.8, text_encoder_2 9.5, …); …"."""
    parts = ", ".join(f"{name} {amount(size)}" for name, size in estimate.parts[:4])
    text = f"{label} needs about {amount(estimate.total)} of weights in {estimate.dtype} ({parts})"
    if capacity is None:
        return text + "."
    fits = fitting_settings(estimate, settings, capacity)
    if fits and fits[0].settings == settings:
        return text + (f"; with these settings it peaks near {amount(estimate.peak(settings))} of the "
                       f"{amount(capacity)} {where} has.")
    if fits:
        return text + (f"; {where} has {amount(capacity)}, so {fits[0].label} fits best (about "
                       f"{amount(estimate.peak(fits[0].settings))} at most).")
    return text + (f"; {where} has {amount(capacity)}, less than even sequential offload needs: choose a "
                   "GGUF-quantized variant in the model library, or a smaller model.")


def amount(size: float) -> str:
    """"23.8 GB", or "3.2 MB" below a gigabyte."""
    return f"{size / GB:.1f} GB" if size >= GB else f"{size / 1e6:.1f} MB"


def memory_refusal(label: str, estimate: MemoryEstimate, settings: RuntimeSettings, capacity: int,
                   gpu: bool, where: str):
    """A RestyleError (out of memory, with the fastest fitting setting as its suggestion) when the model will not
    fit as set; None when it will. On the CPU only the weights themselves are weighed against the RAM."""
    from .errors import ErrorKind, RestyleError

    if not gpu:
        if estimate.total <= capacity:
            return None
        return RestyleError(ErrorKind.OUT_OF_MEMORY, f"{label} needs about {amount(estimate.total)} of weights in "
                            f"{estimate.dtype} and {where} has {amount(capacity)}: choose a GGUF-quantized variant "
                            "in the model library, a smaller model, or a GPU.")
    fits = fitting_settings(estimate, settings, capacity)
    if fits and fits[0].settings == settings:
        return None
    sentence = estimate_sentence(label, estimate, settings, capacity, where)
    if not fits:
        return RestyleError(ErrorKind.OUT_OF_MEMORY, sentence)
    return RestyleError(ErrorKind.OUT_OF_MEMORY, f"{sentence[:-1]}. Load it with {fits[0].label}?",
                        suggestion=fits[0])
