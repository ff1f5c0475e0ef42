"""The "Allow pickle checkpoints" setting reaches the engine on the worker thread."""

from desktop.worker import EngineOptionsRequest, LoadModelRequest
from tests.hub_helpers import add_to_cache

from .conftest import TIMEOUT


def test_a_pickle_loads_only_after_the_setting_allows_it(qtbot, host, tiny_model, hub_cache, tmp_path):
    import torch
    from safetensors.torch import load_file

    from desktop.testing.tiny_single import save_tiny_single_file

    add_to_cache(hub_cache, "stable-diffusion-v1-5/stable-diffusion-v1-5", tiny_model)
    pickle = tmp_path / "style.ckpt"
    torch.save({"state_dict": load_file(save_tiny_single_file(tiny_model, tmp_path / "s.safetensors"))}, pickle)
    with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
        host.submit(LoadModelRequest(str(pickle)))
    assert "arbitrary code" in failed.args[2]
    host.submit(EngineOptionsRequest(allow_pickles=True))
    with qtbot.waitSignal(host.worker.model_ready, timeout=TIMEOUT) as ready:
        host.submit(LoadModelRequest(str(pickle)))
    assert ready.args[0].display_name == "style" and ready.args[0].family == "sd"
    host.submit(EngineOptionsRequest(allow_pickles=False))
    with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
        host.submit(LoadModelRequest(str(pickle)))  # the loaded pickle is not kept once pickles are off
    assert "arbitrary code" in failed.args[2]
