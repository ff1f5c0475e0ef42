"""SD 3 / 3.5 and FLUX.1 runs: what differs from the UNet families, kept here so the runner only calls hooks.

Both denoise with a transformer over 16-channel latents (flow matching). FLUX packs 2×2 latent patches into a
sequence (the latents a pipeline holds, previews and returns with ``output_type="latent"`` are (B, tokens, 64));
they are unpacked to (B, 16, H/8, W/8) for previews, decoding and the latent cache, which is also what the
img2img and Kontext pipelines accept back as ``image`` (they skip the VAE encode for a 16-channel tensor).
Prompts go through T5 as plain words: no A1111 weights, and T5's own token limit instead of CLIP's 75.
"""

from __future__ import annotations

from desktop.core.families import FLOW_FAMILIES, T5_TOKENS, spec_for


def denoiser(pipe):
    """The module that denoises: the UNet, or the transformer of SD 3 and FLUX."""
    return getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)


def unpacked(pipe, latents, width: int, height: int):
    """FLUX's packed (B, tokens, 64) latents as (B, 16, H/8, W/8); other latents unchanged.

    Only views and one reshape on the latents' own device: no copy to the host, no wait for the GPU.
    """
    if latents.ndim != 3 or not hasattr(pipe, "_unpack_latents"):
        return latents
    return pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor)


def adjust_prompts(call: dict, pipe, params, profile: str, notes: list[str]) -> None:
    """Drop the negative prompt where the family ignores it (saying so), and note a prompt past T5's limit."""
    if profile not in T5_TOKENS:
        return
    spec = spec_for(profile)
    negative = call.get("negative_prompt")
    true_cfg = (params.true_cfg_scale or 1.0) > 1.0
    if negative and (spec.negative_prompt == "never" or (spec.negative_prompt == "true_cfg" and not true_cfg)):
        call.pop("negative_prompt", None)
        if spec.negative_prompt == "true_cfg":
            notes.append(f"{spec.label} uses the negative prompt only with true CFG: set True CFG above 1 to use it.")
        else:
            notes.append(f"{spec.label} has no guidance, so the negative prompt was not used.")
    prompt = call.get("prompt") or ""
    tokenizer = getattr(pipe, "tokenizer_3", None) if profile.startswith("sd3") else getattr(pipe, "tokenizer_2", None)
    limit = T5_TOKENS[profile]
    if tokenizer is None:
        # SD 3 loaded without T5: only the CLIP encoders read the prompt, 77 tokens at most.
        if prompt and len(pipe.tokenizer(prompt, truncation=False)["input_ids"]) > pipe.tokenizer.model_max_length:
            notes.append("T5 is off, so only the first 75 tokens of the prompt were read; load T5 (Settings) to "
                         f"read up to {limit}.")
        return
    count = len(tokenizer(prompt, truncation=False)["input_ids"]) if prompt else 0
    if count > limit:
        notes.append(f"The prompt is {count} T5 tokens long; {spec.label} reads the first {limit}: the rest was cut.")


def is_flow(family: str) -> bool:
    """True for the transformer families (16-channel latents, flow matching)."""
    return family in FLOW_FAMILIES
