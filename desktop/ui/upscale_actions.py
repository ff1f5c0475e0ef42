"""Upscaling from the history: the ×4 settings dialog and the actions that start an upscale."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

# The engine's defaults (desktop.engine.upscale), repeated so the UI never imports the engine's torch users.
DEFAULT_X4_STEPS = 30
NOISE_RANGE = (0, 350)


class UpscaleDialog(QDialog):
    """Noise level, steps, VAE tiling and the model of a ×4 super-resolution."""

    def __init__(self, settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Super-resolution ×4")
        self.setObjectName("upscaleDialog")
        self.noise_spin = QSpinBox()
        self.noise_spin.setObjectName("upscaleNoiseSpin")
        self.noise_spin.setRange(*NOISE_RANGE)
        self.noise_spin.setValue(settings.upscale_noise_level)
        self.noise_spin.setToolTip("Noise added to the picture before upscaling: low keeps it faithful, high lets "
                                   "the model invent more detail (default 20)")
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("upscaleStepsSpin")
        self.steps_spin.setRange(1, 500)
        self.steps_spin.setValue(DEFAULT_X4_STEPS)
        self.tiling_check = QCheckBox("Decode in tiles (VAE tiling)")
        self.tiling_check.setObjectName("upscaleTilingCheck")
        self.tiling_check.setChecked(settings.upscale_vae_tiling)
        self.tiling_check.setToolTip("Large outputs fit in far less memory; tiles may show faint seams")
        self.model_edit = QLineEdit(settings.upscaler("x4"))
        self.model_edit.setObjectName("upscaleModelEdit")
        self.model_edit.setPlaceholderText("stabilityai/stable-diffusion-x4-upscaler")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Noise level", self.noise_spin)
        form.addRow("Steps", self.steps_spin)
        form.addRow("", self.tiling_check)
        form.addRow("Model", self.model_edit)
        form.addRow(buttons)

    def options(self) -> dict:
        """What the session's ``upscale`` takes."""
        return dict(noise_level=self.noise_spin.value(), steps=self.steps_spin.value(),
                    vae_tiling=self.tiling_check.isChecked(), model=self.model_edit.text().strip())


class UpscaleActions(QObject):
    """The History menu's upscale entries and the handling of the history panel's upscale buttons."""

    def __init__(self, window, session, history_panel, menu):
        super().__init__(window)
        self._window = window
        self._session = session
        self.x2_action = QAction("&Upscale ×2", window)
        self.x2_action.triggered.connect(lambda: self.upscale_selected("x2"))
        self.x4_action = QAction("&Super-resolution ×4…", window)
        self.x4_action.triggered.connect(lambda: self.upscale_selected("x4"))
        self.tiling_action = QAction("VAE &tiling for upscales", window)
        self.tiling_action.setObjectName("upscaleTilingAction")
        self.tiling_action.setCheckable(True)
        self.tiling_action.setChecked(session.settings.upscale_vae_tiling)
        self.tiling_action.toggled.connect(self._on_tiling_action_toggled)
        menu.addSeparator()
        for action in (self.x2_action, self.x4_action, self.tiling_action):
            menu.addAction(action)
        history_panel.upscale_requested.connect(self.upscale)
        session.history.selection_changed.connect(self._on_selection_changed)
        self._on_selection_changed(session.history.selected_id)

    def upscale_selected(self, kind: str) -> bool:
        """Upscale the node selected in the history."""
        node_id = self._session.history.selected_id
        return node_id is not None and self.upscale(node_id, kind)

    def upscale(self, node_id: str, kind: str) -> bool:
        """×2 starts at once; ×4 asks for its noise level (and steps, tiling, model) first."""
        if kind == "x2":
            return self._session.upscale(node_id, "x2")
        dialog = UpscaleDialog(self._session.settings, self._window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        options = dialog.options()
        settings = self._session.settings
        settings.upscale_noise_level = options["noise_level"]
        settings.set_upscaler("x4", options["model"])
        self.tiling_action.setChecked(options["vae_tiling"])  # one switch for both kinds
        return self._session.upscale(node_id, "x4", **options)

    def _on_tiling_action_toggled(self, on: bool) -> None:
        self._session.settings.upscale_vae_tiling = on

    def _on_selection_changed(self, node_id) -> None:
        for action in (self.x2_action, self.x4_action):
            action.setEnabled(node_id is not None)
