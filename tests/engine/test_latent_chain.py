"""Latent chaining: continuing from a result made with the same VAE skips the encode; others encode."""

import numpy as np
import pytest
import torch

from desktop.core.params import GenerationParams
from desktop.engine.latents import load_latents, save_latents
from desktop.engine.runner import Engine
from desktop.testing.tiny import build_tiny_sd


@pytest.fixture(scope="module")
def other_vae_model(tmp_path_factory):
    """The same UNet and text encoder as ``tiny_model`` but a different VAE."""
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-other-vae", seed=0, vae_seed=1)


def _first_run(engine, tiny_model, make_image, tmp_path):
    params = GenerationParams(model=str(tiny_model), prompt="comic style", init_image=str(make_image()),
                              strength=0.6, steps=6, seed=1)
    result = engine.generate(params)
    image_path = tmp_path / "first.png"
    result.image.save(image_path)
    latents_path = save_latents(result.latents, tmp_path / "first.safetensors", result.model.vae_id)
    return result, image_path, latents_path


def _count_encodes(engine, monkeypatch):
    vae = engine._loaded.img2img.vae
    calls = []
    original = vae.encode
    monkeypatch.setattr(vae, "encode", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_the_decoded_image_matches_the_pipelines_own_decode(tiny_model, make_image):
    from diffusers import AutoPipelineForImage2Image

    engine = Engine()
    params = GenerationParams(model=str(tiny_model), prompt="p", init_image=str(make_image(size=(64, 64))),
                              strength=0.5, steps=4, seed=3)
    ours = np.asarray(engine.generate(params).image)
    pipe = AutoPipelineForImage2Image.from_pretrained(str(tiny_model), safety_checker=None)
    from PIL import Image

    by_hand = pipe("p", image=Image.open(make_image(size=(64, 64))).convert("RGB"), strength=0.5,
                   num_inference_steps=4, guidance_scale=7.5, generator=torch.Generator("cpu").manual_seed(3)).images[0]
    assert np.abs(ours.astype(int) - np.asarray(by_hand).astype(int)).max() <= 1


def test_same_vae_continues_in_latent_space_without_encoding(tiny_model, make_image, tmp_path, monkeypatch):
    engine = Engine()
    _first, image_path, latents_path = _first_run(engine, tiny_model, make_image, tmp_path)
    encodes = _count_encodes(engine, monkeypatch)
    params = GenerationParams(model=str(tiny_model), prompt="pixel art", init_image=str(image_path),
                              strength=0.5, steps=6, seed=2)
    second = engine.generate(params, init_latents=str(latents_path))
    assert second.chain_mode == "latent"
    assert encodes == []  # the VAE encoder never ran

    # The same as handing the cached latents to the pipeline by hand.
    pipe = engine._loaded.img2img
    latents, _ = load_latents(latents_path)
    by_hand = pipe("pixel art", image=latents, strength=0.5, num_inference_steps=6, guidance_scale=7.5,
                   generator=torch.Generator("cpu").manual_seed(2)).images[0]
    assert np.abs(np.asarray(second.image).astype(int) - np.asarray(by_hand).astype(int)).max() <= 1


def test_a_different_vae_chains_through_pixels(tiny_model, other_vae_model, make_image, tmp_path, monkeypatch):
    engine = Engine()
    first, image_path, latents_path = _first_run(engine, tiny_model, make_image, tmp_path)
    engine.load(str(other_vae_model))
    assert engine.model_info.vae_id != first.model.vae_id
    encodes = _count_encodes(engine, monkeypatch)
    params = GenerationParams(model=str(other_vae_model), prompt="pixel art", init_image=str(image_path),
                              strength=0.5, steps=6, seed=2)
    second = engine.generate(params, init_latents=str(latents_path))
    assert second.chain_mode == "pixels"
    assert len(encodes) == 1


def test_an_evicted_or_damaged_cache_only_loses_the_shortcut(tiny_model, make_image, tmp_path):
    engine = Engine()
    _first, image_path, latents_path = _first_run(engine, tiny_model, make_image, tmp_path)
    latents_path.write_bytes(b"garbage")
    params = GenerationParams(model=str(tiny_model), prompt="x", init_image=str(image_path), strength=0.5,
                              steps=4, seed=2)
    assert engine.generate(params, init_latents=str(latents_path)).chain_mode == "pixels"
    assert engine.generate(params, init_latents=str(tmp_path / "gone.safetensors")).chain_mode == "pixels"


def _tiny_vae(seed: int, **config):
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(block_out_channels=(8,), in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=("DownEncoderBlock2D",), up_block_types=("UpDecoderBlock2D",),
                         norm_num_groups=8, **config)


def test_a_decoder_only_fine_tune_shares_the_latent_space():
    """sd-vae-ft-mse style: same encoder, other decoder and sample_size → same id, so chains stay latent."""
    from desktop.engine.latents import vae_fingerprint

    base = _tiny_vae(0, sample_size=32)
    tuned = _tiny_vae(0, sample_size=64)
    with torch.no_grad():
        for parameter in tuned.decoder.parameters():
            parameter.add_(0.5)
    assert vae_fingerprint(tuned) == vae_fingerprint(base)


def test_another_encoder_or_scaling_is_another_latent_space():
    from desktop.engine.latents import vae_fingerprint

    base = _tiny_vae(0)
    assert vae_fingerprint(_tiny_vae(1)) != vae_fingerprint(base)
    assert vae_fingerprint(_tiny_vae(0, scaling_factor=0.13025)) != vae_fingerprint(base)
