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
MAX_SIGNS = 48
CHUNK_TOKENS = 75  # what CLIP reads at once, besides its start and end markers

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_COLON_WEIGHT = re.compile(r":\s*(" + _NUMBER + r")\s*\)")
_SUFFIX_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?![\w.])")
_SUFFIX_SIGNS = re.compile(r"(\+++|-++)(?![\w+-])")
_SIGN_RUN = re.compile(r"\++|-+")
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
    """Parse a prompt written in AUTOMATIC1111 and/or Compel weighting syntax; never raises.

    Linear in the prompt's length (a prompt restored from a picture may be long): weights are collected as
    ranges and multiplied in once at the end, instead of rescaling everything inside a bracket at each close.
    """
    out: list = []  # [char, source index, weight] per character of text, or _BREAK_MARK
    scales: list[tuple[int, int, float]] = []  # (start, end, weight) over indices into out
    syntax: list[Span] = []
    problems: list[Problem] = []
    stack: list[tuple[str, int, int]] = []  # (bracket, source index, index into out)
    barrier = 0  # a word+ suffix never reaches back past a bracket
    word_start = 0  # index into out just after the last word stop or BREAK
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
                scales.append((opener[2], len(out), float(match.group(1))))
                syntax.append(Span(i, match.end()))
                barrier = len(out)
                i = _group_suffix(source, match.end(), scales, (opener[2], len(out)), syntax, weighted=True)
                continue
        if ch == ")" and stack and stack[-1][0] == "(":
            opener = stack.pop()
            syntax.append(Span(i, i + 1))
            barrier = len(out)
            i = _group_suffix(source, i + 1, scales, (opener[2], len(out)), syntax, weighted=False)
            continue
        if ch == "]" and stack and stack[-1][0] == "[":
            opener = stack.pop()
            inner = source[opener[1] + 1:i]
            if ":" in inner or "|" in inner:
                problems.append(Problem(opener[1], i + 1, "AUTOMATIC1111 prompt editing and alternation "
                                        "([a:b:when], [a|b]) are not supported: the text was only de-emphasised."))
            scales.append((opener[2], len(out), DOWN_A1111))
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
                weight = _sign_weight(signs)
                scales.append((max(barrier, word_start), len(out), weight))
                syntax.append(Span(i, match.end()))
                i = match.end()
                continue
            # Not a suffix here, so not anywhere in this run of signs either: they are all text.
            run_end = _SIGN_RUN.match(source, i).end()
            out.extend([source[k], k, 1.0] for k in range(i, run_end))
            i = run_end
            continue
        if ch == "B":
            match = _BREAK.match(source, i)
            if match and (i == 0 or not source[i - 1].isalnum()):
                out.append(_BREAK_MARK)
                syntax.append(Span(i, match.end()))
                barrier = word_start = len(out)
                i = match.end()
                continue
        out.append([ch, i, 1.0])
        if ch in _WORD_STOP:
            word_start = len(out)
        i += 1

    _apply_scales(out, scales)
    if stack:
        out, syntax = _restore_unclosed(out, syntax, stack, problems)
    for match in _COMPEL_OPERATOR.finditer(source):
        problems.append(Problem(match.start() + 1, match.end() - 1,
                                f"Compel's .{match.group(1)}() is not supported: it was read as text."))
    problems.sort(key=lambda p: p.start)
    return ParsedPrompt(source, _chunks(out), _weighted_spans(out), tuple(syntax), tuple(problems))


def _group_suffix(source: str, i: int, scales: list, group: tuple[int, int], syntax: list[Span], *,
                  weighted: bool) -> int:
    """After a ')': apply Compel's (text)1.3 / (text)++ suffix, else A1111's ×1.1 unless (text:w) gave a weight."""
    number = _SUFFIX_NUMBER.match(source, i)
    signs = None if number else _SUFFIX_SIGNS.match(source, i)
    if number:
        weight = float(number.group(0))
        end = number.end()
    elif signs:
        weight = _sign_weight(signs.group(1))
        end = signs.end()
    else:
        if not weighted:
            scales.append((*group, UP))
        return i
    scales.append((*group, weight))
    syntax.append(Span(i, end))
    return end


def _sign_weight(signs: str) -> float:
    """The weight of a run of + or - signs; past 48 signs (×97) more do nothing, instead of overflowing."""
    return (UP if signs[0] == "+" else DOWN_COMPEL) ** min(len(signs), MAX_SIGNS)


def _apply_scales(out: list, scales: list[tuple[int, int, float]]) -> None:
    """Multiply each item's weight by every range that holds it, in one sweep.

    The ranges nest (brackets close in order, and a word's suffix never reaches back past a bracket), so a stack
    of the ranges open at each index, each with the product of those around it, gives every item its weight.
    """
    if not scales:
        return
    ordered = sorted((r for r in scales if r[1] > r[0]), key=lambda r: (r[0], -r[1]))
    open_ranges: list[tuple[int, float]] = []  # (end, product of this range and those around it)
    k = 0
    for index, item in enumerate(out):
        while open_ranges and open_ranges[-1][0] <= index:
            open_ranges.pop()
        while k < len(ordered) and ordered[k][0] == index:
            _, end, weight = ordered[k]
            open_ranges.append((end, (open_ranges[-1][1] if open_ranges else 1.0) * weight))
            k += 1
        if open_ranges and item is not _BREAK_MARK:
            item[2] *= open_ranges[-1][1]


def _restore_unclosed(out: list, syntax: list[Span], stack: list[tuple[str, int, int]],
                      problems: list[Problem]) -> tuple[list, list[Span]]:
    """Brackets never closed are plain characters: put them back where they stood (one pass, not one per bracket)."""
    inserts: dict[int, list] = {}
    for bracket, position, index in stack:
        inserts.setdefault(index, []).append([bracket, position, 1.0])
        problems.append(Problem(position, position + 1, f"An unmatched '{bracket}' was read as plain text."))
    merged: list = []
    for index in range(len(out) + 1):
        merged.extend(inserts.get(index, ()))
        if index < len(out):
            merged.append(out[index])
    unclosed = {Span(position, position + 1) for _, position, _ in stack}
    return merged, [span for span in syntax if span not in unclosed]


def _chunks(out: list) -> tuple[tuple[Fragment, ...], ...]:
    chunks: list[tuple[Fragment, ...]] = []
    current: list = []
    for item in [*out, _BREAK_MARK]:
        if item is not _BREAK_MARK:
            current.append(item)
            continue
        runs: list[tuple[list[str], float]] = []  # characters joined once per run, not once per character
        for char, _, raw_weight in current:
            weight = round(raw_weight, 4)
            if runs and runs[-1][1] == weight:
                runs[-1][0].append(char)
            else:
                runs.append(([char], weight))
        fragments = [Fragment("".join(chars), weight) for chars, weight in runs]
        # Text with no words adds no tokens; Compel cannot place an empty fragment, so leave those out.
        kept = tuple(f for f in fragments if f.text.strip())
        if kept or not chunks:
            chunks.append(kept)
        current = []
    if len(chunks) > 1:
        chunks = [c for c in chunks if c] or [()]
    return tuple(chunks)


def _weighted_spans(out: list) -> tuple[Span, ...]:
    spans: list[list] = []  # [start, end, weight], made Spans once at the end
    for item in out:
        if item is _BREAK_MARK:
            continue
        char, position, weight = item
        weight = round(weight, 4)
        if weight == 1.0 or char.isspace():
            continue
        if spans and spans[-1][2] == weight and spans[-1][1] >= position - 1:
            spans[-1][1] = position + 1
        else:
            spans.append([position, position + 1, weight])
    return tuple(Span(*span) for span in spans)


def estimate_tokens(text: str) -> int:
    """About how many CLIP tokens ``text`` takes, without loading a tokenizer: a lower bound (rare words take more)."""
    return len(_CLIP_PIECES.findall(text))


def chunk_count(tokens: int) -> int:
    """How many 75-token chunks a prompt of ``tokens`` tokens is sent in."""
    return max(1, -(-tokens // CHUNK_TOKENS))
