"""Latent chaining: decoding the latents a pipeline returns, fingerprinting VAEs, caching latents on disk.

When the next step continues from a result made with the same VAE, its cached latents go straight in as the
``image`` (SD and SDXL img2img skip the VAE encode for a 4-channel tensor), as the diffusers guide recommends:
no decode → encode round trip, so no loss and less time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from desktop.core.files import atomic_write

# Families whose img2img pipelines accept scaled latents as ``image``; Kandinsky always re-encodes with MoVQ.
# SD 3 and FLUX (Kontext too) take their 16-channel latents back, FLUX's unpacked (see flow.py).
LATENT_FAMILIES = ("sd", "sdxl", "sd3", "flux")


def vae_fingerprint(vae) -> str:
    """A short id of the VAE's latent space: two VAEs with the same id read each other's latents.

    Only the encoder side counts: its architecture, the latent scaling and two encoder tensors (cheap, no file
    hashing). Decoder-only fine-tunes such as ``sd-vae-ft-mse``, which the SD 1.5 fine-tunes and the x2 latent
    upscaler ship, keep the encoder frozen and so share SD 1.5's latent space; a config difference that does not
    change the latents (``sample_size``) must not send every chain back through pixels either.
    """
    import torch

    digest = hashlib.sha256()
    config = dict(vae.config)
    config = {key: config.get(key) for key in _LATENT_SPACE_KEYS}
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    parameters = dict(vae.named_parameters())
    with torch.no_grad():
        for name in ("encoder.conv_in.weight", "encoder.conv_out.weight", "quant_conv.weight"):
            tensor = parameters.get(name)
            if tensor is not None:
                digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


# The config entries that shape the encoder and the scaled latents it makes.
_LATENT_SPACE_KEYS = ("in_channels", "latent_channels", "down_block_types", "block_out_channels",
                      "layers_per_block", "norm_num_groups", "scaling_factor", "shift_factor", "use_quant_conv")


def decode_latents(pipe, latents, notes: list[str] | None = None):
    """The PIL image for scaled latents, decoded exactly as the SD/SDXL pipelines do it.

    A half-precision VAE can overflow into NaN, which shows as a black image (the SDXL VAE in fp16 is the
    known case, diffusers' ``force_upcast``; others happen): then the latents are decoded again with the VAE
    in fp32 and a sentence saying so goes into ``notes``.
    """
    import torch

    vae = pipe.vae
    upcast = vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
    pixels = _decode(pipe, latents, upcast)
    if not bool(torch.isfinite(pixels).all()) and not upcast and vae.dtype != torch.float32:
        pixels = _decode(pipe, latents, True)
        if notes is not None:
            notes.append(f"The VAE gave an empty (NaN) image in {str(vae.dtype).removeprefix('torch.')}, so the "
                         "result was decoded again in fp32.")
    if not bool(torch.isfinite(pixels).all()):
        from desktop.core.errors import ErrorKind, RestyleError

        raise RestyleError(ErrorKind.INTERNAL, "The model's VAE turned the result into an empty (NaN) image even in "
                           "fp32. Try fp32 in Settings, or another model.")
    return pipe.image_processor.postprocess(pixels, output_type="pil")[0]


def _decode(pipe, latents, fp32: bool):
    """Decoded pixels in [-1, 1]; ``fp32`` runs the VAE in float32 for this decode only."""
    import torch

    vae = pipe.vae
    original = vae.dtype
    if fp32 and original != torch.float32:
        vae.to(dtype=torch.float32)
    try:
        # SD 3 and FLUX VAEs have no post_quant_conv; the decoder's first conv has the same dtype.
        first = vae.post_quant_conv if vae.post_quant_conv is not None else vae.decoder.conv_in
        weights_dtype = next(iter(first.parameters())).dtype
        # The execution device, not vae.device: under offload the VAE waits on the CPU until it runs.
        device = getattr(pipe, "_execution_device", vae.device)
        x = latents.to(device=device, dtype=weights_dtype)
        mean, std = getattr(vae.config, "latents_mean", None), getattr(vae.config, "latents_std", None)
        if mean is not None and std is not None:
            mean = torch.tensor(mean).view(1, -1, 1, 1).to(x.device, x.dtype)
            std = torch.tensor(std).view(1, -1, 1, 1).to(x.device, x.dtype)
            x = x * std / vae.config.scaling_factor + mean
        else:
            # SD 3 and FLUX latents are also shifted: scaled = (z - shift) × scale, as their pipelines decode them.
            x = x / vae.config.scaling_factor + (getattr(vae.config, "shift_factor", None) or 0.0)
        with torch.inference_mode():
            return vae.decode(x, return_dict=False)[0].float()
    finally:
        if vae.dtype != original:
            vae.to(dtype=original)


def save_latents(latents, path: str | Path, vae_id: str) -> Path:
    """Write latents (first of the batch) as safetensors with the VAE fingerprint; atomic."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save as to_bytes

    data = to_bytes({"latents": latents[:1].detach().cpu().contiguous()}, metadata={"vae_id": vae_id})
    return atomic_write(path, data)


def load_latents(path: str | Path):
    """(latents tensor, vae fingerprint) from a file written by ``save_latents``; None when unusable."""
    from safetensors import safe_open

    from desktop.core.files import is_regular_file

    if not is_regular_file(path):  # a pipe would block safe_open for ever
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.get_tensor("latents"), (handle.metadata() or {}).get("vae_id", "")
    except Exception:  # noqa: BLE001 - a damaged or evicted cache only loses the shortcut
        return None
