"""Completion of LoRA and embedding names in a prompt box: after ``<lora:`` it offers the LoRAs in the folders
(choosing one writes ``<lora:name:1>``), and after two letters of a word it offers the embeddings that start so."""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QCompleter, QPlainTextEdit

_LORA_PREFIX = re.compile(r"<lora:([^:<>\s]*)$", re.IGNORECASE)
_WORD_PREFIX = re.compile(r"(?:embedding:)?([\w\-]{2,})$")


class PromptCompleter(QObject):
    """Watches one prompt editor and pops up the names that complete what is being typed."""

    def __init__(self, edit: QPlainTextEdit, library):
        super().__init__(edit)
        self._edit = edit
        self._library = library
        self._kind = ""  # "lora" or "embedding": what the popup offers now
        self._prefix = ""
        self._names = QStringListModel(self)  # kept here: a model without an owner is collected by Python
        self.completer = QCompleter(self._names, edit)
        self.completer.setObjectName("promptCompleter")
        self.completer.setWidget(edit)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self.insert_completion)
        edit.textChanged.connect(self._on_edit_text_changed)

    def candidates(self) -> list[str]:
        """The names offered for the text before the cursor ([] when nothing is being completed)."""
        before = self._text_before_cursor()
        lora = _LORA_PREFIX.search(before)
        if lora:
            self._kind, self._prefix = "lora", lora.group(1)
            names = [f.name for f in self._library.loras()]
        else:
            word = _WORD_PREFIX.search(before)
            if not word:
                return []
            self._kind, self._prefix = "embedding", word.group(1)
            names = [f.name for f in self._library.embeddings()]
        lowered = self._prefix.lower()
        return [n for n in names if n.lower().startswith(lowered) and n != self._prefix]

    def insert_completion(self, name: str) -> None:
        """Replace what was typed of the name with the whole name (and close a LoRA tag with weight 1)."""
        cursor = self._edit.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(self._prefix))
        cursor.insertText(f"{name}:1>" if self._kind == "lora" else name)
        self._edit.setTextCursor(cursor)
        self.completer.popup().hide()

    def _text_before_cursor(self) -> str:
        cursor = self._edit.textCursor()
        block = cursor.block().text()
        return block[: cursor.positionInBlock()]

    def _on_edit_text_changed(self) -> None:
        if not self._edit.hasFocus():
            return  # text set by a restore or a sync, not typed
        names = self.candidates()
        popup = self.completer.popup()
        if not names:
            popup.hide()
            return
        self._names.setStringList(names)
        self.completer.setCompletionPrefix(self._prefix)
        rect = self._edit.cursorRect()
        rect.setWidth(popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width())
        self.completer.complete(rect)
