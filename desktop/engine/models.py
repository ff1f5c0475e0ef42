"""Finding a model the user named and loading it as an image-to-image pipeline.

A model is named by a Hugging Face id (loaded from the local Hub cache when it is there, downloaded once
otherwise) or by a local diffusers folder. The pipeline class is chosen from the checkpoint's
``model_index.json`` exactly as ``AutoPipelineForImage2Image`` does, because that is what loads it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import RestyleError, bad_input, model_missing

log = logging.getLogger(__name__)

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
EXAMPLE_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: a local folder or a Hub id."""

    name: str  # as the user wrote it
    location: str  # folder path or Hub id
    is_local: bool

    @property
    def display_name(self) -> str:
        """A short name for captions and metadata."""
        return Path(self.location).name if self.is_local else self.location.split("/")[-1]


def _looks_like_path(name: str) -> bool:
    """Hub ids are "owner/name"; anything that exists on disk or is written like a path is a path."""
    return (
        Path(name).expanduser().exists()
        or name.startswith((".", "~", "/", "\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", name))
        or Path(name).suffix.lower() in (".safetensors", *PICKLE_SUFFIXES)
        or name.count("/") > 1
        or "\\" in name
    )


def resolve_model(name: str) -> ModelSource:
    """Check what the user named and say plainly what is wrong with it; loads nothing."""
    name = name.strip()
    if not name:
        raise bad_input(f"Choose a model first: a Hugging Face id such as {EXAMPLE_ID} or a local diffusers folder.")
    if _looks_like_path(name):
        path = Path(name).expanduser()
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise bad_input(
                f"{path.name} is a pickle checkpoint, which can run arbitrary code when loaded; "
                "Restyle does not open these. Use a .safetensors or diffusers version of the model."
            )
        if not path.exists():
            raise model_missing(f"The model folder {path} does not exist. Choose an existing diffusers folder.")
        if path.is_file():
            if path.suffix.lower() == ".safetensors":
                raise model_missing(
                    f"{path.name} is a single-file checkpoint; this version loads diffusers folders and Hub ids. "
                    "Convert it with diffusers' convert script or choose its diffusers version."
                )
            raise model_missing(f"{path.name} is a file, not a model. Choose a diffusers model folder.")
        if not (path / "model_index.json").is_file():
            raise model_missing(
                f"{path} is not a diffusers model folder (it has no model_index.json). "
                "Choose the folder that contains model_index.json."
            )
        return ModelSource(name, str(path.resolve()), True)
    if not HUB_ID.match(name):
        raise bad_input(f"{name!r} is neither a folder nor a Hugging Face id like {EXAMPLE_ID}.")
    return ModelSource(name, name, False)


def family_of(pipeline_class: str) -> str:
    """The model family of a pipeline class name, which decides previews and defaults."""
    if "StableDiffusionXL" in pipeline_class:
        return "sdxl"
    if "Kandinsky" in pipeline_class:
        return "kandinsky22"
    if "StableDiffusion" in pipeline_class or "LatentConsistency" in pipeline_class:
        return "sd"
    return "other"


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _model_index(source: ModelSource) -> dict:
    """The checkpoint's model_index.json (from the folder or the Hub cache); {} when not available."""
    if source.is_local:
        path = Path(source.location) / "model_index.json"
    else:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source.location, "model_index.json")
        if not isinstance(cached, str):
            return {}
        path = Path(cached)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise model_missing(f"The model's model_index.json cannot be read ({exc}).") from exc


def load_img2img_pipeline(source: ModelSource, device: str, dtype, status: Callable[[str], None] = lambda s: None):
    """Load the image-to-image pipeline for ``source`` on ``device``; raises RestyleError on failure."""
    from diffusers import AutoPipelineForImage2Image

    kwargs: dict = {"dtype": dtype}
    index = _model_index(source)
    if "safety_checker" in index:
        # Artists restyle their own pictures locally; the checker blacks out false positives and costs
        # memory. Like the other desktop tools, Restyle runs without it.
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    try:
        if source.is_local:
            status(f"Loading {source.display_name}…")
            pipe = AutoPipelineForImage2Image.from_pretrained(source.location, local_files_only=True, **kwargs)
        else:
            pipe = _load_from_hub(AutoPipelineForImage2Image, source, kwargs, status)
    except RestyleError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        log.exception("loading %s failed", source.location)
        raise model_missing(f"{source.display_name} could not be loaded: {_first_line(exc)}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _load_from_hub(loader, source: ModelSource, kwargs: dict, status: Callable[[str], None]):
    return load_cached_or_download(
        lambda local_only: loader.from_pretrained(source.location, local_files_only=local_only, **kwargs),
        source.location, noun="model", subject=source.location, advice="choose a local diffusers folder",
        status=status,
    )


def load_cached_or_download(load: Callable[[bool], object], location: str, *, noun: str, subject: str,
                            advice: str, status: Callable[[str], None] = lambda s: None):
    """``load(local_only)`` from the Hub cache, else downloaded once; every failure becomes one sentence.

    ``subject`` starts the sentences ("The depth model X"), ``advice`` ends them ("choose a local … folder").
    """
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        status(f"Loading {location} from the local Hugging Face cache…")
        return load(True)
    except (OSError, LocalEntryNotFoundError) as exc:
        if _offline():
            raise model_missing(
                f"{subject} is not in the local Hugging Face cache and Restyle is offline. "
                f"Connect to the internet once to download it, or {advice}."
            ) from exc
    status(f"Downloading {location} (once; later runs load it from the cache)…")
    try:
        return load(False)
    except RepositoryNotFoundError as exc:
        raise model_missing(
            f"There is no {noun} {location} on the Hugging Face Hub (or it needs a login). Check the id."
        ) from exc
    except OSError as exc:
        raise model_missing(
            f"{subject} is not in the local cache and could not be downloaded ({_first_line(exc)}). "
            f"Check the connection, or {advice}."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def natural_size(pipe, family: str) -> int:
    """The side the model was trained at: UNet sample size × VAE scale factor, with family defaults."""
    unet = getattr(pipe, "unet", None)
    scale = getattr(pipe, "vae_scale_factor", 8)
    sample = getattr(getattr(unet, "config", None), "sample_size", None)
    if isinstance(sample, int) and sample > 0:
        return int(sample * scale)
    return {"sdxl": 1024, "kandinsky22": 768}.get(family, 512)

