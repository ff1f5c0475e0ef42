"""Step previews that never make the CPU wait for the GPU.

``latent_preview`` copies the latents to the CPU, and on CUDA that copy waits for every kernel queued so far:
once per step the CPU stops queueing the next step's kernels and the GPU runs dry for a moment. Here, on CUDA,
the first image's latents are copied into pinned memory without blocking, a CUDA event marks the copy, and
the preview for a step is made at a later step's end once its copy has landed. The preview arrives a step or
two late (the final image follows right after the last step anyway); nothing ever waits. On the CPU and MPS
previews are made at once, as before.
"""

from __future__ import annotations

import logging
from collections import deque

from .previews import latent_preview

log = logging.getLogger(__name__)

RING = 4  # pinned buffers in flight; the CPU never gets more than a step or two ahead of the GPU


class PreviewStream:
    """``take(latents)`` → the newest preview whose copy has landed (an RGB array), or None for now."""

    def __init__(self, family: str, *, event_factory=None):
        self._family = family
        self._event_factory = event_factory  # tests pass a fake; None = torch.cuda.Event on CUDA tensors
        self._pending: deque = deque()  # (event, host buffer), oldest first
        self._buffers: list = []
        self._next = 0
        self._broken = False

    def take(self, latents):
        """Start copying ``latents`` and return the newest finished preview (at once when not on CUDA)."""
        asynchronous = self._event_factory is not None or latents.device.type == "cuda"
        if not asynchronous or self._broken:
            return latent_preview(latents, self._family)
        try:
            ready = self._newest_landed()
            self._start_copy(latents)
            return ready
        except Exception:  # a preview must never stop a run: fall back to the plain way
            log.exception("asynchronous previews failed; making them synchronously from now on")
            self._broken = True
            return latent_preview(latents, self._family)

    def _newest_landed(self):
        landed = None
        while self._pending and self._pending[0][0].query():
            landed = self._pending.popleft()[1]
        return None if landed is None else latent_preview(landed, self._family)

    def _start_copy(self, latents) -> None:
        import torch

        first = latents[:1].detach()
        if len(self._pending) >= RING:  # the GPU is far behind: drop the oldest preview rather than wait
            self._pending.popleft()
        if not self._buffers or self._buffers[0].shape != first.shape or self._buffers[0].dtype != first.dtype:
            pin = first.device.type == "cuda"
            self._buffers = [torch.empty(first.shape, dtype=first.dtype, pin_memory=pin) for _ in range(RING + 1)]
        # One more buffer than can be pending, so a buffer is never written while its copy is still read.
        buffer = self._buffers[self._next]
        self._next = (self._next + 1) % len(self._buffers)
        buffer.copy_(first, non_blocking=True)
        event = self._event_factory() if self._event_factory is not None else torch.cuda.Event()
        event.record()
        self._pending.append((event, buffer))
