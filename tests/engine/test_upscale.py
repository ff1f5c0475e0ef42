"""The upscale chain: ×2 in latent space without a VAE encode, ×4 on pixels with its noise level, previews,
cancel within one step, and a refusal before the run when the output would not fit in memory."""

import numpy as np
import pytest
import torch

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.metadata import parse_parameters_text
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.core.upscale import UpscaleParams, decode_bytes
from desktop.engine.latents import save_latents
from desktop.engine.runner import Engine
from desktop.engine.upscale import Upscaler

PLENTY = lambda device: 1 << 40  # noqa: E731 - an injected memory probe: a terabyte free


@pytest.fixture(scope="module")
def first(tiny_model, tmp_path_factory):
    """A result of the tiny SD model, saved with its latents as the history does."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("first")
    init = folder / "init.png"
    Image.new("RGB", (96, 64), (200, 60, 40)).save(init)
    result = Engine().generate(GenerationParams(model=str(tiny_model), prompt="comic", init_image=str(init),
                                                strength=0.6, steps=4, seed=1, width=96, height=64))
    image_path = folder / "first.png"
    result.image.save(image_path)
    latents = save_latents(result.latents, folder / "first.safetensors", result.model.vae_id)
    return result, image_path, latents


def _spy_encode(pipe, monkeypatch):
    calls = []
    original = pipe.vae.encode
    monkeypatch.setattr(pipe.vae, "encode", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_x2_takes_the_cached_latents_without_encoding(first, tiny_x2_upscaler, monkeypatch):
    result, image_path, latents = first
    upscaler = Upscaler(memory=PLENTY)
    encodes = _spy_encode(upscaler.pipeline("x2", str(tiny_x2_upscaler), "cpu"), monkeypatch)
    params = UpscaleParams("x2", str(image_path), prompt="comic", steps=3, seed=5, model=str(tiny_x2_upscaler),
                           device="cpu")
    out = upscaler.run(params, source_latents=str(latents))
    assert encodes == []  # the VAE encoder never ran
    assert out.chain_mode == "latent"
    assert out.image.size == (192, 128)
    assert out.latents.shape[-2:] == (16, 24)  # cached again, so the ×2 result chains on in latent space
    assert out.model.vae_id == result.model.vae_id

    # The same as handing the latents to the pipeline by hand.
    pipe = upscaler.pipeline("x2", str(tiny_x2_upscaler), "cpu")
    from desktop.engine.latents import load_latents

    by_hand = pipe("comic", image=load_latents(latents)[0], num_inference_steps=3, guidance_scale=0.0,
                   generator=torch.Generator("cpu").manual_seed(5)).images[0]
    assert np.abs(np.asarray(out.image).astype(int) - np.asarray(by_hand).astype(int)).max() <= 1


def test_x2_without_usable_latents_upscales_the_pixels_and_says_so(first, tiny_x2_upscaler, tmp_path,
                                                                    monkeypatch):
    _, image_path, _latents = first
    upscaler = Upscaler(memory=PLENTY)
    encodes = _spy_encode(upscaler.pipeline("x2", str(tiny_x2_upscaler), "cpu"), monkeypatch)
    other_vae = tmp_path / "other.safetensors"
    save_latents(torch.randn(1, 4, 8, 12), other_vae, "another-vae")
    params = UpscaleParams("x2", str(image_path), steps=2, seed=5, model=str(tiny_x2_upscaler), device="cpu")
    out = upscaler.run(params, source_latents=str(other_vae))
    assert out.chain_mode == "pixels" and len(encodes) == 1
    assert out.image.size == (192, 128)
    assert "upscaled from its pixels" in " ".join(out.notes)


def test_x4_upscales_pixels_and_the_noise_level_changes_the_result(first, tiny_x4_upscaler):
    _, image_path, _ = first
    upscaler = Upscaler(memory=PLENTY)
    base = UpscaleParams("x4", str(image_path), prompt="sharp", steps=2, seed=3, model=str(tiny_x4_upscaler),
                         device="cpu")
    low = upscaler.run(base.replace(noise_level=5))
    high = upscaler.run(base.replace(noise_level=300))
    assert low.image.size == (384, 256)
    assert not np.array_equal(np.asarray(low.image), np.asarray(high.image))
    again = upscaler.run(base.replace(noise_level=5))
    assert np.array_equal(np.asarray(low.image), np.asarray(again.image))  # same seed, same pixels

    # The metadata says what was done, for other tools (hires fields) and for Restyle.
    fields = parse_parameters_text(parameters_text(low)).fields
    assert fields["Hires upscale"] == "4" and fields["Noise level"] == "5"
    assert fields["Restyle upscale"] == "super-resolution ×4" and fields["Seed"] == "3"
    assert "Denoising strength" not in fields


def test_the_noise_level_is_checked_before_anything_loads(first):
    _, image_path, _ = first
    with pytest.raises(RestyleError, match="noise level must be between 0 and 350"):
        Upscaler().run(UpscaleParams("x4", str(image_path), noise_level=400, model="/nowhere"))


@pytest.mark.parametrize("kind", ["x2", "x4"])
def test_previews_every_step_and_cancel_stops_within_one_step(first, tiny_x2_upscaler, tiny_x4_upscaler, kind):
    _result, image_path, latents = first
    model = tiny_x2_upscaler if kind == "x2" else tiny_x4_upscaler
    upscaler = Upscaler(memory=PLENTY)
    steps = []
    params = UpscaleParams(kind, str(image_path), steps=4, seed=1, model=str(model), device="cpu")
    upscaler.run(params, on_step=steps.append, source_latents=str(latents))
    assert [s.step for s in steps] == [1, 2, 3, 4] and all(s.total == 4 for s in steps)
    assert all(s.preview is not None and s.preview.ndim == 3 for s in steps)

    seen = []
    with pytest.raises(RestyleError) as caught:
        upscaler.run(params, on_step=seen.append, cancelled=lambda: len(seen) >= 2, source_latents=str(latents))
    assert caught.value.kind is ErrorKind.CANCELLED
    assert len(seen) == 2  # stopped at the next step, not at the end


def test_an_output_too_large_for_memory_is_refused_before_loading_suggesting_tiling(first, tiny_x4_upscaler):
    _, image_path, _ = first
    budget = decode_bytes(384, 256, 4) - 1  # just too little for a ×4 of the 96×64 picture
    upscaler = Upscaler(memory=lambda device: budget)
    params = UpscaleParams("x4", str(image_path), steps=2, seed=1, model=str(tiny_x4_upscaler), device="cpu")
    with pytest.raises(RestyleError) as caught:
        upscaler.run(params)
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert "384×256" in caught.value.message and "VAE tiling" in caught.value.message
    assert upscaler._pipes == {}  # refused before the model was loaded

    # With VAE tiling on the same budget is enough: the decode goes tile by tile.
    tiled = upscaler.run(params.replace(vae_tiling=True))
    assert tiled.image.size == (384, 256)
    assert upscaler.pipeline("x4", str(tiny_x4_upscaler), "cpu").vae.use_tiling


def test_a_model_of_the_wrong_kind_is_refused_with_a_sentence(first, tiny_model):
    _, image_path, _ = first
    with pytest.raises(RestyleError) as caught:
        Upscaler(memory=PLENTY).run(UpscaleParams("x4", str(image_path), model=str(tiny_model), device="cpu"))
    assert caught.value.kind is ErrorKind.MODEL_MISSING
    assert "super-resolution ×4" in caught.value.message


def test_any_picture_size_upscales_to_exactly_factor_times_it(tiny_model, tiny_x2_upscaler, tiny_x4_upscaler,
                                                             make_image, tmp_path):
    # 80×56 is what the tiny model makes of a 96×64 picture: its latents (10×7) are not a size the UNets divide.
    result = Engine().generate(GenerationParams(model=str(tiny_model), prompt="p", init_image=str(make_image()),
                                                strength=0.5, steps=2, seed=1))
    assert result.image.size == (80, 56)
    path = tmp_path / "odd.png"
    result.image.save(path)
    latents = save_latents(result.latents, tmp_path / "odd.safetensors", result.model.vae_id)
    upscaler = Upscaler(memory=PLENTY)
    x2 = upscaler.run(UpscaleParams("x2", str(path), steps=2, seed=1, model=str(tiny_x2_upscaler), device="cpu"),
                      source_latents=str(latents))
    assert x2.chain_mode == "latent" and x2.image.size == (160, 112) and x2.latents.shape[-2:] == (14, 20)
    x2_pixels = upscaler.run(UpscaleParams("x2", str(path), steps=2, seed=1, model=str(tiny_x2_upscaler),
                                           device="cpu"))
    assert x2_pixels.chain_mode == "pixels" and x2_pixels.image.size == (160, 112)
    x4 = upscaler.run(UpscaleParams("x4", str(make_image("odd4.png", size=(30, 21))), steps=2, seed=1,
                                    model=str(tiny_x4_upscaler), device="cpu"))
    assert x4.image.size == (120, 84)
