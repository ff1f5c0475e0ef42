"""Runtime settings: device, precision, offload and memory switches as the settings dialog edits them, the lighter
setting to offer after running out of memory, and the memory report the status bar shows (torch-free)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from .errors import bad_input

DEVICES = ("auto", "cuda", "mps", "cpu")


DTYPES = ("auto", "fp16", "bf16", "fp32")


OFFLOADS = ("none", "model", "sequential")


QUANTIZATIONS = ("none", "bnb-8bit", "bnb-4bit", "torchao-int8")
ATTENTIONS = ("sdpa", "xformers")


# CUDA graphs take away the per-kernel launch cost that dominates a batch-1 UNet step; the first run after a
# load (and after a new size) compiles for a minute or more.
COMPILE_MODE = "reduce-overhead"


TORCH_DTYPE_NAMES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


OFFLOAD_LABELS = {"model": "model CPU offload", "sequential": "sequential CPU offload"}


@dataclass(frozen=True)
class RuntimeSettings:
    """Where and how pipelines run. ``device`` travels in GenerationParams; the engine reads the rest."""

    device: str = "auto"  # auto = CUDA → MPS → CPU
    dtype: str = "auto"  # auto = fp16 on a GPU, fp32 on the CPU
    offload: str = "none"  # "model": one module on the GPU at a time; "sequential": one layer (very slow)
    vae_tiling: bool = False  # decode (and encode) large images tile by tile
    vae_slicing: bool = False  # decode a batch one image at a time
    attention_slicing: bool = False  # attention in two steps (saves memory, slower with SDPA)
    attention: str = "sdpa"  # "sdpa" (PyTorch's, the default) or "xformers" when installed
    compile_unet: bool = False  # torch.compile the UNet: faster steps, slow first run
    channels_last: bool = False  # NHWC memory format for the UNet (helps with compile on CUDA)
    # SD 3: load the T5 text encoder (4.7 B parameters, about 9.5 GB in 16 bits). Without it prompts are read
    # by the two CLIP encoders only (77 tokens, weaker at text in the picture and long descriptions).
    t5_encoder: bool = True
    # Quantize the transformer (and T5) of SD 3 / FLUX on load: "none", "bnb-8bit", "bnb-4bit" (bitsandbytes),
    # "torchao-int8" (torchao); each only where its package is installed.
    quantization: str = "none"
    # Step previews (core/previews.py): "latent" colours every step (free), or "taesd": the picture through the
    # family's tiny autoencoder every ``preview_every`` steps; ``preview_model`` names another TAESD instead.
    preview: str = "latent"
    preview_every: int = 4
    preview_model: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuntimeSettings:
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> RuntimeSettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> RuntimeSettings:
        """Raise a bad-input RestyleError naming the first value that is not one of the choices."""
        for label, value, choices in (("Device", self.device, DEVICES), ("Precision", self.dtype, DTYPES),
                                      ("Offload", self.offload, OFFLOADS), ("Attention", self.attention, ATTENTIONS),
                                      ("Quantization", self.quantization, QUANTIZATIONS)):
            if value not in choices:
                raise bad_input(f"{label} must be one of {', '.join(choices)} (got {value!r}).")
        from .previews import MAX_PREVIEW_EVERY, PREVIEW_MODES

        if self.preview not in PREVIEW_MODES:
            raise bad_input(f"Preview must be one of {', '.join(PREVIEW_MODES)} (got {self.preview!r}).")
        if not 1 <= int(self.preview_every) <= MAX_PREVIEW_EVERY:
            raise bad_input(f"Detailed previews come every 1 to {MAX_PREVIEW_EVERY} steps (got {self.preview_every}).")
        return self

    def reload_key(self) -> tuple:
        """What a change of needs the model loaded again; everything else is switched on the loaded one."""
        return (self.dtype, self.offload, self.t5_encoder, self.quantization)


def package_installed(name: str) -> bool:
    """True when the package can be imported (checked without importing it)."""
    return importlib.util.find_spec(name) is not None


def xformers_installed() -> bool:
    """True when the xformers package can be imported (checked without importing it)."""
    return importlib.util.find_spec("xformers") is not None


def default_dtype_name(device: str) -> str:
    """fp16 where the hardware runs it fast, fp32 on the CPU (fp16 on the CPU is slow and lossy)."""
    return "fp16" if device.split(":")[0] in ("cuda", "mps") else "fp32"


# --- out of memory ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryOffer:
    """A lighter setting to retry with after running out of memory."""

    settings: RuntimeSettings
    label: str  # "VAE tiling", "model CPU offload", …: the retry button says "Retry with <label>"


def lighter(settings: RuntimeSettings, device: str, *, loading: bool = False,
            t5_optional: bool = False) -> MemoryOffer | None:
    """The next lighter setting: VAE tiling, then model offload, then (SD 3) leaving T5 out, then sequential
    offload; None at the end.

    While loading, tiling would not help (nothing has been decoded yet), so offload comes first.
    """
    gpu = device.split(":")[0] in ("cuda", "mps")
    if not loading and not settings.vae_tiling:
        return MemoryOffer(settings.replace(vae_tiling=True, vae_slicing=True), "VAE tiling")
    if gpu and settings.offload == "none":
        return MemoryOffer(settings.replace(offload="model", compile_unet=False), OFFLOAD_LABELS["model"])
    if t5_optional and settings.t5_encoder:
        # T5 is 4.7 B parameters: leaving it out costs some prompt understanding, sequential offload most speed.
        return MemoryOffer(settings.replace(t5_encoder=False), "SD 3.5 without T5")
    if gpu and settings.offload == "model":
        return MemoryOffer(settings.replace(offload="sequential", compile_unet=False), OFFLOAD_LABELS["sequential"])
    return None


# --- memory in use ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryReport:
    """What the status bar shows: the device, the precision and the memory in use."""

    device: str  # "cpu", "cuda:0", "mps"
    dtype: str  # "float16", …
    used_bytes: int
    total_bytes: int = 0  # 0 when unknown
    label: str = "RAM"  # "VRAM" for a GPU's own memory

    def text(self) -> str:
        """"cuda:0 · float16 · VRAM 5.1/24 GB" or "cpu · float32 · RAM 1.2 GB"."""
        used = self.used_bytes / 1e9
        amount = f"{used:.1f}/{self.total_bytes / 1e9:.0f} GB" if self.total_bytes else f"{used:.1f} GB"
        return f"{self.device} · {self.dtype} · {self.label} {amount}"


def process_rss_bytes() -> int:
    """This process's resident memory, without torch (Linux /proc, else the peak from ``resource``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)
    except (ImportError, OSError):
        return 0
