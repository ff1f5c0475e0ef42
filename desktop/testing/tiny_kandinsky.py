"""A tiny random-weight Kandinsky 2.2 (prior + decoder) in diffusers format, for tests and smoke checks.

Real Kandinsky 2.2 comes as two repositories: the decoder (``kandinsky-community/kandinsky-2-2-decoder``:
UNet, MoVQ, scheduler) and the prior (``kandinsky-community/kandinsky-2-2-prior``: prior transformer, CLIP
text and image encoders). ``AutoPipelineForImage2Image.from_pretrained(decoder)`` builds the combined
``KandinskyV22Img2ImgCombinedPipeline`` and finds the prior through the ``prior:`` field of the decoder's
model card (README.md), diffusers' "connected pipes". The tiny one is laid out the same way, with the
decoder's model card naming the local prior folder, so it loads offline through that very mechanism.
Sizes follow diffusers' Kandinsky 2.2 dummy components; the MoVQ has four levels (scale factor 8, as real).
"""

from __future__ import annotations

import json
from pathlib import Path

from .tiny import TINY_SAMPLE_SIZE, offline_clip_tokenizer

_EMBED = 32  # CLIP projection size = prior embedding size = the decoder's image-embedding input
_CLIP_IMAGE = 28  # the image encoder's input side (only used for the empty-image embedding here)


def _mark(folder: Path, seed: int, kind: str) -> None:
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed, "kind": kind}))


def build_tiny_kandinsky_prior(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny Kandinsky 2.2 prior pipeline at ``folder`` and return the path."""
    import torch
    from diffusers import KandinskyV22PriorPipeline, PriorTransformer, UnCLIPScheduler
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModelWithProjection,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    folder = Path(folder)
    torch.manual_seed(seed)
    prior = PriorTransformer(num_attention_heads=2, attention_head_dim=12, embedding_dim=_EMBED, num_layers=1)
    # A fresh prior has clip_std = 0, which would collapse every embedding to the mean: use 1 as trained ones do.
    prior.clip_std = torch.nn.Parameter(torch.ones(prior.clip_std.shape))
    torch.manual_seed(seed)
    text_encoder = CLIPTextModelWithProjection(CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, hidden_size=_EMBED, projection_dim=_EMBED, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=5, pad_token_id=1, vocab_size=1000,
    ))
    torch.manual_seed(seed)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=_EMBED, image_size=_CLIP_IMAGE, projection_dim=_EMBED, intermediate_size=37,
        num_attention_heads=4, num_channels=3, num_hidden_layers=5, patch_size=14,
    ))
    image_processor = CLIPImageProcessor(
        crop_size=_CLIP_IMAGE, do_center_crop=True, do_normalize=True, do_resize=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073], image_std=[0.26862954, 0.26130258, 0.27577711],
        resample=3, size=_CLIP_IMAGE,
    )
    scheduler = UnCLIPScheduler(variance_type="fixed_small_log", prediction_type="sample", num_train_timesteps=1000,
                                clip_sample=True, clip_sample_range=10.0)
    pipe = KandinskyV22PriorPipeline(prior=prior, image_encoder=image_encoder, text_encoder=text_encoder,
                                     tokenizer=offline_clip_tokenizer(), scheduler=scheduler,
                                     image_processor=image_processor)
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, "kandinsky22-prior")
    return folder


def build_tiny_kandinsky(folder: str | Path, prior: str | Path, seed: int = 0) -> Path:
    """Save a tiny Kandinsky 2.2 decoder at ``folder`` whose model card names ``prior`` (a prior folder)."""
    import torch
    from diffusers import (
        DDPMScheduler,
        KandinskyV22Pipeline,
        UNet2DConditionModel,
        VQModel,
    )

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        in_channels=4,
        out_channels=8,  # mean and variance, as the real decoder predicts
        addition_embed_type="image",
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn",
        block_out_channels=(32, 64),
        layers_per_block=1,
        encoder_hid_dim=_EMBED,
        encoder_hid_dim_type="image_proj",
        cross_attention_dim=32,
        attention_head_dim=4,
        resnet_time_scale_shift="scale_shift",
        class_embed_type=None,
        sample_size=TINY_SAMPLE_SIZE,  # × the MoVQ's 8 = 64 px natural size (the real decoder leaves it unset)
    )
    torch.manual_seed(seed)
    movq = VQModel(
        block_out_channels=[32, 32, 32, 32],  # SpatialNorm needs multiples of 32
        down_block_types=["DownEncoderBlock2D"] * 3 + ["AttnDownEncoderBlock2D"],
        up_block_types=["AttnUpDecoderBlock2D"] + ["UpDecoderBlock2D"] * 3,
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        norm_type="spatial", num_vq_embeddings=12, vq_embed_dim=4,
    )
    # The real decoder's scheduler: DDPM with the settings of kandinsky-2-2-decoder.
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", beta_start=0.00085, beta_end=0.012,
                              clip_sample=False, steps_offset=1, prediction_type="epsilon", thresholding=False)
    KandinskyV22Pipeline(unet=unet, scheduler=scheduler, movq=movq).save_pretrained(folder, safe_serialization=True)
    # diffusers' connected pipes: the combined pipelines load the prior named in the model card's `prior` list.
    prior_path = Path(prior).resolve()
    (folder / "README.md").write_text(
        f"---\nprior:\n- {json.dumps(str(prior_path))}\ntags:\n- restyle-tiny-random\n---\n\n"
        "A tiny random-weight Kandinsky 2.2 decoder made by Restyle's tests; its output is noise.\n",
        encoding="utf-8",
    )
    _mark(folder, seed, "kandinsky22-decoder")
    return folder
