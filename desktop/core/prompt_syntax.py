"""Prompt weighting syntax, parsed without torch: the prompt editor highlights with it, the engine encodes with it.

One parser for both means that what the editor colours is exactly what the text encoder is given. The rules:

- AUTOMATIC1111: ``(text)`` ×1.1, ``((text))`` ×1.21, ``[text]`` ÷1.1, ``(text:1.3)`` ×1.3.
- Compel: ``word+`` ×1.1, ``word++`` ×1.21, ``word-`` ×0.9, ``(text)1.3``, ``(text)+``, ``(text)--``.
- The two mix freely, and nested weights multiply: ``((cat)1.2:1.5)`` gives "cat" 1.8.
- ``\\(`` ``\\)`` ``\\[`` ``\\]`` ``\\\\`` ``\\+`` ``\\-`` stand for the characters themselves.
- ``BREAK`` (capitals, a word on its own) ends the current 75-token chunk, as in AUTOMATIC1111.
- Malformed input never stops a run: an unmatched bracket is read as the plain character and reported as a
  ``Problem`` (the editor underlines it; the run's notes say so). AUTOMATIC1111 would instead weight the rest of
  the prompt, which surprises more often than it helps.
- Not supported, and reported as a problem: A1111 prompt editing ``[a:b:when]`` and alternation ``[a|b]`` (read
  as de-emphasised text), and Compel's ``.blend()`` / ``.and()`` / ``.swap()`` (read as text).

The engine hands the fragments to Compel directly rather than writing Compel syntax for Compel's own parser to
read again: that parser re-spaces commas and treats ``.`` operators, and this way nothing is interpreted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UP = 1.1  # A1111 (text) and Compel word+
DOWN_A1111 = 1 / 1.1  # A1111 [text]
DOWN_COMPEL = 0.9  # Compel word-
CHUNK_TOKENS = 75  # what CLIP reads at once, besides its start and end markers

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_COLON_WEIGHT = re.compile(r":\s*(" + _NUMBER + r")\s*\)")
_SUFFIX_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?![\w.])")
_SUFFIX_SIGNS = re.compile(r"(\++|-+)(?![\w+-])")
_BREAK = re.compile(r"\bBREAK\b")
_COMPEL_OPERATOR = re.compile(r"\)\.(blend|and|swap)\(")
_ESCAPABLE = "()[]\\+-"
_WORD_STOP = set(" \t\n\r,")
# CLIP's pre-tokenizer splits text into words, single digits and runs of punctuation; each is one token or more.
_CLIP_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)


@dataclass(frozen=True)
class Fragment:
    """A run of text with one weight, as the text encoder gets it."""

    text: str
    weight: float


@dataclass(frozen=True)
class Span:
    """A range of the typed prompt, ``start`` included and ``end`` excluded, with the weight of its text."""

    start: int
    end: int
    weight: float = 1.0


@dataclass(frozen=True)
class Problem:
    """Something in the prompt that was read as plain text instead of syntax, with a sentence saying so."""

    start: int
    end: int
    message: str


@dataclass(frozen=True)
class ParsedPrompt:
    """A prompt split into weighted fragments, chunk by chunk, with where the weights and markup are."""

    source: str
    chunks: tuple[tuple[Fragment, ...], ...]  # split at BREAK; one chunk when there is none
    weighted: tuple[Span, ...]  # runs of text whose weight is not 1
    syntax: tuple[Span, ...]  # markup characters: brackets, ":1.3", "++", BREAK, escaping backslashes
    problems: tuple[Problem, ...]

    @property
    def text(self) -> str:
        """The prompt without its markup: the words the encoder reads, weights aside."""
        parts: list[str] = []
        for fragment in self.fragments:
            # Fragments are tokenized apart, so "(cat)(dog)" reads as two words: keep them two words here too.
            if parts and parts[-1][-1:].isalnum() and fragment.text[:1].isalnum():
                parts.append(" ")
            parts.append(fragment.text)
        return "".join(parts).strip()

    @property
    def is_weighted(self) -> bool:
        """True when some text has a weight other than 1 or BREAK splits the prompt: plain text will not do."""
        return len(self.chunks) > 1 or any(f.weight != 1.0 for chunk in self.chunks for f in chunk)

    @property
    def fragments(self) -> tuple[Fragment, ...]:
        """Every fragment of every chunk, in order."""
        return tuple(f for chunk in self.chunks for f in chunk)


_BREAK_MARK = object()


def parse_prompt(source: str) -> ParsedPrompt:
    """Parse a prompt written in AUTOMATIC1111 and/or Compel weighting syntax; never raises."""
    out: list = []  # [char, source index, weight] per character of text, or _BREAK_MARK
    syntax: list[Span] = []
    problems: list[Problem] = []
    stack: list[tuple[str, int, int]] = []  # (bracket, source index, index into out)
    barrier = 0  # a word+ suffix never reaches back past a bracket
    i, n = 0, len(source)

    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in _ESCAPABLE:
            syntax.append(Span(i, i + 1))
            out.append([source[i + 1], i + 1, 1.0])
            i += 2
            continue
        if ch in "([":
            stack.append((ch, i, len(out)))
            syntax.append(Span(i, i + 1))
            barrier = len(out)
            i += 1
            continue
        if ch == ":" and stack and stack[-1][0] == "(":
            match = _COLON_WEIGHT.match(source, i)
            if match:
                opener = stack.pop()
                _scale(out, opener[2], float(match.group(1)))
                syntax.append(Span(i, match.end()))
                barrier = len(out)
                i = _group_suffix(source, match.end(), out, opener, syntax, weighted=True)
                continue
        if ch == ")" and stack and stack[-1][0] == "(":
            opener = stack.pop()
            syntax.append(Span(i, i + 1))
            barrier = len(out)
            i = _group_suffix(source, i + 1, out, opener, syntax, weighted=False)
            continue
        if ch == "]" and stack and stack[-1][0] == "[":
            opener = stack.pop()
            inner = source[opener[1] + 1:i]
            if ":" in inner or "|" in inner:
                problems.append(Problem(opener[1], i + 1, "AUTOMATIC1111 prompt editing and alternation "
                                        "([a:b:when], [a|b]) are not supported: the text was only de-emphasised."))
            _scale(out, opener[2], DOWN_A1111)
            syntax.append(Span(i, i + 1))
            barrier = len(out)
            i += 1
            continue
        if ch in ")]":
            problems.append(Problem(i, i + 1, f"An unmatched '{ch}' was read as plain text."))
            out.append([ch, i, 1.0])
            i += 1
            continue
        if ch in "+-" and out and out[-1] is not _BREAK_MARK and len(out) > barrier and out[-1][0] not in _WORD_STOP:
            match = _SUFFIX_SIGNS.match(source, i)
            if match:
                signs = match.group(1)
                weight = (UP if signs[0] == "+" else DOWN_COMPEL) ** len(signs)
                start = len(out)
                while start > barrier and out[start - 1] is not _BREAK_MARK and out[start - 1][0] not in _WORD_STOP:
                    start -= 1
                for item in out[start:]:
                    item[2] *= weight
                syntax.append(Span(i, match.end()))
                i = match.end()
                continue
        if ch == "B":
            match = _BREAK.match(source, i)
            if match and (i == 0 or not source[i - 1].isalnum()):
                out.append(_BREAK_MARK)
                syntax.append(Span(i, match.end()))
                barrier = len(out)
                i = match.end()
                continue
        out.append([ch, i, 1.0])
        i += 1

    # Brackets never closed are plain characters: put them back where they stood, last first so indices hold.
    for bracket, position, index in reversed(stack):
        out.insert(index, [bracket, position, 1.0])
        syntax.remove(Span(position, position + 1))
        problems.append(Problem(position, position + 1, f"An unmatched '{bracket}' was read as plain text."))
    for match in _COMPEL_OPERATOR.finditer(source):
        problems.append(Problem(match.start() + 1, match.end() - 1,
                                f"Compel's .{match.group(1)}() is not supported: it was read as text."))
    problems.sort(key=lambda p: p.start)
    return ParsedPrompt(source, _chunks(out), _weighted_spans(out), tuple(syntax), tuple(problems))


def _group_suffix(source: str, i: int, out: list, opener: tuple, syntax: list[Span], *, weighted: bool) -> int:
    """After a ')': apply Compel's (text)1.3 / (text)++ suffix, else A1111's ×1.1 unless (text:w) gave a weight."""
    number = _SUFFIX_NUMBER.match(source, i)
    signs = None if number else _SUFFIX_SIGNS.match(source, i)
    if number:
        weight = float(number.group(0))
        end = number.end()
    elif signs:
        weight = (UP if signs.group(1)[0] == "+" else DOWN_COMPEL) ** len(signs.group(1))
        end = signs.end()
    else:
        if not weighted:
            _scale(out, opener[2], UP)
        return i
    _scale(out, opener[2], weight)
    syntax.append(Span(i, end))
    return end


def _scale(out: list, start: int, weight: float) -> None:
    for item in out[start:]:
        if item is not _BREAK_MARK:
            item[2] *= weight


def _chunks(out: list) -> tuple[tuple[Fragment, ...], ...]:
    chunks: list[tuple[Fragment, ...]] = []
    current: list = []
    for item in [*out, _BREAK_MARK]:
        if item is not _BREAK_MARK:
            current.append(item)
            continue
        fragments: list[Fragment] = []
        for char, _, weight in current:
            weight = round(weight, 4)
            if fragments and fragments[-1].weight == weight:
                fragments[-1] = Fragment(fragments[-1].text + char, weight)
            else:
                fragments.append(Fragment(char, weight))
        # Text with no words adds no tokens; Compel cannot place an empty fragment, so leave those out.
        kept = tuple(f for f in fragments if f.text.strip())
        if kept or not chunks:
            chunks.append(kept)
        current = []
    if len(chunks) > 1:
        chunks = [c for c in chunks if c] or [()]
    return tuple(chunks)


def _weighted_spans(out: list) -> tuple[Span, ...]:
    spans: list[Span] = []
    for item in out:
        if item is _BREAK_MARK:
            continue
        char, position, weight = item
        weight = round(weight, 4)
        if weight == 1.0 or char.isspace():
            continue
        if spans and spans[-1].weight == weight and spans[-1].end >= position - 1:
            spans[-1] = Span(spans[-1].start, position + 1, weight)
        else:
            spans.append(Span(position, position + 1, weight))
    return tuple(spans)


def estimate_tokens(text: str) -> int:
    """About how many CLIP tokens ``text`` takes, without loading a tokenizer: a lower bound (rare words take more)."""
    return len(_CLIP_PIECES.findall(text))


def chunk_count(tokens: int) -> int:
    """How many 75-token chunks a prompt of ``tokens`` tokens is sent in."""
    return max(1, -(-tokens // CHUNK_TOKENS))
