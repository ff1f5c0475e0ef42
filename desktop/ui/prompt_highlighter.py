"""Colours prompt weighting as the artist types: warm for emphasis, cool for de-emphasis, markup dimmed.

Uses the engine's own parser (``desktop.core.prompt_syntax``, plain Python), so the colours show exactly what
the text encoder will be given. Unmatched brackets get a red wavy underline: they are read as plain text.
"""

from __future__ import annotations

import functools
import math

from PySide6.QtCore import QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

from desktop.core.prompt_syntax import (
    CHUNK_TOKENS,
    ParsedPrompt,
    chunk_count,
    estimate_tokens,
    parse_prompt,
)
from desktop.core.style_files import lora_tag_spans

from . import theme

UP_COLOUR = QColor(230, 120, 20)  # emphasis: orange
DOWN_COLOUR = QColor(60, 120, 220)  # de-emphasis: blue
MIN_TINT = 30  # the faintest tint that still shows a weight
# Text colours come from the theme so they keep 4.5:1 on the prompt box in both palettes (these are the light ones).
MARKUP_COLOUR = QColor(theme.TONES["light"]["markup"])
PROBLEM_COLOUR = QColor(theme.TONES["light"]["problem"])


def weight_format(weight: float) -> QTextCharFormat:
    """The background for text of ``weight``: its hue says up or down, its strength how far from 1."""
    fmt = QTextCharFormat()
    colour = QColor(UP_COLOUR if weight > 1 else DOWN_COLOUR)
    # 1.1 is faint, 1.5 or 0.5 is strong: alpha follows the distance from 1 on a log scale...
    alpha = int(min(200, 50 + 400 * abs(math.log(max(weight, 1e-3)))))
    colour.setAlpha(_readable_alpha(theme.current(), weight > 1, alpha))
    fmt.setBackground(colour)
    if weight > 1:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    return fmt


@functools.lru_cache(maxsize=512)
def _readable_alpha(palette_name: str, up: bool, alpha: int) -> int:
    """``alpha``, lowered until the words on the tint keep 4.5:1 (the light text of the dark palette needs a
    fainter tint than the dark text of the light one); cached, as every highlighted span asks."""
    colour = UP_COLOUR if up else DOWN_COLOUR
    palette = theme.make_palette(palette_name)
    base, text = palette.color(theme.R.Base), palette.color(theme.R.Text)
    while alpha > MIN_TINT and theme.contrast_ratio(tint_over(colour, alpha, base), text) < theme.MIN_CONTRAST:
        alpha -= 5
    return alpha


def tint_over(colour: QColor, alpha: int, base: QColor) -> QColor:
    """What ``colour`` at ``alpha`` (0–255) looks like painted over ``base``."""
    a = alpha / 255
    return QColor(*(round(a * c + (1 - a) * b) for c, b in zip(colour.getRgb()[:3], base.getRgb()[:3], strict=True)))


def _markup_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(theme.tone("markup")))
    return fmt


def _lora_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(theme.tone("lora")))  # purple: a LoRA tag, read by the engine, never encoded as words
    fmt.setFontItalic(True)
    return fmt


def _problem_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(theme.tone("problem")))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    fmt.setUnderlineColor(QColor(theme.tone("problem")))
    return fmt


class PromptHighlighter(QSyntaxHighlighter):
    """Highlights weighted spans, markup and unmatched brackets in one prompt editor's document."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)
        self._parsed: ParsedPrompt = parse_prompt("")
        self._markup = _markup_format()
        self._problem = _problem_format()
        self._lora = _lora_format()
        self._pending = False
        # A bracket closed on a later line changes earlier lines, which Qt would not re-highlight by itself.
        document.contentsChange.connect(self._on_document_contents_change)

    @property
    def parsed(self) -> ParsedPrompt:
        """The parse of the whole document, as last highlighted."""
        return self._parsed

    def _on_document_contents_change(self, *_args) -> None:
        if self.document().blockCount() > 1 and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self._rehighlight_all)

    def _rehighlight_all(self) -> None:
        self._pending = False
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        whole = self.document().toPlainText()
        if whole != self._parsed.source:
            self._parsed = parse_prompt(whole)
        start = self.currentBlock().position()
        end = start + len(text)

        def apply(span_start: int, span_end: int, fmt: QTextCharFormat) -> None:
            left, right = max(span_start, start), min(span_end, end)
            if left < right:
                self.setFormat(left - start, right - left, fmt)

        for span in self._parsed.weighted:
            apply(span.start, span.end, weight_format(span.weight))
        for span in self._parsed.syntax:
            apply(span.start, span.end, self._markup)
        for problem in self._parsed.problems:
            apply(problem.start, problem.end, self._problem)
        for tag_start, tag_end in lora_tag_spans(whole):  # <lora:name:w>: a LoRA, not words
            apply(tag_start, tag_end, self._lora)


def token_summary(parsed: ParsedPrompt, t5_limit: int | None = None) -> str:
    """'about 12 tokens of 75', or how many chunks a longer prompt is sent in; with ``t5_limit`` (SD 3, FLUX)
    the count against T5's limit, which cuts the rest instead of chunking."""
    counts = [estimate_tokens(" ".join(f.text for f in chunk)) for chunk in parsed.chunks]
    total = sum(counts)
    if t5_limit:
        return f"about {total} of {t5_limit} T5 tokens" + (": the rest is cut" if total > t5_limit else "")
    chunks = sum(chunk_count(c) for c in counts)
    if chunks > 1:
        return f"about {total} tokens: sent in {chunks} chunks of {CHUNK_TOKENS}"
    return f"about {total} of {CHUNK_TOKENS} tokens"
