"""Tiny single-file checkpoints, written the way model-sharing sites publish them (original LDM key names).

Tests build one from a tiny diffusers folder to check the ``from_single_file`` path against the folder path:
the same weights must give the same pixels. The key mapping below covers the SD 1.x layout of the tiny models
(UNet with cross-attention blocks, four-level VAE, CLIP text encoder); it is not a general converter.
"""

from __future__ import annotations

from pathlib import Path


def _unet_keys(config: dict) -> dict[str, str]:
    """Prefix renames diffusers → LDM for a UNet2DConditionModel with ``config``."""
    per = config["layers_per_block"]
    levels = len(config["block_out_channels"])
    up_attn = ["CrossAttn" in t for t in config["up_block_types"]]
    renames = {
        "time_embedding.linear_1.": "time_embed.0.", "time_embedding.linear_2.": "time_embed.2.",
        "conv_in.": "input_blocks.0.0.", "conv_norm_out.": "out.0.", "conv_out.": "out.2.",
        "mid_block.resnets.0.": "middle_block.0.", "mid_block.attentions.0.": "middle_block.1.",
        "mid_block.resnets.1.": "middle_block.2.",
    }
    for i in range(levels):
        for j in range(per):
            renames[f"down_blocks.{i}.resnets.{j}."] = f"input_blocks.{i * (per + 1) + j + 1}.0."
            renames[f"down_blocks.{i}.attentions.{j}."] = f"input_blocks.{i * (per + 1) + j + 1}.1."
        renames[f"down_blocks.{i}.downsamplers.0.conv."] = f"input_blocks.{(i + 1) * (per + 1)}.0.op."
        for j in range(per + 1):
            renames[f"up_blocks.{i}.resnets.{j}."] = f"output_blocks.{i * (per + 1) + j}.0."
            renames[f"up_blocks.{i}.attentions.{j}."] = f"output_blocks.{i * (per + 1) + j}.1."
        renames[f"up_blocks.{i}.upsamplers.0."] = f"output_blocks.{i * (per + 1) + per}.{2 if up_attn[i] else 1}."
    return renames


_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
           "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename(key: str, renames: dict[str, str]) -> tuple[str, str]:
    """(new prefix + rest, rest) for the longest matching prefix; the key itself when none matches."""
    for old in sorted(renames, key=len, reverse=True):
        if key.startswith(old):
            return renames[old] + key[len(old):], key[len(old):]
    return key, ""


def unet_to_ldm(state: dict, config: dict) -> dict:
    """A diffusers UNet state dict with LDM names under ``model.diffusion_model.``."""
    renames = _unet_keys(config)
    out = {}
    for key, value in state.items():
        new, rest = _rename(key, renames)
        if ".resnets." in key or key.startswith("mid_block.resnets"):
            part, _, tail = rest.partition(".")
            new = new[: len(new) - len(rest)] + _RESNET.get(part, part) + "." + tail
        out["model.diffusion_model." + new] = value
    return out


def vae_to_ldm(state: dict, config: dict) -> dict:
    """A diffusers AutoencoderKL state dict with LDM names under ``first_stage_model.``."""
    levels = len(config["block_out_channels"])
    renames = {"encoder.conv_norm_out.": "encoder.norm_out.", "decoder.conv_norm_out.": "decoder.norm_out."}
    for side in ("encoder", "decoder"):
        renames[f"{side}.mid_block.resnets.0."] = f"{side}.mid.block_1."
        renames[f"{side}.mid_block.resnets.1."] = f"{side}.mid.block_2."
        renames[f"{side}.mid_block.attentions.0."] = f"{side}.mid.attn_1."
    for i in range(levels):
        for j in range(config["layers_per_block"] + 1):
            renames[f"encoder.down_blocks.{i}.resnets.{j}."] = f"encoder.down.{i}.block.{j}."
            renames[f"decoder.up_blocks.{i}.resnets.{j}."] = f"decoder.up.{levels - 1 - i}.block.{j}."
        renames[f"encoder.down_blocks.{i}.downsamplers.0."] = f"encoder.down.{i}.downsample."
        renames[f"decoder.up_blocks.{i}.upsamplers.0."] = f"decoder.up.{levels - 1 - i}.upsample."
    out = {}
    for key, value in state.items():
        new, rest = _rename(key, renames)
        shape = value.shape
        if ".mid.attn_1." in new:
            part, _, tail = rest.rpartition(".")
            new = new[: len(new) - len(rest)] + _VAE_ATTN.get(part, part) + "." + tail
            if value.ndim == 2:  # LDM keeps these as 1×1 convolutions
                shape = (*value.shape, 1, 1)
        new = new.replace("conv_shortcut", "nin_shortcut")
        out["first_stage_model." + new] = value.reshape(shape)
    return out


def save_tiny_single_file(folder: str | Path, target: str | Path) -> Path:
    """Write the tiny diffusers model at ``folder`` as one LDM-style ``.safetensors`` file at ``target``."""
    import json

    from safetensors.torch import load_file, save_file

    folder, target = Path(folder), Path(target)
    unet_config = json.loads((folder / "unet" / "config.json").read_text())
    vae_config = json.loads((folder / "vae" / "config.json").read_text())
    state = {
        **unet_to_ldm(load_file(folder / "unet" / "diffusion_pytorch_model.safetensors"), unet_config),
        **vae_to_ldm(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"), vae_config),
    }
    text = load_file(folder / "text_encoder" / "model.safetensors")
    for name, value in text.items():
        key = name if name.startswith("text_model.") else "text_model." + name
        state["cond_stage_model.transformer." + key] = value
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, target)
    return target
