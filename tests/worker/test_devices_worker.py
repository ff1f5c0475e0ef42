"""Device and memory settings through the worker: applied per request, out of memory offered a lighter retry."""

import torch
from diffusers import StableDiffusionImg2ImgPipeline

from desktop.core.params import GenerationParams
from desktop.core.runtime import RuntimeSettings
from desktop.worker import GenerateRequest, LoadModelRequest

from .conftest import TIMEOUT


def _request(tiny_model, init, out_dir, runtime=None):
    params = GenerationParams(model=str(tiny_model), prompt="ink drawing", init_image=str(init),
                              strength=0.5, steps=4, seed=11)
    return GenerateRequest(params, str(out_dir), runtime=runtime)


def test_the_requested_precision_is_used_and_memory_is_reported(qtbot, host, tiny_model, make_image, tmp_path):
    reports, devices = [], []
    host.worker.memory_changed.connect(reports.append)
    host.worker.devices_found.connect(devices.append)
    with qtbot.waitSignal(host.worker.model_ready, timeout=TIMEOUT) as ready:
        host.submit(LoadModelRequest(str(tiny_model), runtime=RuntimeSettings(dtype="fp16")))
    assert ready.args[0].dtype == "float32"  # fp16 on the CPU is refused...
    assert "fp32" in ready.args[0].runtime_notes[0]  # ...with a sentence
    assert devices and devices[-1][-1] == "cpu"  # the CPU is always there, last
    with qtbot.waitSignal(host.worker.finished, timeout=TIMEOUT) as done:
        host.submit(_request(tiny_model, make_image(), tmp_path, RuntimeSettings(dtype="bf16")))
    assert done.args[0].model.dtype == "bfloat16"
    qtbot.waitUntil(lambda: reports and reports[-1].dtype == "bfloat16", timeout=TIMEOUT)
    assert reports[-1].text().startswith("cpu · bfloat16 · RAM")


def test_out_of_memory_is_offered_a_lighter_setting_and_the_worker_keeps_working(
        qtbot, host, tiny_model, make_image, tmp_path, monkeypatch):
    original = StableDiffusionImg2ImgPipeline.__call__
    calls = []

    def first_call_runs_out(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionImg2ImgPipeline, "__call__", first_call_runs_out)
    offers, failures = [], []
    host.worker.out_of_memory.connect(lambda job, offer: offers.append((job, offer)))
    host.worker.failed.connect(lambda job, kind, message: failures.append((job, kind, message)))
    request = _request(tiny_model, make_image(size=(64, 64)), tmp_path)
    with qtbot.waitSignal(host.worker.job_done, timeout=TIMEOUT):
        host.submit(request)
    assert failures == [(request.job_id, "out_of_memory",
                         "The computer ran out of memory at 64×64. Turn on VAE tiling and try again?")]
    (job, offer), = offers
    assert job == request.job_id and offer.settings.vae_tiling
    with qtbot.waitSignal(host.worker.finished, timeout=TIMEOUT) as done:
        host.submit(_request(tiny_model, make_image(size=(64, 64)), tmp_path, offer.settings))
    assert done.args[0].image.size == (64, 64)
