"""Tiny random LoRAs, embeddings and an IP-Adapter that fit the tiny models, saved in the formats users have.

- LoRAs in the diffusers/PEFT layout (``unet.….lora_A.weight``) and the kohya/AUTOMATIC1111 layout
  (``lora_unet_…\u200b.lora_down.weight`` with ``.alpha``), for the tiny SD 1.x and SDXL models, with text-encoder
  parts (``lora_te_`` for SD, ``lora_te1_``/``lora_te2_`` for SDXL). The weights are large enough that a LoRA
  visibly changes a tiny model's picture.
- Embeddings as AUTOMATIC1111 ``.safetensors`` (``emb_params``, SDXL ``clip_l``/``clip_g``), AUTOMATIC1111 ``.pt``
  (``string_to_param``) and diffusers ``learned_embeds.safetensors``.
- An IP-Adapter (``image_proj.*`` and ``ip_adapter.<n>.to_k_ip/to_v_ip``) with a tiny CLIP image encoder folder
  beside it, laid out as ``h94/IP-Adapter`` lays out ``models/``.
"""

from __future__ import annotations

import json
from pathlib import Path

_UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
_TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")


def _model_modules(model_folder: Path) -> dict:
    """The UNet and text encoders of a saved tiny model (their shapes are what a LoRA must fit)."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    model_folder = Path(model_folder)
    modules = {"unet": UNet2DConditionModel.from_pretrained(model_folder / "unet")}
    if (model_folder / "text_encoder").is_dir():
        modules["text_encoder"] = CLIPTextModel.from_pretrained(model_folder / "text_encoder")
    if (model_folder / "text_encoder_2").is_dir():
        modules["text_encoder_2"] = CLIPTextModelWithProjection.from_pretrained(model_folder / "text_encoder_2")
    return modules


def _pairs(module, targets, rank: int, generator, scale: float):
    import torch

    for name, layer in module.named_modules():
        if isinstance(layer, torch.nn.Linear) and any(name.endswith("." + t) or name == t for t in targets):
            down = torch.randn(rank, layer.in_features, generator=generator) * scale
            up = torch.randn(layer.out_features, rank, generator=generator) * scale
            yield name, down, up


def build_tiny_lora(path: str | Path, model_folder: str | Path, *, fmt: str = "kohya", seed: int = 0,
                    rank: int = 4, scale: float = 0.3, text_encoder: bool = True) -> Path:
    """Save a random LoRA for the tiny model at ``model_folder`` as ``path`` (.safetensors) in ``fmt``
    ("kohya" or "diffusers"); returns the path."""
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    modules = _model_modules(Path(model_folder))
    sdxl = "text_encoder_2" in modules
    generator = torch.Generator().manual_seed(seed)
    tensors: dict = {}
    parts = [("unet", "lora_unet_", _UNET_TARGETS)]
    if text_encoder:
        parts += [("text_encoder", "lora_te1_" if sdxl else "lora_te_", _TEXT_TARGETS),
                  ("text_encoder_2", "lora_te2_", _TEXT_TARGETS)]
    for component, kohya_prefix, targets in parts:
        if component not in modules:
            continue
        for name, down, up in _pairs(modules[component], targets, rank, generator, scale):
            if fmt == "kohya":
                key = kohya_prefix + name.replace(".", "_")
                tensors[f"{key}.lora_down.weight"] = down.contiguous()
                tensors[f"{key}.lora_up.weight"] = up.contiguous()
                tensors[f"{key}.alpha"] = torch.tensor(float(rank))
            elif fmt == "diffusers":
                tensors[f"{component}.{name}.lora_A.weight"] = down.contiguous()
                tensors[f"{component}.{name}.lora_B.weight"] = up.contiguous()
            else:
                raise ValueError(f"unknown LoRA format {fmt!r}")
    metadata = {"ss_base_model_version": "sdxl_base_v1-0" if sdxl else "sd_v1"} if fmt == "kohya" else None
    save_file(tensors, str(path), metadata=metadata)
    return path


def build_tiny_embedding(path: str | Path, model_folder: str | Path, *, fmt: str = "a1111", vectors: int = 2,
                         seed: int = 0, scale: float = 1.0) -> Path:
    """Save a random textual-inversion embedding for the tiny model as ``path``; ``fmt``: "a1111"
    (.safetensors, emb_params or clip_l/clip_g), "a1111_pt" (.pt, string_to_param) or "diffusers"
    (learned_embeds: one tensor under the token's name)."""
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    modules = _model_modules(Path(model_folder))
    generator = torch.Generator().manual_seed(seed)

    def random_rows(encoder_name: str):
        width = modules[encoder_name].get_input_embeddings().weight.shape[1]
        return (torch.randn(vectors, width, generator=generator) * scale).contiguous()

    if "text_encoder_2" in modules:
        if fmt != "a1111":
            raise ValueError("SDXL embeddings are written in the A1111 clip_l/clip_g layout")
        save_file({"clip_l": random_rows("text_encoder"), "clip_g": random_rows("text_encoder_2")}, str(path))
    elif fmt == "a1111":
        save_file({"emb_params": random_rows("text_encoder")}, str(path))
    elif fmt == "a1111_pt":
        torch.save({"string_to_param": {"*": random_rows("text_encoder")}, "name": path.stem, "step": 100}, path)
    elif fmt == "diffusers":
        save_file({path.stem: random_rows("text_encoder")}, str(path))
    else:
        raise ValueError(f"unknown embedding format {fmt!r}")
    return path


def build_tiny_ip_adapter(folder: str | Path, model_folder: str | Path, *, seed: int = 0) -> Path:
    """Save ``folder/ip-adapter_tiny.safetensors`` fitting the tiny model's UNet and ``folder/image_encoder`` (a
    tiny CLIP vision model with projection); returns the weights file."""
    import torch
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    unet = _model_modules(Path(model_folder))["unet"]
    cross = unet.config.cross_attention_dim
    torch.manual_seed(seed)
    embed_dim = 32
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=embed_dim, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        image_size=32, patch_size=8, num_channels=3))
    encoder.save_pretrained(folder / "image_encoder")
    projection = ImageProjection(cross_attention_dim=cross, image_embed_dim=embed_dim, num_image_text_embeds=4)
    tensors = {f"image_proj.{k.replace('image_embeds', 'proj')}": v.contiguous()
               for k, v in projection.state_dict().items()}
    generator = torch.Generator().manual_seed(seed)
    channels = unet.config.block_out_channels
    key_id = 1
    # One pair per cross-attention processor, numbered 1, 3, 5, … in the UNet's order, as diffusers reads them.
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn(hidden, cross, generator=generator) * 0.5
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn(hidden, cross, generator=generator) * 0.5
        key_id += 2
    target = folder / "ip-adapter_tiny.safetensors"
    save_file(tensors, str(target))
    (folder / "RESTYLE_TINY_RANDOM_MODEL.json").write_text(json.dumps({"seed": seed, "kind": "ip-adapter"}))
    return target
