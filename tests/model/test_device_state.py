"""Device and memory settings in the session, with a recording stand-in for the worker (no torch)."""

from desktop.core.runtime import MemoryOffer, MemoryReport, RuntimeSettings
from desktop.model.session import SessionModel
from desktop.model.settings import Settings
from desktop.worker import GenerateRequest, LoadModelRequest


def test_new_settings_are_kept_and_travel_with_the_next_requests(model, host, data_dir, make_image):
    model.set_model("owner/model")
    host.requests.clear()
    assert model.devices.set_runtime(RuntimeSettings(device="cpu", dtype="bf16", vae_tiling=True))
    load = host.requests[-1]  # applied at once while idle (a new precision means a reload)
    assert isinstance(load, LoadModelRequest) and load.device == "cpu" and load.runtime.dtype == "bf16"
    assert Settings(data_dir).runtime == RuntimeSettings(device="cpu", dtype="bf16", vae_tiling=True)
    model.load_init_image(make_image())
    model.update_params(prompt="ink")
    assert model.generate()
    run = host.requests[-1]
    assert isinstance(run, GenerateRequest) and run.params.device == "cpu" and run.runtime.vae_tiling


def test_a_device_the_worker_did_not_find_is_refused(model, host, data_dir):
    errors = []
    model.error_raised.connect(lambda kind, message: errors.append(message))
    host.worker.devices_found.emit(("cpu",))
    assert model.devices.resolved_device() == "cpu"
    assert not model.devices.set_runtime(RuntimeSettings(device="cuda"))
    assert errors == ["This machine has no CUDA GPU; it can run on: CPU. Choose one of those, or Automatic."]
    assert Settings(data_dir).runtime.device == "auto"


def test_out_of_memory_is_offered_once_and_the_retry_reruns_the_same_job(model, host, make_image, data_dir):
    offers, errors = [], []
    model.out_of_memory_offered.connect(lambda message, label: offers.append((message, label)))
    model.error_raised.connect(lambda kind, message: errors.append(message))
    model.set_model("owner/model", preload=False)
    model.load_init_image(make_image())
    model.update_params(prompt="ink", seed=9)
    assert model.generate()
    first = host.requests[-1]
    offer = MemoryOffer(RuntimeSettings(vae_tiling=True, vae_slicing=True), "VAE tiling")
    host.worker.out_of_memory.emit(first.job_id, offer)
    host.worker.failed.emit(first.job_id, "out_of_memory",
                            "The GPU ran out of memory at 512×512. Turn on VAE tiling and try again?")
    host.worker.job_done.emit(first.job_id)
    assert offers == [("The GPU ran out of memory at 512×512. Turn on VAE tiling and try again?", "VAE tiling")]
    assert errors == []  # one message, with its button, not two
    assert model.retry_lighter()
    retry = host.requests[-1]
    assert isinstance(retry, GenerateRequest) and retry is not first
    assert retry.params == first.params and retry.runtime.vae_tiling
    assert Settings(data_dir).runtime.vae_tiling
    assert not model.retry_lighter()  # the offer was used up


def test_memory_reports_reach_the_session(model, host):
    seen = []
    model.devices.memory_changed.connect(seen.append)
    report = MemoryReport("cuda:0", "float16", 5_100_000_000, 24_000_000_000, "VRAM")
    host.worker.memory_changed.emit(report)
    assert seen == [report] and model.devices.memory.text() == "cuda:0 · float16 · VRAM 5.1/24 GB"


def test_a_damaged_settings_file_falls_back_to_the_defaults(data_dir, host, qapp):
    (data_dir / "settings.ini").write_text("[runtime]\ndtype=fp8\nvae_tiling=true\n")
    assert SessionModel(Settings(data_dir), host).devices.runtime == RuntimeSettings()
