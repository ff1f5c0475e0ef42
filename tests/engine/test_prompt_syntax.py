"""Prompt weighting syntax: what weight each word gets, and where in the typed text the weights and markup are."""

import pytest

from desktop.core.prompt_syntax import chunk_count, estimate_tokens, parse_prompt


def weights(prompt: str) -> dict[str, float]:
    return {f.text.strip(): round(f.weight, 3) for f in parse_prompt(prompt).fragments if f.text.strip()}


@pytest.mark.parametrize(
    ("prompt", "word", "weight"),
    [
        ("a (cat:1.5) on a mat", "cat", 1.5),
        ("a (cat) on a mat", "cat", 1.1),
        ("a ((cat)) on a mat", "cat", 1.21),
        ("a [cat] on a mat", "cat", 0.909),
        ("a [[cat]] on a mat", "cat", 0.826),
        ("a (cat: 0.4 ) on a mat", "cat", 0.4),
        ("a cat++ on a mat", "cat", 1.21),
        ("a cat+ on a mat", "cat", 1.1),
        ("a cat-- on a mat", "cat", 0.81),
        ("a (black cat)1.3 on a mat", "black cat", 1.3),
        ("a (black cat)+++ on a mat", "black cat", 1.331),
        ("a (black cat)- on a mat", "black cat", 0.9),
        # Mixed and nested: the weights multiply.
        ("a ((black cat)1.2:1.5) on a mat", "black cat", 1.8),
        ("a (black cat++:1.5) on a mat", "cat", 1.815),
        ("a [(cat:1.5)] on a mat", "cat", 1.364),
    ],
)
def test_each_syntax_gives_the_weight_artists_expect(prompt, word, weight):
    found = weights(prompt)
    assert found[word] == weight
    assert found["on a mat"] == 1.0
    assert parse_prompt(prompt).is_weighted


def test_the_weighted_span_points_at_the_words_in_the_typed_text():
    prompt = "oil painting, (red hair:1.3), [blurry], cat++"
    parsed = parse_prompt(prompt)
    spans = {prompt[s.start:s.end]: round(s.weight, 3) for s in parsed.weighted}
    assert spans == {"red hair": 1.3, "blurry": 0.909, "cat": 1.21}
    markup = [prompt[s.start:s.end] for s in parsed.syntax]
    assert markup == ["(", ":1.3)", "[", "]", "++"]
    assert parsed.text == "oil painting, red hair, blurry, cat"


def test_a_plain_prompt_is_left_exactly_as_typed():
    for prompt in ("a watercolour cat, soft light", "sci-fi city, black-and-white", "C-3PO at 50% size", ""):
        parsed = parse_prompt(prompt)
        assert not parsed.is_weighted and not parsed.syntax and not parsed.problems
        assert parsed.text == prompt.strip()


def test_escaped_brackets_are_plain_characters():
    parsed = parse_prompt(r"a \(cat\) and a \[dog\], c\+\+")
    assert not parsed.is_weighted and not parsed.problems
    assert parsed.text == "a (cat) and a [dog], c++"


def test_unbalanced_brackets_are_read_as_text_with_a_problem_not_an_error():
    opened = parse_prompt("a (cat on a mat")
    assert not opened.is_weighted
    assert opened.text == "a (cat on a mat"
    assert [(p.start, p.end) for p in opened.problems] == [(2, 3)]
    assert "unmatched '('" in opened.problems[0].message

    closed = parse_prompt("a cat) on a (mat:1.2)")
    assert weights("a cat) on a (mat:1.2)")["mat"] == 1.2  # the rest still works
    assert closed.text == "a cat) on a mat"
    assert [(p.start, p.end) for p in closed.problems] == [(5, 6)]


def test_break_starts_a_new_chunk():
    parsed = parse_prompt("a castle on a hill BREAK (stormy sky:1.2)")
    assert [[f.text.strip() for f in chunk] for chunk in parsed.chunks] == [["a castle on a hill"], ["stormy sky"]]
    assert parsed.is_weighted  # even a BREAK alone needs embeddings: the pipeline's prompt= cannot split chunks
    assert not parse_prompt("BREAKFAST at dawn").is_weighted


def test_unsupported_syntax_is_reported():
    editing = parse_prompt("a [cat:dog:0.5] on a mat")
    assert "not supported" in editing.problems[0].message
    blend = parse_prompt('("a cat", "a dog").blend(0.5, 0.5)')
    assert any(".blend()" in p.message for p in blend.problems)


def test_token_estimate_and_chunks():
    assert estimate_tokens("a red cat, 4k") == 6  # a, red, cat, ",", 4, k
    assert chunk_count(0) == 1 and chunk_count(75) == 1 and chunk_count(76) == 2 and chunk_count(151) == 3
