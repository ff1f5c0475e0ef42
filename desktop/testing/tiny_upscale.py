"""Tiny random-weight upscalers: a ×2 latent upscaler and a ×4 super-resolution pipeline, for tests and smoke checks.

Shapes follow diffusers' own ``get_dummy_components()`` for ``StableDiffusionLatentUpscalePipeline`` and
``StableDiffusionUpscalePipeline``; like ``tiny.py`` they are saved with ``save_pretrained`` and loaded back through
``from_pretrained``. The ×2 upscaler takes the VAE of a tiny SD model, as the real one shares SD's VAE, so latents
that model made can go straight in.
"""

from __future__ import annotations

import json
from pathlib import Path

from .tiny import offline_clip_tokenizer

_TEXT = dict(bos_token_id=0, eos_token_id=2, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05,
             num_attention_heads=4, num_hidden_layers=5, pad_token_id=1, vocab_size=1000)


def _mark(folder: Path, seed: int) -> None:
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed}))


def build_tiny_latent_upscaler(folder: str | Path, sd_model: str | Path, seed: int = 0) -> Path:
    """Save a tiny ×2 latent upscaler sharing the VAE of the tiny SD model at ``sd_model``; returns ``folder``."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionLatentUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        act_fn="gelu",
        attention_head_dim=8,
        norm_num_groups=None,
        block_out_channels=[32, 32, 64, 64],
        # 128 for the noise-level embedding the pipeline builds + the text encoder's pooled size (32).
        time_cond_proj_dim=160,
        conv_in_kernel=1,
        conv_out_kernel=1,
        cross_attention_dim=32,
        down_block_types=("KDownBlock2D", "KCrossAttnDownBlock2D", "KCrossAttnDownBlock2D", "KCrossAttnDownBlock2D"),
        in_channels=8,
        mid_block_type=None,
        only_cross_attention=False,
        out_channels=5,
        resnet_time_scale_shift="scale_shift",
        time_embedding_type="fourier",
        timestep_post_act="gelu",
        up_block_types=("KCrossAttnUpBlock2D", "KCrossAttnUpBlock2D", "KCrossAttnUpBlock2D", "KUpBlock2D"),
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(**_TEXT, hidden_act="quick_gelu", projection_dim=512))
    vae = AutoencoderKL.from_pretrained(Path(sd_model) / "vae", local_files_only=True)
    pipe = StableDiffusionLatentUpscalePipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=offline_clip_tokenizer(), unet=unet,
        scheduler=EulerDiscreteScheduler(prediction_type="sample"),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed)
    return folder


def build_tiny_x4_upscaler(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny ×4 super-resolution pipeline (its own three-level VAE: latents at pixel size ÷ 1, output ×4)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=7,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        use_linear_projection=True,
        only_cross_attention=(True, True, False),
        num_class_embeds=1000,  # as in the real one: every noise level up to max_noise_level (350) has a class
    )
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=[32, 32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 3,
        up_block_types=["UpDecoderBlock2D"] * 3,
        latent_channels=4,
        scaling_factor=0.08333,  # the real x4 upscaler's; the pipeline rewrites any other value with a warning
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(**_TEXT, hidden_act="gelu", projection_dim=512))
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=offline_clip_tokenizer(), unet=unet,
        low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"),
        max_noise_level=350,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed)
    return folder
