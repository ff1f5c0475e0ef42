"""Devices and memory in the engine: settings, downgrades, out of memory with a lighter offer, NaN decodes."""

import numpy as np
import pytest
import torch
from diffusers import (
    AutoencoderKL,
    AutoPipelineForImage2Image,
    StableDiffusionImg2ImgPipeline,
)

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.params import GenerationParams
from desktop.core.runtime import RuntimeSettings, lighter
from desktop.engine.runner import Engine
from desktop.engine.runtime import memory_report, resolve_runtime


def _params(tiny_model, init, **changes):
    return GenerationParams(model=str(tiny_model), prompt="a watercolour cat", init_image=str(init) if init else None,
                            strength=0.5, steps=4, seed=7, **changes)


def test_settings_round_trip_and_a_bad_value_gets_a_sentence():
    settings = RuntimeSettings(dtype="bf16", vae_tiling=True, offload="model")
    assert RuntimeSettings.from_dict({**settings.to_dict(), "future_knob": 1}) == settings
    with pytest.raises(RestyleError, match="Precision must be one of auto, fp16, bf16, fp32"):
        RuntimeSettings(dtype="fp8").validate()


def test_impossible_choices_on_the_cpu_are_downgraded_with_a_sentence_each():
    wanted = RuntimeSettings(dtype="fp16", offload="model", attention="xformers", compile_unet=True)
    resolved, notes = resolve_runtime(wanted, "cpu")
    assert (resolved.dtype, resolved.offload, resolved.attention, resolved.compile_unet) == ("fp32", "none", "sdpa",
                                                                                             False)
    assert len(notes) == 4 and any("fp16" in n for n in notes) and any("xFormers" in n for n in notes)
    assert any("torch.compile" in n for n in notes)
    assert resolve_runtime(RuntimeSettings(), "cpu") == (RuntimeSettings(dtype="fp32"), ())
    assert resolve_runtime(RuntimeSettings(), "mps")[0].dtype == "fp16"


def test_the_lighter_settings_come_in_order_tiling_then_offload():
    gpu = RuntimeSettings(device="cuda")
    labels = []
    offer = lighter(gpu, "cuda")
    while offer is not None:
        labels.append(offer.label)
        offer = lighter(offer.settings, "cuda")
    assert labels == ["VAE tiling", "model CPU offload", "sequential CPU offload"]
    assert lighter(gpu, "cuda", loading=True).label == "model CPU offload"  # tiling cannot help a load
    assert lighter(RuntimeSettings(), "cpu").label == "VAE tiling"
    assert lighter(RuntimeSettings(vae_tiling=True), "cpu") is None


def test_precision_is_a_reload_and_tiling_is_switched_on_the_loaded_model(tiny_model, make_image, monkeypatch):
    loads = []
    original = AutoPipelineForImage2Image.from_pretrained.__func__
    monkeypatch.setattr(AutoPipelineForImage2Image, "from_pretrained",
                        classmethod(lambda c, *a, **k: loads.append(k["dtype"]) or original(c, *a, **k)))
    engine = Engine()
    engine.configure(RuntimeSettings(dtype="bf16"))
    result = engine.generate(_params(tiny_model, make_image()))
    assert result.model.dtype == "bfloat16" and np.asarray(result.image).std() > 0
    engine.configure(RuntimeSettings(dtype="bf16", vae_tiling=True, attention_slicing=True))
    engine.generate(_params(tiny_model, make_image()))
    assert engine._loaded.img2img.vae.use_tiling
    assert loads == [torch.bfloat16]  # no reload for tiling or slicing
    engine.configure(RuntimeSettings(dtype="fp32"))
    assert engine.load(str(tiny_model), "cpu").dtype == "float32"
    assert loads == [torch.bfloat16, torch.float32]
    assert not engine._loaded.img2img.vae.use_tiling


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                                   RuntimeError("MPS backend out of memory (MPS allocated: 17 GB)")])
def test_out_of_memory_offers_tiling_and_the_retry_with_it_works(tiny_model, make_image, monkeypatch, error):
    calls = []
    original = StableDiffusionImg2ImgPipeline.__call__

    def first_call_runs_out(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionImg2ImgPipeline, "__call__", first_call_runs_out)
    engine = Engine()
    with pytest.raises(RestyleError) as caught:
        engine.generate(_params(tiny_model, make_image(size=(64, 64))))
    assert caught.value.kind is ErrorKind.OUT_OF_MEMORY
    assert caught.value.message == "The computer ran out of memory at 64×64. Turn on VAE tiling and try again?"
    offer = caught.value.suggestion
    assert offer.label == "VAE tiling" and offer.settings.vae_tiling
    engine.configure(offer.settings)
    result = engine.generate(_params(tiny_model, make_image(size=(64, 64))))
    assert result.image.size == (64, 64) and engine._loaded.img2img.vae.use_tiling


def test_other_errors_are_not_reported_as_out_of_memory(tiny_model, make_image, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(StableDiffusionImg2ImgPipeline, "__call__", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        Engine().generate(_params(tiny_model, make_image()))


def test_out_of_memory_while_loading_says_so_and_the_next_load_works(tiny_model, monkeypatch):
    from desktop.engine import runner

    real = runner.load_img2img_pipeline
    monkeypatch.setattr(runner, "load_img2img_pipeline",
                        lambda *a, **k: (_ for _ in ()).throw(torch.OutOfMemoryError("out of memory")))
    engine = Engine()
    with pytest.raises(RestyleError, match="ran out of memory while loading the model") as caught:
        engine.load(str(tiny_model))
    assert caught.value.suggestion is None  # on the CPU there is nothing lighter to load with
    assert engine.model_info is None
    monkeypatch.setattr(runner, "load_img2img_pipeline", real)
    assert engine.load(str(tiny_model)).device == "cpu"


def _nan_decodes(monkeypatch, count):
    """Make the next ``count`` decodes by a half-precision VAE return NaN, as an fp16 VAE overflowing does."""
    original = AutoencoderKL.decode
    seen = []

    def decode(self, z, *args, **kwargs):
        out = original(self, z, *args, **kwargs)
        seen.append(self.dtype)
        if len(seen) <= count:
            sample = torch.full_like(out[0] if isinstance(out, tuple) else out.sample, float("nan"))
            return (sample,)
        return out

    monkeypatch.setattr(AutoencoderKL, "decode", decode)
    return seen


def test_a_nan_decode_is_done_again_in_fp32_with_a_note(tiny_model, make_image, monkeypatch):
    engine = Engine()
    engine.configure(RuntimeSettings(dtype="bf16"))
    engine.load(str(tiny_model))
    seen = _nan_decodes(monkeypatch, 1)
    result = engine.generate(_params(tiny_model, make_image()))
    assert seen == [torch.bfloat16, torch.float32]
    pixels = np.asarray(result.image)
    assert pixels.std() > 0 and pixels.max() > 0  # not the black image NaN turns into
    assert any("decoded again in fp32" in note for note in result.notes)
    assert engine._loaded.img2img.vae.dtype == torch.bfloat16  # back to the chosen precision afterwards


def test_a_vae_that_gives_nan_even_in_fp32_is_an_error_sentence(tiny_model, make_image, monkeypatch):
    engine = Engine()
    engine.configure(RuntimeSettings(dtype="bf16"))
    engine.load(str(tiny_model))
    _nan_decodes(monkeypatch, 2)
    with pytest.raises(RestyleError, match="empty \\(NaN\\) image even in fp32"):
        engine.generate(_params(tiny_model, make_image()))


def test_the_memory_report_names_device_precision_and_ram():
    report = memory_report("cpu", "float32")
    assert report.used_bytes > 10 * 1024**2
    assert report.text().startswith("cpu · float32 · RAM ") and report.text().endswith(" GB")
