"""A GGUF-quantized FLUX transformer (the community's way to fit FLUX.1 on a 12–16 GB card) loads through
``GGUFQuantizationConfig`` with the rest of its base model from the Hugging Face cache, and restyles."""

import numpy as np
import pytest

from desktop.cli import main
from desktop.core.errors import RestyleError
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine
from desktop.testing.tiny_flow import write_tiny_gguf
from tests.hub_helpers import add_to_cache

FLUX_DEV = "black-forest-labs/FLUX.1-dev"


@pytest.fixture(scope="module")
def tiny_gguf(tiny_flux, tmp_path_factory):
    return write_tiny_gguf(tiny_flux / "transformer", tmp_path_factory.mktemp("gguf") / "flux1-dev-tiny-Q8_0.gguf")


def _restyle(engine, model, image):
    return engine.generate(GenerationParams(model=str(model), prompt="ink", init_image=str(image), strength=0.6,
                                            steps=4, seed=2))


def test_a_gguf_transformer_loads_quantized_and_restyles_like_its_full_precision_weights(
        tiny_gguf, tiny_flux, hub_cache, make_image):
    from diffusers.quantizers.gguf.utils import GGUFParameter

    add_to_cache(hub_cache, FLUX_DEV, tiny_flux)  # the base model: text encoders, VAE, configs
    engine = Engine()
    image = make_image(size=(64, 64))
    quantized = _restyle(engine, tiny_gguf, image)
    transformer = engine._loaded.img2img.transformer
    weight = transformer.transformer_blocks[0].attn.to_q.weight
    assert isinstance(weight, GGUFParameter) and weight.quant_type.name == "Q8_0"  # kept quantized in memory
    assert quantized.model.profile == "flux" and quantized.model.display_name == "flux1-dev-tiny-Q8_0"
    full = _restyle(Engine(), tiny_flux, image)
    difference = np.abs(np.asarray(quantized.image).astype(int) - np.asarray(full.image).astype(int))
    # Q8_0 keeps 8 bits per weight: the picture is the same but for rounding.
    assert difference.mean() < 2.0 and quantized.image.size == full.image.size


def test_a_gguf_file_without_its_base_model_names_the_repository_to_download(tiny_gguf, hub_cache):
    with pytest.raises(RestyleError) as caught:
        Engine().load(str(tiny_gguf))
    assert FLUX_DEV in caught.value.message and "offline" in caught.value.message


def test_restyle_generate_takes_a_gguf_file_as_the_model(tiny_gguf, tiny_flux, hub_cache, make_image, tmp_path,
                                                         data_dir):
    add_to_cache(hub_cache, FLUX_DEV, tiny_flux)
    out = tmp_path / "gguf.png"
    assert main(["generate", "--model", str(tiny_gguf), "--init", str(make_image()), "--prompt", "ink", "--steps",
                 "2", "--seed", "1", "--output", str(out), "--data-dir", str(data_dir)]) == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["Model"] == "flux1-dev-tiny-Q8_0" and fields["Distilled CFG Scale"] == "3.5"
