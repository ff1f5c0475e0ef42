"""Tiny random-weight ControlNets and a tiny depth-estimation model, for tests and smoke checks.

Like ``tiny.py`` they are saved with ``save_pretrained`` and loaded back through the same ``from_pretrained`` /
``pipeline("depth-estimation")`` paths as the real checkpoints, so those paths are what the tests exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

# The VAE in tiny.py has four levels (scale factor 8); the conditioning embedding halves the control image
# once per entry after the first, so four entries give 2**3 = 8 and its output matches the latent size.
TINY_CONDITIONING_CHANNELS = (8, 8, 16, 16)

# Small enough that an estimate takes milliseconds; a multiple of the backbone's patch size.
TINY_DEPTH_INPUT = 28


def _mark(folder: Path, seed: int) -> None:
    # A marker so a human browsing the folder knows these weights are noise.
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed}))


def _randomise_control_path(controlnet, seed: int) -> None:
    """Give the control path weights that let the control image through.

    A fresh ControlNet's output convolutions are zeros, so it adds nothing, and default initialisation shrinks the
    control image at every layer of the conditioning embedding; either way every depth map would give the same
    picture and a test could not tell whether the depth map reaches the UNet. Trained ControlNets do neither.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    embedding = controlnet.controlnet_cond_embedding
    outputs = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
    with torch.no_grad():
        for conv in [m for m in embedding.modules() if isinstance(m, torch.nn.Conv2d)] + outputs:
            fan_in = conv.weight[0].numel()
            # He initialisation keeps the signal's size through the SiLU layers.
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
            conv.bias.zero_()


def build_tiny_controlnet(folder: str | Path, base, seed: int = 0) -> Path:
    """Save a tiny ControlNet made from a tiny SD model folder or UNet at ``folder`` and return the path."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    folder = Path(folder)
    unet = base if isinstance(base, UNet2DConditionModel) else UNet2DConditionModel.from_pretrained(
        Path(base) / "unet", local_files_only=True)
    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=TINY_CONDITIONING_CHANNELS)
    _randomise_control_path(controlnet, seed)
    controlnet.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed)
    return folder


def build_tiny_sdxl_controlnet(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny ControlNet shaped like an SDXL one (text_time embedding, wider cross-attention)."""
    import torch
    from diffusers import ControlNetModel

    folder = Path(folder)
    torch.manual_seed(seed)
    # Sizes from diffusers' SDXL ControlNet dummy components: 80 = 32 pooled text dims + 6 size values × 8.
    controlnet = ControlNetModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        in_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        conditioning_embedding_out_channels=TINY_CONDITIONING_CHANNELS,
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=80,
        cross_attention_dim=64,
        norm_num_groups=16,
    )
    controlnet.save_pretrained(folder, safe_serialization=True)
    _mark(folder, seed)
    return folder


def build_tiny_depth_model(folder: str | Path, seed: int = 0) -> Path:
    """Save a tiny random Depth Anything model and its image processor at ``folder`` and return the path."""
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
    )

    try:  # transformers 5 has a PIL flavour that needs no torchvision; 4.x has only this one
        from transformers.models.dpt.image_processing_pil_dpt import (
            DPTImageProcessorPil as Processor,
        )
    except ImportError:
        from transformers import DPTImageProcessor as Processor

    folder = Path(folder)
    torch.manual_seed(seed)
    # The same architecture as Depth-Anything-V2-Small-hf (a DINOv2 backbone and a DPT head), shrunk.
    backbone = Dinov2Config(
        image_size=TINY_DEPTH_INPUT, patch_size=14, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
        intermediate_size=32, out_indices=[1, 2, 3, 4], reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone, patch_size=14, reassemble_hidden_size=16, neck_hidden_sizes=[8, 8, 16, 16],
        fusion_hidden_size=8, head_hidden_size=8,
    )
    DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    # Saved as "DPTImageProcessor" like the real one; AutoImageProcessor picks the flavour the machine can run.
    processor = Processor(
        size={"height": TINY_DEPTH_INPUT, "width": TINY_DEPTH_INPUT}, keep_aspect_ratio=True,
        ensure_multiple_of=14, do_pad=False, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
    )
    processor.save_pretrained(folder)
    _mark(folder, seed)
    return folder
