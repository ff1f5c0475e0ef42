"""An inpainting checkpoint as one .safetensors file (as model-sharing sites publish them) runs masked restyles."""

import numpy as np
from PIL import Image

from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine
from tests.hub_helpers import add_to_cache

SD15_INPAINTING = "stable-diffusion-v1-5/stable-diffusion-inpainting"


def test_a_single_file_inpainting_checkpoint_loads_with_its_cached_config_and_keeps_the_unmasked_part(
        tiny_sd_inpainting, hub_cache, tmp_path):
    from desktop.testing.tiny_single import save_tiny_single_file

    checkpoint = save_tiny_single_file(tiny_sd_inpainting, tmp_path / "tiny-inpainting.safetensors")
    add_to_cache(hub_cache, SD15_INPAINTING, tiny_sd_inpainting)  # its configuration, as if downloaded once
    picture = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(picture)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 32, 64, 64))
    mask.save(tmp_path / "m.png")
    engine = Engine()
    params = GenerationParams(model=str(checkpoint), prompt="a lake", init_image=str(picture), steps=2, seed=2,
                              strength=1.0, mask_image=str(tmp_path / "m.png"), mask_blur=0)
    from_file = engine.generate(params)
    assert from_file.model.pipeline_class == "StableDiffusionInpaintPipeline"
    changed = np.any(np.asarray(from_file.image) != np.asarray(Image.open(picture)), axis=2)
    assert not changed[:32].any() and changed[32:].mean() > 0.9
    from_folder = Engine().generate(params.replace(model=str(tiny_sd_inpainting)))
    assert np.array_equal(np.asarray(from_file.image), np.asarray(from_folder.image))  # the same weights
