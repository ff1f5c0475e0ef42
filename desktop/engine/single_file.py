"""Single-file checkpoints (one ``.safetensors`` file, as model-sharing sites publish them).

``from_single_file`` needs the diffusers configuration of the base model the checkpoint was trained from
(model_index.json, component configs, tokenizer, scheduler: a few MB, no weights). Restyle finds which base that
is from the checkpoint's own keys (diffusers' ``infer_diffusers_model_type``), and looks for its configuration in
the local Hugging Face cache first, so a checkpoint loads offline once the base model (or just its configs) is
cached. When it is not there and Restyle is offline, the sentence names the repository to download.

Pickle checkpoints reach this module only when the user allowed them (``core.sources.check_pickle``); diffusers then
reads them with ``torch.load(weights_only=True)``, which refuses anything that is not plain tensors, and
``_read_keys`` does the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import RestyleError, bad_input, model_missing

log = logging.getLogger(__name__)

# diffusers' model types that the img2img pipelines load, with the family name a user knows.
PIPELINES = {
    "v1": ("StableDiffusionImg2ImgPipeline", "SD 1.x"),
    "v2": ("StableDiffusionImg2ImgPipeline", "SD 2.x"),
    "xl_base": ("StableDiffusionXLImg2ImgPipeline", "SDXL"),
    "xl_refiner": ("StableDiffusionXLImg2ImgPipeline", "SDXL refiner"),
    "playground-v2-5": ("StableDiffusionXLImg2ImgPipeline", "Playground v2.5 (SDXL)"),
    # Inpainting checkpoints (a 9-channel UNet): the engine runs them through the mask path (inpaint.py).
    "inpainting": ("StableDiffusionInpaintPipeline", "SD 1.x inpainting"),
    "inpainting_v2": ("StableDiffusionInpaintPipeline", "SD 2.x inpainting"),
    "xl_inpaint": ("StableDiffusionXLInpaintPipeline", "SDXL inpainting"),
}


def _read_keys(path: Path) -> dict:
    """The checkpoint's keys mapped to empty tensors of the right shape (no weights are read for safetensors)."""
    import torch

    if path.suffix.lower() == ".gguf":
        from .flow_files import read_gguf_keys

        return read_gguf_keys(path)
    if path.suffix.lower() == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            names = handle.keys()  # safe_open is no mapping: it cannot be iterated itself
            return {k: torch.empty(handle.get_slice(k).get_shape(), device="meta") for k in names}
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    return state if isinstance(state, dict) else {}


def identify(path: Path) -> tuple[str, str]:
    """(diffusers model type, the Hub repository with its configuration) of a single-file checkpoint."""
    from diffusers.loaders.single_file_utils import (
        DIFFUSERS_DEFAULT_PIPELINE_PATHS,
        infer_diffusers_model_type,
    )

    try:
        keys = _read_keys(path)
    except Exception as exc:  # unreadable, truncated or (for pickles) carrying code
        log.exception("reading %s failed", path)
        raise _unreadable(path, exc) from exc
    if not keys:
        raise bad_input(f"{path.name} holds no weights Restyle can read.")
    from .flow_files import TRANSFORMER_BASES, transformer_type

    flow = transformer_type(keys, path)  # an SD 3.5 or FLUX transformer (GGUF or safetensors)
    if flow is not None:
        return flow, TRANSFORMER_BASES[flow][1]
    model_type = infer_diffusers_model_type(keys)
    repo = DIFFUSERS_DEFAULT_PIPELINE_PATHS.get(model_type, {}).get("pretrained_model_name_or_path", "")
    return model_type, repo


def _unreadable(path: Path, exc: BaseException) -> RestyleError:
    import pickle

    if isinstance(exc, pickle.UnpicklingError):
        return bad_input(f"{path.name} was refused: besides weights it contains code or objects that a weights-only "
                         "load does not open. Get a .safetensors version of this model.")
    return bad_input(f"{path.name} cannot be read as a checkpoint ({str(exc).splitlines()[0] if str(exc) else exc}). "
                     "It may be incomplete or damaged.")


def config_folder(repo: str) -> Path | None:
    """The cached diffusers configuration of ``repo``: its Hub cache snapshot or an app-downloaded folder."""
    from huggingface_hub import try_to_load_from_cache

    from desktop.core.hubcache import hub_cache_dir

    cached = try_to_load_from_cache(repo, "model_index.json", cache_dir=hub_cache_dir())
    return Path(cached).parent if isinstance(cached, str) else None


def load_single_file(path: Path, dtype, status: Callable[[str], None] = lambda s: None, *,
                     allow_pickles: bool = False, runtime=None):
    """Load a single-file checkpoint as an image-to-image pipeline (not yet moved to a device)."""
    import diffusers

    from desktop.core.hubcache import is_offline
    from desktop.core.sources import check_pickle
    from desktop.engine.hub import first_line

    check_pickle(path, allow_pickles)
    model_type, repo = identify(path)
    from .flow_files import TRANSFORMER_BASES, load_transformer_file

    if model_type in TRANSFORMER_BASES:
        return load_transformer_file(path, model_type, dtype, status, runtime)
    if model_type not in PIPELINES:
        raise bad_input(f"{path.name} looks like a {model_type} checkpoint; Restyle loads single-file SD 1.x, SD 2.x "
                        "and SDXL checkpoints and SD 3.5 / FLUX.1 transformers (.safetensors or .gguf). "
                        "Use its diffusers version instead.")
    class_name, family = PIPELINES[model_type]
    config = config_folder(repo)
    if config is None and is_offline():
        raise model_missing(
            f"{path.name} is an {family} checkpoint; loading it needs the configuration of {repo} (a few MB, no "
            "weights), which is not in the local Hugging Face cache, and Restyle is offline. Download that model "
            "from the model library (or connect once and load the file again)."
        )
    kwargs: dict = {"torch_dtype": dtype}
    if class_name in ("StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline"):
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    status(f"Loading {path.name} ({family}, configuration from {repo})…")
    try:
        pipe_class = getattr(diffusers, class_name)
        if config is not None:
            return pipe_class.from_single_file(str(path), config=str(config), local_files_only=True, **kwargs)
        return pipe_class.from_single_file(str(path), config=repo, **kwargs)
    except RestyleError:
        raise
    except Exception as exc:  # every failure becomes one sentence; the traceback goes to the log
        log.exception("loading %s failed", path)
        if "weights_only" in str(exc) or "Unpickler" in str(exc):
            import pickle

            raise _unreadable(path, pickle.UnpicklingError(str(exc))) from exc
        raise model_missing(f"{path.name} could not be loaded as an {family} checkpoint: {first_line(exc)}") from exc
