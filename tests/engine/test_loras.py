"""LoRAs on the tiny models: both file formats, several at once, weights, switching without reloading."""

import shutil

import numpy as np
import pytest

from desktop.core.errors import RestyleError
from desktop.core.metadata import parse_parameters_text
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.core.style_files import (
    lora_family,
    lora_hash,
    parse_hashes,
    safetensors_header,
)
from desktop.engine import runner as runner_module
from desktop.engine.runner import Engine
from desktop.engine.styles import StyleFolders


@pytest.fixture(scope="module")
def engine(tiny_style_files):
    engine = Engine()
    engine.style_folders = StyleFolders(loras=(str(tiny_style_files["kohya"].parent),))
    return engine


def _run(engine, tiny_model, init, **changes):
    params = GenerationParams(model=str(tiny_model), prompt="a lighthouse at dusk", init_image=str(init),
                              strength=0.8, steps=4, seed=3).replace(**changes)
    result = engine.generate(params)
    return result, np.asarray(result.image).astype(int)


def test_both_formats_are_read_and_a_lora_changes_the_picture(engine, tiny_model, tiny_style_files, make_image):
    init = make_image()
    _, plain = _run(engine, tiny_model, init)
    _, kohya = _run(engine, tiny_model, init, loras=(("inkwash", 1.0),))
    _, diffusers = _run(engine, tiny_model, init, loras=((str(tiny_style_files["diffusers"]), 1.0),))
    assert np.abs(kohya - plain).max() > 2 and np.abs(diffusers - plain).max() > 2
    assert np.abs(kohya - diffusers).max() > 2  # two different LoRAs


def test_weight_zero_is_exactly_no_lora_and_weights_scale(engine, tiny_model, make_image):
    init = make_image()
    _, plain = _run(engine, tiny_model, init)
    _, zero = _run(engine, tiny_model, init, loras=(("inkwash", 0.0),))
    _, half = _run(engine, tiny_model, init, loras=(("inkwash", 0.5),))
    _, full = _run(engine, tiny_model, init, loras=(("inkwash", 1.0),))
    assert np.abs(zero - plain).max() <= 1
    assert 0 < np.abs(half - plain).mean() < np.abs(full - plain).mean()


def test_switching_loras_and_weights_reloads_neither_model_nor_files(engine, tiny_model, make_image, monkeypatch):
    init = make_image()
    _run(engine, tiny_model, init, loras=(("inkwash", 1.0), ("pastel", 0.5)))
    loads = []
    real = runner_module.load_img2img_pipeline
    monkeypatch.setattr(runner_module, "load_img2img_pipeline", lambda *a, **k: loads.append(a) or real(*a, **k))
    lora_set = engine._loaded.styles.loras
    files_before = lora_set.loads
    _, a = _run(engine, tiny_model, init, loras=(("inkwash", 0.3), ("pastel", 1.0)))
    _, b = _run(engine, tiny_model, init, loras=(("inkwash", 1.0), ("pastel", 0.0)))
    _, c = _run(engine, tiny_model, init, loras=(("inkwash", 0.3), ("pastel", 1.0)))
    assert loads == [] and lora_set.loads == files_before
    assert np.abs(a - b).max() > 2
    assert np.abs(a - c).max() <= 1  # the second identical run is fused: the same picture


def test_a_lora_taken_off_the_list_is_unloaded(engine, tiny_model, make_image):
    init = make_image()
    _, plain = _run(engine, tiny_model, init)
    _run(engine, tiny_model, init, loras=(("inkwash", 1.0),))
    _run(engine, tiny_model, init, loras=(("inkwash", 1.0),))  # fused
    _, after = _run(engine, tiny_model, init)
    assert engine._loaded.styles.loras.loaded == {}
    assert np.abs(after - plain).max() <= 1


def test_a_prompt_tag_applies_the_lora_and_is_not_read_as_words(engine, tiny_model, tiny_style_files, make_image):
    init = make_image()
    by_panel, panel = _run(engine, tiny_model, init, loras=(("inkwash", 0.7),))
    by_tag, tagged = _run(engine, tiny_model, init, prompt="a lighthouse at dusk <lora:inkwash:0.7>")
    assert np.abs(panel - tagged).max() <= 1
    text = parameters_text(by_tag)
    assert text.startswith("a lighthouse at dusk <lora:inkwash:0.7>\n")  # the prompt as typed
    parsed = parse_parameters_text(parameters_text(by_panel))
    assert parsed.prompt == "a lighthouse at dusk <lora:inkwash:0.7>"  # a panel LoRA is written as A1111 would
    assert parse_hashes(parsed.fields["Lora hashes"]) == {"inkwash": lora_hash(tiny_style_files["kohya"])}


def test_an_sdxl_lora_is_refused_on_sd_with_both_families_named(engine, tiny_model, tiny_style_files, make_image):
    assert lora_family(safetensors_header(tiny_style_files["sdxl_kohya"])) == "sdxl"
    with pytest.raises(RestyleError) as error:
        _run(engine, tiny_model, make_image(), loras=((str(tiny_style_files["sdxl_kohya"]), 1.0),))
    assert "made for SDXL models" in error.value.message and "SD 1.x/2.x" in error.value.message


def test_a_missing_lora_and_a_pickled_one_are_refused_with_a_sentence(engine, tiny_model, tiny_style_files,
                                                                      make_image, tmp_path):
    with pytest.raises(RestyleError) as missing:
        _run(engine, tiny_model, make_image(), prompt="x <lora:nowhere:1>")
    assert "'nowhere' was not found" in missing.value.message
    pickled = tmp_path / "old.pt"
    shutil.copy(tiny_style_files["kohya"], pickled)
    with pytest.raises(RestyleError) as refused:
        _run(engine, tiny_model, make_image(), loras=((str(pickled), 1.0),))
    assert "pickled LoRA" in refused.value.message and "--allow-pickles" in refused.value.message


def test_sdxl_takes_both_formats_with_both_text_encoders(tiny_sdxl, tiny_style_files, make_image):
    engine = Engine()
    init = make_image()
    _, plain = _run(engine, tiny_sdxl, init)
    _, kohya = _run(engine, tiny_sdxl, init, loras=((str(tiny_style_files["sdxl_kohya"]), 1.0),))
    _, diffusers = _run(engine, tiny_sdxl, init, loras=((str(tiny_style_files["sdxl_diffusers"]), 1.0),))
    assert np.abs(kohya - plain).max() > 2 and np.abs(diffusers - plain).max() > 2
    adapters = engine._loaded.img2img.get_list_adapters()
    assert set(adapters) == {"unet", "text_encoder", "text_encoder_2"}
    with pytest.raises(RestyleError) as error:
        _run(engine, tiny_sdxl, init, loras=((str(tiny_style_files["kohya"]), 1.0),))
    assert "made for SD 1.x/2.x models" in error.value.message and "SDXL" in error.value.message


def test_a_pickled_lora_is_read_as_weights_only_when_pickles_are_allowed(tiny_model, tiny_style_files, make_image,
                                                                          tmp_path):
    import torch
    from safetensors.torch import load_file

    pickled = tmp_path / "inkwash-old.pt"
    torch.save(load_file(tiny_style_files["kohya"]), pickled)
    engine = Engine(allow_pickles=True)
    init = make_image()
    _, plain = _run(engine, tiny_model, init)
    _, pickled_run = _run(engine, tiny_model, init, loras=((str(pickled), 1.0),))
    _, safe_run = _run(engine, tiny_model, init, loras=((str(tiny_style_files["kohya"]), 1.0),))
    assert np.abs(pickled_run - plain).max() > 2 and np.abs(pickled_run - safe_run).max() <= 1


def test_flow_matching_families_refuse_loras_with_a_sentence():
    from desktop.engine.loras import LoraSet, ResolvedLora

    with pytest.raises(RestyleError) as error:
        LoraSet().apply(object(), [ResolvedLora("ink", "/x/ink.safetensors", 1.0, "")], "flux", allow_pickles=False)
    assert "LoRAs are not available for FLUX models" in error.value.message


def test_a_lora_named_by_hub_file_comes_from_the_cache_or_is_named_as_missing(tiny_model, tiny_style_files,
                                                                               make_image, hub_cache, tmp_path):
    from tests.hub_helpers import add_to_cache

    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(tiny_style_files["kohya"], folder / "inkwash-hub.safetensors")
    add_to_cache(hub_cache, "someone/ink-loras", folder)
    engine = Engine()
    result, _ = _run(engine, tiny_model, make_image(), loras=(("someone/ink-loras/inkwash-hub.safetensors", 0.7),))
    assert "<lora:inkwash-hub:0.7>" in parameters_text(result)
    with pytest.raises(RestyleError) as error:  # offline (the tests' HF_HUB_OFFLINE=1), not cached
        _run(engine, tiny_model, make_image(), loras=(("someone/other/x.safetensors", 1.0),))
    assert "not in the local Hugging Face cache and Restyle is offline" in error.value.message


def test_loras_fused_by_one_pipeline_are_unfused_by_another_sharing_the_unet(tiny_model, tiny_style_files,
                                                                            make_image):
    folders = StyleFolders(loras=(str(tiny_style_files["kohya"].parent),))
    engine, fresh = Engine(), Engine()
    engine.style_folders = fresh.style_folders = folders
    restyle = GenerationParams(model=str(tiny_model), prompt="x", init_image=str(make_image()), steps=3, seed=1,
                               loras=(("inkwash", 1.0),))
    engine.generate(restyle)
    engine.generate(restyle)  # fused, on the img2img pipeline
    from_text = GenerationParams(model=str(tiny_model), prompt="x", steps=3, seed=1, width=64, height=64,
                                 loras=(("inkwash", 0.4),))
    got = np.asarray(engine.generate(from_text).image).astype(int)  # unfused by the text-to-image one
    want = np.asarray(fresh.generate(from_text).image).astype(int)
    assert np.abs(got - want).max() <= 1
