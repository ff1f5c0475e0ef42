"""Settings ▸ Run on: this computer, or a Ray cluster at an address; a remote one without a token is refused."""

from __future__ import annotations

import importlib.util

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit

from desktop.model.settings import Settings


@pytest.fixture()
def no_token(monkeypatch, tmp_path):
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.ray/auth_token


def _settings_dialog(qtbot, window) -> QDialog:
    window.settings_action.trigger()
    dialog = window.findChild(QDialog, "settingsDialog")
    qtbot.waitExposed(dialog)
    return dialog


def _run_on(dialog, address: str) -> None:
    combo = dialog.findChild(QComboBox, "runOnCombo")
    combo.setCurrentIndex(combo.findData("cluster" if address else "here"))
    if address:
        dialog.findChild(QLineEdit, "clusterAddressEdit").setText(address)


def _ok(qtbot, dialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def test_a_remote_cluster_without_a_token_is_refused_and_auto_is_kept(qtbot, open_window, data_dir, no_token):
    window = open_window([])
    dialog = _settings_dialog(qtbot, window)
    _run_on(dialog, "203.0.113.7:6379")
    note = dialog.findChild(QLabel, "clusterNoteLabel").text()
    ray_installed = importlib.util.find_spec("ray") is not None
    assert ("no Ray token was found" in note) if ray_installed else ("restyle[cluster]" in note)
    _ok(qtbot, dialog)
    error = dialog.findChild(QLabel, "settingsErrorLabel")
    assert dialog.isVisible() and error.isVisible()  # refused: the dialog stays open and says why
    assert ("without a token" in error.text()) if ray_installed else ("restyle[cluster]" in error.text())
    assert Settings(data_dir).cluster_address == ""  # nothing changed
    if not ray_installed:
        return
    _run_on(dialog, "auto")  # a cluster on this computer needs no token
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    assert Settings(data_dir).cluster_address == "auto" and window.model.devices.cluster == "auto"

    dialog = _settings_dialog(qtbot, window)  # shown as chosen, and back to this computer in one step
    assert dialog.findChild(QComboBox, "runOnCombo").currentData() == "cluster"
    assert dialog.findChild(QLineEdit, "clusterAddressEdit").text() == "auto"
    _run_on(dialog, "")
    _ok(qtbot, dialog)
    assert Settings(data_dir).cluster_address == ""
