"""MemoryRetry: after running out of memory, offer the next lighter setting and run the same thing again.

QtCore only. It remembers what the last run was (its parameters, or a model load, or a queued job) so that one
click on "Retry with VAE tiling" turns the setting on (DeviceState persists it) and repeats exactly that.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop.core.params import GenerationParams
from desktop.worker import UpscaleRequest


class MemoryRetry(QObject):
    """The out-of-memory offer and the retry that takes it."""

    # The sentence and the lighter setting's name ("VAE tiling").
    offered = Signal(str, str)

    def __init__(self, devices, *, rerun: Callable[..., bool], reload: Callable[[], None],
                 requeue: Callable[[], bool]):
        super().__init__()
        self._devices = devices
        self._rerun, self._reload, self._requeue = rerun, reload, requeue
        self._last_run: tuple[GenerationParams, bool] | None = None  # (params, use the depth panel)
        self._after: str | None = None  # what ran out: "run" or "load"

    def remember_run(self, params: GenerationParams, use_depth_panel: bool) -> None:
        """A run starts: it is what a retry repeats; an older offer no longer answers the latest failure."""
        self._last_run = (params, use_depth_panel)
        self._devices.drop_offer()

    def offer(self, kind: str, message: str, *, running) -> bool:
        """A failure arrived: True when it is out of memory with a lighter setting to offer (offered now).

        ``running`` is the request that failed (None: a model load). An upscale's own sentence already suggests
        VAE tiling, and the offer would re-run the last generation instead.
        """
        offer = self._devices.offer
        if kind != "out_of_memory" or offer is None or isinstance(running, UpscaleRequest):
            return False
        self._after = "run" if running is not None else "load"
        self.offered.emit(message, offer.label)
        return True

    def retry(self) -> bool:
        """Turn the offered setting on (persisted) and run the same job again; False when nothing was offered."""
        if self._devices.take_offer() is None:
            return False
        after, self._after = self._after, None
        if after == "run" and self._requeue():  # a queued job ran out: it runs again, then the queue
            return True
        if after != "run" or self._last_run is None:  # it ran out while loading: load again
            self._reload()
            return True
        params, use_depth_panel = self._last_run
        return self._rerun(params, use_depth_panel=use_depth_panel)
