"""The prompt editors colour weighting where it is typed, and say how long the prompt is."""

from PySide6.QtGui import QTextCharFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit

from desktop.ui.prompt_highlighter import (
    DOWN_COLOUR,
    MARKUP_COLOUR,
    UP_COLOUR,
    PromptHighlighter,
)


def char_formats(edit: QPlainTextEdit) -> dict[int, QTextCharFormat]:
    """The highlighter's format at each character position of the whole document."""
    formats = {}
    block = edit.document().firstBlock()
    while block.isValid():
        ranges = block.layout().formats()
        for rng in ranges:
            fmt = QTextCharFormat(rng.format)  # a copy: the range's own goes away with the list
            for i in range(rng.start, rng.start + rng.length):
                formats[block.position() + i] = fmt
        block = block.next()
    return formats


def kind(fmt: QTextCharFormat | None) -> str:
    if fmt is None:
        return "plain"
    if fmt.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline:
        return "problem"
    if fmt.foreground().color() == MARKUP_COLOUR:
        return "markup"
    background = fmt.background().color()
    if background.rgb() == UP_COLOUR.rgb():
        return "up"
    if background.rgb() == DOWN_COLOUR.rgb():
        return "down"
    return "plain"


def kinds_of(edit: QPlainTextEdit, text: str, part: str) -> set[str]:
    formats = char_formats(edit)
    start = text.index(part)
    return {kind(formats.get(i)) for i in range(start, start + len(part)) if not text[i].isspace()}


def make_editor(qtbot, text: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    edit.highlighter = PromptHighlighter(edit.document())
    edit.setPlainText(text)
    return edit


def test_weighted_spans_markup_and_unmatched_brackets_are_told_apart(qtbot):
    text = "oil painting, (red hair:1.3), [blurry], cat++ in (the rain"
    edit = make_editor(qtbot, text)
    assert kinds_of(edit, text, "oil painting") == {"plain"}
    assert kinds_of(edit, text, "red hair") == {"up"}
    assert kinds_of(edit, text, "blurry") == {"down"}
    assert kinds_of(edit, text, "cat") == {"up"}
    assert kinds_of(edit, text, ":1.3)") == {"markup"}
    assert kinds_of(edit, text, "++") == {"markup"}
    assert kind(char_formats(edit).get(text.index("(the"))) == "problem"
    assert kinds_of(edit, text, "the rain") == {"plain"}  # an unmatched bracket weights nothing


def test_a_stronger_weight_is_a_stronger_colour(qtbot):
    text = "(cat:1.5) (dog) [bird] (fish:0.5)"
    edit = make_editor(qtbot, text)
    formats = char_formats(edit)
    alpha = {word: formats[text.index(word)].background().color().alpha() for word in ("cat", "dog", "bird", "fish")}
    assert alpha["cat"] > alpha["dog"]
    assert alpha["fish"] > alpha["bird"]


def test_typing_updates_the_colours_across_lines(qtbot):
    edit = make_editor(qtbot, "(a castle\non a hill")
    assert kinds_of(edit, edit.toPlainText(), "castle") == {"plain"}
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    edit.insertPlainText(":1.4)")
    text = edit.toPlainText()
    # The bracket closed on line 2 weights line 1 too, which Qt alone would not re-highlight.
    qtbot.waitUntil(lambda: kinds_of(edit, text, "castle") == {"up"}, timeout=2000)
    assert kinds_of(edit, text, "hill") == {"up"}


def test_the_window_counts_tokens_and_says_when_a_prompt_goes_in_chunks(qtbot, open_window):
    window = open_window()
    prompt = window.findChild(QPlainTextEdit, "promptEdit")
    label = window.findChild(QLabel, "promptTokenLabel")
    prompt.setPlainText("a (watercolour:1.2) cat")
    assert label.text() == "about 3 of 75 tokens"
    prompt.setPlainText("a castle on a hill, " * 20)
    assert label.text() == "about 120 tokens: sent in 2 chunks of 75"
    assert window.findChild(QLabel, "negativeTokenLabel").text() == ""
    # The highlighter is on the real editors, and the session keeps the prompt exactly as typed.
    prompt.setPlainText("a (watercolour:1.2) cat")
    assert kinds_of(prompt, prompt.toPlainText(), "watercolour") == {"up"}
    assert window.model.params.prompt == "a (watercolour:1.2) cat"


def test_a_prompt_already_there_is_coloured_soon_after_the_window_shows(qtbot, open_window):
    """The highlighters attach after the first paint (not to delay it), without waiting for a keystroke."""
    window = open_window()
    prompt = window.findChild(QPlainTextEdit, "promptEdit")
    prompt.blockSignals(True)  # as if restored with the window, not typed
    prompt.setPlainText("a (castle:1.4)")
    prompt.blockSignals(False)
    # 200 ms when idle; a loaded CI box can take seconds
    qtbot.waitUntil(lambda: kinds_of(prompt, prompt.toPlainText(), "castle") == {"up"}, timeout=15000)
    assert window.findChild(QLabel, "promptTokenLabel").text() == "about 2 of 75 tokens"
