"""SD 3.5 and FLUX.1 weights that fit the card: transformer-only files (GGUF or safetensors), T5 left out, and
bitsandbytes / torchao quantization where those packages are installed.

A GGUF file (city96's FLUX.1 and SD 3.5 quantizations, ComfyUI's format) or a one-file safetensors transformer
holds only the transformer. Restyle tells which model it belongs to from its keys (the original BFL/SAI names via
diffusers' ``infer_diffusers_model_type``, or diffusers' own names), takes everything else (text encoders, VAE,
scheduler and the transformer's config) from that base model in the Hugging Face cache, and loads the file with
``from_single_file`` (``GGUFQuantizationConfig`` for GGUF: the weights stay quantized in memory and are
dequantized layer by layer as they run).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import RestyleError, bad_input, model_missing
from desktop.core.hubcache import is_offline

log = logging.getLogger(__name__)

# diffusers' model types of transformer-only files → (the name users know, the base repository on the Hub).
TRANSFORMER_BASES = {
    "flux-dev": ("FLUX.1 dev", "black-forest-labs/FLUX.1-dev"),
    "flux-schnell": ("FLUX.1 schnell", "black-forest-labs/FLUX.1-schnell"),
    "flux-kontext": ("FLUX.1 Kontext dev", "black-forest-labs/FLUX.1-Kontext-dev"),
    "sd3": ("SD 3 Medium", "stabilityai/stable-diffusion-3-medium-diffusers"),
    "sd35_medium": ("SD 3.5 Medium", "stabilityai/stable-diffusion-3.5-medium"),
    "sd35_large": ("SD 3.5 Large", "stabilityai/stable-diffusion-3.5-large"),
}

QUANTIZATION_LABELS = {"bnb-8bit": "8-bit (bitsandbytes)", "bnb-4bit": "4-bit NF4 (bitsandbytes)",
                       "torchao-int8": "int8 weights (torchao)"}


def read_gguf_keys(path: Path) -> dict:
    """A GGUF file's tensor names mapped to empty tensors of their logical shapes (nothing is dequantized)."""
    import gguf
    import torch

    reader = gguf.GGUFReader(str(path))
    # GGUF lists dimensions innermost first; torch's order is the reverse.
    return {t.name: torch.empty([int(n) for n in reversed(t.shape)], device="meta") for t in reader.tensors}


def transformer_type(keys: dict, path: Path) -> str | None:
    """The TRANSFORMER_BASES key of a transformer-only checkpoint, or None when it is something else."""
    if "single_transformer_blocks.0.proj_mlp.weight" in keys:  # diffusers' FluxTransformer2DModel names
        model_type = "flux-dev" if "time_text_embed.guidance_embedder.linear_1.weight" in keys else "flux-schnell"
    elif "pos_embed.proj.weight" in keys and "transformer_blocks.0.ff_context.net.0.proj.weight" in keys:
        model_type = "sd35_medium" if "transformer_blocks.0.attn2.to_q.weight" in keys else (
            "sd35_large" if "transformer_blocks.37.attn.to_q.weight" in keys else "sd3")
    else:
        from diffusers.loaders.single_file_utils import infer_diffusers_model_type

        model_type = infer_diffusers_model_type(keys)
    if model_type not in TRANSFORMER_BASES:
        return None
    if model_type == "flux-dev" and "kontext" in path.name.lower():
        # Kontext's transformer has FLUX.1 dev's shapes; only the file's name says which it is.
        return "flux-kontext"
    return model_type


def load_transformer_file(path: Path, model_type: str, dtype, status: Callable[[str], None], runtime=None):
    """The img2img pipeline of the base model with its transformer read from ``path`` (GGUF or safetensors)."""
    import diffusers
    from diffusers import AutoPipelineForImage2Image

    from .hub import cached_snapshot, first_line

    label, repo = TRANSFORMER_BASES[model_type]
    base = cached_snapshot(repo)
    if base is None and is_offline():
        raise model_missing(
            f"{path.name} holds only the transformer of {label}; the rest (text encoders, VAE, configs) comes from "
            f"{repo}, which is not in the local Hugging Face cache, and Restyle is offline. Download {repo} from "
            "the model library (it may need a Hub login and its licence accepted), then load the file again."
        )
    transformer_class = getattr(diffusers, "FluxTransformer2DModel" if model_type.startswith("flux")
                                else "SD3Transformer2DModel")
    kwargs: dict = {"torch_dtype": dtype}
    gguf = path.suffix.lower() == ".gguf"
    if gguf:
        from diffusers import GGUFQuantizationConfig

        # Weights stay quantized; each layer is dequantized to the compute dtype as it runs.
        kwargs["quantization_config"] = GGUFQuantizationConfig(compute_dtype=dtype)
    where = {"config": str(base), "local_files_only": True} if base is not None else {"config": repo}
    status(f"Loading {path.name} ({label} transformer{', GGUF-quantized' if gguf else ''}; the rest from {repo})…")
    try:
        transformer = transformer_class.from_single_file(str(path), subfolder="transformer", **where, **kwargs)
        rest = flow_load_kwargs(_index_of(base), runtime, dtype, skip=("transformer",))
        if base is not None:
            pipe = AutoPipelineForImage2Image.from_pretrained(str(base), transformer=transformer, torch_dtype=dtype,
                                                              local_files_only=True, **rest)
        else:  # online: the base's other components are downloaded once, never its own transformer weights
            pipe = AutoPipelineForImage2Image.from_pretrained(repo, transformer=transformer, torch_dtype=dtype, **rest)
    except RestyleError:
        raise
    except Exception as exc:  # every failure becomes one sentence; the traceback goes to the log
        log.exception("loading %s failed", path)
        raise model_missing(f"{path.name} could not be loaded as a {label} transformer: {first_line(exc)}") from exc
    return pipe


def _index_of(folder: Path | None) -> dict:
    import json

    if folder is None:
        return {"text_encoder_3": None, "transformer": None}
    try:
        return json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def flow_load_kwargs(index: dict, runtime, dtype, *, skip: tuple[str, ...] = ()) -> dict:
    """``from_pretrained`` arguments for the memory settings: SD 3 without T5, a quantized transformer and T5."""
    kwargs: dict = {}
    if runtime is None:
        return kwargs
    if "text_encoder_3" in index and not runtime.t5_encoder:
        kwargs.update(text_encoder_3=None, tokenizer_3=None)
    config = quantization_config(runtime.quantization, index, dtype, skip=skip, t5=runtime.t5_encoder)
    if config is not None:
        kwargs["quantization_config"] = config
    return kwargs


def check_quantization(name: str, device: str) -> None:
    """Refuse, with a sentence, a quantization whose package is missing or that cannot run on ``device``."""
    if name == "none":
        return
    package = "bitsandbytes" if name.startswith("bnb") else "torchao"
    if importlib.util.find_spec(package) is None:
        raise bad_input(
            f"{QUANTIZATION_LABELS[name]} quantization needs the {package} package, which is not installed here. "
            f"Install it (pip install {package}) or set Quantization to none; a GGUF-quantized transformer file "
            "(.gguf) needs no extra package."
        )
    if package == "bitsandbytes" and device.split(":")[0] != "cuda":
        raise bad_input(f"{QUANTIZATION_LABELS[name]} quantization runs on CUDA GPUs only; set Quantization to none "
                        "here, or use a GGUF-quantized transformer file (.gguf).")


def quantization_config(name: str, index: dict, dtype, *, skip: tuple[str, ...] = (), t5: bool = True):
    """diffusers' PipelineQuantizationConfig for the transformer and T5 of an SD 3 / FLUX model, or None."""
    if name == "none" or "transformer" not in index:
        return None  # UNet families are small enough; the setting is for the 8–12 B transformers
    from diffusers import PipelineQuantizationConfig

    backend, quant_kwargs = {
        "bnb-8bit": ("bitsandbytes_8bit", {"load_in_8bit": True}),
        "bnb-4bit": ("bitsandbytes_4bit", {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                           "bnb_4bit_compute_dtype": dtype}),
        "torchao-int8": ("torchao", {"quant_type": "int8wo"}),
    }[name]
    # The transformer and T5 (FLUX's text_encoder_2, SD 3's text_encoder_3) are nine tenths of the weights.
    t5_names = ("text_encoder_2",) if "text_encoder_3" not in index else (("text_encoder_3",) if t5 else ())
    components = [c for c in ("transformer", *t5_names) if c in index and c not in skip]
    return PipelineQuantizationConfig(quant_backend=backend, quant_kwargs=quant_kwargs,
                                      components_to_quantize=components) if components else None
