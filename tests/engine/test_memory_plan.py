"""The memory estimate before loading (from the checkpoint's headers and the precision) and the fastest setting
that fits the card, offered first; the out-of-memory retry knows SD 3.5's T5."""

import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.memory_plan import (
    GB,
    MemoryEstimate,
    estimate_folder,
    fitting_settings,
    memory_refusal,
)
from desktop.core.runtime import RuntimeSettings, lighter
from desktop.engine.runner import Engine

# FLUX.1 dev and SD 3.5 Large in bf16, from their configurations' parameter counts (bench/flow_configs.py).
FLUX_DEV = MemoryEstimate((("transformer", int(23.80 * GB)), ("text_encoder_2", int(9.52 * GB)),
                           ("text_encoder", int(0.25 * GB)), ("vae", int(0.17 * GB))), "bf16", "text_encoder_2")
SD35_LARGE = MemoryEstimate((("transformer", int(16.11 * GB)), ("text_encoder_3", int(9.52 * GB)),
                             ("text_encoder_2", int(1.39 * GB)), ("text_encoder", int(0.25 * GB)),
                             ("vae", int(0.17 * GB))), "bf16", "text_encoder_3")

SD35_MEDIUM = MemoryEstimate((("text_encoder_3", int(9.52 * GB)), ("transformer", int(4.94 * GB)),
                              ("text_encoder_2", int(1.39 * GB)), ("text_encoder", int(0.25 * GB)),
                              ("vae", int(0.17 * GB))), "bf16", "text_encoder_3")


def _labels(estimate, capacity_gb, **settings):
    return [o.label for o in fitting_settings(estimate, RuntimeSettings(**settings), int(capacity_gb * GB))]


def test_the_fastest_setting_that_fits_each_card_comes_first():
    assert _labels(FLUX_DEV, 80)[0] == "the current settings"  # an 80 GB card holds everything
    assert _labels(FLUX_DEV, 25.76)[0] == "model CPU offload"  # a 24 GiB card: the transformer alone fits
    assert _labels(FLUX_DEV, 16)[0] == "sequential CPU offload"  # 16 GB: only layer by layer (or GGUF)
    assert _labels(SD35_LARGE, 24)[0] == "model CPU offload"
    assert _labels(SD35_LARGE, 30)[0] == "the current settings"
    # SD 3.5 Medium: T5 (9.5 GB) outweighs its transformer (4.9 GB), so an 8 GB card needs T5 left out too.
    assert _labels(SD35_MEDIUM, 8)[0] == "model CPU offload without T5"
    assert _labels(SD35_MEDIUM, 12)[0] == "model CPU offload"
    assert _labels(FLUX_DEV, 1.5) == []


def test_a_card_too_small_as_set_is_refused_with_the_setting_to_retry():
    refusal = memory_refusal("FLUX.1-dev", FLUX_DEV, RuntimeSettings(), int(25.76 * GB), gpu=True,
                             where="this GPU")
    assert refusal.kind is ErrorKind.OUT_OF_MEMORY and refusal.suggestion.settings.offload == "model"
    assert "needs about 33.7 GB of weights in bf16" in refusal.message
    assert refusal.message.endswith("Load it with model CPU offload?")
    assert memory_refusal("FLUX.1-dev", FLUX_DEV, RuntimeSettings(offload="model"), int(25.76 * GB), gpu=True,
                          where="this GPU") is None


def test_the_estimate_reads_the_checkpoint_headers_at_the_run_precision(tiny_flux, tiny_sd3):
    from desktop.testing.tiny_flow import write_tiny_gguf

    fp32 = estimate_folder(tiny_flux, "fp32")
    bf16 = estimate_folder(tiny_flux, "bf16")
    assert {name for name, _ in fp32.parts} == {"transformer", "text_encoder", "text_encoder_2", "vae"}
    assert fp32.total == 2 * bf16.total and fp32.t5 == "text_encoder_2"
    transformer = dict(fp32.parts)["transformer"]
    from safetensors import safe_open

    with safe_open(str(tiny_flux / "transformer" / "diffusion_pytorch_model.safetensors"), "pt") as handle:
        names = handle.keys()  # safe_open itself is not iterable
        assert transformer == 4 * sum(_numel(handle.get_slice(k).get_shape()) for k in names)
    gguf = write_tiny_gguf(tiny_flux / "transformer", tiny_flux.parent / "t.gguf")
    quantized = estimate_folder(tiny_flux, "fp32", transformer_file=gguf)
    assert dict(quantized.parts)["transformer"] == gguf.stat().st_size < transformer
    sd3 = estimate_folder(tiny_sd3, "fp32")
    without_t5 = sd3.peak(RuntimeSettings(t5_encoder=False))
    assert sd3.t5 == "text_encoder_3" and without_t5 == sd3.peak(RuntimeSettings()) - dict(sd3.parts)["text_encoder_3"]


def _numel(shape):
    count = 1
    for dim in shape:
        count *= dim
    return count


def test_loading_says_the_estimate_and_refuses_a_model_bigger_than_memory(tiny_flux, monkeypatch):
    said = []
    engine = Engine(status=said.append)
    engine.load(str(tiny_flux))
    assert any(s.startswith("tiny-flux needs about") and "this computer" in s for s in said)
    monkeypatch.setattr("desktop.engine.memory.device_capacity", lambda device: (1000, "this computer"))
    with pytest.raises(RestyleError) as caught:
        Engine().load(str(tiny_flux))
    assert caught.value.kind is ErrorKind.OUT_OF_MEMORY
    assert "this computer has 0.0 MB" in caught.value.message and "GGUF" in caught.value.message


def test_the_out_of_memory_retry_offers_sd35_without_t5_before_sequential_offload():
    offload = RuntimeSettings(offload="model", vae_tiling=True)
    assert lighter(offload, "cuda", t5_optional=True).label == "SD 3.5 without T5"
    assert lighter(offload.replace(t5_encoder=False), "cuda", t5_optional=True).label == "sequential CPU offload"
    assert lighter(offload, "cuda").label == "sequential CPU offload"  # other families have no T5 to leave out
