"""File ▸ Settings… Workbench box: the theme, detailed previews every k steps, and a choosable ×2 upscaler
(before, only the ×4 dialog had a model field although the ×2 error said to choose one)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QSpinBox

from desktop.model.settings import Settings
from desktop.ui import theme


def test_the_workbench_settings_are_applied_and_kept(qtbot, open_window, data_dir, tiny_x2_upscaler):
    window = open_window([])
    dialog = window.settings_dialog()
    box = dialog.findChild(QComboBox, "themeCombo")
    box.setCurrentIndex(box.findData("dark"))
    preview = dialog.findChild(QComboBox, "previewQualityCombo")
    every = dialog.findChild(QSpinBox, "previewEverySpin")
    assert not every.isEnabled()  # latent colours come every step
    preview.setCurrentIndex(preview.findData("taesd"))
    assert every.isEnabled()
    every.setValue(3)
    dialog.findChild(QLineEdit, "upscaleX2ModelEdit").setText(str(tiny_x2_upscaler))
    assert dialog.apply()
    try:
        assert theme.current() == "dark"
        stored = Settings(data_dir)
        assert stored.theme == "dark" and stored.upscaler("x2") == str(tiny_x2_upscaler)
        assert (stored.runtime.preview, stored.runtime.preview_every) == ("taesd", 3)
        assert window.model.devices.runtime.preview == "taesd"  # the next run's request carries it
    finally:
        theme.apply(QApplication.instance(), "light")
