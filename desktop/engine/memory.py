"""The memory estimate said before a model loads, and the refusal (with the fastest setting that fits) when it
would not fit as set: a clear sentence and a "Retry with …" instead of minutes of loading and an out-of-memory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from desktop.core.memory_plan import estimate_folder, estimate_sentence, memory_refusal
from desktop.core.runtime import RuntimeSettings
from desktop.core.sources import ModelSource


def device_capacity(device: str) -> tuple[int | None, str]:
    """(bytes of memory, how to name it) of ``device``: the GPU's own memory, or the computer's RAM."""
    kind = device.split(":")[0]
    if kind == "cuda":
        import torch

        index = torch.device(device).index or 0
        return int(torch.cuda.get_device_properties(index).total_memory), "this GPU"
    if kind == "cpu":
        try:
            return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")), "this computer"
        except (ValueError, OSError, AttributeError):
            return None, "this computer"
    return None, "this GPU"  # MPS shares the system's memory; no fixed budget to weigh against


def _folders(source: ModelSource) -> tuple[Path | None, Path | None]:
    """(the diffusers folder to weigh, a transformer-only file that replaces its transformer)."""
    from .hub import cached_snapshot

    if not source.single_file:
        return (Path(source.location) if source.is_local else cached_snapshot(source.location)), None
    path = Path(source.location)
    if path.suffix.lower() != ".gguf":
        return None, None  # SD / SDXL one-file checkpoints: their own size says enough
    from .flow_files import TRANSFORMER_BASES, read_gguf_keys, transformer_type

    try:
        model_type = transformer_type(read_gguf_keys(path), path)
    except Exception:  # noqa: BLE001 - an unreadable file is refused by the loader with its own sentence
        return None, None
    if model_type is None:
        return None, None
    return cached_snapshot(TRANSFORMER_BASES[model_type][1]), path


def check_memory(source: ModelSource, runtime: RuntimeSettings, device: str,
                 status: Callable[[str], None]) -> None:
    """Say how much memory the model needs; raise the out-of-memory RestyleError when it will not fit as set."""
    folder, transformer_file = _folders(source)
    if folder is None:
        return
    estimate = estimate_folder(folder, runtime.dtype, quantization=runtime.quantization,
                               transformer_file=transformer_file)
    if estimate is None:
        return
    capacity, where = device_capacity(device)
    status(estimate_sentence(source.display_name, estimate, runtime, capacity, where))
    if capacity is None:
        return
    refusal = memory_refusal(source.display_name, estimate, runtime, capacity,
                             gpu=device.split(":")[0] != "cpu", where=where)
    if refusal is not None:
        raise refusal
