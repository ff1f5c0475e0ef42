"""Prompt and negative prompt editors, with weighting highlighted and a token count beside each."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from .prompt_completion import PromptCompleter

ATTACH_DELAY_MS = 200  # after the first paint (about 90 ms after the panel is built), like the model preload


class PromptPanel(QWidget):
    """Two text editors bound to the model's prompt and negative prompt."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText(
            "Describe the style you want, e.g. “oil painting, warm light, thick brush strokes”")
        self.prompt_edit.setTabChangesFocus(True)
        self.negative_edit = QPlainTextEdit()
        self.negative_edit.setObjectName("negativePromptEdit")
        self.negative_edit.setPlaceholderText("What to avoid, e.g. “blurry, low quality”")
        self.negative_edit.setTabChangesFocus(True)
        self.negative_edit.setMaximumHeight(70)
        self.prompt_edit.setMaximumHeight(110)
        # The highlighters and the token counter (parser, text formats: about 20 ms of imports) are attached just
        # after the window first paints, or at the first keystroke if that comes sooner, so they never delay it.
        self.prompt_highlighter = self.negative_highlighter = None
        self.prompt_tokens = QLabel()
        self.prompt_tokens.setObjectName("promptTokenLabel")
        self.negative_tokens = QLabel()
        self.negative_tokens.setObjectName("negativeTokenLabel")
        tip = ("(word:1.3) or word++ to stress, [word] or word-- to soften, BREAK to start a new chunk. "
               "The count is an estimate; the model reads 75 tokens at a time, and longer prompts go in chunks.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, edit, tokens in (("Prompt", self.prompt_edit, self.prompt_tokens),
                                    ("Negative prompt", self.negative_edit, self.negative_tokens)):
            tokens.setToolTip(tip)
            tokens.setStyleSheet("color: palette(placeholder-text);")
            header = QHBoxLayout()
            header.addWidget(QLabel(title))
            header.addStretch(1)
            header.addWidget(tokens)
            layout.addLayout(header)
            layout.addWidget(edit)
        self._sync(model.params)
        # LoRA names after "<lora:", embedding names after two letters, offered as you type.
        self.prompt_completer = PromptCompleter(self.prompt_edit, model.styles)
        self.negative_completer = PromptCompleter(self.negative_edit, model.styles)
        QTimer.singleShot(ATTACH_DELAY_MS, self, self._count_tokens)  # attaches the highlighters
        self.prompt_edit.textChanged.connect(self._on_prompt_edit_text_changed)
        self.negative_edit.textChanged.connect(self._on_negative_edit_text_changed)
        model.params_changed.connect(self._sync)
        model.model_info_changed.connect(lambda _info: self._sync(model.params))

    def _on_prompt_edit_text_changed(self) -> None:
        self._count_tokens()
        self._model.update_params(prompt=self.prompt_edit.toPlainText())

    def _on_negative_edit_text_changed(self) -> None:
        self._count_tokens()
        self._model.update_params(negative_prompt=self.negative_edit.toPlainText())

    def _attach_highlighters(self) -> None:
        if self.prompt_highlighter is not None:
            return
        from .prompt_highlighter import PromptHighlighter

        self.prompt_highlighter = PromptHighlighter(self.prompt_edit.document())
        self.negative_highlighter = PromptHighlighter(self.negative_edit.document())
        # A new highlighter colours its document on a queued call and ignores edits until then; run that call
        # now, so text typed in this same event is coloured too.
        for highlighter in (self.prompt_highlighter, self.negative_highlighter):
            QCoreApplication.sendPostedEvents(highlighter, QEvent.Type.MetaCall)

    def _count_tokens(self) -> None:
        self._attach_highlighters()
        from desktop.core.families import T5_TOKENS
        from desktop.core.prompt_syntax import parse_prompt
        from desktop.core.style_files import parse_lora_tags

        from .prompt_highlighter import token_summary

        t5_limit = T5_TOKENS.get(self._model.family.key)  # SD 3 / FLUX: T5's limit, no 75-token chunks
        for edit, label in ((self.prompt_edit, self.prompt_tokens), (self.negative_edit, self.negative_tokens)):
            text = edit.toPlainText()
            text = parse_lora_tags(text)[0]  # <lora:…> tags are not sent to the text encoder
            label.setText(token_summary(parse_prompt(text), t5_limit) if text.strip() else "")

    def _sync(self, params) -> None:
        # Only touch the editors when the text differs, or typing would lose the cursor position.
        if self.prompt_edit.toPlainText() != params.prompt:
            self.prompt_edit.setPlainText(params.prompt)
        if self.negative_edit.toPlainText() != params.negative_prompt:
            self.negative_edit.setPlainText(params.negative_prompt)
        self._follow_family(params)

    def _follow_family(self, params) -> None:
        """Grey the negative prompt out where the family would ignore it (FLUX without true CFG, schnell), and
        say what reads the prompt (T5: plain words, its own token limit)."""
        family = self._model.family
        used = family.negative_prompt == "always" or (
            family.negative_prompt == "true_cfg" and (params.true_cfg_scale or 1.0) > 1.0)
        self.negative_edit.setEnabled(used)
        self.negative_edit.setToolTip("" if used else (
            f"{family.label} uses the negative prompt only with True CFG above 1."
            if family.negative_prompt == "true_cfg" else f"{family.label} has no guidance: no negative prompt."))
        self.prompt_edit.setToolTip(family.text_encoder_note)
        if self.prompt_highlighter is not None:  # counted already: count again against this family's limit
            self._count_tokens()
