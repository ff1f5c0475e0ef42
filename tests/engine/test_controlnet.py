"""Depth ControlNet on tiny random models: loading, refusing what does not fit, sharing modules, real runs."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.engine.controlnet import (
    check_compatible,
    controlnet_call_kwargs,
    controlnet_pipelines,
    load_controlnet,
)


@pytest.fixture(scope="module")
def base(tiny_model):
    import torch

    from desktop.core.sources import resolve_model
    from desktop.engine.models import load_img2img_pipeline

    return load_img2img_pipeline(resolve_model(str(tiny_model)), "cpu", torch.float32)


@pytest.fixture(scope="module")
def pipelines(base, tiny_controlnet):
    import torch

    return controlnet_pipelines(base, load_controlnet(str(tiny_controlnet), torch.float32, "cpu"))


def _refusal(call, *args, **kwargs) -> RestyleError:
    with pytest.raises(RestyleError) as info:
        call(*args, **kwargs)
    return info.value


def _depth(horizontal: bool) -> Image.Image:
    """A 64×64 depth map: a near (white) half, left or top."""
    image = Image.new("RGB", (64, 64), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 32, 64) if horizontal else (0, 0, 64, 32))
    return image


def _init() -> Image.Image:
    image = Image.new("RGB", (64, 64), (200, 60, 40))
    image.paste((30, 90, 200), (0, 0, 32, 32))
    return image


def _img2img(pipe, depth, init=None, steps=2):
    import torch

    kwargs = controlnet_call_kwargs(depth, 0.8, width=64, height=64, img2img=True)
    seen = []

    def step_end(pipeline, i, t, tensors):  # the callback Engine.generate passes must keep working
        seen.append(tensors["latents"].shape)
        return tensors

    result = pipe(prompt="a watercolour house", image=init or _init(), strength=1.0, num_inference_steps=steps,
                  generator=torch.Generator("cpu").manual_seed(7), callback_on_step_end=step_end,
                  callback_on_step_end_tensor_inputs=["latents"], **kwargs).images[0]
    assert len(seen) >= steps  # PLMS adds a warm-up step
    return result


def test_a_controlnet_folder_loads(tiny_controlnet):
    import torch
    from diffusers import ControlNetModel

    controlnet = load_controlnet(str(tiny_controlnet), torch.float32, "cpu")
    assert isinstance(controlnet, ControlNetModel) and controlnet.dtype == torch.float32


@pytest.mark.parametrize("pick, what", [("model", "it is a whole diffusers model"),
                                        ("unet", "its config.json describes a UNet2DConditionModel")])
def test_the_base_model_or_its_unet_given_as_a_controlnet_is_refused(tiny_model, pick, what):
    import torch

    folder = tiny_model if pick == "model" else tiny_model / "unet"
    error = _refusal(load_controlnet, str(folder), torch.float32, "cpu")
    assert error.kind is ErrorKind.MODEL_MISSING
    assert f"{folder.name} is not a ControlNet model folder ({what})" in error.message


def test_a_hub_controlnet_that_is_not_cached_offline_says_how_to_get_it():
    import torch

    error = _refusal(load_controlnet, "lllyasviel/control_v11f1p_sd15_depth", torch.float32, "cpu")
    assert error.kind is ErrorKind.MODEL_MISSING and "Connect to the internet once" in error.message


def test_a_single_file_controlnet_is_refused_with_what_to_choose(tmp_path):
    import torch

    path = tmp_path / "control_depth.safetensors"
    path.write_bytes(b"x")
    error = _refusal(load_controlnet, str(path), torch.float32, "cpu")
    assert error.kind is ErrorKind.MODEL_MISSING and "single-file ControlNet" in error.message


def test_an_sdxl_controlnet_is_refused_on_an_sd_1_model(base, tiny_sdxl_controlnet):
    import torch

    sdxl = load_controlnet(str(tiny_sdxl_controlnet), torch.float32, "cpu")
    error = _refusal(check_compatible, sdxl, base)
    assert error.kind is ErrorKind.BAD_INPUT
    assert error.message == (
        "This ControlNet is made for SDXL but the model is SD 1.x; choose an SD 1.5 depth ControlNet such as "
        "lllyasviel/control_v11f1p_sd15_depth."
    )
    assert _refusal(controlnet_pipelines, base, sdxl).message == error.message  # refused before anything is built


def test_the_controlnet_pipelines_share_the_loaded_modules_without_a_reload(base, tiny_controlnet, monkeypatch):
    import torch
    from diffusers import (
        AutoPipelineForImage2Image,
        AutoPipelineForText2Image,
        DiffusionPipeline,
    )

    controlnet = load_controlnet(str(tiny_controlnet), torch.float32, "cpu")
    loads = []
    for cls in (DiffusionPipeline, AutoPipelineForImage2Image, AutoPipelineForText2Image):
        monkeypatch.setattr(cls, "from_pretrained", classmethod(lambda c, *a, **k: loads.append(a)))
    img2img, txt2img = controlnet_pipelines(base, controlnet)
    assert loads == []
    assert type(img2img).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    assert type(txt2img).__name__ == "StableDiffusionControlNetPipeline"
    for pipe in (img2img, txt2img):
        assert pipe.unet is base.unet and pipe.vae is base.vae and pipe.text_encoder is base.text_encoder
        assert pipe.controlnet is controlnet


def test_the_depth_map_steers_an_image_to_image_run(pipelines):
    img2img, _ = pipelines
    first = np.asarray(_img2img(img2img, _depth(horizontal=True)))
    again = np.asarray(_img2img(img2img, _depth(horizontal=True)))
    other = np.asarray(_img2img(img2img, _depth(horizontal=False)))
    assert first.shape == (64, 64, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_an_init_image_of_another_size_than_the_depth_map_runs_at_the_given_size(pipelines):
    # diffusers #5953: without explicit height/width this mix of sizes crashes.
    img2img, _ = pipelines
    result = _img2img(img2img, _depth(horizontal=True), init=_init().resize((72, 56)), steps=2)
    assert result.size == (64, 64)


def test_a_chained_latent_init_runs_with_the_depth_map(pipelines):
    # Latent chaining passes the previous result's latents as `image`; with ControlNet too it skips the encode.
    import torch

    img2img, _ = pipelines
    kwargs = controlnet_call_kwargs(_depth(horizontal=True), width=64, height=64, img2img=True)
    latents = img2img(prompt="a house", image=_init(), strength=0.5, num_inference_steps=2, output_type="latent",
                      generator=torch.Generator("cpu").manual_seed(1), **kwargs).images
    assert tuple(latents.shape) == (1, 4, 8, 8)
    result = img2img(prompt="a house", image=latents, strength=0.5, num_inference_steps=2,
                     generator=torch.Generator("cpu").manual_seed(1), **kwargs).images[0]
    assert result.size == (64, 64)


def test_text_to_image_with_a_depth_map_runs(pipelines):
    import torch

    _, txt2img = pipelines
    kwargs = controlnet_call_kwargs(_depth(horizontal=True), width=64, height=64, img2img=False)
    result = txt2img(prompt="a house", num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(1),
                     **kwargs).images[0]
    assert result.size == (64, 64)


def test_the_call_arguments_name_the_control_image_as_each_pipeline_expects():
    depth = _depth(horizontal=True)
    img2img = controlnet_call_kwargs(depth, 1.2, 0.1, 0.9, width=64, height=48, img2img=True)
    txt2img = controlnet_call_kwargs(depth, width=64, height=48, img2img=False)
    assert img2img == {"control_image": depth, "controlnet_conditioning_scale": 1.2, "control_guidance_start": 0.1,
                       "control_guidance_end": 0.9, "height": 48, "width": 64}
    assert txt2img["image"] is depth and "control_image" not in txt2img
    assert txt2img["controlnet_conditioning_scale"] == 0.8


@pytest.mark.parametrize("scale, start, end, words", [
    (-0.1, 0.0, 1.0, "Depth strength must be between 0 and 2"),
    (2.5, 0.0, 1.0, "Depth strength must be between 0 and 2"),
    (0.8, 0.5, 0.5, "must start before it ends"),
    (0.8, -0.1, 1.0, "must start before it ends"),
    (0.8, 0.0, 1.2, "must start before it ends"),
])
def test_out_of_range_control_values_are_refused(scale, start, end, words):
    error = _refusal(controlnet_call_kwargs, _depth(True), scale, start, end, width=64, height=64, img2img=True)
    assert error.kind is ErrorKind.BAD_INPUT and words in error.message
