"""Reference images through a tiny IP-Adapter with a tiny CLIP image encoder, built here."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.errors import RestyleError
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.engine import runner as runner_module
from desktop.engine.ip_adapter import locate
from desktop.engine.runner import Engine
from desktop.engine.styles import StyleFolders


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory):
    from desktop.testing.tiny_styles import build_tiny_ip_adapter

    return build_tiny_ip_adapter(tmp_path_factory.mktemp("ip") / "models", tiny_model)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refs")
    paths = []
    for name, colour in (("red.png", (220, 30, 30)), ("blue.png", (20, 40, 220))):
        image = Image.new("RGB", (80, 60), colour)
        image.paste((250, 250, 250), (0, 0, 40, 30))
        image.save(folder / name)
        paths.append(str(folder / name))
    return paths


@pytest.fixture(scope="module")
def engine(tiny_style_files):
    engine = Engine()
    engine.style_folders = StyleFolders(loras=(str(tiny_style_files["kohya"].parent),))
    return engine


def _run(engine, tiny_model, init, adapter, **changes):
    params = GenerationParams(model=str(tiny_model), prompt="a lighthouse", init_image=str(init), strength=0.8,
                              steps=4, seed=9, ip_adapter=str(adapter)).replace(**changes)
    result = engine.generate(params)
    return result, np.asarray(result.image).astype(int)


def test_a_reference_steers_the_picture_and_is_recorded(engine, tiny_model, adapter, references, make_image):
    init = make_image()
    _, plain = _run(engine, tiny_model, init, adapter)
    result, red = _run(engine, tiny_model, init, adapter, references=references[:1], reference_scale=1.0)
    _, blue = _run(engine, tiny_model, init, adapter, references=references[1:], reference_scale=1.0)
    _, both = _run(engine, tiny_model, init, adapter, references=tuple(references), reference_scale=1.0)
    _, off = _run(engine, tiny_model, init, adapter, references=references[:1], reference_scale=0.0)
    assert np.abs(red - plain).max() > 2 and np.abs(red - blue).max() > 2
    assert np.abs(both - red).max() > 2 and np.abs(both - blue).max() > 2  # several references at once
    assert np.abs(off - plain).max() <= 1  # scale 0 is no reference
    assert "IP-Adapter: \"ip-adapter_tiny, Weight: 1, Images: 1\"" in parameters_text(result)


def test_style_only_hears_the_reference_in_one_block(engine, tiny_model, adapter, references, make_image):
    init = make_image()
    _, plain = _run(engine, tiny_model, init, adapter)
    _, full = _run(engine, tiny_model, init, adapter, references=references[:1], reference_scale=1.0)
    style, styled = _run(engine, tiny_model, init, adapter, references=references[:1], reference_scale=1.0,
                         reference_style_only=True)
    assert np.abs(styled - plain).max() > 0 and np.abs(styled - full).max() > 2
    assert "style only" in parameters_text(style)


def test_changing_references_reloads_nothing_and_removing_them_unloads_the_adapter(engine, tiny_model, adapter,
                                                                                  references, make_image, monkeypatch):
    init = make_image()
    _, plain = _run(engine, tiny_model, init, adapter)
    _run(engine, tiny_model, init, adapter, references=references[:1])
    loads = []
    real = runner_module.load_img2img_pipeline
    monkeypatch.setattr(runner_module, "load_img2img_pipeline", lambda *a, **k: loads.append(a) or real(*a, **k))
    reference = engine._loaded.styles.reference
    before = reference.loads
    _run(engine, tiny_model, init, adapter, references=references[1:], reference_scale=0.9)
    _run(engine, tiny_model, init, adapter, references=tuple(references), reference_style_only=True)
    assert reference.loads == before and loads == []
    _, after = _run(engine, tiny_model, init, adapter)
    assert reference.files is None and np.abs(after - plain).max() <= 1


def test_references_work_with_a_lora_and_depth_control(engine, tiny_model, tiny_controlnet, adapter, references,
                                                       make_image, make_depth):
    init = make_image()
    base = {"references": references[:1], "reference_scale": 1.0, "control_image": str(make_depth()),
            "controlnet": str(tiny_controlnet)}
    _, with_ref = _run(engine, tiny_model, init, adapter, **base)
    result, with_lora = _run(engine, tiny_model, init, adapter, loras=(("inkwash", 1.0),), **base)
    _, depth_only = _run(engine, tiny_model, init, adapter, control_image=base["control_image"],
                         controlnet=base["controlnet"])
    assert np.abs(with_ref - depth_only).max() > 2 and np.abs(with_lora - with_ref).max() > 2
    text = parameters_text(result)
    assert "ControlNet 0" in text and "Lora hashes" in text and "IP-Adapter" in text


def test_a_reference_that_is_not_a_picture_is_refused_before_loading(engine, tiny_model, adapter, make_image,
                                                                     tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    with pytest.raises(RestyleError) as error:
        _run(engine, tiny_model, make_image(), adapter, references=(str(bad),))
    assert "notes.png" in error.value.message


def test_flow_matching_families_refuse_references_with_a_sentence():
    with pytest.raises(RestyleError) as error:
        locate("", "", "flux")
    assert "Reference images work with SD 1.x and SDXL" in error.value.message


def test_references_and_loras_steer_a_masked_run_only_inside_the_mask(engine, tiny_model, adapter, references,
                                                                     tmp_path):
    picture = tmp_path / "picture.png"
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB").save(picture)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 16, 64, 48))
    mask.save(tmp_path / "mask.png")
    base = {"mask_image": str(tmp_path / "mask.png"), "mask_blur": 0, "strength": 1.0}
    _, plain = _run(engine, tiny_model, picture, adapter, **base)
    result, styled = _run(engine, tiny_model, picture, adapter, references=references[:1], reference_scale=1.0,
                          loras=(("inkwash", 1.0),), **base)
    changed = np.abs(styled - plain).max(axis=2) > 2
    assert changed[16:48, 32:].any() and not changed[:, :28].any()  # inside the mask only
    text = parameters_text(result)
    assert "IP-Adapter" in text and "Lora hashes" in text and "Mask blur" in text


def test_style_only_picks_the_first_cross_attention_up_block_of_sd15_and_sdxl():
    from types import SimpleNamespace

    from desktop.engine.ip_adapter import style_only_scale

    sd15 = SimpleNamespace(config=SimpleNamespace(up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
                                                  layers_per_block=2))
    sdxl = SimpleNamespace(config=SimpleNamespace(up_block_types=["CrossAttnUpBlock2D"] * 2 + ["UpBlock2D"],
                                                  layers_per_block=2))
    assert style_only_scale(sd15, 0.7) == {"up": {"block_1": [0.0, 0.7, 0.0]}}  # InstantStyle's SD 1.5 block
    assert style_only_scale(sdxl, 0.7) == {"up": {"block_0": [0.0, 0.7, 0.0]}}  # and its SDXL one
