"""Generating with a depth map: the ControlNet pipelines share the loaded model, sizes line up, metadata says so."""

import numpy as np
import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.output import save_result
from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine

from .load_spy import spy_loads


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _params(tiny_model, init, depth, controlnet, **changes):
    base = GenerationParams(model=str(tiny_model), prompt="a watercolour house", init_image=str(init) if init else None,
                            strength=1.0, steps=2, seed=3, control_image=str(depth) if depth else None,
                            controlnet=str(controlnet))
    return base.replace(**changes)


def _spy_loads(monkeypatch):
    """Count every from_pretrained of a whole pipeline or a ControlNet."""
    from diffusers import (
        AutoPipelineForImage2Image,
        AutoPipelineForText2Image,
        ControlNetModel,
        DiffusionPipeline,
    )

    return spy_loads(monkeypatch, AutoPipelineForImage2Image, AutoPipelineForText2Image, DiffusionPipeline,
                     ControlNetModel)


def test_depth_on_off_on_reuses_the_loaded_model_and_the_controlnet_and_says_so_in_the_metadata(
        tiny_model, tiny_controlnet, make_image, make_depth, tmp_path, monkeypatch):
    engine = Engine()  # its own, so the ControlNet is surely not loaded yet
    init, depth = make_image(size=(64, 64)), make_depth(size=(64, 64))
    engine.load(str(tiny_model))
    loads = _spy_loads(monkeypatch)
    params = _params(tiny_model, init, depth, tiny_controlnet, control_scale=1.2, control_start=0.1, control_end=0.9)
    with_depth = engine.generate(params)
    assert loads == ["ControlNetModel"]  # only the ControlNet's own weights; the base model is not read again
    assert type(engine._loaded.control[1]).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    plain = engine.generate(_params(tiny_model, init, None, ""))
    again = engine.generate(params)
    assert loads == ["ControlNetModel"]  # off and on again: nothing loaded
    assert np.array_equal(np.asarray(with_depth.image), np.asarray(again.image))
    assert not np.array_equal(np.asarray(with_depth.image), np.asarray(plain.image))
    assert plain.depth_map is None and with_depth.depth_map.size == (64, 64) and with_depth.notes == ()

    parsed = parse_parameters_text(read_parameters(save_result(with_depth, tmp_path)))
    assert parsed.fields["ControlNet 0"] == ("Module: depth, Model: tiny-depth-cn, Weight: 1.2, Guidance Start: 0.1, "
                                             "Guidance End: 0.9")
    assert parsed.get_int("Seed") == 3  # the rest of the line still parses
    recorded = with_depth.params.to_dict()
    assert recorded["control_image"] == str(depth) and recorded["controlnet"] == str(tiny_controlnet)
    assert "ControlNet" not in read_parameters(save_result(plain, tmp_path))


def test_a_16_bit_depth_map_of_another_shape_is_matched_with_a_note(engine, tiny_model, tiny_controlnet, make_image,
                                                                     make_depth):
    result = engine.generate(_params(tiny_model, make_image(size=(96, 64)), make_depth(size=(300, 160), bits=16),
                                     tiny_controlnet))
    size = (result.params.width, result.params.height)
    assert result.image.size == size and result.depth_map.size == size
    assert len(result.notes) == 1 and "depth map" in result.notes[0] and "centre" in result.notes[0]
    values = np.asarray(result.depth_map)[size[1] // 2, :, 0]
    assert values.max() >= 250 and 55 <= values.min() <= 70  # 16 bits over the full range, not clipped at 255


def test_text_to_image_and_a_chained_latent_init_run_with_depth(engine, tiny_model, tiny_controlnet, make_depth,
                                                               tmp_path):
    from desktop.engine.latents import save_latents

    depth = make_depth(size=(64, 64))
    first = engine.generate(_params(tiny_model, None, depth, tiny_controlnet))
    assert first.image.size == (64, 64) and first.chain_mode is None
    cache = save_latents(first.latents, tmp_path / "first.safetensors", first.model.vae_id)
    first.image.save(tmp_path / "first.png")
    result = engine.generate(_params(tiny_model, tmp_path / "first.png", depth, tiny_controlnet, strength=0.5),
                             init_latents=str(cache))
    assert result.chain_mode == "latent" and result.image.size == (64, 64)


def test_an_empty_controlnet_name_means_the_family_default(engine, tiny_model, make_depth):
    # Offline, the default Hub ControlNet is not cached: the sentence names it and says how to get it.
    with pytest.raises(RestyleError) as info:
        engine.generate(_params(tiny_model, None, make_depth(size=(64, 64)), ""))
    assert info.value.kind is ErrorKind.MODEL_MISSING
    assert "lllyasviel/control_v11f1p_sd15_depth" in info.value.message


@pytest.mark.parametrize("case, words", [
    ("sdxl", "This ControlNet is made for SDXL but the model is SD 1.x"),
    ("not_controlnet", "is not a ControlNet model folder"),
    ("not_image", "is not an image; a depth map must be"),
    ("aspect", "their shapes differ too much to line up"),
])
def test_bad_depth_input_is_refused_with_a_sentence(engine, tiny_model, tiny_controlnet, tiny_sdxl_controlnet,
                                                    make_image, make_depth, tmp_path, case, words):
    init, depth, controlnet = make_image(size=(64, 64)), make_depth(size=(64, 64)), tiny_controlnet
    if case == "sdxl":
        controlnet = tiny_sdxl_controlnet
    elif case == "not_controlnet":
        controlnet = tiny_model
    elif case == "not_image":
        depth = tmp_path / "depth.png"
        depth.write_text("not a picture")
    else:
        depth = make_depth("tall.png", size=(40, 200))
    with pytest.raises(RestyleError) as info:
        engine.generate(_params(tiny_model, init, depth, controlnet))
    assert words in info.value.message and info.value.kind in (ErrorKind.BAD_INPUT, ErrorKind.MODEL_MISSING)


@pytest.mark.parametrize("changes, words", [
    ({"control_scale": 2.5}, "Depth strength must be between 0 and 2"),
    ({"control_start": 0.6, "control_end": 0.4}, "must start before it ends"),
])
def test_out_of_range_depth_settings_are_refused_before_any_load(changes, words):
    with pytest.raises(RestyleError) as info:
        GenerationParams(model="m", control_image="d.png", **changes).validate()
    assert words in info.value.message
