"""Tiny random-weight SD 3 / 3.5, FLUX.1 and FLUX.1 Kontext models in diffusers format, for tests and smoke checks.

Shaped like diffusers' own dummy components (tests/pipelines/stable_diffusion_3, flux), but with the real
families' 16-channel latent space: a four-level VAE (scale factor 8) without quant convs, each family's own
``scaling_factor`` and ``shift_factor``, SD3's patch size 2 and FLUX's 2×2 packing (transformer ``in_channels``
= 4 × 16). The T5 tokenizer is built offline from a piece list, as the CLIP one is. Saved with
``save_pretrained`` and loaded back through the same ``from_pretrained`` path as real checkpoints.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from .tiny import TINY_SAMPLE_SIZE, offline_clip_tokenizer

_CLIP_HIDDEN = 32
_T5_VOCAB = 200
# The real VAEs' latent scaling (diffusers' configs of SD 3.5 and FLUX.1): previews and decoding depend on them.
SD3_VAE = {"scaling_factor": 1.5305, "shift_factor": 0.0609}
FLUX_VAE = {"scaling_factor": 0.3611, "shift_factor": 0.1159}


def offline_t5_tokenizer():
    """A T5 tokenizer built without the Hub: one piece per printable character (and its word-start form)."""
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    for char in string.ascii_letters + string.digits + string.punctuation:
        pieces += [("▁" + char, -3.0), (char, -4.0)]
    # model_max_length as the real T5 tokenizers of SD3 and FLUX say; unset it would be 1e30.
    return T5TokenizerFast(vocab=pieces, extra_ids=0, model_max_length=512)


def _t5(seed: int, width: int):
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    return T5EncoderModel(T5Config(vocab_size=_T5_VOCAB, d_model=width, d_ff=37, d_kv=8, num_heads=4, num_layers=2,
                                   relative_attention_num_buckets=8, decoder_start_token_id=0, pad_token_id=0,
                                   eos_token_id=1))


def _clip(seed: int, *, projection: bool):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(bos_token_id=0, eos_token_id=2, hidden_size=_CLIP_HIDDEN, intermediate_size=37,
                            layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, pad_token_id=1,
                            vocab_size=1000, hidden_act="gelu", projection_dim=_CLIP_HIDDEN)
    torch.manual_seed(seed)
    return CLIPTextModelWithProjection(config) if projection else CLIPTextModel(config)


def tiny_flow_vae(seed: int, scaling: dict):
    """A 16-channel AutoencoderKL with four levels (scale factor 8) and no quant convs, as SD3's and FLUX's."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        block_out_channels=(16, 16, 32, 32), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=16, norm_num_groups=8, layers_per_block=1, sample_size=TINY_SAMPLE_SIZE * 8,
        use_quant_conv=False, use_post_quant_conv=False, **scaling,
    )


def _mark(folder: Path, seed: int, kind: str) -> None:
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed, "kind": kind}))


def build_tiny_sd3(folder: str | Path, seed: int = 0, *, vae_seed: int = 0) -> Path:
    """Save a tiny SD 3 text-to-image pipeline (two CLIP encoders and T5) at ``folder`` and return the path."""
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )

    folder = Path(folder)
    torch.manual_seed(seed)
    # joint_attention_dim = T5's width (the two CLIP widths side by side are padded to it, as in the real model);
    # pooled_projection_dim = the two pooled CLIP outputs side by side.
    transformer = SD3Transformer2DModel(
        sample_size=TINY_SAMPLE_SIZE, patch_size=2, in_channels=16, out_channels=16, num_layers=2,
        attention_head_dim=8, num_attention_heads=4, joint_attention_dim=2 * _CLIP_HIDDEN,
        caption_projection_dim=32, pooled_projection_dim=2 * _CLIP_HIDDEN, pos_embed_max_size=96,
    )
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=tiny_flow_vae(vae_seed, SD3_VAE), text_encoder=_clip(seed, projection=True),
        text_encoder_2=_clip(seed + 1, projection=True), text_encoder_3=_t5(seed, 2 * _CLIP_HIDDEN),
        tokenizer=offline_clip_tokenizer(), tokenizer_2=offline_clip_tokenizer(), tokenizer_3=offline_t5_tokenizer(),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, "sd3")
    return folder


def tiny_flux_transformer(seed: int, *, guidance: bool = True):
    """A FLUX transformer over packed 16-channel latents (64 inputs); ``guidance`` = dev's distilled guidance."""
    import torch
    from diffusers import FluxTransformer2DModel

    torch.manual_seed(seed)
    return FluxTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=_CLIP_HIDDEN, pooled_projection_dim=_CLIP_HIDDEN,
        axes_dims_rope=[4, 4, 8], guidance_embeds=guidance,
    )


def build_tiny_flux(folder: str | Path, seed: int = 0, *, kontext: bool = False, schnell: bool = False,
                    vae_seed: int = 0) -> Path:
    """Save a tiny FLUX.1 pipeline (dev; ``schnell`` without guidance; ``kontext`` the edit pipeline)."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        FluxKontextPipeline,
        FluxPipeline,
    )

    folder = Path(folder)
    pipe_class = FluxKontextPipeline if kontext else FluxPipeline
    # The real FLUX.1 dev scheduler config: the shift follows the image's token count.
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=not schnell, base_shift=0.5,
                                                max_shift=1.15, base_image_seq_len=256, max_image_seq_len=4096)
    pipe = pipe_class(
        transformer=tiny_flux_transformer(seed, guidance=not schnell), scheduler=scheduler,
        vae=tiny_flow_vae(vae_seed, FLUX_VAE), text_encoder=_clip(seed, projection=False),
        text_encoder_2=_t5(seed, _CLIP_HIDDEN), tokenizer=offline_clip_tokenizer(), tokenizer_2=offline_t5_tokenizer(),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed, "flux-kontext" if kontext else "flux-schnell" if schnell else "flux-dev")
    return folder


def build_tiny_flux_controlnet(folder: str | Path, flux_folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny random FluxControlNetModel shaped like the tiny FLUX's transformer (it takes the depth map as
    VAE latents, as Shakker-Labs' FLUX.1 dev depth ControlNet does)."""
    import torch
    from diffusers import FluxControlNetModel, FluxTransformer2DModel

    folder = Path(folder)
    transformer = FluxTransformer2DModel.from_pretrained(Path(flux_folder) / "transformer")
    torch.manual_seed(seed)
    controlnet = FluxControlNetModel.from_transformer(transformer, num_layers=1, num_single_layers=1,
                                                      attention_head_dim=16, num_attention_heads=2,
                                                      load_weights_from_transformer=False)
    controlnet.save_pretrained(folder)
    return folder


def write_tiny_gguf(transformer_folder: str | Path, path: str | Path) -> Path:
    """Write a saved tiny transformer's weights as a GGUF file, Q8_0-quantized where the rows allow it (as the
    community's GGUF files are: 2-D weights quantized, norms and biases kept in float)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    path = Path(path)
    state = {}
    for file in sorted(Path(transformer_folder).glob("*.safetensors")):
        state.update(load_file(str(file)))
    writer = gguf.GGUFWriter(str(path), arch="flux")
    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0]
    for name, tensor in state.items():
        array = tensor.astype(np.float32)
        if array.ndim == 2 and array.shape[-1] % block == 0:
            data = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
