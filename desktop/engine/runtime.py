"""Devices and memory: how a pipeline is placed, what precision it runs in, and what to do when memory runs out.

``RuntimeSettings`` is what the settings dialog edits and persists. The engine resolves it against the device
it really runs on (``resolve_runtime``: impossible combinations are downgraded with a sentence saying so),
places a freshly loaded pipeline (``place``) and applies the switches that need no reload (``apply_in_place``:
VAE tiling and slicing, attention slicing, the attention backend, channels-last, torch.compile).

Importing this module imports no torch: the UI and the session use ``RuntimeSettings``, ``MemoryReport`` and
``process_rss_bytes`` on the UI thread.
"""

from __future__ import annotations

import gc
import logging

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.runtime import (
    COMPILE_MODE,
    TORCH_DTYPE_NAMES,
    MemoryReport,
    RuntimeSettings,
    default_dtype_name,
    lighter,
    process_rss_bytes,
    xformers_installed,
)

log = logging.getLogger(__name__)


def resolve_runtime(settings: RuntimeSettings, device: str) -> tuple[RuntimeSettings, tuple[str, ...]]:
    """The settings as they will really apply on ``device`` ("auto" dtype filled in), and a sentence for each
    choice that could not be honoured there."""
    import torch

    settings.validate()
    kind = device.split(":")[0]
    notes: list[str] = []
    dtype = settings.dtype if settings.dtype != "auto" else default_dtype_name(device)
    if dtype == "fp16" and kind == "cpu":
        notes.append("fp16 is slow and inexact on the CPU, so Restyle runs in fp32 there.")
        dtype = "fp32"
    if dtype == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        notes.append("This GPU has no bf16 support, so Restyle runs in fp16.")
        dtype = "fp16"
    offload = settings.offload
    if offload != "none" and kind == "cpu":
        notes.append("CPU offload only helps a GPU; on the CPU everything is already in main memory.")
        offload = "none"
    attention = settings.attention
    if attention == "xformers" and (kind != "cuda" or not xformers_installed()):
        why = "runs on CUDA GPUs only" if xformers_installed() else "is not installed"
        notes.append(f"xFormers {why}, so Restyle uses PyTorch's SDPA attention (about as fast).")
        attention = "sdpa"
    compile_unet = settings.compile_unet
    if compile_unet and kind != "cuda":
        # Measured on the CPU (bench/gpu_throughput.py): eight minutes of compiling, then slower steps.
        notes.append("torch.compile pays off on CUDA GPUs only, so the UNet is not compiled here.")
        compile_unet = False
    elif compile_unet and offload != "none":
        notes.append("torch.compile does not work with CPU offload, so the UNet is not compiled.")
        compile_unet = False
    resolved = settings.replace(dtype=dtype, offload=offload, attention=attention, compile_unet=compile_unet)
    return resolved, tuple(notes)


def torch_dtype(name: str):
    """The torch dtype for "fp16", "bf16" or "fp32"."""
    import torch

    return getattr(torch, TORCH_DTYPE_NAMES[name])


def load_device(settings: RuntimeSettings, device: str) -> str:
    """Where ``from_pretrained``'s modules go: the CPU when they will be offloaded (never the GPU first)."""
    return "cpu" if settings.offload != "none" else device


def place(pipe, settings: RuntimeSettings, device: str) -> None:
    """Put a pipeline's modules where they run: offload hooks, or nothing (already on ``device``).

    Called again for every pipeline made with ``from_pipe``: offload hooks belong to one pipeline.
    """
    if settings.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif settings.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)


def apply_in_place(pipe, settings: RuntimeSettings, previous: RuntimeSettings | None) -> RuntimeSettings:
    """Switch the settings that need no reload on the pipeline's (shared) modules; returns what is applied.

    Only what differs from ``previous`` is touched, so a compiled UNet is not recompiled for nothing.
    """
    import torch

    def changed(name: str) -> bool:
        return previous is None or getattr(previous, name) != getattr(settings, name)

    vae = getattr(pipe, "vae", None)
    if vae is not None and changed("vae_tiling") and hasattr(vae, "enable_tiling"):
        vae.enable_tiling() if settings.vae_tiling else vae.disable_tiling()
    if vae is not None and changed("vae_slicing") and hasattr(vae, "enable_slicing"):
        vae.enable_slicing() if settings.vae_slicing else vae.disable_slicing()
    if changed("attention_slicing") or changed("attention"):
        # Slicing first: switching it resets the attention processors, and xFormers must come after.
        if settings.attention_slicing:
            pipe.enable_attention_slicing()
        elif previous is not None and previous.attention_slicing:
            pipe.disable_attention_slicing()
        if settings.attention == "xformers":
            pipe.enable_xformers_memory_efficient_attention()
        elif previous is not None and previous.attention == "xformers":
            pipe.disable_xformers_memory_efficient_attention()
    # The denoiser: the UNet, or the transformer of SD 3 and FLUX (compiled the same way).
    unet = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    if unet is not None and changed("channels_last"):
        unet.to(memory_format=torch.channels_last if settings.channels_last else torch.contiguous_format)
    if unet is not None and changed("compile_unet"):
        if settings.compile_unet:
            unet.compile(mode=COMPILE_MODE)  # in place: pipelines made with from_pipe share the compiled UNet
        else:
            unet._compiled_call_impl = None  # what nn.Module.compile set; the eager forward runs again
    return settings


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch.OutOfMemoryError and the RuntimeErrors MPS and some CUDA paths raise instead."""
    name = type(exc).__name__
    text = str(exc).lower()
    return "OutOfMemory" in name or (isinstance(exc, RuntimeError) and "out of memory" in text)


def free_hooks(pipe) -> None:
    """After an exception mid-call, offload hooks must be reset by hand (the pipeline did not finish)."""
    free = getattr(pipe, "maybe_free_model_hooks", None)
    if free is not None:
        try:
            free()
        except Exception:  # cleanup must never hide the real error
            log.exception("freeing model hooks failed")


def free_memory() -> None:
    """Give back memory no longer held (a failed attempt's, an unloaded model's): Python garbage first, then the
    allocator's cache."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        mps.empty_cache()


def out_of_memory_error(settings: RuntimeSettings, device: str, size: tuple[int, int] | None, *,
                        t5_optional: bool = False) -> RestyleError:
    """The error to raise after running out of memory, carrying the next lighter setting as ``suggestion``."""
    free_memory()
    where = "The GPU" if device.split(":")[0] in ("cuda", "mps") else "The computer"
    what = f"at {size[0]}×{size[1]}" if size else "while loading the model"
    offer = lighter(settings, device, loading=size is None, t5_optional=t5_optional)
    if offer is not None:
        message = f"{where} ran out of memory {what}. Turn on {offer.label} and try again?"
    elif size is not None:
        message = f"{where} ran out of memory {what}, even with every memory saving on. Try a smaller size."
    else:
        message = (f"{where} ran out of memory {what}, even with every memory saving on. Close other programs "
                   "or choose a smaller model.")
    return RestyleError(ErrorKind.OUT_OF_MEMORY, message, suggestion=offer)


def memory_report(device: str, dtype: str) -> MemoryReport:
    """The memory in use on ``device``: the GPU's (reserved by this process / total) or the process's RAM."""
    import torch

    kind = device.split(":")[0]
    if kind == "cuda" and torch.cuda.is_available():
        index = torch.device(device).index or 0
        total = torch.cuda.get_device_properties(index).total_memory
        return MemoryReport(f"cuda:{index}", dtype, torch.cuda.memory_reserved(index), total, "VRAM")
    if kind == "mps":
        return MemoryReport("mps", dtype, int(torch.mps.driver_allocated_memory()), 0, "GPU memory")
    return MemoryReport("cpu", dtype, process_rss_bytes(), 0, "RAM")


def available_devices() -> tuple[str, ...]:
    """The devices this machine can run on, in the order "auto" tries them."""
    import torch

    found = ["cuda"] if torch.cuda.is_available() else []
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return (*found, "cpu")
