"""Swapping the scheduler by AUTOMATIC1111 sampler name, without reloading anything.

Each scheduler is built with ``Cls.from_config(the model's own scheduler config, **options)``: the betas,
prediction type and timestep settings stay the checkpoint's; only the sampling method and the schedule change.
Building one takes about a millisecond and touches no weights. Built schedulers are cached per
(sampler, schedule), and the model's own is kept, so "model default" always means what shipped with it.
"""

from __future__ import annotations

from desktop.core.errors import bad_input
from desktop.core.samplers import (
    AUTOMATIC,
    SCHEDULES,
    sampler_for_scheduler,
    sampler_spec,
    scheduler_options,
)

SWAPPABLE_FAMILIES = ("sd", "sdxl")  # families whose UNet runs with any of the k-diffusion-style schedulers


class SchedulerSwitch:
    """The schedulers of one loaded model: its own, and the ones built from its config on request."""

    def __init__(self, original, family: str):
        self.original = original
        self.family = family
        self._built: dict[tuple[str, str], object] = {}
        self.own = sampler_for_scheduler(type(original).__name__, dict(original.config))  # (name, schedule)

    def scheduler_for(self, sampler: str, schedule: str) -> tuple[object, str, str, str | None]:
        """(scheduler, A1111 name used, schedule used, a note for the user or None); raises bad input."""
        own_name, own_schedule = self.own
        name = sampler or own_name
        if (name, schedule) in ((own_name, AUTOMATIC), (own_name, own_schedule)):
            return self.original, own_name, own_schedule, None
        if self.family not in SWAPPABLE_FAMILIES or sampler_spec(name) is None:
            label = SCHEDULES[schedule].label if schedule in SCHEDULES else schedule
            asked = sampler or f"the {label} schedule"
            return (self.original, own_name, own_schedule,
                    f"This model keeps its own sampler ({own_name}); {asked} was not applied.")
        try:
            class_name, options, note = scheduler_options(name, schedule)
        except ValueError as exc:
            raise bad_input(str(exc)) from None
        used = AUTOMATIC if note else schedule
        key = (name, used)
        if key not in self._built:
            self._built[key] = _build(class_name, options, self.original.config, name)
        return self._built[key], sampler_spec(name).name, used, note


def _build(class_name: str, options: dict, config, name: str):
    import diffusers

    cls = getattr(diffusers, class_name, None)
    if cls is None:
        raise bad_input(f"The {name} sampler is not available in this version of diffusers.")
    try:
        return cls.from_config(config, **options)
    except ImportError as exc:
        raise bad_input(f"The {name} sampler needs a package that is not installed ({exc}).") from None
