"""A read-only data folder: the window starts (the log goes to the temporary folder), shows the history that is
there, and a bar says nothing can be saved; `restyle generate` still runs. Both stopped with an error before."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QTreeView

from desktop.app import build_main_window
from desktop.cli import main
from desktop.core.workspace import Workspace


@contextmanager
def read_only(folder: Path):
    """Make ``folder`` read-only for this process: a read-only mount as root (root ignores modes), else chmod."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield
        finally:
            os.chmod(folder, 0o755)
        return
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], check=False, capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here (no mount permission)")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)


def _window(qtbot, folder):
    window = build_main_window([], data_dir=folder)
    qtbot.addWidget(window)
    window.show()
    window.findChild(QTreeView, "historyView").expandAll()
    window.grab()
    return window


def test_a_read_only_data_folder_with_a_history_starts_and_says_nothing_can_be_saved(qtbot, tmp_path, make_image):
    folder = tmp_path / "data"
    folder.mkdir()
    workspace, _ = Workspace.open(folder / "workspaces" / "default")
    with Image.open(make_image()) as picture:
        workspace.add_import(make_image(), picture.copy())
    workspace.close()
    count = len(workspace.tree)
    with read_only(folder):
        window = _window(qtbot, folder)
        assert window.error_banner.isVisible() and "read-only" in window.error_banner.text
        assert len(window.model.history.tree) == count
        window.close()


def test_an_empty_read_only_data_folder_starts_with_an_empty_history(qtbot, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder):
        window = _window(qtbot, folder)
        assert "read-only" in window.error_banner.text
        assert len(window.model.history.tree) == 0
        window.close()


def test_restyle_generate_runs_with_a_read_only_data_folder(tiny_model, tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    out = tmp_path / "result.png"
    with read_only(folder):
        code = main(["generate", "--model", str(tiny_model), "--prompt", "x", "--steps", "2", "--seed", "1",
                     "--data-dir", str(folder), "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.is_file()
