"""SessionModel without widgets or torch: a recording stand-in plays the worker host."""

from pathlib import Path

from desktop.core.params import GenerationResult, ModelInfo
from desktop.core.picture_settings import a1111_settings
from desktop.model.session import Phase, SessionModel
from desktop.model.settings import Settings
from desktop.worker import GenerateRequest, LoadModelRequest


def _info(natural=512):
    return ModelInfo("m", "m", "sd", natural, "StableDiffusionImg2ImgPipeline", "cpu", "float32")


def test_parameters_survive_a_restart(model, data_dir, host):
    model.set_model("owner/model")
    model.update_params(prompt="pastel", negative_prompt="noise", strength=0.3, guidance_scale=4.0, steps=12)
    model.settings.sync()
    again = SessionModel(Settings(data_dir), host)
    p = again.params
    assert (p.model, p.prompt, p.negative_prompt, p.strength, p.guidance_scale, p.steps) == (
        "owner/model", "pastel", "noise", 0.3, 4.0, 12)
    assert again.settings.recent_models[0] == "owner/model"


def test_choosing_a_model_preloads_it_on_the_worker(model, host):
    model.set_model("owner/model")
    assert host.requests == [LoadModelRequest("owner/model", "auto", job_id=host.requests[0].job_id,
                                             runtime=model.devices.runtime)]


def test_generate_sends_the_init_image_and_output_folder(model, host, make_image, data_dir):
    model.set_model("m", preload=False)
    assert model.load_init_image(make_image())
    model.update_params(prompt="p", seed=4)
    assert model.generate() and model.phase is Phase.RUNNING
    request = host.requests[-1]
    assert isinstance(request, GenerateRequest)
    assert request.params.init_image.endswith("input.png") and request.params.seed == 4
    assert request.output_dir == str(data_dir / "out")


def test_a_second_generate_while_running_is_queued_not_started(model, host, make_image, qtbot):
    model.set_model("m", preload=False)
    model.load_init_image(make_image())
    assert model.generate()
    with qtbot.waitSignal(model.status_changed) as status:
        assert model.generate()
    assert "Queued" in status.args[0]
    assert sum(isinstance(r, GenerateRequest) for r in host.requests) == 1


def test_cancel_flags_the_running_request_and_goes_idle_when_the_worker_confirms(model, host, make_image):
    model.set_model("m", preload=False)
    model.load_init_image(make_image())
    model.generate()
    request = host.requests[-1]
    model.cancel()
    assert request.cancel_event.is_set() and model.phase is Phase.CANCELLING
    host.worker.cancelled.emit(request.job_id)
    assert model.phase is Phase.IDLE and model.last_output_path is None


def test_a_finished_run_becomes_the_last_result(model, host, make_image, qtbot):
    model.set_model("m", preload=False)
    model.load_init_image(make_image())
    model.generate()
    request = host.requests[-1]
    result = GenerationResult(image=None, params=request.params.replace(seed=9), model=_info(), steps_run=3,
                              sampler="PLMS", elapsed=1.0, output_path="/out/x.png")
    with qtbot.waitSignal(model.result_ready):
        host.worker.finished.emit(result)
    assert model.last_output_path == Path("/out/x.png") and model.phase is Phase.IDLE


def test_the_planned_size_follows_the_image_and_the_model(model, host, make_image):
    model.load_init_image(make_image(size=(400, 200)))
    wide = model.planned_size()
    host.worker.model_ready.emit(_info(natural=1024))
    assert model.planned_size()[0] > wide[0] * 1.8
    model.clear_init_image()
    assert model.planned_size() == (1024, 1024)


def test_a_bad_image_is_reported_and_the_old_one_kept(model, make_image, tmp_path, qtbot):
    good = make_image()
    model.load_init_image(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:60])
    with qtbot.waitSignal(model.error_raised) as error:
        assert not model.load_init_image(broken)
    assert error.args[0] == "bad_input" and "broken.png" in error.args[1]
    assert model.init_image.path == good


def test_restoring_settings_leaves_out_impossible_values_and_says_so(model):
    offer = model.offer_for(a1111_settings("p\nSteps: 9000, Sampler: Euler, CFG scale: 7, Seed: 1"))
    assert "steps 9000" in offer.not_used and "steps" not in offer.changes
    model.restore_settings(offer)
    assert model.params.steps != 9000 and (model.params.prompt, model.params.seed) == ("p", 1)


def test_a_failed_preload_does_not_end_the_run_waiting_behind_it(model, host, make_image, qtbot):
    model.set_model("m")
    preload = host.requests[0]
    model.load_init_image(make_image())
    model.generate()
    run = host.requests[-1]
    with qtbot.waitSignal(model.error_raised):
        host.worker.failed.emit(preload.job_id, "model_missing", "gone")
        host.worker.job_done.emit(preload.job_id)
    assert model.phase is Phase.RUNNING
    host.worker.failed.emit(run.job_id, "model_missing", "gone")
    host.worker.job_done.emit(run.job_id)
    assert model.phase is Phase.IDLE
