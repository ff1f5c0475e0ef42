"""The restore bar shows what a dropped picture would change, restores on a click and undoes on another; Export
for sharing writes PNG, JPEG or WebP with the settings (or none), never the workspace's private record."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QPushButton

from desktop.core.history import Node
from desktop.core.metadata import read_parameters
from desktop.core.picture_settings import read_picture_settings
from tests.core import tool_pictures as tp
from tests.core.test_picture_settings import FOOOCUS

from .conftest import TIMEOUT, drop_files


def _click(qtbot, banner, index):
    qtbot.mouseClick(banner.findChild(QPushButton, f"restoreBannerAction{index}"), Qt.MouseButton.LeftButton)


def test_a_fooocus_picture_previews_its_settings_restores_them_and_undo_brings_mine_back(qtbot, open_window,
                                                                                      tmp_path, hub_cache):
    window = open_window([])
    window.model.update_params(prompt="my own prompt", seed=42)
    assert drop_files(window.canvas, tp.fooocus_png(tmp_path / "goldfish.png", **FOOOCUS))
    banner = window.restore_banner
    assert banner.isVisible()
    assert "goldfish.png was made with Fooocus" in banner.text and "seed 42 → 6952411511246973023" in banner.text
    assert "Model juggernautXL_v8Rundiffusion: not installed" in banner.text and "sharpness 2" in banner.text
    assert window.model.params.prompt == "my own prompt"  # nothing changes before the click
    _click(qtbot, banner, 0)
    prompt_edit = window.findChild(QPlainTextEdit, "promptEdit")
    assert prompt_edit.toPlainText() == "a smiling goldfish"
    assert window.findChild(QLineEdit, "seedEdit").text() == "6952411511246973023"
    qtbot.waitUntil(lambda: banner.isVisible() and "restored from goldfish.png" in banner.text)
    assert banner.findChild(QPushButton, "restoreBannerAction0").text() == "Undo"
    _click(qtbot, banner, 0)
    assert prompt_edit.toPlainText() == "my own prompt" and window.model.params.seed == 42


def test_find_it_opens_the_library_with_the_pictures_model_name(qtbot, open_window, tmp_path, hub_cache):
    window = open_window([])
    drop_files(window.canvas, tp.fooocus_png(tmp_path / "goldfish.png", **FOOOCUS))
    button = window.restore_banner.findChild(QPushButton, "restoreBannerAction1")
    assert button.text() == "Not installed: find it"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.model_picker.library
    assert dialog is not None and dialog.isVisible()
    assert dialog.findChild(QLineEdit, "libraryHubIdEdit").text() == "juggernautXL_v8Rundiffusion"
    qtbot.waitUntil(lambda: bool(dialog.entries), timeout=TIMEOUT)  # its scan ends before the test does
    dialog.close()


def test_export_for_sharing_writes_the_settings_without_the_node_record(qtbot, open_window, data_dir):
    from PIL import Image

    from desktop.core.metadata import build_parameters_text
    from desktop.core.node_files import NODE_CHUNK, write_node_image
    from desktop.ui.picture_actions import ShareExportDialog

    window = open_window([])
    history = window.model.history
    node_id = history.workspace.new_node_id()
    node = Node(id=node_id, parent=None, kind="generation", image=f"{node_id}.png", created="2026-01-01T00:00:00",
                width=32, height=24, params={"model": "/home/artist/models/dreamy", "prompt": "koi", "seed": 3},
                model="/home/artist/models/dreamy", seed=3)
    text = build_parameters_text("koi", "", [("Steps", 20), ("Sampler", "Euler"), ("CFG scale", 7.0), ("Seed", 3),
                                             ("Model", "dreamy"), ("Restyle model", "/home/artist/models/dreamy")])
    write_node_image(history.workspace.folder, node, Image.new("RGB", (32, 24), (200, 10, 10)), text)
    history.workspace.add_node(node)
    history.select(node.id)
    assert window.picture_actions.share_action.isEnabled()
    for name, strip in (("koi.jpg", False), ("koi.webp", False), ("koi.png", True)):
        dialog = ShareExportDialog(data_dir / name)
        dialog.strip_check.setChecked(strip)
        path = window.picture_actions.export_selected(dialog=dialog)
        data = path.read_bytes()
        assert NODE_CHUNK.encode() not in data and b"/home/artist" not in data
        settings = read_picture_settings(path)
        if strip:
            assert settings is None and read_parameters(path) is None
        else:
            assert (settings.prompt, settings.seed, settings.model_name) == ("koi", 3, "dreamy")
    dialog = ShareExportDialog(data_dir / "koi.png")
    dialog.format_combo.setCurrentText("WebP")
    assert dialog.choice()[0].name == "koi.webp"
