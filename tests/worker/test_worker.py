"""The inference worker on its own thread, observed through its signals."""

from pathlib import Path

from desktop.core.metadata import read_parameters
from desktop.core.params import GenerationParams
from desktop.worker import EstimateDepthRequest, GenerateRequest, LoadModelRequest, WorkerHost

from .conftest import TIMEOUT


def _request(tiny_model, init, out_dir, **changes):
    params = GenerationParams(model=str(tiny_model), prompt="ink drawing", init_image=str(init),
                              strength=0.6, steps=10, seed=11).replace(**changes)
    return GenerateRequest(params, str(out_dir))


def test_load_reports_the_model(qtbot, host, tiny_model):
    with qtbot.waitSignal(host.worker.model_ready, timeout=TIMEOUT) as ready:
        host.submit(LoadModelRequest(str(tiny_model)))
    info = ready.args[0]
    assert info.family == "sd" and info.natural_size == 64 and info.device == "cpu"


def test_progress_previews_and_the_saved_result(qtbot, host, tiny_model, make_image, tmp_path):
    progress, previews = [], []
    host.worker.progress.connect(lambda step, total, eta: progress.append((step, total)))
    host.worker.preview.connect(lambda image, step, total: previews.append((image.width(), image.height(), step)))
    with qtbot.waitSignal(host.worker.finished, timeout=TIMEOUT) as done:
        host.submit(_request(tiny_model, make_image(size=(64, 64)), tmp_path / "out"))
    result = done.args[0]
    assert len(previews) == result.steps_run == len(progress)
    assert [p[2] for p in previews] == list(range(1, result.steps_run + 1))
    assert progress[-1] == (result.steps_run, result.steps_run)
    assert previews[0][:2] == (8, 8)  # latent size of a 64-px image
    saved = Path(result.output_path)
    assert saved.is_file() and saved.parent == tmp_path / "out"
    assert "Seed: 11" in read_parameters(saved)


def test_cancel_mid_run_stops_and_saves_nothing(qtbot, host, tiny_model, make_image, tmp_path):
    request = _request(tiny_model, make_image(), tmp_path / "out", strength=1.0, steps=40)
    previews = []

    def on_preview(image, step, total):
        previews.append(step)
        if step == 2:
            host.cancel_all()

    host.worker.preview.connect(on_preview)
    finished = []
    host.worker.finished.connect(finished.append)
    with qtbot.waitSignal(host.worker.cancelled, timeout=TIMEOUT) as cancelled:
        host.submit(request)
    assert cancelled.args == [request.job_id]
    assert max(previews) <= 3  # stopped within one step of the request
    assert not finished
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_cancel_before_the_job_starts_is_not_lost(qtbot, host, tiny_model, make_image, tmp_path):
    first = _request(tiny_model, make_image(), tmp_path / "out", steps=4)
    second = _request(tiny_model, make_image(), tmp_path / "out", steps=4, seed=12)
    cancelled = []
    host.worker.cancelled.connect(cancelled.append)
    with qtbot.waitSignal(host.worker.job_done, timeout=TIMEOUT, check_params_cb=lambda j: j == second.job_id):
        host.submit(first)
        host.submit(second)
        host.cancel_all()  # both are waiting or running: neither may produce a file
    assert set(cancelled) == {first.job_id, second.job_id}


def test_cancel_all_stops_a_waiting_depth_estimate_too(qtbot, host, tiny_model, make_image, tmp_path):
    # Esc, or closing the window, must not leave a depth model downloading after the run it waited behind.
    run = _request(tiny_model, make_image(), tmp_path / "out", steps=4)
    estimate = EstimateDepthRequest(str(make_image()), str(tmp_path / "depth.png"), model=str(tmp_path / "depth-model"))
    cancelled = []
    host.worker.cancelled.connect(cancelled.append)
    with qtbot.waitSignal(host.worker.job_done, timeout=TIMEOUT, check_params_cb=lambda j: j == estimate.job_id):
        host.submit(run)
        host.submit(estimate)
        assert host.busy
        host.cancel_all()
    assert set(cancelled) == {run.job_id, estimate.job_id}
    assert not (tmp_path / "depth.png").exists()
    assert not host.busy


def test_a_missing_model_fails_with_a_sentence_and_the_worker_keeps_working(qtbot, host, tiny_model, make_image,
                                                                             tmp_path):
    missing = tmp_path / "no-such-model"
    with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
        host.submit(request := _request(missing, make_image(), tmp_path / "out"))
    job, kind, message = failed.args
    assert job == request.job_id  # failed names its job, like cancelled and job_done
    assert kind == "model_missing" and "no-such-model" in message and "does not exist" in message
    with qtbot.waitSignal(host.worker.finished, timeout=TIMEOUT):
        host.submit(_request(tiny_model, make_image(), tmp_path / "out", steps=2))


def test_an_unexpected_crash_becomes_a_sentence_with_the_log_path(qtbot, tiny_model, make_image, tmp_path,
                                                                  monkeypatch):
    from desktop.engine import runner

    def explode(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner.Engine, "generate", explode)
    host = WorkerHost(log_path="/logs/restyle.log")
    try:
        with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
            host.submit(_request(tiny_model, make_image(), tmp_path / "out"))
    finally:
        host.shutdown()
    _job, kind, message = failed.args
    assert kind == "internal" and "/logs/restyle.log" in message and "boom" not in message


def test_shutdown_stops_the_thread(host):
    assert host.is_running()
    assert host.shutdown()
    assert not host.is_running()


def test_unload_lets_go_of_the_model_and_the_next_run_loads_it_again(qtbot, host, tiny_model, make_image, tmp_path):
    from desktop.worker import UnloadModelRequest

    with qtbot.waitSignal(host.worker.model_ready, timeout=TIMEOUT):
        host.submit(LoadModelRequest(str(tiny_model), "cpu"))
    statuses = []
    host.worker.status.connect(statuses.append)
    unload = UnloadModelRequest(": the devices load their own copies")
    with qtbot.waitSignal(host.worker.job_done, timeout=TIMEOUT, check_params_cb=lambda job: job == unload.job_id):
        host.submit(unload)
    assert any(s.endswith("unloaded here: the devices load their own copies.") for s in statuses), statuses
    assert host.worker._engine.model_info is None  # nothing held: its memory is given back
    params = GenerationParams(model=str(tiny_model), prompt="p", init_image=str(make_image()), steps=2, seed=1)
    with (qtbot.waitSignal(host.worker.model_ready, timeout=TIMEOUT),  # loaded again for the next run
          qtbot.waitSignal(host.worker.finished, timeout=TIMEOUT)):
        host.submit(GenerateRequest(params, str(tmp_path)))
