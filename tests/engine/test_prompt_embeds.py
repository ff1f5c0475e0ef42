"""Weighted and long prompts become embeddings that differ from the plain prompt's where, and how, they should.

The reference for "plain" is always the pipeline's own ``encode_prompt``, so these tests also check that the
Compel set-up reproduces diffusers' encoding exactly when nothing is weighted.
"""

import pytest
import torch

# A worktree set up before compel joined pyproject.toml lacks it; scripts/setup (and so CI) installs it.
pytest.importorskip("compel", reason="compel is not installed: run scripts/setup")

from desktop.core.prompt_syntax import parse_prompt
from desktop.engine.prompt_embeds import encode_prompts, prompt_call_kwargs

PROMPT = "a photo of a {} sitting on a red mat"


@pytest.fixture(autouse=True)
def _no_grad():
    with torch.no_grad():
        yield


@pytest.fixture(scope="module")
def sd_pipe(tiny_model):
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pretrained(tiny_model)


@pytest.fixture(scope="module")
def sdxl_pipe(tiny_sdxl):
    """The tiny SDXL base: two text encoders, the second with a projection (the pooled embedding)."""
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(tiny_sdxl)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def token_positions(tokenizer, prompt: str, word: str) -> range:
    """Where ``word`` (its first occurrence) sits in the encoded prompt, counting the start marker."""
    before = prompt[: prompt.index(word)]
    start = 1 + len(tokenizer(before, add_special_tokens=False)["input_ids"])
    return range(start, start + len(tokenizer(word, add_special_tokens=False)["input_ids"]))


def changed_positions(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5) -> list[int]:
    return [i for i in range(a.shape[1]) if not torch.allclose(a[0, i], b[0, i], atol=atol)]


def embeds(pipe, family: str, prompt: str, negative: str = "") -> dict:
    kwargs, _ = prompt_call_kwargs(pipe, family, prompt, negative)
    assert "prompt_embeds" in kwargs, kwargs
    return kwargs


def compel_embeds(pipe, family: str, prompt: str, negative: str = "") -> dict:
    """The embeddings path even for an unweighted prompt (which prompt_call_kwargs would send as text)."""
    return encode_prompts(pipe, family, parse_prompt(prompt), parse_prompt(negative))[0]


def test_a_plain_prompt_goes_to_the_pipeline_untouched(sd_pipe, sdxl_pipe):
    for pipe, family in ((sd_pipe, "sd"), (sdxl_pipe, "sdxl")):
        kwargs, notes = prompt_call_kwargs(pipe, family, PROMPT.format("cat"), "blurry")
        assert kwargs == {"prompt": PROMPT.format("cat"), "negative_prompt": "blurry"}
        assert notes == []
    kwargs, _ = prompt_call_kwargs(sd_pipe, "sd", "a cat", "")
    assert kwargs == {"prompt": "a cat", "negative_prompt": None}


def test_an_upweighted_word_changes_its_own_tokens_and_no_others(sd_pipe):
    plain, plain_negative = sd_pipe.encode_prompt(PROMPT.format("cat"), "cpu", 1, True)
    same = compel_embeds(sd_pipe, "sd", PROMPT.format("cat"))
    # Weight 1 through Compel is the pipeline's own encoding, prompt and (empty) negative alike.
    assert torch.allclose(same["prompt_embeds"], plain, atol=1e-5)
    assert torch.allclose(same["negative_prompt_embeds"], plain_negative, atol=1e-5)

    cat = list(token_positions(sd_pipe.tokenizer, PROMPT.format("cat"), "cat"))
    strong = embeds(sd_pipe, "sd", PROMPT.format("(cat:1.5)"))["prompt_embeds"]
    mild = embeds(sd_pipe, "sd", PROMPT.format("cat+"))["prompt_embeds"]
    assert changed_positions(strong, plain) == cat
    assert changed_positions(mild, plain) == cat
    # The change grows with the weight: 1.5 moves the tokens five times as far as 1.1 does.
    ratio = (strong - plain).norm() / (mild - plain).norm()
    assert 4.5 < float(ratio) < 5.5


def test_a_downweighted_word_moves_towards_the_prompt_without_it(sd_pipe):
    prompt = PROMPT.format("cat")
    plain, _ = sd_pipe.encode_prompt(prompt, "cpu", 1, True)
    without = embeds(sd_pipe, "sd", PROMPT.format("(cat:0)"))["prompt_embeds"]
    weak = embeds(sd_pipe, "sd", PROMPT.format("[cat]"))["prompt_embeds"]
    weaker = embeds(sd_pipe, "sd", PROMPT.format("(cat:0.5)"))["prompt_embeds"]
    cat = token_positions(sd_pipe.tokenizer, prompt, "cat")
    # CLIP's attention is causal: the tokens before "cat" cannot see it, so they do not change.
    assert changed_positions(weak, plain)[0] == cat[0]
    distance = {name: float((e - without).norm()) for name, e in (("plain", plain), ("weak", weak), ("weaker", weaker))}
    assert distance["weaker"] < distance["weak"] < distance["plain"]


def test_the_negative_prompt_is_weighted_too(sd_pipe):
    _, plain_negative = sd_pipe.encode_prompt("a cat", "cpu", 1, True, negative_prompt="blurry, dark")
    kwargs = embeds(sd_pipe, "sd", "a cat", "(blurry:1.4), dark")
    blurry = list(token_positions(sd_pipe.tokenizer, "blurry, dark", "blurry"))
    assert changed_positions(kwargs["negative_prompt_embeds"], plain_negative) == blurry


def test_sdxl_gets_both_encoders_and_pooled_embeddings(sdxl_pipe):
    prompt = PROMPT.format("cat")
    plain, _plain_negative, pooled, _negative_pooled = sdxl_pipe.encode_prompt(prompt, device="cpu")
    same = compel_embeds(sdxl_pipe, "sdxl", PROMPT.format("cat"))
    assert same["prompt_embeds"].shape == plain.shape == (1, 77, 64)  # both encoders side by side
    assert torch.allclose(same["prompt_embeds"], plain, atol=1e-5)
    assert torch.allclose(same["pooled_prompt_embeds"], pooled, atol=1e-5)
    # No negative prompt: zeros, as the pipeline itself does (force_zeros_for_empty_prompt).
    assert torch.count_nonzero(same["negative_prompt_embeds"]) == 0
    assert torch.count_nonzero(same["negative_pooled_prompt_embeds"]) == 0

    weighted = embeds(sdxl_pipe, "sdxl", PROMPT.format("(cat:1.5)"), "[blurry]")
    cat = list(token_positions(sdxl_pipe.tokenizer, prompt, "cat"))
    assert changed_positions(weighted["prompt_embeds"], plain) == cat
    # The pooled embedding is of the words, markup left out.
    assert torch.allclose(weighted["pooled_prompt_embeds"], pooled, atol=1e-5)
    assert weighted["negative_pooled_prompt_embeds"].shape == (1, 32)
    assert torch.count_nonzero(weighted["negative_prompt_embeds"]) > 0

    image = sdxl_pipe(**weighted, num_inference_steps=2, height=64, width=64, output_type="np").images[0]
    assert image.shape == (64, 64, 3)


def long_prompt(tail: str) -> str:
    words = "a castle on a hill under a stormy sky with ravens circling the towers, "
    prompt = ""
    while len(prompt) < 160:  # one token per character with the tiny tokenizer: well past 75 tokens
        prompt += words
    return prompt + tail


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_a_long_plain_prompt_is_chunked_not_cut_and_the_user_is_told(sd_pipe, sdxl_pipe, family):
    pipe = sd_pipe if family == "sd" else sdxl_pipe
    prompt = long_prompt("golden light")
    tokens = len(pipe.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert 150 < tokens <= 225
    kwargs, notes = prompt_call_kwargs(pipe, family, prompt, "blurry")
    assert kwargs["prompt_embeds"].shape[1] == 3 * 77
    assert kwargs["negative_prompt_embeds"].shape == kwargs["prompt_embeds"].shape
    assert notes == [(f"The prompt is {tokens} tokens long, more than the 75 the model reads at once: it was sent in "
                      "3 chunks, none of it cut.")]
    # The words at the end still count: the pipeline alone would have cut them off.
    other = prompt_call_kwargs(pipe, family, long_prompt("silver light"), "blurry")[0]["prompt_embeds"]
    assert not torch.allclose(other[:, 154:], kwargs["prompt_embeds"][:, 154:])
    cut = {"device": "cpu", "num_images_per_prompt": 1, "do_classifier_free_guidance": True}
    assert torch.allclose(pipe.encode_prompt(prompt, **cut)[0],
                          pipe.encode_prompt(long_prompt("silver light"), **cut)[0])


def test_a_long_negative_prompt_pads_the_short_prompt_to_match(sd_pipe):
    kwargs, notes = prompt_call_kwargs(sd_pipe, "sd", "a cat", long_prompt("ugly"))
    assert kwargs["prompt_embeds"].shape == kwargs["negative_prompt_embeds"].shape == (1, 3 * 77, 32)
    assert notes and notes[0].startswith("The negative prompt is")


def test_break_sends_each_part_as_its_own_chunk(sd_pipe):
    kwargs = embeds(sd_pipe, "sd", "a castle BREAK a stormy sky")
    assert kwargs["prompt_embeds"].shape[1] == 2 * 77
    castle, _ = sd_pipe.encode_prompt("a castle", "cpu", 1, True)
    assert torch.allclose(kwargs["prompt_embeds"][:, :77], castle, atol=1e-5)


def test_other_model_families_get_the_words_and_a_note(sd_pipe):
    kwargs, notes = prompt_call_kwargs(object(), "kandinsky22", "a (cat:1.4) on a mat", "[blurry]")
    assert kwargs == {"prompt": "a cat on a mat", "negative_prompt": "blurry"}
    assert notes == ["Prompt weights are not applied with this kind of model: the words were sent without them."]


def test_a_malformed_prompt_still_runs_and_says_what_it_did(sd_pipe):
    kwargs, notes = prompt_call_kwargs(sd_pipe, "sd", "a (cat on a mat", "")
    assert kwargs["prompt"] == "a (cat on a mat"
    assert notes == ["In the prompt: An unmatched '(' was read as plain text."]
