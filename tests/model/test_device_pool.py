"""The queue on several devices without processes: a stand-in pool host plays the devices (the window tests in
tests/ui/test_device_pool_window.py run the real ones). Runs start as devices free up, a pinned run waits for its
device, the bar follows the run in focus, and one device keeps the old path."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from desktop.core.params import GenerationResult
from desktop.model.session import Phase, SessionModel
from desktop.model.settings import Settings
from desktop.worker import DeviceRow, GenerateRequest
from desktop.worker.history_writer import write_to_history

from .recording_host import RecordingPoolHost
from .test_session import _info

ROWS = (DeviceRow("cpu-1", "CPU worker 1", "idle"), DeviceRow("cpu-2", "CPU worker 2", "idle"))


@pytest.fixture()
def model(qapp, data_dir, host, make_image):
    settings = Settings(data_dir, default_output_dir=data_dir / "out")
    settings.device_workers = 2
    session = SessionModel(settings, host)
    session.pool.make_host = RecordingPoolHost
    session.set_model("m", preload=False)
    session.load_init_image(make_image())
    session.update_params(prompt="p", seed=4, steps=3)
    return session


def _runs(model):
    pool = model.pool.host
    return [r for r in pool.requests if isinstance(r, GenerateRequest)] if pool is not None else []


def _place(model, request, device):
    model.pool.host.job_started.emit(request.job_id, device)


def _finish(model, request, device):
    result = GenerationResult(image=Image.new("RGB", (64, 48)), params=request.params, model=_info(), steps_run=3,
                              sampler="PLMS", elapsed=0.1, output_path="/out/x.png")
    result = write_to_history(request.history, result)
    model.pool.host.finished.emit(request.job_id, device, result)
    model.pool.host.job_done.emit(request.job_id)
    return result.history_nodes[-1]


def test_runs_start_as_devices_free_up_and_a_pinned_run_waits_for_its_device(model, host):
    assert model.jobs.enqueue_batch(4)
    assert len(_runs(model)) == 1  # one until the devices report
    # None to the window's own engine, which lets go of its model: it would sit beside the first device's copy.
    assert [type(r).__name__ for r in host.requests] == ["UnloadModelRequest"]
    model.pool.host.devices_changed.emit(ROWS)
    first, second = _runs(model)
    assert [j.state for j in model.jobs.queue.jobs] == ["running", "running", "waiting", "waiting"]
    third = model.jobs.queue.jobs[2]
    model.jobs.set_device(third.id, "cpu-2")
    _place(model, first, "cpu-1")
    _place(model, second, "cpu-2")
    _finish(model, first, "cpu-1")
    fourth = _runs(model)[2]  # cpu-1 is free: the next run for any device goes, the pinned one keeps waiting
    assert fourth.slot == "" and fourth.params.seed == 7
    assert model.jobs.queue.get(third.id).state == "waiting"
    _place(model, fourth, "cpu-1")
    _finish(model, second, "cpu-2")
    pinned = _runs(model)[3]
    assert pinned.slot == "cpu-2" and pinned.params.seed == 6  # on the device it was pinned to
    _place(model, pinned, "cpu-2")
    _finish(model, fourth, "cpu-1")
    _finish(model, pinned, "cpu-2")
    assert model.phase is Phase.IDLE and model.jobs.queue.jobs == []
    assert sorted(n.seed for n in model.history.tree if n.kind == "generation") == [4, 5, 6, 7]


def test_the_bar_and_the_canvas_follow_the_run_in_focus_and_esc_stops_every_run(model, qtbot):
    assert model.jobs.enqueue_batch(3)
    model.pool.host.devices_changed.emit(ROWS)
    first, second = _runs(model)
    bar, canvas = [], []
    model.progress_changed.connect(lambda step, total, eta: bar.append(step))
    model.preview_changed.connect(canvas.append)
    image = QImage(8, 8, QImage.Format.Format_RGB888)
    for request, step in ((first, 1), (second, 5)):
        model.pool.host.progress.emit(request.job_id, step, 10, -1.0)
        model.pool.host.preview.emit(request.job_id, image, step, 10)
    assert bar == [5] and len(canvas) == 1  # the latest started
    model.jobs.focus(model.jobs.queue.jobs[0].id)  # the artist selects the first in the queue
    model.pool.host.progress.emit(first.job_id, 2, 10, -1.0)
    model.pool.host.progress.emit(second.job_id, 6, 10, -1.0)
    assert bar == [5, 2]

    model.cancel()
    assert first.cancel_event.is_set() and second.cancel_event.is_set() and model.phase is Phase.CANCELLING
    for request in (first, second):
        model.pool.host.cancelled.emit(request.job_id)
        model.pool.host.job_done.emit(request.job_id)
    assert model.phase is Phase.IDLE and model.jobs.queue.paused
    assert [j.state for j in model.jobs.queue.jobs] == ["waiting"] and len(_runs(model)) == 2


def test_one_device_after_all_hands_the_runs_to_the_windows_engine(model, host):
    assert model.generate()
    request = _runs(model)[0]
    model.pool.host.single_device.emit([request])
    assert not model.pool.active and model.pool.host is None
    assert host.requests[-1] is request  # the window's own engine runs it, as with Devices at once: One
    model.update_params(seed=5)
    assert model.generate()  # queued behind it, for the one engine
    assert [r for r in host.requests if isinstance(r, GenerateRequest)] == [request]


def test_when_every_device_is_lost_the_runs_are_kept_and_resume_starts_fresh_devices(model, qtbot):
    assert model.jobs.enqueue_batch(2)
    old = model.pool.host
    old.devices_changed.emit(ROWS)
    first, second = _runs(model)
    _place(model, first, "cpu-1")
    _place(model, second, "cpu-2")
    old.busy = True
    old.devices_changed.emit(tuple(DeviceRow(r.id, r.label, "lost") for r in ROWS))  # the workers all died
    assert not old.stopped  # its runs have not failed back yet
    said = []
    model.jobs.status_changed.connect(said.append)
    for request in (first, second):
        old.failed.emit(request.job_id, "unavailable", "Every device of the pool stopped.")
        old.busy = request is first
        old.job_done.emit(request.job_id)
    assert old.stopped and model.pool.host is None  # the dead pool is closed
    assert model.jobs.queue.paused and [j.state for j in model.jobs.queue.jobs] == ["waiting", "waiting"]
    assert not any(n.kind == "generation" for n in model.history.tree)  # nothing half-made, nothing lost
    model.jobs.resume()
    assert model.pool.host is not None and model.pool.host is not old  # a fresh pool for the kept runs
    assert len(_runs(model)) == 1  # one until its devices report


def test_runs_pinned_to_a_lost_device_go_to_any_device_with_a_sentence(model):
    assert model.jobs.enqueue_batch(3)
    model.pool.host.devices_changed.emit(ROWS)
    first, second = _runs(model)
    pinned = model.jobs.queue.jobs[2]
    assert model.jobs.set_device(pinned.id, "cpu-2")
    _place(model, first, "cpu-1")
    _place(model, second, "cpu-2")
    said = []
    model.jobs.status_changed.connect(said.append)
    model.pool.host.devices_changed.emit((ROWS[0], DeviceRow("cpu-2", "CPU worker 2", "lost")))
    assert model.jobs.queue.get(pinned.id).device == ""  # no longer waiting for a device that is gone
    assert said == ["CPU worker 2 stopped: 1 waiting run pinned to it goes to whichever device is free now."]
    _finish(model, first, "cpu-1")
    _place(model, second, "cpu-1")  # the pool does the lost device's run again on the one left
    _finish(model, second, "cpu-1")
    third = _runs(model)[2]
    assert third.slot == "" and third.params.seed == 6  # it runs, on the device that is left


def test_a_run_sent_to_busy_devices_says_it_waits_for_one(model, qtbot):
    from PySide6.QtWidgets import QListWidget

    from desktop.ui.queue_panel import QueuePanel

    panel = QueuePanel(model)
    qtbot.addWidget(panel)
    view = panel.findChild(QListWidget, "queueView")
    assert model.jobs.enqueue_batch(2)
    model.pool.host.devices_changed.emit(ROWS)
    first, second = _runs(model)
    _place(model, first, "cpu-1")  # the other device is still loading the model the window asked for
    texts = [view.item(i).text().split("\n")[0] for i in range(view.count())]
    assert texts[0].startswith("▶") and texts[0].endswith("· on CPU worker 1")
    assert texts[1].startswith("•") and texts[1].endswith("· waiting for a free device")  # sent, not running yet
    _place(model, second, "cpu-2")
    assert view.item(1).text().split("\n")[0].endswith("· on CPU worker 2")
