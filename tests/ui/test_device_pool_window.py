"""The window on several devices (Settings ▸ Devices at once: 2): the queue runs on two CPU workers at once, each
with its own pipelines, a job pinned to a device runs there, a chain keeps its order, and Esc stops both."""

from __future__ import annotations

import os
import shutil
import signal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFrame, QLabel, QListWidget

from desktop.model.queue import JobQueue
from desktop.model.settings import Settings

from .conftest import TIMEOUT

# The first pool of a test run starts the fork server that imports torch and diffusers once (about 7 s here);
# later pools fork from it in a moment.
slow = pytest.mark.slow


@pytest.fixture()
def pool_window(open_window, data_dir, tiny_model, make_image):
    settings = Settings(data_dir)
    settings.device_workers = 2
    settings.sync()
    window = open_window(["--model", str(tiny_model), str(make_image(size=(64, 64)))])
    window.model.update_params(prompt="ink", steps=4, strength=0.6, seed=1)
    made_on: dict[str, str] = {}  # history node -> the device that made it
    host = window.model.pool.ensure_host()
    host.finished.connect(lambda _job, device, result: made_on.__setitem__(result.history_nodes[-1].id, device))
    window.made_on = made_on
    return window


def _generations(window):
    return [n for n in window.model.history.tree if n.kind == "generation"]


def _wait_preloaded(qtbot, window, model=None):
    """Wait until the window's model preload (a load-only job sent once the window shows, or on a model change) has
    loaded the model on every device: each then says it is idle with the model loaded (``model``: the path)."""
    def ready() -> bool:
        rows = window.model.pool.rows
        return len(rows) == 2 and all(r.state == "idle" and r.model and r.model == (model or r.model) for r in rows)

    qtbot.waitUntil(ready, timeout=TIMEOUT)


def _row_lines(window, seen: list[str]):
    """Record the two device lines each time the pool reports (after the panel's own update)."""
    def note() -> None:
        lines = [window.findChild(QLabel, f"deviceRow-cpu-{k}") for k in (1, 2)]
        seen.append(" | ".join(line.text() for line in lines if line is not None))

    window.model.pool.changed.connect(note, Qt.ConnectionType.QueuedConnection)


def _wait_idle(qtbot, window, count):
    qtbot.waitUntil(lambda: len(_generations(window)) >= count and window.model.phase.value == "idle"
                    and not window.model.jobs.queue.waiting_count(), timeout=TIMEOUT)


@slow
def test_a_batch_runs_on_both_devices_and_the_panel_shows_them(qtbot, pool_window):
    window = pool_window
    seen: list[tuple[int, int, str]] = []  # at every change of a device: (devices busy, jobs running, lines)

    def note() -> None:
        lines = [window.findChild(QLabel, f"deviceRow-cpu-{k}") for k in (1, 2)]
        seen.append((sum(r.state in ("running", "loading") for r in window.model.pool.rows),
                     sum(j.state == "running" for j in window.model.jobs.queue.jobs),
                     " | ".join(line.text() for line in lines if line is not None)))

    _wait_preloaded(qtbot, window)
    window.model.pool.changed.connect(note, Qt.ConnectionType.QueuedConnection)  # after the panel's own update
    assert window.model.jobs.enqueue_batch(4)
    panel = window.findChild(QFrame, "devicePoolPanel")
    assert panel.isVisibleTo(window.queue_panel)
    _wait_idle(qtbot, window, 4)
    assert any(devices == 2 for devices, _, _ in seen) and any(jobs == 2 for _, jobs, _ in seen)  # two at once
    assert any("step" in lines and "Batch" in lines for _, _, lines in seen)  # a device's line says what it runs
    rows = [window.findChild(QLabel, f"deviceRow-cpu-{k}") for k in (1, 2)]
    assert all(row.isVisibleTo(window.queue_panel) for row in rows)
    nodes = _generations(window)
    assert sorted(n.seed for n in nodes) == [1, 2, 3, 4]  # every job once in the history
    assert set(window.made_on.values()) == {"cpu-1", "cpu-2"}  # both devices made pictures
    assert sorted(window.made_on) == sorted(n.id for n in nodes)
    assert all("idle" in row.text() and "tiny-sd loaded" in row.text() for row in rows)
    assert window.findChild(QLabel, "devicePoolTitle").text() == "Devices: 0 of 2 busy"
    assert window.findChild(QLabel, "deviceStatusLabel").text() == "2 devices · 0 busy"


@slow
def test_the_model_loads_on_every_device_before_the_first_run_and_again_on_a_model_change(
        qtbot, pool_window, tiny_model, tmp_path):
    window = pool_window
    seen: list[str] = []
    _row_lines(window, seen)
    _wait_preloaded(qtbot, window)
    assert not _generations(window)  # nothing ran: the preload alone loaded it on both devices
    assert all(row.model == str(tiny_model) for row in window.model.pool.rows)
    lines = [window.findChild(QLabel, f"deviceRow-cpu-{k}").text() for k in (1, 2)]
    assert all("idle" in line and "tiny-sd loaded" in line for line in lines)
    assert any(line.count("loading tiny-sd") == 2 for line in seen)  # both said so while they loaded, at once

    other = tmp_path / "other-sd"  # another model (a copy under another name): a change while the pool runs
    shutil.copytree(tiny_model, other)
    seen.clear()
    window.model.set_model(str(other))
    _wait_preloaded(qtbot, window, model=str(other))
    assert any(line.count("loading other-sd") == 2 for line in seen)
    assert all("other-sd loaded" in window.findChild(QLabel, f"deviceRow-cpu-{k}").text() for k in (1, 2))

    assert window.model.jobs.enqueue_batch(2)  # the first batch after the change runs on both devices
    _wait_idle(qtbot, window, 2)
    assert sorted(n.seed for n in _generations(window)) == [1, 2]
    assert set(window.made_on.values()) == {"cpu-1", "cpu-2"}
    assert all(n.params["model"] == str(other) for n in _generations(window))


@slow
def test_a_pinned_job_runs_on_its_device_and_a_chain_keeps_its_order(qtbot, pool_window):
    window = pool_window
    runner = window.model.jobs
    runner.pause()
    assert runner.enqueue_chain([{"prompt": "one"}, {"prompt": "two"}, {"prompt": "three"}])
    window.model.update_params(prompt="pinned")
    assert runner.enqueue_generate()
    pinned = runner.queue.jobs[-1]
    qtbot.waitUntil(lambda: len(window.model.pool.rows) == 2, timeout=TIMEOUT)  # the devices are known
    view = window.findChild(QListWidget, "queueView")
    window.queue_panel.select_job(pinned.id)
    combo = window.findChild(QComboBox, "queueDeviceCombo")
    assert combo.isVisibleTo(window.queue_panel) and combo.isEnabled()
    index = combo.findData("cpu-2")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # as a pick in the list does
    assert runner.queue.get(pinned.id).device == "cpu-2"
    assert "on CPU worker 2" in view.currentItem().text()
    assert JobQueue(runner.queue.path).get(pinned.id).device == "cpu-2"  # kept in queue.json
    runner.resume()
    _wait_idle(qtbot, window, 4)
    by_prompt = {n.params["prompt"]: n for n in _generations(window)}
    assert window.made_on[by_prompt["pinned"].id] == "cpu-2"
    # Each step of the chain starts from the one before, whichever device ran it.
    assert by_prompt["two"].parent == by_prompt["one"].id and by_prompt["three"].parent == by_prompt["two"].id


@slow
def test_previews_follow_the_selected_run_and_esc_stops_both_devices(qtbot, pool_window):
    window = pool_window
    runner = window.model.jobs
    runner.pause()
    for steps in (200, 150):
        window.model.update_params(steps=steps, strength=1.0)
        assert runner.enqueue_generate()
    assert runner.enqueue_batch(2)
    first, second = runner.queue.jobs[:2]
    runner.resume()
    qtbot.waitUntil(lambda: sum(r.state == "running" and r.step >= 1 for r in window.model.pool.rows) == 2,
                    timeout=TIMEOUT)
    totals: list[int] = []
    window.model.progress_changed.connect(lambda step, total, eta: totals.append(total))
    qtbot.waitUntil(lambda: len(totals) >= 2, timeout=TIMEOUT)
    assert all(140 <= total <= 160 for total in totals)  # the latest started (150 steps), while none is selected
    window.queue_panel.select_job(first.id)  # the artist picks the other run: the bar and the canvas follow it
    totals.clear()
    previews = []
    window.model.preview_changed.connect(previews.append)
    qtbot.waitUntil(lambda: len(totals) >= 2 and bool(previews), timeout=TIMEOUT)
    assert all(190 <= total <= 210 for total in totals)  # the 200-step run

    after_esc: dict[int, int] = {}  # job -> steps it made after Esc
    escaped = []
    window.model.pool.host.progress.connect(
        lambda job, step, total, eta: escaped and after_esc.__setitem__(job, after_esc.get(job, 0) + 1))
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    escaped.append(True)
    qtbot.waitUntil(lambda: window.model.phase.value == "idle", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: all(r.state == "idle" for r in window.model.pool.rows), timeout=TIMEOUT)
    # Each stopped at once: a step or two, plus the few already on their way from the device when Esc was pressed
    # (the exact one-step bound is checked on the pool itself, tests/cluster/test_local_pool.py).
    assert all(count <= 10 for count in after_esc.values()), after_esc
    assert _generations(window) == []  # nothing half-made saved
    queue = runner.queue
    assert queue.paused and queue.waiting_count() == 2  # the two that had not started wait for Resume
    assert first.id not in [j.id for j in queue.jobs] and second.id not in [j.id for j in queue.jobs]


@slow
def test_a_device_lost_mid_run_has_its_run_done_on_the_other_once(qtbot, pool_window):
    window = pool_window
    window.model.update_params(steps=60, strength=1.0)
    statuses = []
    window.model.status_changed.connect(statuses.append)
    assert window.model.jobs.enqueue_batch(2)
    qtbot.waitUntil(lambda: sum(r.state == "running" and r.step >= 2 for r in window.model.pool.rows) == 2,
                    timeout=TIMEOUT)
    victim = next(r for r in window.model.pool.rows if r.id == "cpu-1")
    os.kill(victim.pid, signal.SIGKILL)
    _wait_idle(qtbot, window, 2)
    nodes = _generations(window)
    assert sorted(n.seed for n in nodes) == [1, 2]  # both made, each once
    assert set(window.made_on.values()) == {"cpu-2"}  # the lost device's run was done again on the other
    assert any("starts again on another device" in line for line in statuses)
    line = window.findChild(QLabel, "deviceRow-cpu-1").text()
    assert "lost" in line
    assert window.model.pool.capacity == 1


def test_settings_devices_choice_is_kept(qtbot, open_window, data_dir):
    window = open_window([])
    assert not window.findChild(QFrame, "devicePoolPanel").isVisible()  # one device: nothing changes
    window.settings_action.trigger()
    dialog = window.findChild(QDialog, "settingsDialog")
    combo = dialog.findChild(QComboBox, "deviceWorkersCombo")
    assert combo.currentData() == 1
    combo.setCurrentIndex(combo.findData(2))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert Settings(data_dir).device_workers == 2 and window.model.pool.active
    assert window.findChild(QFrame, "devicePoolPanel").isVisibleTo(window.queue_panel)


def test_every_gpu_on_a_computer_without_two_runs_as_one_device(qtbot, open_window, data_dir, tiny_model, make_image):
    settings = Settings(data_dir)
    settings.device_workers = 0  # Every GPU: this machine has none
    settings.sync()
    window = open_window(["--model", str(tiny_model), str(make_image(size=(64, 64)))])
    window.model.update_params(prompt="ink", steps=4, strength=0.6, seed=1)
    saved = []
    window.output_saved.connect(saved.append)
    assert window.model.generate()
    window.model.update_params(seed=2)
    assert window.model.generate()  # queued behind it
    qtbot.waitUntil(lambda: len(saved) == 2 and window.model.phase.value == "idle", timeout=TIMEOUT)
    assert sorted(n.seed for n in _generations(window)) == [1, 2]
    assert not window.model.pool.active and window.model.pool.host is None  # the window's own engine ran them
    assert not window.findChild(QFrame, "devicePoolPanel").isVisibleTo(window.queue_panel)
    assert "devices" not in window.findChild(QLabel, "deviceStatusLabel").text()
