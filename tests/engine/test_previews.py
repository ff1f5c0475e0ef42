import numpy as np
import pytest
import torch

from desktop.engine.previews import latent_preview


@pytest.mark.parametrize("family", ["sd", "sdxl", "other", "kandinsky22"])
def test_preview_is_an_rgb_image_at_latent_size(family):
    latents = torch.randn(1, 4, 12, 20) * 3
    preview = latent_preview(latents, family)
    assert preview.shape == (12, 20, 3)
    assert preview.dtype == np.uint8


def test_sd_factors_map_a_known_latent_to_the_documented_colour():
    latents = torch.zeros(1, 4, 2, 2)
    latents[:, 0] = 1.0  # channel 0 alone: RGB = row 0 of the SD matrix
    preview = latent_preview(latents, "sd")
    expected = np.round((np.array([0.3512, 0.2297, 0.3227]) + 1) / 2 * 255)
    assert np.abs(preview[0, 0].astype(int) - expected).max() <= 1


def test_unknown_latent_spaces_still_show_structure():
    latents = torch.zeros(1, 16, 4, 4)
    latents[0, :, :2] = 5.0  # top half bright
    preview = latent_preview(latents, "sd")  # 16 channels: not the SD space, the fallback applies
    assert preview[0, 0].mean() > preview[3, 0].mean()
