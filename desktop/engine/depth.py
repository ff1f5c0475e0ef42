"""Depth maps for ControlNet: loading one from a file, estimating one from a photo, lining it up with the image.

Every function returns an 8-bit RGB image with the depth in all three channels, near = bright, which is what
the depth ControlNets were trained on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from desktop.core.depth_maps import DEFAULT_DEPTH_MODEL
from desktop.core.errors import ErrorKind, RestyleError, bad_input, model_missing
from desktop.core.sources import HUB_ID
from desktop.engine.hub import cached_snapshot, first_line, load_cached_or_download

from .device import pick_device

log = logging.getLogger(__name__)


class DepthEstimator:
    """Estimates depth maps with a transformers depth model, keeping the last loaded model for the next call.

    ``status`` hears what it does (a download's bytes and rate); ``cancelled`` is checked while a model
    downloads and once more before the estimate runs (one forward pass, which cannot be stopped half-way).
    """

    def __init__(self, status: Callable[[str], None] | None = None):
        self._key: tuple[str, str] | None = None
        self._pipe = None
        self._status = status or (lambda message: None)

    def load(self, model: str = DEFAULT_DEPTH_MODEL, device: str = "cpu", *,
             cancelled: Callable[[], bool] | None = None) -> None:
        """Make ``model`` on ``device`` ("auto" allowed) the loaded estimator (no-op when it already is)."""
        key = (model.strip(), pick_device(device))
        if self._key == key:
            return
        self._key = self._pipe = None  # never hold two depth models at once
        self._pipe = _load_depth_pipeline(*key, status=self._status, cancelled=cancelled)
        self._key = key

    def estimate(self, image: Image.Image, model: str = DEFAULT_DEPTH_MODEL, device: str = "cpu", *,
                 cancelled: Callable[[], bool] | None = None) -> Image.Image:
        """The depth of ``image`` as an RGB image of the same size, normalised to 0..255, near = bright."""
        import torch

        self.load(model, device, cancelled=cancelled)
        if cancelled is not None and cancelled():
            raise RestyleError(ErrorKind.CANCELLED, "The depth estimate was cancelled.")
        with torch.inference_mode():
            output = self._pipe(image.convert("RGB"))
        depth = output["predicted_depth"].detach().float().cpu()
        depth = depth.reshape(depth.shape[-2:])
        if _is_metric(self._pipe.model.config):
            depth = -depth  # metric models give distance (near = small); ControlNet wants near = bright
        low, high = depth.min(), depth.max()
        span = float(high - low)
        # A flat prediction has no near or far; mid-grey says so without dividing by zero.
        scaled = (depth - low) / span * 255 if span > 1e-8 else torch.full_like(depth, 128.0)
        grey = Image.fromarray(scaled.round().clamp(0, 255).to(torch.uint8).numpy())
        if grey.size != image.size:
            grey = grey.resize(image.size, Image.Resampling.BICUBIC)
        return Image.merge("RGB", (grey, grey, grey))

    def unload(self) -> None:
        """Forget the loaded model so its memory can be freed."""
        self._key = self._pipe = None


def estimate_depth(
    image: Image.Image,
    model: str = DEFAULT_DEPTH_MODEL,
    device: str = "cpu",
    *,
    estimator: DepthEstimator | None = None,
) -> Image.Image:
    """Estimate the depth of ``image`` (RGB, same size, near = bright); pass an estimator to reuse its model."""
    return (estimator or DepthEstimator()).estimate(image, model, device)


def _is_metric(config) -> bool:
    # Relative models (Depth Anything, DPT/MiDaS) predict inverse depth, already near = large.
    return getattr(config, "model_type", "") == "zoedepth" or getattr(config, "depth_estimation_type", "") == "metric"


def _load_depth_pipeline(model: str, device: str, *, status: Callable[[str], None] = lambda s: None,
                         cancelled: Callable[[], bool] | None = None):
    """Load a transformers depth-estimation pipeline from a folder or the Hub (cache first); raises RestyleError."""
    from transformers import pipeline

    if not model:
        raise bad_input(f"Choose a depth model: a Hugging Face id such as {DEFAULT_DEPTH_MODEL} or a local folder.")
    folder = Path(model).expanduser()
    try:
        if folder.is_dir():
            _check_depth_folder(folder)
            parts = _load_parts(str(folder), local_only=True)
        elif folder.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1 or "\\" in model:
            raise model_missing(f"The depth model folder {folder} does not exist. Choose an existing folder.")
        elif not HUB_ID.match(model):
            raise bad_input(f"{model!r} is neither a folder nor a Hugging Face id like {DEFAULT_DEPTH_MODEL}.")
        else:
            parts = _load_depth_from_hub(model, status, cancelled)
        return pipeline("depth-estimation", model=parts[0], image_processor=parts[1], device=device)
    except RestyleError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        log.exception("loading depth model %s failed", model)
        raise model_missing(f"The depth model {model} could not be loaded: {first_line(exc)}") from exc


def _load_parts(location: str, *, local_only: bool):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    from desktop.core.hubcache import hub_cache_dir

    if local_only and not Path(location).is_dir():
        # A Hub id, from the cache: loaded as the snapshot folder it is, because transformers would otherwise
        # still ask the Hub for adapter files (and wait through retries when the network is down).
        snapshot = cached_snapshot(location)
        if snapshot is None:
            raise OSError(f"{location} is not in the Hugging Face cache")
        location = str(snapshot)
    # The cache the downloader writes to, read now: transformers fixes its own default at import time.
    where = {"local_files_only": local_only, "cache_dir": hub_cache_dir()}
    net = AutoModelForDepthEstimation.from_pretrained(location, **where)
    processor = AutoImageProcessor.from_pretrained(location, **where)
    return net.eval(), processor


def _load_depth_from_hub(model: str, status: Callable[[str], None], cancelled: Callable[[], bool] | None):
    return load_cached_or_download(
        lambda local_only: _load_parts(model, local_only=local_only), model, noun="depth model",
        subject=f"The depth model {model}", advice="choose a local transformers depth model folder",
        status=status, cancelled=cancelled,
    )


def _check_depth_folder(folder: Path) -> None:
    """Refuse, before loading, a folder that is not a transformers depth model (say, a diffusers model)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES,
    )

    advice = "Choose a transformers depth-estimation model folder such as a copy of Depth-Anything-V2-Small-hf."
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise model_missing(
            f"{folder.name} is not a depth model folder (it has no readable config.json). {advice}"
        ) from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type not in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES:
        kind = f"a {model_type} model" if model_type else "not a transformers model"
        raise model_missing(f"{folder.name} is {kind}, not a depth-estimation model. {advice}")
    if not (folder / "preprocessor_config.json").is_file():
        raise model_missing(f"{folder.name} has no preprocessor_config.json, which a depth model needs. {advice}")
