"""The guide's real checkpoints, end to end, when they are already in the user's Hugging Face cache.

Nothing is downloaded: each test finds its model's snapshot folder in the cache the user had before the tests
replaced it (``RESTYLE_USER_HF_CACHE``, set by tests/conftest.py) and skips cleanly when it is not there. The
folder is passed as a local model, so the same ``from_pretrained`` path runs as for the tiny models.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.real_weights

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
X2 = "stabilityai/sd-x2-latent-upscaler"


def cached_snapshot(repo: str) -> str:
    """The local snapshot folder of ``repo`` in the user's cache; skips the test when it is not complete."""
    from huggingface_hub import snapshot_download

    cache = os.environ.get("RESTYLE_USER_HF_CACHE", "")
    try:
        return snapshot_download(repo, cache_dir=cache, local_files_only=True)
    except Exception:  # noqa: BLE001 - any miss means "not on this machine"
        pytest.skip(f"{repo} is not in the Hugging Face cache at {cache}")


def _restyle(model: str, image: str, size: int):
    from desktop.core.params import GenerationParams
    from desktop.engine.runner import Engine

    params = GenerationParams(model=model, prompt="a watercolour landscape", init_image=image, strength=0.6,
                              steps=4, seed=1, width=size, height=size)
    return Engine().generate(params)


def _picture_is_not_blank(image) -> bool:
    import numpy as np

    array = np.asarray(image.convert("RGB"), dtype=np.float32)
    return bool(np.isfinite(array).all() and array.std() > 5.0)


def test_sd15_restyles_a_picture(make_image):
    result = _restyle(cached_snapshot(SD15), str(make_image("photo.png", (512, 512))), 512)
    assert result.model.family == "sd"
    assert result.image.size == (512, 512)
    assert _picture_is_not_blank(result.image)


def test_sdxl_restyles_a_picture(make_image):
    result = _restyle(cached_snapshot(SDXL), str(make_image("photo.png", (1024, 1024))), 1024)
    assert result.model.family == "sdxl"
    assert result.image.size == (1024, 1024)
    assert _picture_is_not_blank(result.image)


def test_sd15_result_goes_through_the_x2_latent_upscaler_without_a_decode_round_trip(make_image, tmp_path):
    """The SD 1.5 VAE and the upscaler's sd-vae-ft-mse share the latent space, so ×2 takes the latents as they are."""
    from desktop.core.upscale import UpscaleParams
    from desktop.engine.latents import save_latents
    from desktop.engine.upscale import Upscaler

    sd15, x2 = cached_snapshot(SD15), cached_snapshot(X2)
    result = _restyle(sd15, str(make_image("photo.png", (512, 512))), 512)
    picture = tmp_path / "result.png"
    result.image.save(picture)
    latents = save_latents(result.latents, tmp_path / "result.safetensors", result.model.vae_id)
    upscaled = Upscaler().run(UpscaleParams(kind="x2", image=str(picture), prompt="a watercolour landscape",
                                            steps=4, seed=1, model=x2), source_latents=str(latents))
    assert upscaled.chain_mode == "latent"
    assert upscaled.image.size == (1024, 1024)
    assert _picture_is_not_blank(upscaled.image)
