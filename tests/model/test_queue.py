"""The queue without widgets or torch: jobs in order, reorder/remove/cancel, a restart, chains, sweeps, batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop.core.params import GenerationResult
from desktop.model.queue_runner import parse_sweep_values
from desktop.model.session import Phase, SessionModel
from desktop.model.settings import Settings
from desktop.worker import GenerateRequest
from desktop.worker.history_writer import write_to_history

from .recording_host import RecordingHost
from .test_session import _info


def _session(data_dir, host):
    return SessionModel(Settings(data_dir, default_output_dir=data_dir / "out"), host)


@pytest.fixture()
def model(qapp, data_dir, host, make_image):
    session = _session(data_dir, host)
    session.set_model("m", preload=False)
    session.load_init_image(make_image())
    session.update_params(prompt="p", seed=4, steps=3)
    return session


def _runs(host):
    return [r for r in host.requests if isinstance(r, GenerateRequest)]


def _finish(host, request, size=(64, 48), color=(90, 90, 90)):
    """Play the worker: write the result where the request says it goes in the history, then report it done."""
    result = GenerationResult(image=Image.new("RGB", size, color), params=request.params, model=_info(),
                              steps_run=3, sampler="PLMS", elapsed=0.1, output_path="/out/x.png")
    result = write_to_history(request.history, result)
    host.worker.finished.emit(result)
    host.worker.job_done.emit(request.job_id)
    return result.history_nodes[-1]


def _fail(host, request):
    host.worker.failed.emit(request.job_id, "internal", "boom")
    host.worker.job_done.emit(request.job_id)


def test_generate_while_running_queues_and_runs_in_order_after_reorder_and_remove(model, host):
    assert model.generate()
    for prompt in ("second", "third", "fourth"):
        model.update_params(prompt=prompt)
        assert model.generate()  # queued, not refused
    assert len(_runs(host)) == 1
    jobs = model.jobs.queue.jobs
    assert [j.params["prompt"] for j in jobs] == ["second", "third", "fourth"]
    assert all(j.state == "waiting" for j in jobs)
    model.jobs.move(jobs[2].id, -2)  # fourth before second
    model.jobs.remove(jobs[1].id)  # third out
    assert [j.params["prompt"] for j in model.jobs.queue.jobs] == ["fourth", "second"]

    first = _finish(host, _runs(host)[0])
    assert model.jobs.queue.jobs[0].state == "running"
    assert not model.jobs.move(model.jobs.queue.jobs[1].id, -1)  # the running job stays first
    fourth = _finish(host, _runs(host)[1])
    second = _finish(host, _runs(host)[2])
    assert [r.params.prompt for r in _runs(host)] == ["p", "fourth", "second"]
    assert model.jobs.queue.jobs == [] and model.phase is Phase.IDLE
    # Every queued run from the dropped picture hangs under the same imported root.
    tree = model.history.tree
    assert second.parent == fourth.parent == first.parent and tree.get(first.parent).kind == "import"
    assert len([n for n in tree if n.kind == "import"]) == 1


def test_cancel_stops_the_running_job_and_pauses_the_queue_until_resumed(model, host, qtbot):
    model.generate()
    model.update_params(prompt="next")
    model.generate()
    model.cancel()
    with qtbot.waitSignal(model.status_changed) as status:
        host.worker.cancelled.emit(_runs(host)[0].job_id)
        host.worker.job_done.emit(_runs(host)[0].job_id)
    assert "paused" in status.args[0]
    assert model.jobs.queue.paused and len(_runs(host)) == 1
    assert [j.params["prompt"] for j in model.jobs.queue.jobs] == ["next"]
    model.jobs.resume()
    assert len(_runs(host)) == 2 and _runs(host)[1].params.prompt == "next"


def test_the_panel_cancel_of_a_running_job_is_the_session_cancel(model, host):
    model.jobs.enqueue_batch(2)
    running = model.jobs.queue.jobs[0]
    assert running.state == "running"
    model.jobs.remove(running.id)
    assert _runs(host)[0].cancel_event.is_set() and model.phase is Phase.CANCELLING


def test_waiting_jobs_survive_a_restart_and_come_back_paused(model, host, data_dir, qapp):
    model.generate()
    model.update_params(prompt="after restart", seed=11)
    model.generate()
    model.jobs.enqueue_batch(2)
    # The app dies now: the running job was not finished.
    other = RecordingHost()
    again = _session(data_dir, other)
    jobs = again.jobs.queue.jobs
    assert [j.state for j in jobs] == ["waiting"] * 3
    assert [(j.params["prompt"], j.params["seed"]) for j in jobs] == [("after restart", s) for s in (11, 11, 12)]
    assert again.jobs.queue.paused and again.jobs.queue.restored == 3
    assert _runs(other) == []  # nothing heavy starts by itself at start-up
    again.jobs.resume()
    assert len(_runs(other)) == 1 and _runs(other)[0].params.prompt == "after restart"
    assert _runs(other)[0].params.init_image.endswith(".png")  # from the imported root's copy


def test_batch_queues_consecutive_seeds(model, host):
    model.update_params(seed=41)
    assert model.jobs.enqueue_batch(3)
    for _ in range(3):
        _finish(host, _runs(host)[-1])
    assert [r.params.seed for r in _runs(host)] == [41, 42, 43]


def test_a_planned_chain_runs_each_step_from_the_previous_result(model, host):
    steps = [{"model": "a", "prompt": "ink", "strength": 0.5}, {"model": "b", "prompt": "paint", "strength": 0.3},
             {"model": "c", "prompt": "glaze", "strength": 0.2}]
    assert model.jobs.enqueue_chain(steps)
    first = _finish(host, _runs(host)[0])
    second = _finish(host, _runs(host)[1])
    third = _finish(host, _runs(host)[2])
    assert [(r.params.model, r.params.prompt, r.params.strength) for r in _runs(host)] == [
        ("a", "ink", 0.5), ("b", "paint", 0.3), ("c", "glaze", 0.2)]
    assert third.parent == second.id and second.parent == first.id


def test_a_failed_chain_step_blocks_the_steps_after_it(model, host):
    model.jobs.enqueue_chain([{"prompt": "one"}, {"prompt": "two"}, {"prompt": "three"}])
    model.update_params(prompt="unrelated")
    model.generate()  # queued behind the chain
    _fail(host, _runs(host)[0])
    jobs = model.jobs.queue.jobs
    assert [j.state for j in jobs] == ["blocked", "blocked", "running"]
    assert "failed" in jobs[0].note
    assert _runs(host)[-1].params.prompt == "unrelated"  # the unrelated job still ran
    model.jobs.remove(jobs[0].id)
    assert [j.state for j in model.jobs.queue.jobs] == ["blocked", "running"]


def test_a_chain_that_cannot_be_planned_says_which_step(model, qtbot):
    with qtbot.waitSignal(model.error_raised) as error:
        assert not model.jobs.enqueue_chain([{"prompt": "a"}, {"strength": 1.5}])
    assert error.args[1].startswith("Step 2:") and "Strength" in error.args[1]
    assert model.jobs.queue.jobs == []


@pytest.mark.parametrize(("parameter", "text", "words"), [
    ("strength", "0.4", "at least two"),
    ("strength", "0.4, abc", "“abc” is not a number"),
    ("strength", "0.4, 1.5", "Strength must be above 0 and at most 1"),
    ("steps", "4, 5.5", "“5.5” is not a whole number"),
    ("guidance", "1, 60", "Guidance scale must be between 0 and 50"),
    ("seed", "1, -3", "seed must be a whole number from 0"),
])
def test_bad_sweep_values_get_a_sentence(model, parameter, text, words):
    with pytest.raises(ValueError, match=words):
        parse_sweep_values(parameter, text, model.params)


def test_a_sweep_uses_one_seed_and_saves_a_labelled_grid_with_every_cell_a_node(model, host, qtbot, data_dir):
    model.update_params(seed=None)
    assert model.jobs.enqueue_sweep("strength", "0.4, 0.6, 1.0")
    nodes = []
    with qtbot.waitSignal(model.jobs.grid_ready) as ready:
        for color in ((250, 0, 0), (0, 250, 0), (0, 0, 250)):
            nodes.append(_finish(host, _runs(host)[-1], color=color))
    runs = _runs(host)
    assert len({r.params.seed for r in runs}) == 1 and runs[0].params.seed is not None
    assert [n.params["strength"] for n in nodes] == [0.4, 0.6, 1.0]
    assert all(n.id in model.history.tree for n in nodes)

    from desktop.core.grid import CAPTION_HEIGHT, GAP, TITLE_HEIGHT

    grid = Image.open(ready.args[0]).convert("RGB")
    cell = 160  # results smaller than the narrowest cell sit in its middle, unscaled
    assert grid.size == (GAP + 3 * (cell + GAP), TITLE_HEIGHT + GAP + cell + CAPTION_HEIGHT + GAP)
    top = TITLE_HEIGHT + GAP
    for index, color in enumerate(((250, 0, 0), (0, 250, 0), (0, 0, 250))):
        x = GAP + index * (cell + GAP) + cell // 2
        assert grid.getpixel((x, top + cell // 2)) == color  # the cells in sweep order
        assert grid.getpixel((x - 33, top + cell // 2)) == (255, 255, 255)  # 64 px wide: not scaled up
    bands = [grid.crop((GAP + i * (cell + GAP), top + cell, GAP + i * (cell + GAP) + cell, top + cell + CAPTION_HEIGHT))
             for i in range(3)]
    assert all(band.getextrema() != ((255, 255), (255, 255), (255, 255)) for band in bands)  # text drawn
    assert bands[0].tobytes() != bands[1].tobytes() != bands[2].tobytes()  # and each label differs
    title = grid.crop((0, 0, grid.width, TITLE_HEIGHT))
    assert title.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_a_folder_is_checked_when_queued_and_reports_a_summary(model, host, tmp_path, make_image, qtbot):
    from desktop.worker.background import running_jobs

    folder = tmp_path / "folder"
    folder.mkdir()
    make_image("folder/a.png", (40, 40))
    make_image("folder/b.jpg", (40, 40))
    (folder / "fake.png").write_text("only looks like an image")  # before: queued, then failed in its turn
    (folder / "notes.txt").write_text("hello")
    with qtbot.waitSignal(model.status_changed, check_params_cb=lambda m: "skipped" in m) as status:
        assert model.jobs.enqueue_folder(folder)
    qtbot.waitUntil(lambda: not running_jobs())
    assert "Queued 2 images" in status.args[0] and "skipped 2" in status.args[0]
    assert [j.label for j in model.jobs.queue.jobs] == ["folder/a.png", "folder/b.jpg"]
    first = _finish(host, _runs(host)[0])
    with qtbot.waitSignal(model.jobs.folder_summary_changed) as summary:
        run = _runs(host)[1]
        host.worker.failed.emit(run.job_id, "bad_input", "b.jpg is damaged or incomplete.")
        host.worker.job_done.emit(run.job_id)
    assert Path(model.history.tree.get(first.parent).source).name == "a.png"
    lines = summary.args[0].splitlines()
    assert lines[0] == "folder: 1 done, 1 failed, 2 skipped — details:"
    assert "b.jpg: failed — b.jpg is damaged or incomplete." in lines
    assert any(line.startswith("fake.png: skipped — ") and "not an image" in line for line in lines)
    assert "notes.txt: skipped — not an image" in lines
    assert model.jobs.queue.jobs == [] and model.jobs.last_folder_summary == summary.args[0]


def test_a_folder_without_images_is_refused_with_a_sentence(model, tmp_path, qtbot):
    from desktop.worker.background import running_jobs

    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(model.error_raised) as error:
        model.jobs.enqueue_folder(tmp_path / "empty")
    qtbot.waitUntil(lambda: not running_jobs())
    assert "holds no images" in error.args[1]


def test_a_job_cut_short_by_a_restart_runs_again_from_the_start(model, host, data_dir, qapp):
    model.update_params(seed=7)
    model.jobs.enqueue_batch(2)
    assert model.jobs.queue.jobs[0].state == "running"
    other = RecordingHost()
    again = _session(data_dir, other)
    assert [(j.state, j.params["seed"]) for j in again.jobs.queue.jobs] == [("waiting", 7), ("waiting", 8)]
    again.jobs.resume()
    _finish(other, _runs(other)[0])
    _finish(other, _runs(other)[1])
    assert [r.params.seed for r in _runs(other)] == [7, 8] and again.jobs.queue.jobs == []


def test_a_sweep_cut_by_a_restart_and_a_failed_cell_still_gets_its_grid(model, host, data_dir, qapp, qtbot):
    assert model.jobs.enqueue_sweep("steps", "2, 3, 4")
    _finish(host, _runs(host)[0], color=(250, 0, 0))
    other = RecordingHost()
    again = _session(data_dir, other)  # the app stopped during the second cell
    again.jobs.resume()
    _fail(other, _runs(other)[0])
    with qtbot.waitSignal(again.jobs.grid_ready) as ready, \
            qtbot.waitSignal(again.status_changed, check_params_cb=lambda m: "did not finish" in m):
        _finish(other, _runs(other)[1], color=(0, 0, 250))
    grid = Image.open(ready.args[0]).convert("RGB")
    from desktop.core.grid import GAP, TITLE_HEIGHT

    middle = TITLE_HEIGHT + GAP + 80
    assert grid.getpixel((GAP + 80, middle)) == (250, 0, 0)  # steps 2, made before the restart
    assert grid.getpixel((2 * GAP + 160 + 80, middle)) == (0, 0, 250)  # steps 4; steps 3 failed and is left out
    assert grid.width == GAP + 2 * (160 + GAP)


def test_a_reorder_keeps_the_running_job_first(model, host):
    model.jobs.enqueue_batch(3)
    jobs = model.jobs.queue.jobs
    model.jobs.queue.reorder([jobs[2].id, jobs[1].id, jobs[0].id])
    assert [j.id for j in model.jobs.queue.jobs] == [jobs[0].id, jobs[2].id, jobs[1].id]
    _finish(host, _runs(host)[0])
    assert _runs(host)[1].params.seed == jobs[2].params["seed"]


def test_out_of_memory_keeps_the_job_pauses_the_queue_and_the_lighter_retry_runs_it(model, host, qtbot):
    from desktop.core.runtime import MemoryOffer, RuntimeSettings

    model.jobs.enqueue_batch(3)
    first = _runs(host)[0]
    offer = MemoryOffer(RuntimeSettings(vae_tiling=True, vae_slicing=True), "VAE tiling")
    host.worker.out_of_memory.emit(first.job_id, offer)
    with qtbot.waitSignal(model.status_changed, check_params_cb=lambda m: "Out of memory" in m):
        host.worker.failed.emit(first.job_id, "out_of_memory", "The GPU ran out of memory.")
        host.worker.job_done.emit(first.job_id)
    jobs = model.jobs.queue.jobs
    assert [j.state for j in jobs] == ["waiting"] * 3 and model.jobs.queue.paused  # nothing lost, nothing started
    assert len(_runs(host)) == 1
    assert model.retry_lighter()
    retry = _runs(host)[-1]
    assert retry.params == first.params and retry.runtime.vae_tiling
    assert not model.jobs.queue.paused and len(_runs(host)) == 2
    _finish(host, retry)
    assert len(_runs(host)) == 3 and _runs(host)[-1].params.seed == first.params.seed + 1


def test_a_queued_generate_with_auto_continue_queues_its_passes_as_a_chain(model, host):
    model.generate()  # a run is going
    model.set_auto_continue(True, 3, 0.2)
    model.update_params(strength=0.6, prompt="loop")
    assert model.generate()
    assert [j.params["strength"] for j in model.jobs.queue.jobs] == [0.6, 0.4, 0.2]
    _finish(host, _runs(host)[0])
    first = _finish(host, _runs(host)[1])
    second = _finish(host, _runs(host)[2])
    third = _finish(host, _runs(host)[3])
    assert [r.params.strength for r in _runs(host)[1:]] == [0.6, 0.4, 0.2]
    assert third.parent == second.id and second.parent == first.id
