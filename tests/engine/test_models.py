import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.sources import family_of, resolve_model


def _refusal(name):
    with pytest.raises(RestyleError) as info:
        resolve_model(name)
    return info.value


def test_a_hub_id_resolves_without_touching_disk_or_network():
    source = resolve_model("stable-diffusion-v1-5/stable-diffusion-v1-5")
    assert not source.is_local and source.display_name == "stable-diffusion-v1-5"


def test_a_diffusers_folder_resolves(tiny_model):
    source = resolve_model(str(tiny_model))
    assert source.is_local and source.display_name == "tiny-sd"


def test_no_model_says_what_to_choose():
    error = _refusal("  ")
    assert error.kind is ErrorKind.BAD_INPUT and "Hugging Face id" in error.message


def test_missing_folder(tmp_path):
    error = _refusal(str(tmp_path / "nope"))
    assert error.kind is ErrorKind.MODEL_MISSING and "does not exist" in error.message


def test_folder_without_model_index(tmp_path):
    error = _refusal(str(tmp_path))
    assert "model_index.json" in error.message


def test_pickle_checkpoints_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "model.ckpt"
    path.write_bytes(b"x")
    error = _refusal(str(path))
    assert "pickle" in error.message and "model.ckpt" in error.message


def test_nonsense_is_neither_a_folder_nor_an_id():
    error = _refusal("what is this?")
    assert error.kind is ErrorKind.BAD_INPUT


@pytest.mark.parametrize(
    "cls, family",
    [
        ("StableDiffusionImg2ImgPipeline", "sd"),
        ("StableDiffusionXLImg2ImgPipeline", "sdxl"),
        ("KandinskyV22CombinedPipeline", "kandinsky22"),
        ("FluxPipeline", "flux"),
        ("FluxKontextPipeline", "flux"),
        ("StableDiffusion3Img2ImgPipeline", "sd3"),
        ("PixArtAlphaPipeline", "other"),
    ],
)
def test_family_of_pipeline_classes(cls, family):
    assert family_of(cls) == family


def test_a_hub_model_missing_offline_says_what_to_do():
    from desktop.engine.runner import Engine

    with pytest.raises(RestyleError) as info:
        Engine().load("someone/not-cached-model")
    assert info.value.kind is ErrorKind.MODEL_MISSING
    assert "not in the local Hugging Face cache" in info.value.message
    assert "offline" in info.value.message
