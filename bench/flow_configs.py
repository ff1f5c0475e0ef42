"""Full-size FLUX.1 dev and SD 3.5 Large, from their published configurations (written inline: no Hub here).

The GPU throughput benchmark builds them with random weights (speed does not depend on the values). Parameter
counts are checked on the meta device against the published ones (``check``): seconds, no memory, no GPU.
"""

from __future__ import annotations

# black-forest-labs/FLUX.1-dev: transformer/config.json, vae/config.json; the text encoders are CLIP-L (its
# text tower, no projection) and the T5 v1.1 XXL encoder.
FLUX_DEV_TRANSFORMER = dict(
    attention_head_dim=128, axes_dims_rope=[16, 56, 56], guidance_embeds=True, in_channels=64,
    joint_attention_dim=4096, num_attention_heads=24, num_layers=19, num_single_layers=38, patch_size=1,
    pooled_projection_dim=768,
)
FLOW_VAE = dict(
    act_fn="silu", block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
    force_upcast=True, in_channels=3, latent_channels=16, layers_per_block=2, mid_block_add_attention=True,
    norm_num_groups=32, out_channels=3, sample_size=1024, up_block_types=["UpDecoderBlock2D"] * 4,
    use_post_quant_conv=False, use_quant_conv=False,
)
FLUX_VAE = dict(FLOW_VAE, scaling_factor=0.3611, shift_factor=0.1159)
SD3_VAE = dict(FLOW_VAE, scaling_factor=1.5305, shift_factor=0.0609)
# stabilityai/stable-diffusion-3.5-large: transformer/config.json
SD35_LARGE_TRANSFORMER = dict(
    attention_head_dim=64, caption_projection_dim=2432, in_channels=16, joint_attention_dim=4096,
    num_attention_heads=38, num_layers=38, out_channels=16, patch_size=2, pooled_projection_dim=2048,
    pos_embed_max_size=192, qk_norm="rms_norm", sample_size=128,
)
T5_XXL = dict(  # google/t5-v1_1-xxl, encoder only (text_encoder_2 of FLUX, text_encoder_3 of SD 3.5)
    d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=24, feed_forward_proj="gated-gelu",
    vocab_size=32128, relative_attention_num_buckets=32, relative_attention_max_distance=128,
    dense_act_fn="gelu_new", is_gated_act=True, layer_norm_epsilon=1e-6, tie_word_embeddings=False,
)
CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
              max_position_embeddings=77, vocab_size=49408, hidden_act="quick_gelu", projection_dim=768,
              bos_token_id=0, eos_token_id=2, pad_token_id=1)
CLIP_BIG_G = dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=20, num_hidden_layers=32,
                  max_position_embeddings=77, vocab_size=49408, hidden_act="gelu", projection_dim=1280,
                  bos_token_id=0, eos_token_id=2, pad_token_id=1)
FLUX_SCHEDULER = dict(base_image_seq_len=256, base_shift=0.5, max_image_seq_len=4096, max_shift=1.15, shift=3.0,
                      use_dynamic_shifting=True)
SD3_SCHEDULER = dict(shift=3.0)

# Published parameter counts (millions): FLUX.1 dev's transformer 11.9 B (BFL), the T5 v1.1 XXL encoder 4.76 B,
# SD 3.5 Large's MMDiT 8.1 B (Stability AI, rounded: the configuration gives 8.06 B).
PUBLISHED_PARAMS_M = {"flux-dev transformer": 11901.4, "t5-xxl encoder": 4762.3, "sd35-large transformer": 8100.0}
TOLERANCE = {"sd35-large transformer": 0.01}  # the model card rounds to 0.1 B


def modules(name: str) -> dict:
    """The full-size random modules of ``name`` ("flux-dev" or "sd35-large"), on the current default device."""
    from diffusers import AutoencoderKL, FluxTransformer2DModel, SD3Transformer2DModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        T5Config,
        T5EncoderModel,
    )

    if name == "flux-dev":
        return dict(transformer=FluxTransformer2DModel(**FLUX_DEV_TRANSFORMER), vae=AutoencoderKL(**FLUX_VAE),
                    text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)),
                    text_encoder_2=T5EncoderModel(T5Config(**T5_XXL)))
    return dict(transformer=SD3Transformer2DModel(**SD35_LARGE_TRANSFORMER), vae=AutoencoderKL(**SD3_VAE),
                text_encoder=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_L)),
                text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G)),
                text_encoder_3=T5EncoderModel(T5Config(**T5_XXL)))


def counted_modules() -> dict:
    """The modules whose counts are published, built on the meta device: name → module."""
    import torch

    with torch.device("meta"):
        flux, sd35 = modules("flux-dev"), modules("sd35-large")
    return {"flux-dev transformer": flux["transformer"], "t5-xxl encoder": flux["text_encoder_2"],
            "sd35-large transformer": sd35["transformer"]}


def pipeline(name: str, modules_: dict):
    """The text-to-image pipeline of ``name`` around ``modules_``, with offline tokenizers of the real lengths."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        StableDiffusion3Pipeline,
    )

    from desktop.testing.tiny import offline_clip_tokenizer
    from desktop.testing.tiny_flow import offline_t5_tokenizer

    if name == "flux-dev":
        return FluxPipeline(**modules_, tokenizer=offline_clip_tokenizer(), tokenizer_2=offline_t5_tokenizer(),
                            scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER))
    return StableDiffusion3Pipeline(**modules_, tokenizer=offline_clip_tokenizer(),
                                    tokenizer_2=offline_clip_tokenizer(), tokenizer_3=offline_t5_tokenizer(),
                                    scheduler=FlowMatchEulerDiscreteScheduler(**SD3_SCHEDULER))
