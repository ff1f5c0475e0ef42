"""Model families end to end on CPU: tiny SDXL base and refiner and a tiny Kandinsky 2.2 (prior + decoder),
loaded through the same from_pretrained path as real checkpoints."""

import subprocess
import sys

import numpy as np
import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.families import FAMILIES, spec_for
from desktop.core.metadata import parse_parameters_text
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.engine.latents import save_latents
from desktop.engine.runner import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _params(model, init=None, **changes):
    base = GenerationParams(model=str(model), prompt="a watercolour cat", init_image=str(init) if init else None,
                            strength=0.5, steps=4, seed=7, prior_steps=3)
    return base.replace(**changes)


def _fields(result):
    return parse_parameters_text(parameters_text(result)).fields


def test_the_defaults_table_is_readable_without_torch():
    code = ("import sys; from desktop.core.families import FAMILIES, spec_for; "
            "assert spec_for('kandinsky22').guidance_scale == 4.0; "
            "assert 'torch' not in sys.modules, 'families imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_each_family_brings_its_own_defaults():
    assert FAMILIES["sdxl"].natural_size == 1024
    kandinsky = FAMILIES["kandinsky22"]
    assert (kandinsky.guidance_scale, kandinsky.strength) == (4.0, 0.3)
    assert kandinsky.extra_defaults == {"prior_guidance_scale": 4.0, "prior_steps": 25}
    refiner = FAMILIES["sdxl-refiner"]
    assert refiner.extra_defaults["aesthetic_score"] == 6.0
    assert refiner.extra_defaults["negative_aesthetic_score"] == 2.5
    assert spec_for(None).key == "sd"  # what the parameters' own defaults are made for


@pytest.mark.parametrize(("fixture", "family", "profile", "pipeline"), [
    ("tiny_model", "sd", "sd", "StableDiffusionImg2ImgPipeline"),
    ("tiny_sdxl", "sdxl", "sdxl", "StableDiffusionXLImg2ImgPipeline"),
    ("tiny_sdxl_refiner", "sdxl", "sdxl-refiner", "StableDiffusionXLImg2ImgPipeline"),
    ("tiny_kandinsky", "kandinsky22", "kandinsky22", "KandinskyV22Img2ImgCombinedPipeline"),
])
def test_the_family_is_detected_from_the_checkpoint(engine, request, fixture, family, profile, pipeline):
    info = engine.load(str(request.getfixturevalue(fixture)))
    assert (info.family, info.profile, info.pipeline_class) == (family, profile, pipeline)
    assert info.natural_size == 64  # the tiny UNets' sample size × 8


def test_sdxl_base_runs_img2img_and_text2img_with_previews(engine, tiny_sdxl, make_image):
    steps = []
    result = engine.generate(_params(tiny_sdxl, make_image(size=(128, 96))), on_step=steps.append)
    assert result.image.size == (72, 56) and result.chain_mode == "pixels"  # fitted to 64² px, aspect kept
    assert steps and all(s.preview.shape == (7, 9, 3) for s in steps)  # SDXL factors at latent size
    text = engine.generate(_params(tiny_sdxl))
    assert text.image.size == (64, 64)
    fields = _fields(result)
    assert "Aesthetic score" not in fields and "Prior steps" not in fields  # the base takes neither


def test_the_refiner_uses_the_aesthetic_scores(engine, tiny_sdxl_refiner, make_image):
    init = make_image(size=(64, 64))
    steps = []
    default = engine.generate(_params(tiny_sdxl_refiner, init), on_step=steps.append)
    assert steps and steps[0].preview is not None
    assert (default.params.aesthetic_score, default.params.negative_aesthetic_score) == (6.0, 2.5)
    same = engine.generate(_params(tiny_sdxl_refiner, init, aesthetic_score=6.0))
    other = engine.generate(_params(tiny_sdxl_refiner, init, aesthetic_score=1.0))
    assert np.array_equal(np.asarray(default.image), np.asarray(same.image))
    assert not np.array_equal(np.asarray(default.image), np.asarray(other.image))
    fields = _fields(default)
    assert fields["Aesthetic score"] == "6.0" and fields["Negative aesthetic score"] == "2.5"
    assert "Denoising start" not in fields


def test_the_refiner_refuses_to_start_from_nothing(engine, tiny_sdxl_refiner):
    with pytest.raises(RestyleError) as caught:
        engine.generate(_params(tiny_sdxl_refiner))
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert "only refines an existing picture" in caught.value.message


def test_base_then_refiner_chains_in_latent_space_with_denoising_start(engine, tiny_sdxl, tiny_sdxl_refiner,
                                                                        make_image, tmp_path):
    base = engine.generate(_params(tiny_sdxl, make_image(size=(64, 64)), steps=8))
    cache = save_latents(base.latents, tmp_path / "base.safetensors", base.model.vae_id)
    base_png = tmp_path / "base.png"
    base.image.save(base_png)
    refined = engine.generate(_params(tiny_sdxl_refiner, base_png, steps=10, denoising_start=0.8),
                              init_latents=str(cache))
    assert refined.chain_mode == "latent"  # same VAE: no decode → encode round trip
    assert refined.steps_run == 2  # the last 20 % of 10 steps; strength is overridden
    assert _fields(refined)["Denoising start"] == "0.8"


def test_kandinsky_img2img_keeps_the_size_and_records_the_prior(engine, tiny_kandinsky, make_image):
    steps = []
    result = engine.generate(_params(tiny_kandinsky, make_image(size=(128, 64)), prior_guidance_scale=2.5,
                                     width=128, height=64), on_step=steps.append)
    assert result.image.size == (128, 64)  # not 64×128: the pipeline's swapped sides are handled
    assert result.chain_mode == "pixels" and result.latents is None  # MoVQ re-encodes: chains through pixels
    assert steps and all(s.preview.shape == (8, 16, 3) for s in steps)  # a coarse preview per decoder step
    fields = _fields(result)
    assert fields["Prior CFG scale"] == "2.5" and fields["Prior steps"] == "3"
    assert "Aesthetic score" not in fields
    defaults = engine.generate(_params(tiny_kandinsky, make_image(size=(64, 48)), prior_steps=None,
                                       prior_guidance_scale=None, steps=2))
    assert (defaults.params.prior_guidance_scale, defaults.params.prior_steps) == (4.0, 25)


def test_kandinsky_prior_settings_change_the_picture(engine, tiny_kandinsky, make_image):
    init = make_image(size=(64, 64))
    one = np.asarray(engine.generate(_params(tiny_kandinsky, init, strength=0.8)).image)
    two = np.asarray(engine.generate(_params(tiny_kandinsky, init, strength=0.8, prior_guidance_scale=1.0)).image)
    assert not np.array_equal(one, two)


def test_kandinsky_text2img(engine, tiny_kandinsky):
    result = engine.generate(_params(tiny_kandinsky))
    assert result.image.size == (64, 64) and result.chain_mode is None


def test_kandinsky_sizes_come_in_multiples_of_64(engine, tiny_kandinsky, make_image):
    fitted = engine.generate(_params(tiny_kandinsky, make_image(size=(300, 150))))
    assert fitted.image.size[0] % 64 == 0 and fitted.image.size[1] % 64 == 0
    with pytest.raises(RestyleError) as caught:
        engine.generate(_params(tiny_kandinsky, width=72, height=64))
    assert "multiples of 64" in caught.value.message


@pytest.mark.parametrize("stage", ["prior", "decoder"])
def test_kandinsky_cancel_stops_within_one_step(engine, tiny_kandinsky, make_image, stage):
    """Kandinsky has no interrupt flag: the cancel raises from the step callbacks, in the prior or the decoder."""
    engine.load(str(tiny_kandinsky))
    checks = []
    steps = []

    def cancelled():
        checks.append(1)
        if stage == "prior":  # once after loading, then once per prior step: cancel at the second prior step
            return len(checks) > 2
        return len(steps) >= 1  # cancel as soon as the first decoder step was shown

    with pytest.raises(RestyleError) as caught:
        engine.generate(_params(tiny_kandinsky, make_image(), steps=8, strength=1.0), on_step=steps.append,
                        cancelled=cancelled)
    assert caught.value.kind is ErrorKind.CANCELLED
    if stage == "prior":
        assert steps == [] and len(checks) == 3  # stopped at the second prior step; the decoder never started
    else:
        assert len(steps) == 1  # one decoder step, then stopped
    again = engine.generate(_params(tiny_kandinsky, make_image()))  # the pipeline is usable afterwards
    assert again.image is not None
