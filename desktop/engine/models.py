"""Finding a model the user named and loading it as an image-to-image pipeline.

A model is named by a Hugging Face id (loaded from the local Hub cache when it is there, downloaded once
otherwise), by a local diffusers folder, or by a single-file checkpoint (``.safetensors``, as model-sharing
sites publish them; see ``single_file.py``). The pipeline class of a folder or Hub id is chosen from the
checkpoint's ``model_index.json`` exactly as ``AutoPipelineForImage2Image`` does, because that is what loads it.

Pickle checkpoints (.ckpt/.pt/.pth/.bin) can run arbitrary code when unpickled. They are refused everywhere by
one function, ``check_pickle``, unless the user allowed them; even then they are only read with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.
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
    location: str  # folder path, file path or Hub id
    is_local: bool
    single_file: bool = False  # a one-file checkpoint (.safetensors, or an allowed pickle)

    @property
    def display_name(self) -> str:
        """A short name for captions and metadata."""
        if self.single_file:
            return Path(self.location).stem
        return Path(self.location).name if self.is_local else self.location.split("/")[-1]


def pickle_refusal(path: Path) -> RestyleError:
    """The one sentence for a pickle checkpoint the user has not allowed (the picker, the CLI and the library)."""
    return bad_input(
        f"{path.name} is a pickle checkpoint ({path.suffix}), which can run arbitrary code when it is opened; "
        "Restyle does not open these by default. Use a .safetensors or diffusers version of the model, or turn on "
        "\"Allow pickle checkpoints\" in the model library (--allow-pickles on the command line) if you trust "
        "the file: it is then read as weights only, never as code."
    )


def check_pickle(path: Path, allow_pickles: bool) -> None:
    """Raise the pickle refusal for a .ckpt/.pt/.pth/.bin path unless pickles are allowed."""
    if Path(path).suffix.lower() in PICKLE_SUFFIXES and not allow_pickles:
        raise pickle_refusal(Path(path))


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


def resolve_model(name: str, *, allow_pickles: bool = False) -> ModelSource:
    """Check what the user named and say plainly what is wrong with it; loads nothing."""
    name = name.strip()
    if not name:
        raise bad_input(f"Choose a model first: a Hugging Face id such as {EXAMPLE_ID}, a local diffusers folder "
                        "or a .safetensors checkpoint.")
    if _looks_like_path(name):
        path = Path(name).expanduser()
        check_pickle(path, allow_pickles)
        if not path.exists():
            what = "checkpoint" if path.suffix.lower() in (".safetensors", *PICKLE_SUFFIXES) else "model folder"
            raise model_missing(f"The {what} {path} does not exist. Choose an existing diffusers folder or file.")
        if path.is_file():
            if path.suffix.lower() in (".safetensors", *PICKLE_SUFFIXES):
                return ModelSource(name, str(path.resolve()), True, single_file=True)
            raise model_missing(
                f"{path.name} is a file, not a model. Choose a diffusers model folder or a .safetensors checkpoint."
            )
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

        from .library import hub_cache_dir

        cached = try_to_load_from_cache(source.location, "model_index.json", cache_dir=hub_cache_dir())
        if not isinstance(cached, str):
            return {}
        path = Path(cached)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise model_missing(f"The model's model_index.json cannot be read ({exc}).") from exc


def load_img2img_pipeline(source: ModelSource, device: str, dtype, status: Callable[[str], None] = lambda s: None,
                          *, allow_pickles: bool = False):
    """Load the image-to-image pipeline for ``source`` on ``device``; raises RestyleError on failure."""
    if source.single_file:
        from .single_file import load_single_file

        pipe = load_single_file(Path(source.location), dtype, status, allow_pickles=allow_pickles)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(device)
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
            variant = weights_variant(Path(source.location))
            pipe = AutoPipelineForImage2Image.from_pretrained(source.location, local_files_only=True, variant=variant,
                                                              **kwargs)
        else:
            pipe = _load_from_hub(AutoPipelineForImage2Image, source, kwargs, status)
    except RestyleError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        log.exception("loading %s failed", source.location)
        raise model_missing(f"{source.display_name} could not be loaded: {_first_line(exc)}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def weights_variant(folder: Path | None) -> str | None:
    """"fp16" when a model folder holds some weights only as the fp16 variant (as the library downloads them
    for fp16 devices), so ``from_pretrained`` must ask for it; None otherwise."""
    if folder is None or not folder.is_dir():
        return None
    for part in [folder, *(p for p in folder.iterdir() if p.is_dir())]:
        names = [p.name for p in part.glob("*.safetensors")]
        fp16 = [n for n in names if ".fp16." in n or ".fp16-" in n]
        if fp16 and len(fp16) == len(names):
            return "fp16"
    return None


def _cached_snapshot(repo_id: str) -> Path | None:
    """The Hub cache's snapshot folder of ``repo_id`` (the one refs/main points to), or None."""
    from huggingface_hub import try_to_load_from_cache

    from .library import hub_cache_dir

    for name in ("model_index.json", "config.json"):
        cached = try_to_load_from_cache(repo_id, name, cache_dir=hub_cache_dir())
        if isinstance(cached, str):
            return Path(cached).parent
    return None


def _load_from_hub(loader, source: ModelSource, kwargs: dict, status: Callable[[str], None]):
    from .library import hub_cache_dir

    def load(local_only: bool):
        variant = weights_variant(_cached_snapshot(source.location)) if local_only else None
        return loader.from_pretrained(source.location, local_files_only=local_only, cache_dir=hub_cache_dir(),
                                      variant=variant, **kwargs)

    return load_cached_or_download(
        load,
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

