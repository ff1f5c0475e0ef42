"""A tiny random-weight TAESD (``AutoencoderTiny``) in diffusers format, for the detailed-preview tests.

Same shape as madebyollin/taesd (four decoder levels, so ×8 like the SD VAE) with a few channels, saved with
``save_pretrained`` and loaded back through the same path as the real one.
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_taesd(folder: Path, *, latent_channels: int = 4, seed: int = 0, scaling_factor: float = 1.0,
                     shift_factor: float = 0.0) -> Path:
    """Write a tiny AutoencoderTiny to ``folder`` and return it (TAEF1/TAESD3-like with 16 channels and their
    VAE's ``scaling_factor`` and ``shift_factor``)."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    model = AutoencoderTiny(in_channels=3, out_channels=3, latent_channels=latent_channels,
                            encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                            num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1),
                            scaling_factor=scaling_factor, shift_factor=shift_factor)
    model.save_pretrained(folder)
    return folder
