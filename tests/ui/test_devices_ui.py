"""Devices and memory in the window: the settings dialog, the status bar figure, the out-of-memory retry."""

from __future__ import annotations

import torch
from diffusers import StableDiffusionImg2ImgPipeline
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
)

from desktop.model.settings import Settings

from .conftest import TIMEOUT


def _open_settings(qtbot, window) -> QDialog:
    assert window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    window.settings_action.trigger()
    dialog = window.findChild(QDialog, "settingsDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def _choose(dialog, name: str, value: str) -> None:
    combo = dialog.findChild(QComboBox, name)
    combo.setCurrentIndex(combo.findData(value))


def _ok(qtbot, dialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def _small_run(window, make_image):
    window.model.load_init_image(make_image(size=(64, 64)))
    window.model.update_params(prompt="ink", steps=4, strength=0.5, seed=5)


def test_changed_settings_are_kept_and_the_next_run_uses_them(qtbot, open_window, tiny_model, make_image, data_dir):
    window = open_window(["--model", str(tiny_model)])
    status = window.findChild(QLabel, "deviceStatusLabel")
    qtbot.waitUntil(lambda: status.text().startswith("cpu · float32 · RAM"), timeout=TIMEOUT)  # after the preload
    dialog = _open_settings(qtbot, window)
    assert dialog.findChild(QLabel, "compileNoteLabel").text().startswith("The first run after loading is slow")
    _choose(dialog, "dtypeCombo", "bf16")
    dialog.findChild(QCheckBox, "vaeTilingCheck").setChecked(True)
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    stored = Settings(data_dir).runtime  # read back from the INI file, as the next start will
    assert (stored.dtype, stored.vae_tiling, stored.offload) == ("bf16", True, "none")

    _small_run(window, make_image)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        assert window.model.generate()
    assert window.model.model_info.dtype == "bfloat16"
    assert window.model.last_result.model.dtype == "bfloat16"
    qtbot.waitUntil(lambda: status.text().startswith("cpu · bfloat16 · RAM "), timeout=TIMEOUT)
    assert status.text().endswith(" GB")


def test_a_device_this_machine_lacks_is_refused_with_a_sentence(qtbot, open_window, tiny_model, data_dir):
    window = open_window(["--model", str(tiny_model)])
    qtbot.waitUntil(lambda: window.model.devices.available is not None, timeout=TIMEOUT)
    missing = next(d for d in ("cuda", "mps") if d not in window.model.devices.available)
    dialog = _open_settings(qtbot, window)
    combo = dialog.findChild(QComboBox, "deviceCombo")
    assert not combo.model().item(combo.findData(missing)).isEnabled()
    assert combo.itemText(combo.findData("auto")).startswith("Automatic (")
    _choose(dialog, "deviceCombo", missing)  # as if picked anyway (a stale settings file does the same)
    _ok(qtbot, dialog)
    error = dialog.findChild(QLabel, "settingsErrorLabel")
    assert dialog.isVisible() and error.isVisible()
    assert error.text().startswith("This machine has no ") and "Choose one of those, or Automatic." in error.text()
    assert Settings(data_dir).runtime.device == "auto"  # nothing was stored


def test_out_of_memory_offers_a_one_click_retry_with_tiling(qtbot, open_window, tiny_model, make_image, data_dir,
                                                            monkeypatch):
    original = StableDiffusionImg2ImgPipeline.__call__
    calls = []

    def first_call_runs_out(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionImg2ImgPipeline, "__call__", first_call_runs_out)
    window = open_window(["--model", str(tiny_model)])
    _small_run(window, make_image)
    assert window.model.generate()
    banner = window.error_banner
    qtbot.waitUntil(lambda: banner.isVisible() and window.model.phase.value == "idle", timeout=TIMEOUT)
    assert banner.text == "The computer ran out of memory at 64×64. Turn on VAE tiling and try again?"
    retry = banner.findChild(QPushButton, "errorBannerAction0")
    assert retry.text() == "Retry with VAE tiling"
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    assert Settings(data_dir).runtime.vae_tiling  # the lighter setting stays on
    assert window.model.last_result.params.seed == 5  # the same job ran again
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):  # and the app keeps working
        assert window.model.generate()
    assert len(calls) == 3
