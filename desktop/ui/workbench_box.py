"""The settings dialog's Workbench box: the theme, the step-preview quality, and the ×2 and ×4 upscalers."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QComboBox, QFormLayout, QGroupBox, QLineEdit, QSpinBox, QWidget

from desktop.core.previews import MAX_PREVIEW_EVERY, PREVIEW_MODES

from . import theme

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class WorkbenchBox(QGroupBox):
    """Controls for how the window looks and previews, and which upscalers run; ``apply`` stores them."""

    def __init__(self, settings, runtime, parent: QWidget | None = None):
        super().__init__("Workbench", parent)
        self._settings = settings
        self.theme_combo = _combo("themeCombo", THEME_LABELS, settings.theme)
        self.theme_combo.setToolTip("Dark suits a dark room; Follow the system switches with the desktop")
        self.preview_combo = _combo("previewQualityCombo", PREVIEW_MODES, runtime.preview)
        self.preview_combo.setToolTip("Detailed previews decode the steps with a tiny autoencoder (TAESD, "
                                      "madebyollin/taesd or taesdxl from the library): the picture itself, at a "
                                      "cost per decode (docs/PERFORMANCE.md)")
        self.preview_every_spin = QSpinBox()
        self.preview_every_spin.setObjectName("previewEverySpin")
        self.preview_every_spin.setRange(1, MAX_PREVIEW_EVERY)
        self.preview_every_spin.setValue(runtime.preview_every)
        self.preview_every_spin.setSuffix(" steps")
        self.upscale_x2_edit = _edit("upscaleX2ModelEdit", settings.upscaler("x2"), "stabilityai/sd-x2-latent-upscaler")
        self.upscale_x4_edit = _edit("upscaleX4ModelEdit", settings.upscaler("x4"),
                                     "stabilityai/stable-diffusion-x4-upscaler")
        form = QFormLayout(self)
        form.addRow("Theme", self.theme_combo)
        form.addRow("Step previews", self.preview_combo)
        form.addRow("Detailed every", self.preview_every_spin)
        form.addRow("×2 upscaler", self.upscale_x2_edit)
        form.addRow("×4 upscaler", self.upscale_x4_edit)
        self.preview_combo.currentIndexChanged.connect(self._on_preview_combo_changed)
        self._on_preview_combo_changed()

    def runtime_changes(self) -> dict:
        """The RuntimeSettings fields these controls set."""
        return {"preview": self.preview_combo.currentData(), "preview_every": self.preview_every_spin.value()}

    def apply(self) -> None:
        """Store the theme (applied at once) and the upscalers."""
        self._settings.theme = self.theme_combo.currentData()
        theme.apply(QApplication.instance(), self._settings.theme)
        self._settings.set_upscaler("x2", self.upscale_x2_edit.text())
        self._settings.set_upscaler("x4", self.upscale_x4_edit.text())

    def _on_preview_combo_changed(self, *_args) -> None:
        self.preview_every_spin.setEnabled(self.preview_combo.currentData() == "taesd")


def _combo(name: str, labels: dict[str, str], current: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in labels.items():
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def _edit(name: str, text: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit(text)
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setToolTip("A Hugging Face id or a local folder; empty: " + placeholder)
    return edit
