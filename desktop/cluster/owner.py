"""PipelineOwner: the one object on a device (a worker process or a Ray actor) that holds its pipelines.

A ``DeviceJob`` carries its input files as bytes, so a job runs the same on a node that cannot see this
computer's disk; the result comes back with this computer's paths in its parameters, so the saved PNG and the
history record read exactly as a local run's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.params import GenerationParams

# The parameters that name files the run reads; they travel as bytes.
FILE_FIELDS = ("init_image", "control_image", "mask_image")
LIST_FIELDS = ("references",)  # tuples of files (IP-Adapter reference pictures)


@dataclass(frozen=True)
class DeviceJob:
    """One run for one device: its parameters, the files they name (as bytes) and where it may run."""

    job_id: str
    params: GenerationParams | None  # None for a model load only
    files: dict[str, bytes] = field(default_factory=dict)  # FILE_FIELDS name (or "init_latents") -> content
    runtime: object = None  # RuntimeSettings to apply first, or None
    model: str = ""  # the model to load (for a load-only job; a run uses params.model)
    device: str = ""  # a slot id this job must run on ("" = any)
    keep_latents: bool = True  # False when nobody will chain from the result (a folder batch): less to send
    style_folders: object = None  # engine.styles.StyleFolders where LoRAs and embeddings are found, or None
    allow_pickles: bool | None = None  # the sender's "Allow pickle checkpoints" (None: the owner's own)

    @property
    def model_name(self) -> str:
        """The model the job needs loaded."""
        return self.params.model if self.params is not None else self.model


def pack_job(job_id: str, params: GenerationParams, *, init_latents: str | None = None, runtime=None,
             device: str = "", keep_latents: bool = True, style_folders=None,
             allow_pickles: bool | None = None) -> DeviceJob:
    """A DeviceJob with the files ``params`` names read here; a missing file is refused with a sentence."""
    files: dict[str, bytes] = {}
    for name in FILE_FIELDS:
        path = getattr(params, name)
        if path:
            files[name] = _read(path)
    for name in LIST_FIELDS:
        for index, path in enumerate(getattr(params, name)):
            files[f"{name}/{index}"] = _read(path)
    if init_latents and Path(init_latents).is_file():
        files["init_latents"] = _read(init_latents)
    return DeviceJob(job_id, params, files, runtime, device=device, keep_latents=keep_latents,
                     style_folders=style_folders, allow_pickles=allow_pickles)


def load_job(job_id: str, model: str, *, runtime=None, device: str = "",
             allow_pickles: bool | None = None) -> DeviceJob:
    """A job that only loads ``model`` (so the first run does not wait, and the window learns its family)."""
    return DeviceJob(job_id, None, runtime=runtime, model=model, device=device, allow_pickles=allow_pickles)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RestyleError(ErrorKind.BAD_INPUT, f"{Path(path).name} cannot be read: {exc.strerror or exc}.") from None


class PipelineOwner:
    """Holds one Engine (and so its cached pipelines) for one device; runs one job at a time."""

    def __init__(self, *, threads: int | None = None, allow_pickles: bool = False,
                 status: Callable[[str], None] | None = None):
        if threads:
            import torch

            torch.set_num_threads(threads)  # the device's share of the cores, so owners do not fight for them
        from desktop.engine.runner import Engine

        self.engine = Engine(status=status, allow_pickles=allow_pickles)

    def describe(self) -> dict:
        """Where this owner runs: host, process and device, for the window and the logs."""
        import socket

        from desktop.engine.device import pick_device

        return {"host": socket.gethostname(), "pid": os.getpid(), "device": pick_device("auto"),
                "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES", "")}

    def run(self, job: DeviceJob, on_step=None, cancelled: Callable[[], bool] | None = None):
        """Run ``job``: a ModelInfo for a load, else a GenerationResult whose paths are the sender's."""
        if job.runtime is not None:
            self.engine.configure(job.runtime)
        if job.allow_pickles is not None:  # an actor kept from an earlier pool may have been told otherwise
            self.engine.allow_pickles = job.allow_pickles
        if job.style_folders is not None:
            self.engine.style_folders = job.style_folders  # LoRA folders are the sender's: same paths here
        if job.params is None:
            return self.engine.load(job.model, "auto")
        with tempfile.TemporaryDirectory(prefix="restyle-job-") as folder:
            params, init_latents = _materialise(job, Path(folder))
            result = self.engine.generate(params, on_step=on_step, cancelled=cancelled, init_latents=init_latents)
        # The sender's own paths and device choice, so the metadata and history read as a local run's.
        sent = job.params
        result = replace(result, params=result.params.replace(device=sent.device, **{
            name: getattr(sent, name) for name in (*FILE_FIELDS, *LIST_FIELDS)}))
        if not job.keep_latents:
            result = replace(result, latents=None)
        return result


def _materialise(job: DeviceJob, folder: Path) -> tuple[GenerationParams, str | None]:
    """Write the job's files into ``folder``: its parameters pointing at them, and the latent cache's path."""
    changes = {}
    for name in FILE_FIELDS:
        if name in job.files:
            suffix = Path(getattr(job.params, name) or "").suffix or ".png"
            target = folder / f"{name}{suffix}"
            target.write_bytes(job.files[name])
            changes[name] = str(target)
    for name in LIST_FIELDS:
        paths = []
        for index, path in enumerate(getattr(job.params, name)):
            target = folder / f"{name}-{index}{Path(path).suffix or '.png'}"
            target.write_bytes(job.files[f"{name}/{index}"])
            paths.append(str(target))
        changes[name] = tuple(paths)
    latents = None
    if "init_latents" in job.files:
        latents = folder / "init.safetensors"
        latents.write_bytes(job.files["init_latents"])
    # "auto" on the device: a slot is one device, and a job never asks a node for a device it was not given.
    return job.params.replace(device="auto", **changes), str(latents) if latents else None
