"""Choosing the torch device and dtype."""

from __future__ import annotations

from desktop.core.errors import bad_input


def pick_device(preference: str = "auto") -> str:
    """The device to run on: the preference if available, else CUDA → MPS → CPU for "auto"."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if preference == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if has_mps else "cpu"
    if preference == "cuda" and not torch.cuda.is_available():
        raise bad_input("CUDA was asked for but no CUDA GPU is available here; use device auto or cpu.")
    if preference == "mps" and not has_mps:
        raise bad_input("MPS was asked for but this machine has no Apple GPU; use device auto or cpu.")
    if preference not in ("cpu", "cuda", "mps"):
        raise bad_input(f"Unknown device {preference!r}: use auto, cpu, cuda or mps.")
    return preference


def default_dtype(device: str):
    """fp16 where the hardware runs it fast, fp32 on the CPU (fp16 on CPU is slow and lossy)."""
    import torch

    return torch.float16 if device in ("cuda", "mps") else torch.float32
