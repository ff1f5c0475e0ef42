"""Masked restyle and outpainting through the engine, on tiny random models loaded like real ones."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.images import load_image
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.output import save_result
from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine

from .load_spy import spy_loads


@pytest.fixture(scope="module")
def engine():
    return Engine()


@pytest.fixture()
def picture(tmp_path):
    """A 64×64 picture with structure, and a mask of its right half's middle."""
    rng = np.random.default_rng(5)
    path = tmp_path / "picture.png"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB").save(path)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 16, 64, 48))
    mask.save(tmp_path / "mask.png")
    return path, tmp_path / "mask.png"


def _params(model, init, mask, **changes) -> GenerationParams:
    base = GenerationParams(model=str(model), prompt="a watercolour sky", init_image=str(init),
                            mask_image=str(mask) if mask else None, strength=1.0, steps=2, seed=11, mask_blur=0)
    return base.replace(**changes)


def _changed(result_image, source_path) -> np.ndarray:
    source = load_image(source_path).resize(result_image.size)
    return np.any(np.asarray(result_image) != np.asarray(source), axis=2)


def _spy_loads(monkeypatch):
    """Count every from_pretrained of a whole pipeline, a model or a ControlNet."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting, DiffusionPipeline, ModelMixin

    return spy_loads(monkeypatch, AutoPipelineForImage2Image, AutoPipelineForInpainting, DiffusionPipeline,
                     ModelMixin)


def test_a_plain_checkpoint_restyles_only_the_masked_part_and_switching_reloads_nothing(
        engine, tiny_model, picture, monkeypatch):
    init, mask = picture
    engine.load(str(tiny_model))
    loads = _spy_loads(monkeypatch)
    masked = engine.generate(_params(tiny_model, init, mask))
    changed = _changed(masked.image, init)
    assert not changed[:, :32].any() and not changed[:16].any() and not changed[48:].any()  # exactly the source
    assert changed[16:48, 32:].mean() > 0.9
    assert np.array_equal(np.asarray(masked.mask), np.asarray(Image.open(mask)))
    inpaint = engine._loaded.inpaint[""]
    assert type(inpaint).__name__ == "StableDiffusionInpaintPipeline"
    assert inpaint.unet is engine._loaded.img2img.unet and inpaint.vae is engine._loaded.img2img.vae
    whole = engine.generate(_params(tiny_model, init, None))
    again = engine.generate(_params(tiny_model, init, mask))
    assert loads == []  # img2img → inpaint → img2img → inpaint: every pipeline from the loaded modules
    assert _changed(whole.image, init)[:, :32].mean() > 0.9  # the whole picture changes without a mask
    assert np.array_equal(np.asarray(masked.image), np.asarray(again.image))
    assert masked.chain_mode == "pixels" and masked.latents is None  # latents of the unblended run are not kept


def test_an_inpainting_checkpoint_runs_as_the_inpainting_pipeline(tiny_sd_inpainting, picture):
    init, mask = picture
    engine = Engine()
    info = engine.load(str(tiny_sd_inpainting))
    assert info.pipeline_class == "StableDiffusionInpaintPipeline" and info.family == "sd"
    result = engine.generate(_params(tiny_sd_inpainting, init, mask, mask_blur=4))
    changed = _changed(result.image, init)
    assert not changed[:, :16].any() and changed[20:44, 36:].mean() > 0.9  # the feathered edge (~4× blur) at most
    whole = engine.generate(_params(tiny_sd_inpainting, init, None))
    assert _changed(whole.image, init).mean() > 0.9
    assert "no mask was given, so the whole picture was restyled" in " ".join(whole.notes)
    with pytest.raises(RestyleError) as caught:
        engine.generate(GenerationParams(model=str(tiny_sd_inpainting), prompt="a cat", steps=2))
    assert caught.value.kind is ErrorKind.BAD_INPUT and "is an inpainting model" in caught.value.message


@pytest.mark.parametrize("fixture", ["tiny_sdxl", "tiny_sdxl_inpainting"])
def test_sdxl_layouts_restyle_only_the_masked_part(fixture, request, picture):
    model = request.getfixturevalue(fixture)
    init, mask = picture
    result = Engine().generate(_params(model, init, mask))
    assert result.model.pipeline_class in ("StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline")
    changed = _changed(result.image, init)
    assert not changed[:, :32].any() and changed[16:48, 32:].mean() > 0.9


def test_only_masked_runs_the_crop_at_the_natural_size_and_pastes_it_into_the_big_picture(engine, tiny_model,
                                                                                         tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (192, 256, 3), dtype=np.uint8), "RGB").save(big)
    mask = Image.new("L", (256, 192), 0)
    mask.paste(255, (150, 60, 180, 90))
    mask.save(tmp_path / "face.png")
    result = engine.generate(_params(tiny_model, big, tmp_path / "face.png", inpaint_area="masked",
                                     inpaint_padding=8))
    assert result.image.size == (256, 192)  # back at the picture's own size
    assert (result.params.width, result.params.height) == (64, 64)  # the crop ran at the model's natural size
    changed = _changed(result.image, big)
    assert changed[62:88, 152:178].mean() > 0.9
    assert not changed[:, :140].any() and not changed[100:].any()


def test_outpainting_grows_the_picture_and_keeps_the_old_part(engine, tiny_model, picture):
    init, _ = picture
    result = engine.generate(_params(tiny_model, init, None, outpaint=(0, 0, 32, 0), mask_blur=2,
                                     width=96, height=64))
    assert result.image.size == (96, 64)
    source = np.asarray(load_image(init).resize((64, 64)))
    out = np.asarray(result.image.resize((96, 64)))
    # The seam reaches 8 px into the old picture and the blur about 4 × 2 px further: left of that, the source.
    assert np.array_equal(out[:, :44], source[:, :44])
    assert result.mask.size == (96, 64) and np.asarray(result.mask)[:, 70:].min() == 255


def test_depth_and_weighted_prompts_still_apply_to_masked_runs(engine, tiny_model, tiny_controlnet, picture,
                                                               make_depth):
    init, mask = picture
    depth = make_depth(size=(64, 64))
    plain = engine.generate(_params(tiny_model, init, mask))
    steered = engine.generate(_params(tiny_model, init, mask, control_image=str(depth),
                                      controlnet=str(tiny_controlnet), control_scale=1.5))
    assert type(engine._loaded.inpaint[str(tiny_controlnet)]).__name__ == "StableDiffusionControlNetInpaintPipeline"
    assert not np.array_equal(np.asarray(plain.image), np.asarray(steered.image))
    assert not _changed(steered.image, init)[:, :32].any()
    weighted = engine.generate(_params(tiny_model, init, mask, prompt="a (watercolour:1.6) sky"))
    assert not np.array_equal(np.asarray(plain.image), np.asarray(weighted.image))


def test_masked_settings_are_written_to_the_png_and_an_empty_mask_is_refused(engine, tiny_model, picture, tmp_path):
    init, mask = picture
    result = engine.generate(_params(tiny_model, init, mask, mask_blur=6, inpaint_area="masked", inpaint_padding=12,
                                     inpaint_fill="fill"))
    fields = parse_parameters_text(read_parameters(save_result(result, tmp_path / "out"))).fields
    assert fields["Mask blur"] == "6" and fields["Inpaint area"] == "Only masked"
    assert fields["Masked area padding"] == "12" and fields["Inpainting fill"] == "fill"
    Image.new("L", (64, 64), 0).save(tmp_path / "empty.png")
    with pytest.raises(RestyleError) as caught:
        engine.generate(_params(tiny_model, init, tmp_path / "empty.png"))
    assert "mask is empty" in caught.value.message
