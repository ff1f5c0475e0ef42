"""PoolEngine: the Engine's face (load, generate, model_info) over a pool of devices.

The inference worker and ``restyle generate --cluster`` use it in place of a local Engine: a run goes to a
free device of the pool (preferring one with its model loaded), its steps and previews arrive through the same
``on_step`` callback, ``cancelled()`` stops it within one step, and a device lost mid-run has the run redone on
another. The result comes back here, where the caller saves it as it would a local one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from desktop.core.errors import ErrorKind, RestyleError

from .dispatch import run_jobs
from .events import ERROR, LOST, RESULT, STATUS, STEP, DeviceEvent
from .owner import load_job, pack_job

_ids = itertools.count(1)


class PoolEngine:
    """Runs each request on one device of ``pool``; not thread-safe (one thread owns it, as an Engine)."""

    def __init__(self, pool, *, status: Callable[[str], None] | None = None, allow_pickles: bool = False,
                 gone_message: str = "Every device of the pool stopped."):
        self.pool = pool
        self._status = status or (lambda message: None)
        self.allow_pickles = allow_pickles  # sent with every job
        self.runtime = None
        self.style_folders = None  # where LoRAs and embeddings are found (sent with every run)
        self._model_info = None
        self._gone_message = gone_message

    @property
    def model_info(self):
        """The model the last load or run used (as its device reported it), or None."""
        return self._model_info

    def configure(self, runtime) -> None:
        """Send these memory settings with every later job."""
        self.runtime = runtime

    def load(self, model: str, device: str = "auto"):
        """Load ``model`` on a device (a no-op when the last run used it); returns its ModelInfo."""
        if self._model_info is not None and self._model_info.name == model:
            return self._model_info
        info = self._run(load_job(f"load-{next(_ids)}", model, runtime=self.runtime,
                                  allow_pickles=self.allow_pickles), None, None)
        self._model_info = info
        return info

    def generate(self, params, on_step=None, cancelled: Callable[[], bool] | None = None,
                 init_latents: str | None = None):
        """Run one generation on a device of the pool; raises RestyleError as Engine.generate does."""
        job = pack_job(f"run-{next(_ids)}", params, init_latents=init_latents, runtime=self.runtime,
                       style_folders=self.style_folders, allow_pickles=self.allow_pickles)
        result = self._run(job, on_step, cancelled)
        self._model_info = result.model
        return result

    def _run(self, job, on_step, cancelled):
        outcome: list = []

        def on_event(event: DeviceEvent) -> None:
            if event.job_id not in ("", job.job_id):
                return
            if event.kind == STEP and on_step is not None:
                on_step(event.payload)
            elif event.kind == STATUS and event.payload:
                self._status(event.payload)
            elif event.kind == LOST and event.job_id:
                self._status(f"{event.payload}: the run starts again on another device.")
            elif event.kind in (RESULT, ERROR):
                outcome.append(event)

        run_jobs(self.pool, [job], on_event, cancelled=cancelled, gone_message=self._gone_message)
        if not outcome:  # cancelled while it waited for a device
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.")
        event = outcome[-1]
        if event.kind == ERROR:
            kind, message = event.payload
            raise RestyleError(ErrorKind(kind), message)
        if cancelled is not None and cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "Cancelled; nothing was saved.")
        return event.payload

    def close(self) -> None:
        """Stop the pool's devices."""
        self.pool.close()
