"""Each model slot tells its own truth: a failing depth model, ControlNet or upscaler never marks the main model
as broken (before, their errors overwrote the main model's status line)."""

from desktop.core.params import GenerationResult, ModelInfo
from desktop.worker import EstimateDepthRequest, GenerateRequest, LoadModelRequest, UpscaleRequest


def _info(name="m"):
    return ModelInfo(name, name, "sd", 64, "StableDiffusionImg2ImgPipeline", "cpu", "float32")


def test_a_depth_model_failure_is_the_depth_slots_not_the_main_models(model, host, make_image):
    model.set_model("m")
    load = host.requests[-1]
    assert isinstance(load, LoadModelRequest) and model.slots.state("main") == "loading"
    model.load_init_image(make_image())
    assert model.estimate_depth()
    estimate = next(r for r in host.requests if isinstance(r, EstimateDepthRequest))
    host.worker.failed.emit(estimate.job_id, "model_missing", "The depth model folder x does not exist.")
    host.worker.job_done.emit(estimate.job_id)
    assert model.slots.state("depth") == "failed" and "depth model folder" in model.slots.text("depth")
    assert model.slots.state("main") == "loading"  # still loading, not "failed"
    host.worker.model_ready.emit(_info())
    assert model.slots.state("main") == "ready"
    assert model.slots.summary() == "Depth model: The depth model folder x does not exist."


def test_a_missing_controlnet_fails_its_own_slot(model, host, make_image, make_depth):
    model.set_model("m")
    host.worker.model_ready.emit(_info())
    model.load_init_image(make_image())
    model.depth.load_file(make_depth())
    assert model.generate()
    run = host.requests[-1]
    assert isinstance(run, GenerateRequest) and run.params.uses_depth
    host.worker.failed.emit(run.job_id, "model_missing", "The ControlNet folder cn does not exist.")
    host.worker.job_done.emit(run.job_id)
    assert model.slots.state("controlnet") == "failed"
    assert model.slots.state("main") == "ready"


def test_a_missing_main_model_fails_the_main_slot(model, host):
    model.set_model("gone")
    load = host.requests[-1]
    host.worker.failed.emit(load.job_id, "model_missing", "gone does not exist.")
    assert model.slots.state("main") == "failed" and model.slots.text("main") == "gone does not exist."


def test_an_upscaler_failure_is_the_upscalers(model, host, make_image, tmp_path):
    from PIL import Image

    from desktop.worker.history_writer import write_to_history

    model.set_model("m", preload=False)
    model.load_init_image(make_image())
    model.generate()
    run = host.requests[-1]
    result = GenerationResult(image=Image.new("RGB", (64, 64)), params=run.params.replace(seed=1), model=_info(),
                              steps_run=1, sampler="PLMS", elapsed=0.1, output_path=str(tmp_path / "x.png"))
    host.worker.finished.emit(write_to_history(run.history, result))
    host.worker.job_done.emit(run.job_id)
    assert model.upscale(model.history.selected_id, "x2")
    upscale = host.requests[-1]
    assert isinstance(upscale, UpscaleRequest)
    host.worker.failed.emit(upscale.job_id, "model_missing", "The upscaler x2 could not be found.")
    assert model.slots.state("upscaler") == "failed" and model.slots.state("main") == "idle"
