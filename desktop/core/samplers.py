"""Samplers and schedule types by their AUTOMATIC1111 names, with the diffusers scheduler each one maps to.

Plain data and string parsing only (no torch): the sampler picker lists ``SAMPLERS``, the metadata writes and
reads the names (``Sampler: DPM++ 2M, Schedule type: Karras``), other tools' names are mapped onto them with
``parse_sampler``, and the engine builds the scheduler with ``Cls.from_config(model's own config, **options)``.

A1111 before 1.6 wrote the schedule into the sampler's name (``DPM++ 2M Karras``); ``parse_sampler`` splits it.
Flow-matching families (SD3, FLUX) keep their own ``FlowMatchEulerDiscreteScheduler``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

AUTOMATIC = "automatic"  # the schedule the model's own scheduler config gives
DEFAULT_SAMPLER = ""  # the model's own scheduler, as its checkpoint ships it


@dataclass(frozen=True)
class SamplerSpec:
    """One sampler: its A1111 name, the diffusers scheduler class and the options that make it that sampler."""

    name: str  # as AUTOMATIC1111 writes it: "DPM++ 2M"
    scheduler: str  # the diffusers class name
    options: dict[str, Any] = field(default_factory=dict)
    sigma_schedules: bool = True  # takes use_karras_sigmas / use_exponential_sigmas
    spacing: bool = True  # takes timestep_spacing (SGM uniform)
    needs: str = ""  # an extra package the scheduler imports ("torchsde")
    tip: str = ""


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule type: its key (CLI, settings), its A1111 label and the scheduler options it sets."""

    key: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)


SAMPLERS: dict[str, SamplerSpec] = {
    spec.name: spec
    for spec in (
        SamplerSpec("Euler", "EulerDiscreteScheduler", tip="Fast and predictable; a good default."),
        SamplerSpec("Euler a", "EulerAncestralDiscreteScheduler", sigma_schedules=False,
                    tip="Ancestral: adds fresh noise each step, so results keep changing with more steps."),
        SamplerSpec("Heun", "HeunDiscreteScheduler", tip="Two model calls per step: finer, twice as slow."),
        SamplerSpec("DPM2", "KDPM2DiscreteScheduler", tip="Two model calls per step."),
        SamplerSpec("DPM2 a", "KDPM2AncestralDiscreteScheduler", tip="DPM2 with fresh noise each step."),
        SamplerSpec("LMS", "LMSDiscreteScheduler"),
        SamplerSpec("DPM++ 2M", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2},
                    tip="Sharp results in few steps (20–30); with Karras the usual choice."),
        SamplerSpec("DPM++ 2M SDE", "DPMSolverMultistepScheduler",
                    {"algorithm_type": "sde-dpmsolver++", "solver_order": 2},
                    tip="Stochastic DPM++ 2M: more detail, changes with the step count."),
        SamplerSpec("DPM++ 3M SDE", "DPMSolverMultistepScheduler",
                    {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}),
        SamplerSpec("DPM++ SDE", "DPMSolverSDEScheduler", needs="torchsde",
                    tip="Stochastic, two model calls per step; detailed and slow."),
        SamplerSpec("DPM++ 2S a", "DPMSolverSinglestepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2},
                    spacing=False),
        SamplerSpec("DDIM", "DDIMScheduler", sigma_schedules=False, tip="The original SD sampler; deterministic."),
        SamplerSpec("PLMS", "PNDMScheduler", sigma_schedules=False, tip="SD 1.5's own scheduler (PNDM)."),
        SamplerSpec("UniPC", "UniPCMultistepScheduler", tip="Good results in very few steps (10–20)."),
        SamplerSpec("LCM", "LCMScheduler", sigma_schedules=False,
                    tip="For LCM models and LCM LoRAs only: 4–8 steps at guidance 1–2."),
        SamplerSpec("DDPM", "DDPMScheduler", sigma_schedules=False, tip="Needs many steps (hundreds)."),
    )
}

SCHEDULES: dict[str, ScheduleSpec] = {
    spec.key: spec
    for spec in (
        ScheduleSpec(AUTOMATIC, "Automatic"),
        ScheduleSpec("karras", "Karras", {"use_karras_sigmas": True}),
        ScheduleSpec("exponential", "Exponential", {"use_exponential_sigmas": True}),
        ScheduleSpec("sgm_uniform", "SGM Uniform", {"timestep_spacing": "trailing"}),
    )
}

# Other spellings of sampler names: ComfyUI/Forge keys, InvokeAI scheduler keys and diffusers class names.
_ALIASES = {
    "euler": "Euler", "euler_a": "Euler a", "euler_ancestral": "Euler a", "k_euler": "Euler",
    "k_euler_a": "Euler a", "k_euler_ancestral": "Euler a", "heun": "Heun", "k_heun": "Heun",
    "dpm_2": "DPM2", "k_dpm_2": "DPM2", "dpm_2_ancestral": "DPM2 a", "k_dpm_2_a": "DPM2 a",
    "k_dpm_2_ancestral": "DPM2 a", "lms": "LMS", "k_lms": "LMS", "dpmpp_2m": "DPM++ 2M", "k_dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_2m_sde_gpu": "DPM++ 2M SDE", "k_dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_3m_sde": "DPM++ 3M SDE", "dpmpp_3m_sde_gpu": "DPM++ 3M SDE", "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_gpu": "DPM++ SDE", "k_dpmpp_sde": "DPM++ SDE", "dpmpp_2s_ancestral": "DPM++ 2S a",
    "k_dpmpp_2s_a": "DPM++ 2S a", "dpmpp_2s_a": "DPM++ 2S a", "ddim": "DDIM", "plms": "PLMS", "pndm": "PLMS",
    "uni_pc": "UniPC", "unipc": "UniPC", "uni_pc_bh2": "UniPC", "lcm": "LCM", "ddpm": "DDPM",
    **{spec.scheduler.lower(): spec.name for spec in reversed(list(SAMPLERS.values()))},
}
_SCHEDULE_ALIASES = {
    "automatic": AUTOMATIC, "normal": AUTOMATIC, "simple": AUTOMATIC, "default": AUTOMATIC, "uniform": AUTOMATIC,
    "karras": "karras", "exponential": "exponential", "sgm_uniform": "sgm_uniform", "sgm uniform": "sgm_uniform",
}


def sampler_spec(name: str) -> SamplerSpec | None:
    """The spec of an A1111 sampler name (exact, then case-insensitive); None when unknown."""
    if name in SAMPLERS:
        return SAMPLERS[name]
    lowered = name.strip().lower()
    return next((spec for key, spec in SAMPLERS.items() if key.lower() == lowered), None)


def schedule_key(text: str) -> str | None:
    """The schedule key of a key or A1111 label ("Karras", "SGM Uniform", "karras"); None when unknown."""
    return _SCHEDULE_ALIASES.get(text.strip().lower().replace("-", "_")) or _SCHEDULE_ALIASES.get(
        text.strip().lower())


def schedule_label(key: str) -> str:
    """The A1111 label of a schedule key ("Karras")."""
    spec = SCHEDULES.get(key)
    return spec.label if spec else key


def parse_sampler(text: str, schedule: str | None = None) -> tuple[str, str] | None:
    """(A1111 sampler name, schedule key) for any tool's sampler text, or None when it names no known sampler.

    Reads A1111 ≥ 1.6 (``DPM++ 2M`` with a separate ``Schedule type``), A1111 < 1.6 (``DPM++ 2M Karras``),
    ComfyUI/Forge keys (``dpmpp_2m`` with scheduler ``karras``) and diffusers class names.
    """
    raw = text.strip()
    key = schedule_key(schedule) if schedule else None
    if schedule and key is None:
        key = AUTOMATIC  # a schedule Restyle does not have: the model's own
    spec = sampler_spec(raw)
    if spec is None:
        match = re.fullmatch(r"(.+?)[ _](karras|exponential|sgm[ _]uniform)", raw, re.IGNORECASE)
        if match:
            spec = sampler_spec(match.group(1)) or _alias(match.group(1))
            if spec is not None and key is None:
                key = schedule_key(match.group(2))
    if spec is None:
        spec = _alias(raw)
    if spec is None:
        return None
    return spec.name, key or AUTOMATIC


def _alias(text: str) -> SamplerSpec | None:
    name = _ALIASES.get(text.strip().lower().replace(" ", "_"))
    return SAMPLERS.get(name) if name else None


def sampler_for_scheduler(class_name: str, config: dict | None = None) -> tuple[str, str]:
    """(A1111 name, schedule key) of a diffusers scheduler as configured, for a model's own scheduler."""
    config = config or {}
    if class_name == "FlowMatchEulerDiscreteScheduler":
        return "Euler", AUTOMATIC  # SD 3 and FLUX's own sampler, as Forge and ComfyUI name it
    candidates = [spec for spec in SAMPLERS.values() if spec.scheduler == class_name]
    name = class_name
    for spec in candidates:
        if all(config.get(k, v) == v for k, v in spec.options.items()):
            name = spec.name
            break
    else:
        if candidates:
            name = candidates[0].name
    if config.get("use_karras_sigmas"):
        return name, "karras"
    if config.get("use_exponential_sigmas"):
        return name, "exponential"
    return name, AUTOMATIC


def scheduler_options(sampler: str, schedule: str) -> tuple[str, dict[str, Any], str | None]:
    """(diffusers class name, options for from_config, a note when the schedule does not apply or None).

    Raises ValueError with a sentence for an unknown sampler or schedule (the engine turns it into bad input).
    """
    spec = sampler_spec(sampler)
    if spec is None:
        raise ValueError(f"{sampler!r} is not a sampler Restyle knows. Choose one of: {', '.join(SAMPLERS)}.")
    sched = SCHEDULES.get(schedule)
    if sched is None:
        raise ValueError(f"{schedule!r} is not a schedule type. Choose one of: {', '.join(SCHEDULES)}.")
    # Reset the sigma options the model's own config may carry, so "Automatic" means the sampler's plain schedule
    # only when asked for another; the model's own Karras setting is kept under Automatic.
    options: dict[str, Any] = dict(spec.options)
    note = None
    if sched.key in ("karras", "exponential"):
        if spec.sigma_schedules:
            options.update({"use_karras_sigmas": False, "use_exponential_sigmas": False, **sched.options})
        else:
            note = f"{spec.name} has no {sched.label} schedule; its own schedule was used."
    elif sched.key == "sgm_uniform":
        if spec.spacing:
            options.update(sched.options)
        else:
            note = f"{spec.name} has no {sched.label} schedule; its own schedule was used."
    return spec.scheduler, options, note


def sampler_fields(fields: dict[str, str]) -> dict[str, str]:
    """The ``sampler`` and ``schedule`` parameters an A1111 ``parameters`` text gives ({} when it names no sampler
    Restyle knows, so the current choice stays)."""
    raw = fields.get("Sampler")
    parsed = parse_sampler(raw, fields.get("Schedule type")) if raw else None
    if parsed is None:
        return {}
    return {"sampler": parsed[0], "schedule": parsed[1]}
