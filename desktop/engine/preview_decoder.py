"""Detailed step previews through a tiny autoencoder (TAESD), every k steps, when the settings ask for them.

The latent-colour map (previews.py) costs nothing but shows colour fields; TAESD (``AutoencoderTiny``, about
1.2 M decoder parameters) shows the picture itself at output size for a small part of a full VAE decode
(docs/PERFORMANCE.md has the figures). Which TAESD decodes which family is one table, core/previews.py; the
model is found like any other (a local folder, or a Hub id from the cache, downloaded once when online) and
stays loaded between runs. When none can be had, the run goes on with latent colours and a note says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop.core.errors import RestyleError
from desktop.core.previews import preview_decoder_for

from .hub import load_cached_or_download
from .previews import latent_preview

log = logging.getLogger(__name__)


class PreviewDecoders:
    """The loaded TAESD (one at a time: runs of one family follow each other), kept between runs."""

    def __init__(self, status=lambda s: None):
        self._status = status
        self._key: tuple | None = None
        self._model = None

    def for_run(self, runtime, family: str, device, dtype, notes: list[str], *,
                cancelled: Callable[[], bool] | None = None) -> StepPreviews | None:
        """What makes this run's previews when the settings ask for detailed ones, else None (latent colours).

        A family without a TAESD, or one that cannot be loaded, adds a note and gives None."""
        if runtime is None or runtime.preview != "taesd":
            return None
        name = runtime.preview_model.strip() or preview_decoder_for(family)
        if not name:
            notes.append("Detailed previews have no tiny autoencoder for this model's family; latent colours "
                         "were shown.")
            return None
        key = (name, str(device), str(dtype))
        if key != self._key:
            self._model, self._key = None, None
            try:
                self._model = _load(name, device, dtype, self._status, cancelled)
            except RestyleError as exc:
                notes.append(f"Detailed previews need {name}: {exc.message} Latent colours were shown.")
                return None
            self._key = key
        return StepPreviews(self._model, max(1, int(runtime.preview_every)), family)


class StepPreviews:
    """One run's previews: TAESD every ``every`` steps and at the last; latent colours for the first step, so
    the canvas shows the run start at once."""

    def __init__(self, model, every: int, family: str):
        self._model, self._every, self._family = model, every, family

    def take(self, latents, step: int, total: int):
        """An RGB uint8 array for this step, or None (the canvas keeps the last one)."""
        if step == 1 and self._every > 1:
            return latent_preview(latents, self._family)
        if step % self._every and step != total:
            return None
        return decode(self._model, latents)


def decode(model, latents) -> np.ndarray:
    """An RGB uint8 array (H, W, 3) at output size from the first image of a latent batch."""
    import torch

    with torch.inference_mode():
        x = latents[:1].to(device=model.device, dtype=model.dtype)
        # As a pipeline decodes with a TAESD in place of its VAE: SD's TAESD (scale 1, no shift) reads the latents
        # as held; TAESD3 and TAEF1 carry SD 3's and FLUX's scaling and shift in their configs. Returns -1..1.
        config = model.config
        x = x / getattr(config, "scaling_factor", 1.0) + (getattr(config, "shift_factor", 0.0) or 0.0)
        image = model.decode(x).sample[0].float().clamp(-1, 1).add(1).mul(127.5)
        return image.round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _load(name: str, device, dtype, status, cancelled=None):
    from diffusers import AutoencoderTiny

    from desktop.core.hubcache import hub_cache_dir

    if Path(name).is_dir():
        model = AutoencoderTiny.from_pretrained(name, torch_dtype=dtype)
    else:
        model = load_cached_or_download(
            lambda local_only: AutoencoderTiny.from_pretrained(name, local_files_only=local_only,
                                                               cache_dir=hub_cache_dir(), torch_dtype=dtype),
            name, noun="preview decoder", subject=f"The preview decoder {name}",
            advice="choose latent colours in File ▸ Settings", status=status, cancelled=cancelled)
    log.info("preview decoder %s loaded", name)
    return model.to(device).eval()
