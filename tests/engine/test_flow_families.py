"""SD 3 and FLUX.1 (dev, schnell, Kontext): detected from the checkpoint, run image-to-image and text-to-image with a
preview every step, decoded exactly as their pipelines decode, and chained in latent space when the VAE matches."""

import numpy as np
import pytest
import torch
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.engine.latents import save_latents
from desktop.engine.runner import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _run(engine, model, image=None, **changes):
    previews = []
    params = GenerationParams(model=str(model), prompt="a lighthouse", init_image=str(image) if image else None,
                              **{"steps": 4, "seed": 5, **changes})
    result = engine.generate(params, on_step=lambda info: previews.append((info.step, info.total, info.preview)))
    return result, previews


@pytest.mark.parametrize("fixture, profile, family, pipeline", [
    ("tiny_sd3", "sd3", "sd3", "StableDiffusion3Img2ImgPipeline"),
    ("tiny_flux", "flux", "flux", "FluxImg2ImgPipeline"),
    ("tiny_flux_schnell", "flux-schnell", "flux", "FluxImg2ImgPipeline"),
    ("tiny_flux_kontext", "flux-kontext", "flux", "FluxKontextPipeline"),
])
def test_each_family_is_detected_and_restyles_with_a_calibrated_preview_every_step(
        request, engine, make_image, fixture, profile, family, pipeline):
    model = request.getfixturevalue(fixture)
    result, previews = _run(engine, model, make_image(size=(96, 64)), strength=0.5)
    info = result.model
    assert (info.profile, info.family, info.pipeline_class, info.natural_size) == (profile, family, pipeline, 64)
    # The 96×64 picture at the model's 64-px scale, in FLUX's and SD 3's multiples of 16.
    assert result.image.size == (80, 48) and (result.params.width, result.params.height) == (80, 48)
    kontext = profile == "flux-kontext"
    assert result.steps_run == (4 if kontext else 2)  # Kontext has no strength: every step runs
    assert [p[0] for p in previews] == list(range(1, result.steps_run + 1))
    for _step, total, preview in previews:
        assert total == result.steps_run
        # FLUX's packed latents were unpacked: the preview has the picture's shape at latent resolution.
        assert preview.shape == (6, 10, 3) and preview.dtype == np.uint8
    assert result.latents.shape == (1, 16, 6, 10)


def test_the_decoded_pictures_match_the_pipelines_own_decode(engine, tiny_sd3, tiny_flux, make_image):
    """Decoding the kept latents (shift factor, FLUX unpacking, no post_quant_conv) gives the pipeline's pixels."""
    from diffusers import AutoPipelineForImage2Image

    picture = Image.open(make_image(size=(64, 64))).convert("RGB")
    for model, extra in ((tiny_sd3, {}), (tiny_flux, {"max_sequence_length": 512})):
        ours = _run(engine, model, make_image(size=(64, 64)), strength=0.5)[0].image
        pipe = AutoPipelineForImage2Image.from_pretrained(str(model))
        by_hand = pipe("a lighthouse", image=picture, strength=0.5, num_inference_steps=4, height=64, width=64,
                       guidance_scale=7.5, generator=torch.Generator("cpu").manual_seed(5), **extra).images[0]
        assert np.abs(np.asarray(ours).astype(int) - np.asarray(by_hand).astype(int)).max() <= 1


def test_text_to_image_runs_for_every_family(engine, tiny_sd3, tiny_flux, tiny_flux_kontext):
    for model in (tiny_sd3, tiny_flux, tiny_flux_kontext):
        result, previews = _run(engine, model, steps=3)
        assert result.image.size == (64, 64) and result.steps_run == 3 and len(previews) == 3
        assert result.chain_mode is None


def test_a_flux_result_continues_into_kontext_in_latent_space(engine, tiny_flux, tiny_flux_kontext, make_image,
                                                              tmp_path, monkeypatch):
    first, _ = _run(engine, tiny_flux, make_image(size=(64, 64)), strength=0.6)
    first.image.save(tmp_path / "first.png")
    cache = save_latents(first.latents, tmp_path / "first.safetensors", first.model.vae_id)
    params = GenerationParams(model=str(tiny_flux_kontext), prompt="make it a watercolour, keep the faces",
                              init_image=str(tmp_path / "first.png"), steps=3, seed=1)
    engine.load(str(tiny_flux_kontext))
    encodes = []
    vae = engine._loaded.img2img.vae
    original = vae.encode
    monkeypatch.setattr(vae, "encode", lambda *a, **k: encodes.append(1) or original(*a, **k))
    edit = engine.generate(params, init_latents=str(cache))
    assert edit.model.vae_id == first.model.vae_id  # the same VAE: its latents go straight in
    assert edit.chain_mode == "latent" and not encodes
    assert "Denoising strength" not in parameters_text(edit)  # Kontext takes no strength: none is claimed


def test_an_sd3_result_chains_into_sd3_in_latent_space(engine, tiny_sd3, make_image, tmp_path):
    first, _ = _run(engine, tiny_sd3, make_image(size=(64, 64)), strength=0.6)
    first.image.save(tmp_path / "first.png")
    cache = save_latents(first.latents, tmp_path / "first.safetensors", first.model.vae_id)
    again = engine.generate(GenerationParams(model=str(tiny_sd3), prompt="ink", init_image=str(tmp_path / "first.png"),
                                             strength=0.5, steps=4, seed=2), init_latents=str(cache))
    assert again.chain_mode == "latent" and again.image.size == (64, 64)


def test_flux_uses_the_negative_prompt_only_with_true_cfg(engine, tiny_flux, make_image):
    image = make_image(size=(64, 64))
    plain, _ = _run(engine, tiny_flux, image, strength=0.6, negative_prompt="blurry")
    assert any("negative prompt only with true CFG" in n for n in plain.notes)
    assert plain.params.true_cfg_scale == 1.0  # the family's default, recorded
    with_cfg, _ = _run(engine, tiny_flux, image, strength=0.6, negative_prompt="blurry", true_cfg_scale=3.0)
    assert not any("negative prompt" in n for n in with_cfg.notes)
    assert np.asarray(with_cfg.image).tolist() != np.asarray(plain.image).tolist()
    fields = parameters_text(with_cfg).splitlines()[-1]
    assert "CFG scale: 3.0" in fields and "Distilled CFG Scale: 7.5" in fields


def test_t5_reads_plain_words_up_to_its_limit(engine, tiny_flux_schnell, make_image):
    long_prompt = "a (red:1.4) boat " + "x " * 300  # each "x" is a T5 token of the tiny tokenizer
    result = engine.generate(GenerationParams(model=str(tiny_flux_schnell), prompt=long_prompt, steps=2, seed=1,
                                              init_image=str(make_image(size=(64, 64)))))
    assert any("weights are not applied" in n for n in result.notes)
    assert any("FLUX.1 schnell reads the first 256" in n for n in result.notes)


def test_sd3_runs_without_t5_when_told_to(tiny_sd3, make_image):
    from desktop.core.runtime import RuntimeSettings

    engine = Engine()
    engine.configure(RuntimeSettings(t5_encoder=False))
    _result, previews = _run(engine, tiny_sd3, make_image(size=(64, 64)), strength=0.5)
    assert engine._loaded.img2img.text_encoder_3 is None and len(previews) == 2
    long_run = engine.generate(GenerationParams(model=str(tiny_sd3), prompt="word " * 100, steps=2, seed=1))
    assert any("T5 is off" in n for n in long_run.notes)


def test_cancel_stops_a_flux_run_and_keeps_nothing(engine, tiny_flux, make_image):
    steps = []
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(tiny_flux), prompt="p", init_image=str(make_image()), steps=6,
                                         strength=1.0, seed=1),
                        on_step=lambda info: steps.append(info.step), cancelled=lambda: len(steps) >= 2)
    assert caught.value.kind is ErrorKind.CANCELLED and steps == [1, 2]


def test_sizes_that_are_not_multiples_of_16_are_refused_with_a_sentence(engine, tiny_flux):
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(tiny_flux), prompt="p", width=72, height=64, steps=2))
    assert "multiples of 16" in caught.value.message


@pytest.mark.parametrize("fixture, words", [
    ("tiny_sd3", "no SD 3 ControlNet image-to-image pipeline"),
    ("tiny_flux_kontext", "say what to keep in the prompt"),
])
def test_a_depth_map_is_refused_with_the_familys_reason(request, engine, make_image, make_depth, fixture, words):
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(request.getfixturevalue(fixture)), prompt="p", steps=2,
                                         init_image=str(make_image()), control_image=str(make_depth())))
    assert caught.value.kind is ErrorKind.BAD_INPUT and words in caught.value.message


def test_detailed_previews_decode_flux_latents_with_a_16_channel_taesd(tiny_flux, make_image, tmp_path):
    """As TAEF1: 16 channels, FLUX's scaling and shift in its config; the packed latents are unpacked first."""
    import torch
    from diffusers import AutoencoderTiny

    from desktop.core.previews import preview_decoder_for
    from desktop.core.runtime import RuntimeSettings
    from desktop.engine.preview_decoder import decode
    from desktop.testing.tiny_flow import FLUX_VAE
    from desktop.testing.tiny_taesd import build_tiny_taesd

    assert (preview_decoder_for("sd3"), preview_decoder_for("flux")) == ("madebyollin/taesd3", "madebyollin/taef1")
    taef1 = build_tiny_taesd(tmp_path / "tiny-taef1", latent_channels=16, **FLUX_VAE)
    engine = Engine()
    engine.configure(RuntimeSettings(preview="taesd", preview_every=1, preview_model=str(taef1)))
    result, previews = _run(engine, tiny_flux, make_image(size=(64, 64)), strength=1.0)
    assert [p[2].shape for p in previews] == [(64, 64, 3)] * result.steps_run and not result.notes
    model = AutoencoderTiny.from_pretrained(str(taef1))
    held = torch.randn(1, 16, 8, 8)
    expected = model.decode(held / FLUX_VAE["scaling_factor"] + FLUX_VAE["shift_factor"]).sample[0]
    expected = expected.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert (decode(model, held) == expected).all()  # undone as the FLUX pipeline would with TAEF1 as its VAE


@pytest.fixture(scope="module")
def tiny_flux_controlnet(tiny_flux, tmp_path_factory):
    from desktop.testing.tiny_flow import build_tiny_flux_controlnet

    return build_tiny_flux_controlnet(tmp_path_factory.mktemp("controlnets") / "tiny-flux-depth", tiny_flux)


def test_flux_keeps_the_composition_with_a_depth_controlnet(engine, tiny_flux, tiny_flux_controlnet, make_image,
                                                            make_depth):
    depth = str(make_depth(size=(64, 64)))
    for init in (str(make_image(size=(64, 64))), None):  # image-to-image and text-to-image
        params = GenerationParams(model=str(tiny_flux), prompt="ink", init_image=init, steps=4, seed=1,
                                  strength=0.75, control_image=depth, controlnet=str(tiny_flux_controlnet),
                                  negative_prompt="blur", true_cfg_scale=2.0)
        result = engine.generate(params)
        assert result.depth_map.size == (64, 64) and result.image.size == (64, 64)
        assert "Model: tiny-flux-depth" in parameters_text(result)  # the ControlNet 0 field names it
        assert engine._loaded.control[1].__class__.__name__ == "FluxControlNetImg2ImgPipeline"
        if init is not None:
            assert any("has no true CFG" in n for n in result.notes)
    without = engine.generate(params.replace(control_image=None, init_image=str(make_image(size=(64, 64)))))
    assert np.asarray(without.image).tolist() != np.asarray(result.image).tolist()


def test_controlnets_of_other_families_are_refused_both_ways(engine, tiny_flux, tiny_model, tiny_controlnet,
                                                             tiny_flux_controlnet, make_image, make_depth):
    image, depth = str(make_image(size=(64, 64))), str(make_depth(size=(64, 64)))
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(tiny_flux), prompt="p", init_image=image, steps=2,
                                         control_image=depth, controlnet=str(tiny_controlnet)))
    assert "not made for this FLUX.1 model" in caught.value.message
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(tiny_model), prompt="p", init_image=image, steps=2,
                                         control_image=depth, controlnet=str(tiny_flux_controlnet)))
    assert "FLUX ControlNet" in caught.value.message
