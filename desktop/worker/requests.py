"""What the UI asks the worker to do: plain dataclasses, each with its own cancel flag."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from desktop.core.params import GenerationParams
from desktop.core.runtime import RuntimeSettings

from .history_writer import HistoryTarget

_ids = itertools.count(1)


@dataclass(frozen=True)
class LoadModelRequest:
    """Load (or keep) this model so the first Generate does not wait for it."""

    model: str
    device: str = "auto"
    job_id: int = field(default_factory=lambda: next(_ids))
    runtime: RuntimeSettings | None = None  # device and memory settings to apply first; None keeps the current


@dataclass(frozen=True)
class UnloadModelRequest:
    """Let go of the loaded model (the device pool took over: each device loads its own copy)."""

    reason: str = ""  # said in the status line when a model was unloaded
    job_id: int = field(default_factory=lambda: next(_ids))


@dataclass(frozen=True)
class GenerateRequest:
    """Run one generation and save the PNG into ``output_dir``."""

    params: GenerationParams
    output_dir: str
    job_id: int = field(default_factory=lambda: next(_ids))
    # A latent cache of the init image; used when the loaded model has the same VAE.
    init_latents: str | None = None
    runtime: RuntimeSettings | None = None  # applied before the run (a change of precision reloads the model)
    # Where LoRAs and embeddings are looked up by name (the user's folders, first first); None keeps the engine's.
    lora_dirs: tuple[str, ...] | None = None
    embedding_dirs: tuple[str, ...] | None = None
    # With several devices (Settings ▸ Devices at once): the one this run must use ("cpu-2", "cuda-1"); "" = any.
    slot: str = ""
    # Where the result goes in the history; the worker writes it there once the PNG is saved, before anyone
    # hears of the result (history_writer.py). None: the PNG only.
    history: HistoryTarget | None = field(default=None, compare=False, repr=False)
    # Set from the UI thread; read between steps. Each request has its own, so a cancel can reach a job
    # still waiting in the queue (the pipeline's own _interrupt is reset at every call and would lose it).
    cancel_event: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass(frozen=True)
class EstimateDepthRequest:
    """Estimate the depth of the image at ``image_path`` and save it as a PNG at ``output_path``."""

    image_path: str  # "" when there is no init image: refused with a sentence
    output_path: str
    model: str = ""  # a transformers depth model (folder or Hub id); "" = Depth Anything V2 Small
    device: str = "auto"
    job_id: int = field(default_factory=lambda: next(_ids))
    # Stops the depth model's download, or the estimate before it runs (see GenerateRequest.cancel_event).
    cancel_event: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass(frozen=True)
class UpscaleRequest:
    """Upscale one picture (×2 latent or ×4 super-resolution) and save the PNG into ``output_dir``."""

    params: Any  # desktop.engine.upscale.UpscaleParams (plain Python, but importing it here is not needed)
    output_dir: str
    job_id: int = field(default_factory=lambda: next(_ids))
    source_latents: str | None = None  # the picture's latent cache: ×2 takes it as is when the VAE matches
    history: HistoryTarget | None = field(default=None, compare=False, repr=False)
    cancel_event: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass(frozen=True)
class EngineOptionsRequest:
    """Engine-wide choices from the settings, applied before the next load (pickle checkpoints allowed or not)."""

    allow_pickles: bool = False
    job_id: int = field(default_factory=lambda: next(_ids))
    # Where runs go: "" this computer, else a Ray cluster's address ("auto", "HOST:PORT"); None keeps the current.
    cluster: str | None = None
