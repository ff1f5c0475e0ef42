"""The prompt and negative prompt as pipeline arguments: plain text, or weighted embeddings made with Compel.

A plain prompt that fits in one CLIP chunk goes in as ``prompt=`` / ``negative_prompt=`` exactly as typed, and
the pipeline encodes it itself: no extra work, no change. A weighted prompt (``prompt_syntax``) or one longer
than the 75 tokens CLIP reads at once becomes ``prompt_embeds`` / ``negative_prompt_embeds`` (and the pooled
pair for SDXL), built by Compel the way diffusers' own ``encode_prompt`` builds them, chunk by chunk, so that
nothing past token 75 is silently dropped as diffusers does (it only logs a warning).
"""

from __future__ import annotations

import logging

from desktop.core.prompt_syntax import CHUNK_TOKENS, ParsedPrompt, parse_prompt

log = logging.getLogger(__name__)

ENCODED_FAMILIES = ("sd", "sdxl")  # CLIP text encoders that Compel can weight


def prompt_call_kwargs(pipe, family: str, prompt: str, negative_prompt: str) -> tuple[dict, list[str]]:
    """The prompt arguments for ``pipe(...)`` and notes for the user (weights not applied, prompt chunked, …)."""
    parsed, parsed_negative = parse_prompt(prompt), parse_prompt(negative_prompt)
    notes = _problem_notes(parsed, "prompt") + _problem_notes(parsed_negative, "negative prompt")
    plain = {
        "prompt": prompt if not parsed.syntax else parsed.text,
        "negative_prompt": (negative_prompt if not parsed_negative.syntax else parsed_negative.text) or None,
    }
    weighted = parsed.is_weighted or parsed_negative.is_weighted
    if family not in ENCODED_FAMILIES:
        if weighted:
            notes.append("Prompt weights are not applied with this kind of model: the words were sent without them.")
        return plain, notes
    tokenizer = getattr(pipe, "tokenizer", None) or pipe.tokenizer_2
    lengths = (_token_count(tokenizer, parsed.text), _token_count(tokenizer, parsed_negative.text))
    if not weighted and max(lengths) <= CHUNK_TOKENS:
        return plain, notes
    try:
        kwargs, chunks = encode_prompts(pipe, family, parsed, parsed_negative)
    except Exception as exc:  # a prompt must never stop a run; the plain words still go in
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            raise
        log.exception("weighting the prompt failed; sending it as plain text")
        notes.append("The prompt weights could not be applied (see the log): the words were sent without them.")
        return plain, notes
    for name, count, chunk_count in zip(("prompt", "negative prompt"), lengths, chunks, strict=True):
        if count > CHUNK_TOKENS:
            notes.append(f"The {name} is {count} tokens long, more than the {CHUNK_TOKENS} the model reads at once: "
                         f"it was sent in {chunk_count} chunks, none of it cut.")
    return kwargs, notes


def _problem_notes(parsed: ParsedPrompt, name: str) -> list[str]:
    return [f"In the {name}: {problem.message}" for problem in parsed.problems]


def _token_count(tokenizer, text: str) -> int:
    """CLIP tokens in ``text``, start and end markers left out."""
    if not text:
        return 0
    return len(tokenizer(text, truncation=False, add_special_tokens=False, verbose=False)["input_ids"])


def encode_prompts(pipe, family: str, parsed: ParsedPrompt,
                   parsed_negative: ParsedPrompt) -> tuple[dict, tuple[int, int]]:
    """Embeddings for both prompts (always, weighted or not), padded to one length; and each one's chunk count."""
    import torch
    from compel import Compel, ReturnedEmbeddingsType

    if family == "sdxl":
        # As StableDiffusionXLPipeline.encode_prompt: penultimate hidden states of each encoder, not normalized,
        # side by side; the pooled embedding from the second encoder. A refiner has only the second.
        kind = ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
        pairs = [(t, e) for t, e in ((pipe.tokenizer, pipe.text_encoder), (pipe.tokenizer_2, pipe.text_encoder_2))
                 if e is not None]
    else:
        kind = ReturnedEmbeddingsType.LAST_HIDDEN_STATES_NORMALIZED
        pairs = [(pipe.tokenizer, pipe.text_encoder)]
    device = pipe._execution_device
    compels = [Compel(tokenizer=t, text_encoder=e, returned_embeddings_type=kind, truncate_long_prompts=False,
                      device=device) for t, e in pairs]
    with torch.no_grad():
        per_encoder = [(_embed(c, parsed), _embed(c, parsed_negative)) for c in compels]
        chunks = (per_encoder[0][0].shape[1] // _chunk(compels[0]), per_encoder[0][1].shape[1] // _chunk(compels[0]))
        # Every tensor to the longest length, each padded with its own encoder's empty-prompt chunk, as Compel does.
        length = max(t.shape[1] for pair in per_encoder for t in pair)
        padded = [[_pad(t, length, c) for t in pair] for c, pair in zip(compels, per_encoder, strict=True)]
        embeds = torch.cat([p[0] for p in padded], dim=-1)
        negative = torch.cat([p[1] for p in padded], dim=-1)
        kwargs = {"prompt_embeds": embeds, "negative_prompt_embeds": negative}
        if family == "sdxl":
            provider = compels[-1].conditioning_provider
            pooled = provider.get_pooled_embeddings([parsed.text], device=device)
            negative_pooled = provider.get_pooled_embeddings([parsed_negative.text], device=device)
            if not parsed_negative.text and getattr(pipe.config, "force_zeros_for_empty_prompt", False):
                # What the pipeline does with no negative prompt: zeros, not the embedding of "".
                negative, negative_pooled = torch.zeros_like(embeds), torch.zeros_like(pooled)
                kwargs["negative_prompt_embeds"] = negative
            kwargs.update(pooled_prompt_embeds=pooled, negative_pooled_prompt_embeds=negative_pooled)
    return kwargs, chunks


def _embed(compel, parsed: ParsedPrompt):
    """One prompt through one encoder: each BREAK chunk encoded on its own, then laid end to end."""
    from compel.prompt_parser import Conjunction, FlattenedPrompt
    from compel.prompt_parser import Fragment as CompelFragment

    prompts = [FlattenedPrompt([CompelFragment(f.text, f.weight) for f in chunk] or [CompelFragment("", 1.0)])
               for chunk in parsed.chunks]
    embeds, _ = compel.build_conditioning_tensor_for_conjunction(Conjunction(prompts, [1.0] * len(prompts)))
    return embeds


def _chunk(compel) -> int:
    return compel.conditioning_provider.max_token_count


def _pad(tensor, length: int, compel):
    import torch

    empty = compel.conditioning_provider.empty_z.to(device=tensor.device, dtype=tensor.dtype)
    while tensor.shape[1] < length:
        tensor = torch.cat([tensor, empty], dim=1)
    return tensor
