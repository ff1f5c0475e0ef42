"""Model sources: what the user named (a Hub id, a diffusers folder or a single-file checkpoint), checked without
loading anything, and the one pickle refusal used everywhere (torch-free).

Pickle checkpoints (.ckpt/.pt/.pth/.bin) can run arbitrary code when unpickled. They are refused everywhere by
one function, ``check_pickle``, unless the user allowed them; even then the engine reads them only with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import RestyleError, bad_input, model_missing

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
# One-file checkpoints read as weights: safetensors, and GGUF-quantized transformers (SD 3.5, FLUX).
WEIGHT_SUFFIXES = (".safetensors", ".gguf")


EXAMPLE_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: a local folder or a Hub id."""

    name: str  # as the user wrote it
    location: str  # folder path, file path or Hub id
    is_local: bool
    single_file: bool = False  # a one-file checkpoint (.safetensors, .gguf, or an allowed pickle)

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


# Components diffusers is told not to load (Restyle runs without the safety checker), so their files never open.
_NOT_LOADED = ("safety_checker", "feature_extractor")


def check_folder_pickles(folder: Path, index: dict, allow_pickles: bool) -> None:
    """Refuse a diffusers folder where a component the pipeline loads has its weights only as a pickle (diffusers
    would open it with torch.load), unless pickles are allowed; a component with .safetensors loads those."""
    if allow_pickles:
        return
    for component, spec in index.items():
        part = Path(folder) / component
        if component.startswith("_") or component in _NOT_LOADED or not isinstance(spec, list) or not part.is_dir():
            continue
        names = [p.name for p in part.iterdir()]
        pickles = [n for n in names if n.lower().endswith(PICKLE_SUFFIXES)]
        if pickles and not any(n.endswith(".safetensors") for n in names):
            refusal = pickle_refusal(part / pickles[0])
            raise bad_input(f"The {component} of {Path(folder).name} is stored only as a pickle: {refusal.message}")


def _looks_like_path(name: str) -> bool:
    """Hub ids are "owner/name"; anything that exists on disk or is written like a path is a path."""
    return (
        Path(name).expanduser().exists()
        or name.startswith((".", "~", "/", "\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", name))
        or Path(name).suffix.lower() in (*WEIGHT_SUFFIXES, *PICKLE_SUFFIXES)
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
            what = "checkpoint" if path.suffix.lower() in (*WEIGHT_SUFFIXES, *PICKLE_SUFFIXES) else "model folder"
            raise model_missing(f"The {what} {path} does not exist. Choose an existing diffusers folder or file.")
        if path.is_file():
            if path.suffix.lower() in (*WEIGHT_SUFFIXES, *PICKLE_SUFFIXES):
                # Not resolve(): a file in the Hugging Face cache is a link to blobs/<hash>, which has no suffix.
                return ModelSource(name, os.path.abspath(path), True, single_file=True)
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
    if "StableDiffusion3" in pipeline_class:
        return "sd3"
    if pipeline_class.startswith("Flux"):
        return "flux"
    if "StableDiffusion" in pipeline_class or "LatentConsistency" in pipeline_class:
        return "sd"
    return "other"
