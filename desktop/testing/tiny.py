"""Tiny random-weight Stable Diffusion 1.x models in diffusers format.

Tests, the ``--self-test`` smoke check and the benchmarks build these instead of downloading real weights:
they are saved with ``save_pretrained`` and loaded back through the same ``from_pretrained`` path as a real
checkpoint. Sizes follow diffusers' own ``get_dummy_components()``, except that the VAE has four levels, so
its scale factor is 8 as in real SD and image sizes behave the same (a 512-px image has 64-px latents).
"""

from __future__ import annotations

import json
from pathlib import Path

# The UNet's sample_size × the VAE's scale factor is the model's natural resolution: 8 × 8 = 64 px, so
# tests run on small images by default.
TINY_SAMPLE_SIZE = 8


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for raw bytes (GPT-2's table)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def offline_clip_tokenizer():
    """A CLIP tokenizer built without the Hub: one symbol per byte, no merges."""
    from transformers import CLIPTokenizer

    symbols = _byte_symbols()
    vocab = {s: i for i, s in enumerate(symbols)}
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    # Without model_max_length the tokenizer reports 1e30 and the pipelines' truncation breaks.
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def tiny_sd_components(seed: int = 0, *, vae_seed: int | None = None) -> dict:
    """The modules of a tiny SD 1.x pipeline with deterministic random weights."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=TINY_SAMPLE_SIZE,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=16,
    )
    torch.manual_seed(seed if vae_seed is None else vae_seed)
    vae = AutoencoderKL(
        block_out_channels=(16, 16, 32, 32),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
        sample_size=TINY_SAMPLE_SIZE * 8,
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=5,
            pad_token_id=1,
            vocab_size=1000,
        )
    )
    return {
        "unet": unet,
        # steps_offset=1 as in the real SD 1.5 scheduler config (0 triggers a deprecation warning).
        "scheduler": PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": offline_clip_tokenizer(),
        "safety_checker": None,
        "feature_extractor": None,
        "requires_safety_checker": False,
    }


def build_tiny_sd(folder: str | Path, seed: int = 0, *, vae_seed: int | None = None) -> Path:
    """Save a tiny SD 1.x text-to-image pipeline at ``folder`` (diffusers format) and return the path."""
    from diffusers import StableDiffusionPipeline

    folder = Path(folder)
    pipe = StableDiffusionPipeline(**tiny_sd_components(seed, vae_seed=vae_seed))
    pipe.save_pretrained(folder, safe_serialization=True)
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed}))
    return folder
