"""Tiny random-weight SDXL models (a base and a refiner) in diffusers format, for tests and smoke checks.

Shaped like diffusers' own SDXL dummy components: the base has two text encoders (``CLIPTextModel`` and
``CLIPTextModelWithProjection``) and the refiner only the second, with ``requires_aesthetics_score`` so its UNet
takes the aesthetic score in its time embedding. Both share one VAE (four levels, scale factor 8 as in the real
SDXL), so a base result chains into the refiner in latent space as in the diffusers guide's base → refiner flow.
Saved with ``save_pretrained`` and loaded back through the same ``from_pretrained`` path as real checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

from .tiny import TINY_SAMPLE_SIZE, offline_clip_tokenizer

_TEXT_HIDDEN = 32
_TIME_EMBED = 8  # addition_time_embed_dim: each size/crop/score value is embedded into 8 numbers


def _mark(folder: Path, seed: int, kind: str) -> None:
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed, "kind": kind}))


def _text_encoders(seed: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, hidden_size=_TEXT_HIDDEN, intermediate_size=37, layer_norm_eps=1e-05,
        num_attention_heads=4, num_hidden_layers=5, pad_token_id=1, vocab_size=1000, hidden_act="gelu",
        projection_dim=_TEXT_HIDDEN,
    )
    torch.manual_seed(seed)
    first = CLIPTextModel(config)
    torch.manual_seed(seed + 1)
    second = CLIPTextModelWithProjection(config)
    return first, second


def _unet(seed: int, *, refiner: bool):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    # Time ids: original size, crop corner and target size (6 values) for the base; the refiner swaps the
    # target size for the aesthetic score (5 values). Each becomes 8 numbers, plus the pooled text embedding.
    time_values = 5 if refiner else 6
    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=TINY_SAMPLE_SIZE,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=_TIME_EMBED,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=time_values * _TIME_EMBED + _TEXT_HIDDEN,
        # The base concatenates both encoders' hidden states; the refiner has only the second.
        cross_attention_dim=_TEXT_HIDDEN if refiner else 2 * _TEXT_HIDDEN,
        norm_num_groups=16,
    )


def _vae(seed: int):
    from .tiny import tiny_sd_components

    return tiny_sd_components(seed)["vae"]


def _scheduler():
    from diffusers import EulerDiscreteScheduler

    # The real SDXL scheduler's settings.
    return EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1, beta_schedule="scaled_linear",
                                  timestep_spacing="leading")


def tiny_sdxl_components(seed: int = 0, *, vae_seed: int = 0) -> dict:
    """The modules of a tiny SDXL base pipeline with deterministic random weights."""
    first, second = _text_encoders(seed)
    return dict(vae=_vae(vae_seed), text_encoder=first, text_encoder_2=second, tokenizer=offline_clip_tokenizer(),
                tokenizer_2=offline_clip_tokenizer(), unet=_unet(seed, refiner=False), scheduler=_scheduler())


def build_tiny_sdxl(folder: str | Path, seed: int = 0, *, vae_seed: int = 0) -> Path:
    """Save a tiny SDXL base text-to-image pipeline (two text encoders) at ``folder`` and return the path."""
    from diffusers import StableDiffusionXLPipeline

    folder = Path(folder)
    pipe = StableDiffusionXLPipeline(**tiny_sdxl_components(seed, vae_seed=vae_seed))
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, "sdxl-base")
    return folder


def build_tiny_sdxl_refiner(folder: str | Path, seed: int = 0, *, vae_seed: int = 0) -> Path:
    """Save a tiny SDXL refiner (second text encoder only, aesthetic-score conditioning) at ``folder``."""
    from diffusers import StableDiffusionXLImg2ImgPipeline

    folder = Path(folder)
    _, second = _text_encoders(seed)
    pipe = StableDiffusionXLImg2ImgPipeline(
        vae=_vae(vae_seed), text_encoder=None, text_encoder_2=second, tokenizer=None,
        tokenizer_2=offline_clip_tokenizer(), unet=_unet(seed + 7, refiner=True), scheduler=_scheduler(),
        requires_aesthetics_score=True, force_zeros_for_empty_prompt=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, "sdxl-refiner")
    return folder
