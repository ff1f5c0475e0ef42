"""The style tools on a loaded model, applied just before a run: sampler, LoRAs, embeddings, reference images.

One ``StyleState`` lives beside each loaded model (the runner keeps it with the pipelines) and remembers what is
already in it, so a run only changes what differs from the last one and nothing is reloaded. ``prepare_run``
is the one hook the runner calls: it sets the pipeline's scheduler and returns the resolved parameters (with the
sampler really used), plus notes for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.params import GenerationParams

from .schedulers import SchedulerSwitch


@dataclass
class StyledRun:
    """What the style tools made of a run: its parameters as used, and notes for the user."""

    params: GenerationParams
    notes: list[str] = field(default_factory=list)


class StyleState:
    """What one loaded model holds of the style tools."""

    def __init__(self, pipe, family: str):
        self.schedulers = SchedulerSwitch(pipe.scheduler, family)

    def prepare_run(self, pipe, params: GenerationParams) -> StyledRun:
        """Put the requested sampler on ``pipe``; the parameters come back with the names really used."""
        scheduler, sampler, schedule, note = self.schedulers.scheduler_for(params.sampler, params.schedule)
        pipe.scheduler = scheduler
        return StyledRun(params.replace(sampler=sampler, schedule=schedule), [note] if note else [])
