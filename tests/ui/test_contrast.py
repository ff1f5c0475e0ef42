"""Every text is readable (WCAG AA, 4.5:1) in the light and the dark palette, measured on the pixels drawn.

Each widget is rendered, its background read from the pixels, and the drawn colour furthest from it taken as
its text colour: what an artist sees, stylesheets and palettes included.
"""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel

from desktop.ui import theme

R = theme.R  # the palette's colour roles, short for the pairs below


def rendered_contrast(widget) -> float:
    """The contrast between a widget's most common colour (its background) and its most distinct drawn colour."""
    image = widget.grab().toImage()
    assert image.width() > 0 and image.height() > 0, f"{widget.objectName()} draws nothing"
    counts = Counter(image.pixel(x, y) for x in range(image.width()) for y in range(image.height()))
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    return max(theme.contrast_ratio(background, QColor.fromRgb(rgb)) for rgb in counts)


@pytest.fixture(params=["light", "dark"])
def palette_window(request, open_window, data_dir):
    """The window in the light or the dark palette (the theme setting, as the settings dialog stores it)."""
    from desktop.model.settings import Settings

    Settings(data_dir).theme = request.param
    window = open_window([])
    assert theme.current() == request.param
    yield window
    theme.apply(QApplication.instance(), "light")


def test_the_palettes_and_tones_meet_aa():
    for name in ("light", "dark"):
        palette = theme.make_palette(name)
        for text, background in ((R.WindowText, R.Window), (R.Text, R.Base), (R.ButtonText, R.Button),
                                 (R.PlaceholderText, R.Base), (R.HighlightedText, R.Highlight),
                                 (R.ToolTipText, R.ToolTipBase), (R.Link, R.Base)):
            ratio = theme.contrast_ratio(palette.color(text), palette.color(background))
            assert ratio >= theme.MIN_CONTRAST, f"{name}: {text.name} on {background.name} is {ratio:.2f}:1"
        for tone, colour in theme.TONES[name].items():
            for background in (R.Window, R.Base, R.Button):
                ratio = theme.contrast_ratio(colour, palette.color(background))
                assert ratio >= theme.MIN_CONTRAST, f"{name}: {tone} on {background.name} is {ratio:.2f}:1"
        assert theme.contrast_ratio(*theme.CANVAS[name]) >= theme.MIN_CONTRAST
    for background, text in theme.BANNERS.values():
        assert theme.contrast_ratio(background, text) >= theme.MIN_CONTRAST


def test_the_canvas_hint_is_readable(palette_window):
    canvas = palette_window.canvas
    assert canvas.placeholder  # nothing loaded: the hint shows
    assert rendered_contrast(canvas) >= theme.MIN_CONTRAST  # before: placeholder grey on the dark canvas, 1.4:1


def test_status_texts_are_readable(palette_window, qtbot):
    window = palette_window
    window.model.status_changed.emit("Loading stable-diffusion-v1-5…")
    window.model.update_params(prompt="a castle", negative_prompt="blur")
    qtbot.waitUntil(lambda: bool(window.findChild(QLabel, "promptTokenLabel").text()))
    window.error_banner.show_message("The model could not be found.")
    window.notice_banner.show_message("The depth map was cropped to the picture's shape.")
    window.side_column.depth_section.set_expanded(True)  # the depth panel is built as it first shows
    stale = window.findChild(QLabel, "depthStaleLabel")
    stale.show()
    QApplication.processEvents()
    for label in (window.status_label, window.findChild(QLabel, "sourceLabel"),
                  window.findChild(QLabel, "modelStateLabel"), window.error_banner.label,
                  window.notice_banner.label, stale, window.findChild(QLabel, "queueStatusLabel"),
                  window.findChild(QLabel, "promptTokenLabel"), window.findChild(QLabel, "negativeTokenLabel")):
        assert label.text(), label.objectName()
        ratio = rendered_contrast(label)
        assert ratio >= theme.MIN_CONTRAST, f"{label.objectName()} is {ratio:.2f}:1 in {theme.current()}"


def test_the_theme_follows_the_system_unless_set(qapp, monkeypatch):
    monkeypatch.setattr(theme, "system_is_dark", lambda: True)
    assert theme.apply(qapp, "system") == "dark" and theme.current() == "dark"
    assert theme.apply(qapp, "light") == "light" and theme.current() == "light"
    monkeypatch.setattr(theme, "system_is_dark", lambda: False)
    assert theme.apply(qapp, "system") == "light"


def test_weighted_words_stay_readable_on_their_tint_in_both_palettes(qapp):
    from desktop.ui.prompt_highlighter import MIN_TINT, tint_over, weight_format

    try:
        for name in ("light", "dark"):
            theme.apply(qapp, name)
            palette = theme.make_palette(name)
            base, text = palette.color(theme.R.Base), palette.color(theme.R.Text)
            alphas = {}
            for weight in (0.2, 0.5, 0.9, 1.1, 1.5, 2.0, 4.0):
                tint = weight_format(weight).background().color()
                ratio = theme.contrast_ratio(tint_over(tint, tint.alpha(), base), text)
                assert ratio >= theme.MIN_CONTRAST, f"{name}: weight {weight} is {ratio:.2f}:1"
                assert tint.alpha() >= MIN_TINT  # still tinted: the weight shows
                alphas[weight] = tint.alpha()
            # Further from 1 is never fainter, up or down.
            assert alphas[1.1] <= alphas[1.5] <= alphas[2.0] <= alphas[4.0]
            assert alphas[0.9] <= alphas[0.5] <= alphas[0.2]
    finally:
        theme.apply(qapp, "light")
