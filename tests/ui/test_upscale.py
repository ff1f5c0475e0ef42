"""Upscaling from the history in the window: ×2 in latent space, ×4 with its noise level, cancel, reload."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.workspace import Workspace
from desktop.ui.upscale_actions import UpscaleDialog

from .conftest import TIMEOUT


def _button(window, name):
    return window.findChild(QPushButton, name)


def _window(open_window, tiny_model, make_image, tiny_x2_upscaler, tiny_x4_upscaler):
    window = open_window(["--model", str(tiny_model), str(make_image(size=(64, 64)))])
    window.model.update_params(prompt="woodcut", steps=3, strength=0.6, seed=1)
    window.model.settings.set_upscaler("x2", str(tiny_x2_upscaler))
    window.model.settings.set_upscaler("x4", str(tiny_x4_upscaler))
    return window


def _accept_dialog(monkeypatch, **values):
    def exec_(dialog):
        dialog.noise_spin.setValue(values.get("noise", 20))
        dialog.steps_spin.setValue(values.get("steps", 2))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(UpscaleDialog, "exec", exec_)


def test_upscales_chain_under_their_source_and_survive_a_reload(qtbot, open_window, tiny_model, make_image,
                                                                 tiny_x2_upscaler, tiny_x4_upscaler, monkeypatch):
    window = _window(open_window, tiny_model, make_image, tiny_x2_upscaler, tiny_x4_upscaler)
    x2_button, x4_button = _button(window, "upscaleX2Button"), _button(window, "upscaleX4Button")
    assert not x2_button.isEnabled() and not x4_button.isEnabled()  # nothing selected yet
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    tree = window.model.history.tree
    source = tree.get(window.model.history.selected_id)
    assert x2_button.isEnabled() and x4_button.isEnabled()

    previews = []
    window.model.preview_changed.connect(previews.append)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        qtbot.mouseClick(x2_button, Qt.MouseButton.LeftButton)
    x2 = tree.get(window.model.history.selected_id)
    assert x2.parent == source.id and x2.kind == "upscale"
    assert x2.chain_mode == "latent"  # the source's latents went straight in
    assert (x2.width, x2.height) == (source.width * 2, source.height * 2)
    assert x2.upscale["kind"] == "x2" and x2.upscale["steps"] == 20 and x2.upscale["prompt"] == "woodcut"
    assert len(previews) == 20  # a preview at every step
    fields = parse_parameters_text(read_parameters(window.last_output_path)).fields
    assert fields["Hires upscale"] == "2" and fields["Restyle upscale"] == "upscale ×2 latent"
    assert "×2 latent" in window.history_panel.item_model.data(
        window.history_panel.item_model.node_index(x2.id), Qt.ItemDataRole.DisplayRole)

    # An upscale chains like any node: continue from it in latent space, or upscale it again.
    window.model.continue_from(x2.id)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    after = tree.get(window.model.history.selected_id)
    assert after.parent == x2.id and after.chain_mode == "latent"

    _accept_dialog(monkeypatch, noise=42, steps=2)
    window.model.history.select(x2.id)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        qtbot.mouseClick(x4_button, Qt.MouseButton.LeftButton)
    x4 = tree.get(window.model.history.selected_id)
    assert x4.parent == x2.id and x4.upscale["kind"] == "x4" and x4.upscale["noise_level"] == 42
    assert (x4.width, x4.height) == (x2.width * 4, x2.height * 4)
    assert window.model.settings.upscale_noise_level == 42  # remembered for next time

    reopened, _report = Workspace.open(window.model.history.workspace.folder)
    again = reopened.tree.get(x4.id)
    assert again.parent == x2.id and again.upscale == x4.upscale
    assert reopened.tree.get(x2.id).kind == "upscale"
    assert reopened.tree.get(x2.id).latent  # its latents are cached for the next latent chain


def test_cancel_stops_an_upscale_and_adds_nothing(qtbot, open_window, tiny_model, make_image, tiny_x2_upscaler,
                                                   tiny_x4_upscaler, monkeypatch):
    window = _window(open_window, tiny_model, make_image, tiny_x2_upscaler, tiny_x4_upscaler)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    count = len(window.model.history.tree)
    _accept_dialog(monkeypatch, steps=200)
    steps = []
    window.model.progress_changed.connect(lambda step, total, eta: steps.append(step))
    window.model.progress_changed.connect(lambda step, total, eta: step == 2 and window.model.cancel())
    with qtbot.waitSignal(window.model.phase_changed, timeout=TIMEOUT,
                          check_params_cb=lambda phase: phase == "idle"):
        assert window.upscale_actions.upscale_selected("x4")
    assert max(steps) <= 3  # stopped within one step of the cancel, not after 200
    assert len(window.model.history.tree) == count


def test_an_upscale_too_large_for_memory_is_refused_with_a_sentence(qtbot, open_window, tiny_model, make_image,
                                                                    tiny_x2_upscaler, tiny_x4_upscaler,
                                                                    monkeypatch):
    from desktop.engine import upscale

    window = _window(open_window, tiny_model, make_image, tiny_x2_upscaler, tiny_x4_upscaler)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    monkeypatch.setattr(upscale, "available_memory", lambda device: 1000)
    errors = []
    window.model.error_raised.connect(lambda kind, message: errors.append(message))
    with qtbot.waitSignal(window.model.phase_changed, timeout=TIMEOUT,
                          check_params_cb=lambda phase: phase == "idle"):
        window.upscale_actions.upscale_selected("x2")
    assert errors and "VAE tiling" in errors[0]
    assert window.error_banner.isVisible()

    window.upscale_actions.tiling_action.setChecked(True)  # History → VAE tiling for upscales
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.upscale_actions.upscale_selected("x2")
    assert window.model.history.tree.get(window.model.history.selected_id).upscale["vae_tiling"] is True
