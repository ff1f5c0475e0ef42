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


def test_a_catalogue_gguf_variant_downloads_its_one_file_and_the_library_offers_the_file(
        tiny_gguf, tiny_flux, fake_hub, hub_cache, make_image, monkeypatch):
    from desktop.core.catalogue import CATALOGUE
    from desktop.core.downloads import download
    from desktop.core.library import library_entries

    item = next(e for e in CATALOGUE if e.file == "flux1-dev-Q4_K_S.gguf")
    assert item.base == FLUX_DEV and "Non-Commercial" in item.licence
    fake_hub.repos[item.repo] = {item.file: tiny_gguf.read_bytes(), "flux1-dev-Q8_0.gguf": b"another size" * 99,
                                 "README.md": b"# GGUF"}
    before = next(e for e in library_entries() if e.file == item.file)
    assert not before.installed and before.repo == item.repo and before.size_bytes == item.approx_bytes
    download(item.repo, only=item.file)
    fetched = {path.rsplit("/", 1)[-1] for path, _ in fake_hub.file_requests()}
    assert fetched == {item.file}  # not the other quantization, not the README
    after = next(e for e in library_entries() if e.file == item.file)
    assert after.installed and after.name.endswith(item.file) and after.size_bytes == tiny_gguf.stat().st_size
    # What the library hands to the picker loads offline, the base coming from the cache.
    add_to_cache(hub_cache, FLUX_DEV, tiny_flux)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = Engine().generate(GenerationParams(model=after.name, prompt="x", init_image=str(make_image()), steps=2,
                                                seed=1))
    assert result.model.profile == "flux" and result.steps_run >= 1


def test_the_catalogue_says_which_new_models_are_gated_and_how_to_get_in():
    from desktop.core.catalogue import CATALOGUE

    by_repo = {e.repo: e for e in CATALOGUE if not e.file}
    for repo in ("black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.1-Kontext-dev",
                 "stabilityai/stable-diffusion-3.5-medium", "stabilityai/stable-diffusion-3.5-large"):
        assert "Gated" in by_repo[repo].note and "hf auth login" in by_repo[repo].note
    assert "Gated" not in by_repo["black-forest-labs/FLUX.1-schnell"].note  # Apache-2.0, open
    assert by_repo["black-forest-labs/FLUX.1-schnell"].licence == "Apache-2.0"
