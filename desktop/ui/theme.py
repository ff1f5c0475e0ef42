"""The light and dark palettes, the text tones drawn on them, and the contrast rule they keep (WCAG AA, 4.5:1).

Qt's own palettes leave placeholder and disabled text at about 2:1, and the canvas hint was placeholder grey on
a dark canvas (1.4:1). Every colour a text is drawn in is chosen here, so one test can measure them all.
The theme follows the system's colour scheme unless the settings say "light" or "dark".
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

THEMES = ("system", "light", "dark")
STYLE = "Fusion"  # the one style that draws everything from the palette on every platform (desktop.app starts it)
MIN_CONTRAST = 4.5

R = QPalette.ColorRole
_PALETTES = {
    "light": {
        R.Window: "#efeff1", R.WindowText: "#1b1b1f", R.Base: "#ffffff", R.AlternateBase: "#f4f4f6",
        R.Text: "#15151a", R.Button: "#e4e4e8", R.ButtonText: "#15151a", R.PlaceholderText: "#5c5c66",
        R.Highlight: "#2456b8", R.HighlightedText: "#ffffff", R.ToolTipBase: "#fffbe0", R.ToolTipText: "#15151a",
        R.Link: "#1a4fb0", R.LinkVisited: "#6a3aa8", R.BrightText: "#ffffff", R.Light: "#ffffff",
        R.Midlight: "#d8d8dc", R.Mid: "#b0b0b8", R.Dark: "#8a8a92", R.Shadow: "#505058",
    },
    "dark": {
        R.Window: "#2a2a2e", R.WindowText: "#e6e6ea", R.Base: "#1d1d21", R.AlternateBase: "#25252a",
        R.Text: "#e6e6ea", R.Button: "#3a3a40", R.ButtonText: "#ececf0", R.PlaceholderText: "#a4a4ae",
        R.Highlight: "#2f62c4", R.HighlightedText: "#ffffff", R.ToolTipBase: "#3a3a40", R.ToolTipText: "#ececf0",
        R.Link: "#8ab4f8", R.LinkVisited: "#c4a0f0", R.BrightText: "#ffffff", R.Light: "#55555c",
        R.Midlight: "#45454c", R.Mid: "#33333a", R.Dark: "#18181b", R.Shadow: "#000000",
    },
}
# Greyed-out text: WCAG exempts it, but it should still be legible (about 3:1).
_DISABLED = {"light": "#7a7a84", "dark": "#8a8a94"}

# Text tones used on top of the window or a text field (Window and Base of the same palette).
TONES = {
    "light": {"error": "#b3261e", "warning": "#8a5200", "ok": "#1e6b32", "up": "#a64b00", "down": "#1f56b8",
              "markup": "#5c5c66", "problem": "#b3261e", "lora": "#6a2fa0"},
    "dark": {"error": "#ff8a80", "warning": "#f0b860", "ok": "#7fd49a", "up": "#ffab60", "down": "#8ab4f8",
             "markup": "#a4a4ae", "problem": "#ff8a80", "lora": "#cfa8ff"},
}
# The canvas: a neutral surround that lets the picture's colours read true, and its hint and caption text.
CANVAS = {"light": ("#d6d6da", "#202024"), "dark": ("#26262a", "#d4d4da")}
# Banners keep their own colours in both palettes (white on a deep tone).
BANNERS = {"error": ("#7a2b2b", "#ffffff"), "info": ("#234a63", "#ffffff")}


def relative_luminance(color: QColor) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast_ratio(a: QColor | str, b: QColor | str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((relative_luminance(QColor(a)), relative_luminance(QColor(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def system_is_dark() -> bool:
    """True when the desktop asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(theme: str) -> str:
    """'light' or 'dark' for a theme setting ('system' follows the desktop)."""
    if theme in ("light", "dark"):
        return theme
    return "dark" if system_is_dark() else "light"


def make_palette(name: str) -> QPalette:
    """The full QPalette of 'light' or 'dark'."""
    palette = QPalette()
    for role, value in _PALETTES[name].items():
        palette.setColor(role, QColor(value))
    for role in (R.WindowText, R.Text, R.ButtonText, R.PlaceholderText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED[name]))
    return palette


def current() -> str:
    """The palette in use now: 'dark' when the window background is dark."""
    app = QGuiApplication.instance()
    window = app.palette().color(R.Window) if app is not None else QColor(_PALETTES["light"][R.Window])
    return "dark" if window.lightness() < 128 else "light"


def tone(name: str) -> str:
    """The colour of a text tone ('error', 'warning', …) in the palette in use."""
    return TONES[current()][name]


def canvas_colors() -> tuple[QColor, QColor]:
    """The canvas background and the colour of its hint and caption, in the palette in use."""
    background, text = CANVAS[current()]
    return QColor(background), QColor(text)


def apply(app, theme: str) -> str:
    """Give the application the palette of ``theme`` ('system', 'light', 'dark'); returns the one applied."""
    name = resolve(theme)
    app.setPalette(make_palette(name))
    return name
