"""The queue in the window: Generate while a run goes, reorder/remove, a restart, sweeps and planned chains."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QDialogButtonBox, QListWidget, QPushButton

from .conftest import TIMEOUT


def _window(open_window, tiny_model, make_image, **params):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    window.model.update_params(prompt="first", steps=4, strength=0.6, seed=1, **params)
    return window


def _rows(window) -> list[str]:
    view = window.findChild(QListWidget, "queueView")
    return [view.item(row).text() for row in range(view.count())]


def _click(qtbot, window, name):
    qtbot.mouseClick(window.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def _wait_for_outputs(qtbot, window, count):
    saved = []
    window.output_saved.connect(saved.append)
    qtbot.waitUntil(lambda: len(saved) >= count and window.model.phase.value == "idle", timeout=TIMEOUT)
    return saved


def test_generate_while_running_queues_and_the_panel_reorders_and_removes(qtbot, open_window, tiny_model,
                                                                         make_image):
    window = _window(open_window, tiny_model, make_image)
    generate = window.findChild(QPushButton, "generateButton")
    saved = []
    window.output_saved.connect(saved.append)
    # Four clicks in a row: the first starts, the others wait in the queue.
    for prompt in ("first", "second", "third", "fourth"):
        window.model.update_params(prompt=prompt)
        qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    assert window.model.phase.value == "running"
    rows = _rows(window)
    assert len(rows) == 3 and all(r.startswith("•") for r in rows)
    assert ["second" in rows[0], "third" in rows[1], "fourth" in rows[2]] == [True] * 3
    assert window.side_tabs.tabText(1) == "Queue (3)"
    view = window.findChild(QListWidget, "queueView")
    assert "Prompt: second" in view.item(0).toolTip() and "seed 1" in view.item(0).toolTip()

    _click(qtbot, window, "queuePauseButton")  # hold the queue while rearranging it
    assert window.model.jobs.queue.paused
    view.setCurrentRow(2)  # fourth
    _click(qtbot, window, "queueUpButton")
    _click(qtbot, window, "queueUpButton")
    view.setCurrentRow(2)  # third
    _click(qtbot, window, "queueRemoveButton")
    assert [("fourth" in r, "second" in r) for r in _rows(window)[-2:]] == [(True, False), (False, True)]
    # Dragging a row does the same (the view's own move, as a drop makes it).
    view.model().moveRow(QModelIndex(), 1, QModelIndex(), 0)
    qtbot.waitUntil(lambda: [j.params["prompt"] for j in window.model.jobs.queue.jobs] == ["second", "fourth"])
    view.model().moveRow(QModelIndex(), 1, QModelIndex(), 0)
    qtbot.waitUntil(lambda: [j.params["prompt"] for j in window.model.jobs.queue.jobs] == ["fourth", "second"])
    assert "fourth" in _rows(window)[0]
    _click(qtbot, window, "queuePauseButton")  # Resume

    qtbot.waitUntil(lambda: len(saved) == 3 and window.model.phase.value == "idle", timeout=TIMEOUT)
    prompts = [window.model.history.tree.get(n).params["prompt"] for n in _generation_ids(window)]
    assert prompts == ["first", "fourth", "second"]
    assert _rows(window) == [] and window.side_tabs.tabText(1) == "Queue"


def _generation_ids(window):
    return [n.id for n in window.model.history.tree if n.kind == "generation"]


def test_waiting_jobs_survive_closing_the_window_and_run_when_asked(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    window.model.generate()
    window.model.update_params(prompt="queued one")
    window.model.generate()
    window.model.update_params(prompt="queued two")
    window.model.generate()
    window.close()  # while the first run is going

    again = open_window(["--model", str(tiny_model)])
    rows = _rows(again)
    assert len(rows) == 2 and "queued one" in rows[0] and "queued two" in rows[1]
    banner = again.notice_banner
    assert banner.isVisible() and "waiting from last time" in banner.text
    assert again.model.phase.value == "idle"  # nothing started by itself
    assert again.findChild(QPushButton, "queuePauseButton").text() == "Resume"
    saved = []
    again.output_saved.connect(saved.append)
    qtbot.mouseClick(again.findChild(QPushButton, "noticeBannerAction0"), Qt.MouseButton.LeftButton)  # Run them
    qtbot.waitUntil(lambda: len(saved) == len(rows) and again.model.phase.value == "idle", timeout=TIMEOUT)
    prompts = [again.model.history.tree.get(n).params["prompt"] for n in _generation_ids(again)]
    assert prompts == ["queued one", "queued two"]


def test_a_sweep_from_the_dialog_makes_history_nodes_and_a_grid(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    dialog = window.queue_actions.sweep_dialog()
    dialog.parameter_combo.setCurrentText("guidance")
    assert dialog.values_edit.text() == "0.1, 5, 10"  # the guide's comparison, ready to run
    dialog.values_edit.setText("1, 99")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and "Guidance scale must be between 0 and 50" in dialog.error_label.text()
    dialog.values_edit.setText("1, 5, 9")
    with qtbot.waitSignal(window.model.jobs.grid_ready, timeout=TIMEOUT) as ready:
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible() and window.side_tabs.currentWidget() is window.queue_panel
    nodes = [window.model.history.tree.get(n) for n in _generation_ids(window)]
    assert [n.params["guidance_scale"] for n in nodes] == [1.0, 5.0, 9.0]
    assert len({n.seed for n in nodes}) == 1 and len({n.parent for n in nodes}) == 1
    grid = Image.open(ready.args[0])
    assert grid.width > 3 * nodes[0].width
    assert "sweep" in window.notice_banner.text and Path(ready.args[0]).parent == window.model.settings.output_dir


def test_a_planned_chain_across_two_models(qtbot, open_window, tiny_model, make_image, tmp_path):
    from desktop.testing.tiny import build_tiny_sd

    other = build_tiny_sd(tmp_path / "other-tiny", seed=1, vae_seed=1)
    window = open_window(["--model", str(tiny_model)])  # no image: step 1 is text to image
    window.model.update_params(prompt="a lighthouse", steps=4, strength=0.6, seed=2)
    dialog = window.queue_actions.chain_dialog()
    assert dialog.from_text_check.isChecked() and dialog.table.rowCount() == 2
    dialog.table.item(1, 0).setText(str(other))
    dialog.table.item(1, 1).setText("as a watercolour")
    dialog.table.item(1, 2).setText("half")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert "“half” is not a number" in dialog.error_label.text()
    dialog.table.item(1, 2).setText("0.5")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()
    _wait_for_outputs(qtbot, window, 2)
    qtbot.waitUntil(lambda: len(_generation_ids(window)) == 2, timeout=TIMEOUT)
    tree = window.model.history.tree
    first, second = (tree.get(n) for n in _generation_ids(window))
    assert first.parent is None and first.params["init_image"] is None  # text to image
    assert second.parent == first.id and second.params["prompt"] == "as a watercolour"
    assert second.params["model"] == str(other) and second.params["strength"] == 0.5
    assert second.chain_mode == "pixels"  # another VAE: through pixels
