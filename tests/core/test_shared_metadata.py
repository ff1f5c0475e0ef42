"""What Restyle writes for sharing: sd-parsers reads every field of our PNG, JPEG and WebP as AUTOMATIC1111."""

from __future__ import annotations

import pytest
from PIL import Image

from desktop.core.metadata import build_parameters_text, parse_parameters_text, read_parameters
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams, GenerationResult, ModelInfo
from desktop.core.picture_settings import read_picture_settings
from desktop.core.share_export import export_for_sharing

# sd-parsers' own names for the sampler fields it lifts out of the A1111 line.
_SD_PARSERS_KEYS = {"cfg_scale": "CFG scale", "seed": "Seed", "steps": "Steps", "scheduler": "Schedule type"}


def _result(**params) -> GenerationResult:
    p = GenerationParams(model="/home/artist/models/dreamy-v2.safetensors", prompt="a koi pond, ukiyo-e, (ink:1.2)",
                         negative_prompt="photo, blur", init_image="/home/artist/Pictures/pond.jpg", strength=0.55,
                         guidance_scale=6.5, steps=24, seed=4_000_000_123, sampler="DPM++ 2M", schedule="karras",
                         **params)
    info = ModelInfo(name=p.model, display_name="dreamy-v2", family="sdxl", natural_size=1024,
                     pipeline_class="StableDiffusionXLImg2ImgPipeline", device="cpu", dtype="float32",
                     model_hash="0a1b2c3d4e")
    image = Image.linear_gradient("L").convert("RGB").resize((96, 64))
    return GenerationResult(image=image, params=p, model=info, steps_run=13, sampler="DPM++ 2M", elapsed=1.0)


def _as_a1111_fields(info) -> dict[str, str]:
    """What sd-parsers read, under the A1111 keys we wrote."""
    sampler = info.samplers[0]
    fields = {"Sampler": sampler.name}
    fields.update({_SD_PARSERS_KEYS[k]: str(v) for k, v in sampler.parameters.items()})
    if sampler.model is not None:
        fields.update({"Model": sampler.model.name, "Model hash": sampler.model.hash})
    fields.update({k: str(v) for k, v in info.metadata.items()})
    return fields


@pytest.mark.parametrize("name", ["shared.png", "shared.jpg", "shared.webp"])
def test_sd_parsers_reads_every_field_of_our_pictures(tmp_path, name):
    from sd_parsers import ParserManager

    result = _result(aesthetic_score=6.0, negative_aesthetic_score=2.5)
    text = parameters_text(result)
    path = export_for_sharing(result.image, tmp_path / name, text)
    ours = parse_parameters_text(text)

    info = ParserManager().parse(path)
    assert info is not None and info.generator.value == "AUTOMATIC1111"
    assert [p.value for p in info.prompts] == [result.params.prompt]
    assert [p.value for p in info.negative_prompts] == [result.params.negative_prompt]
    assert _as_a1111_fields(info) == ours.fields
    # Every field we write, by name, including the model's name and hash.
    assert {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model",
            "Denoising strength", "Aesthetic score", "Negative aesthetic score", "Version"} <= ours.fields.keys()
    assert (ours.fields["Model"], ours.fields["Model hash"]) == ("dreamy-v2", "0a1b2c3d4e")


def test_our_pictures_read_back_into_the_same_settings(tmp_path):
    result = _result()
    path = export_for_sharing(result.image, tmp_path / "again.webp", parameters_text(result))
    s = read_picture_settings(path)
    assert s.tool == "Restyle"
    assert (s.prompt, s.negative_prompt, s.seed, s.steps, s.guidance_scale, s.strength) == (
        result.params.prompt, "photo, blur", 4_000_000_123, 24, 6.5, 0.55)
    assert (s.sampler, s.model_name, s.model_hash, s.width, s.height) == ("DPM++ 2M", "dreamy-v2", "0a1b2c3d4e", 96, 64)


def test_a_depth_run_still_names_the_model_for_comma_splitting_readers(tmp_path):
    from sd_parsers import ParserManager

    result = _result(control_image="/home/artist/depth.png", controlnet="lllyasviel/control_v11f1p_sd15_depth")
    path = export_for_sharing(result.image, tmp_path / "depth.png", parameters_text(result))
    assert ParserManager().parse(path).samplers[0].model.name == "dreamy-v2"
    assert "control_v11f1p_sd15_depth" in parse_parameters_text(read_parameters(path)).fields["ControlNet 0"]


def test_the_parameters_never_carry_a_local_path():
    text = parameters_text(_result(control_image="/home/artist/depth.png", controlnet="/home/artist/cn/my-depth"))
    assert "/home/artist" not in text and "my-depth" in text


def test_strip_all_metadata_writes_none(tmp_path):
    result = _result()
    for name in ("bare.png", "bare.jpg", "bare.webp"):
        path = export_for_sharing(result.image, tmp_path / name, parameters_text(result), strip=True)
        with Image.open(path) as image:
            assert not image.info.get("exif") and "parameters" not in image.info
            assert image.size == (96, 64)
        assert read_picture_settings(path) is None


def test_an_older_restyle_text_loses_its_local_path_when_shared(tmp_path):
    old = build_parameters_text("cat", "", [("Steps", 20), ("Sampler", "Euler"), ("CFG scale", 7.0), ("Seed", 1),
                                            ("Model", "dreamy"), ("Restyle model", "/home/artist/m/dreamy")])
    path = export_for_sharing(Image.new("RGB", (8, 8)), tmp_path / "old.png", old)
    assert b"/home/artist" not in path.read_bytes()
    assert parse_parameters_text(read_parameters(path)).fields["Model"] == "dreamy"


def test_exporting_to_another_format_is_refused_with_a_sentence(tmp_path):
    from desktop.core.errors import RestyleError

    with pytest.raises(RestyleError, match=r"\.png, \.jpg or \.webp"):
        export_for_sharing(Image.new("RGB", (8, 8)), tmp_path / "x.gif", "cat")
