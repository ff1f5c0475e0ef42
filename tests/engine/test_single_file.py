"""Single-file checkpoints and the pickle policy, through the same Engine as everything else."""

import os
import pickle

import numpy as np
import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.params import GenerationParams
from desktop.core.sources import resolve_model
from desktop.engine.runner import Engine
from tests.hub_helpers import add_to_cache

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_model, tmp_path_factory):
    """The tiny model as one LDM-style .safetensors file, as model-sharing sites publish checkpoints."""
    from desktop.testing.tiny_single import save_tiny_single_file

    return save_tiny_single_file(tiny_model, tmp_path_factory.mktemp("ckpt") / "tiny-style.safetensors")


def _pixels(model, init, **engine_kwargs):
    params = GenerationParams(model=str(model), prompt="ink drawing", init_image=str(init), strength=0.6, steps=4,
                              seed=11)
    return np.asarray(Engine(**engine_kwargs).generate(params).image)


def test_a_single_file_checkpoint_loads_offline_with_the_cached_base_config_and_matches_its_folder(
        tiny_model, tiny_checkpoint, hub_cache, make_image):
    # The checkpoint's keys say SD 1.x, so its configuration comes from the cached SD 1.5 repository (here the
    # tiny model's own configs stand in for it): no network, the same weights, the same pixels.
    add_to_cache(hub_cache, SD15, tiny_model)
    init = make_image(size=(64, 64))
    from_file = _pixels(tiny_checkpoint, init)
    from_folder = _pixels(tiny_model, init)
    assert np.array_equal(from_file, from_folder)
    source = resolve_model(str(tiny_checkpoint))
    assert source.single_file and source.display_name == "tiny-style"


def test_a_single_file_without_its_base_config_names_the_repository_to_download(tiny_checkpoint, hub_cache):
    with pytest.raises(RestyleError) as info:
        Engine().load(str(tiny_checkpoint))
    assert info.value.kind is ErrorKind.MODEL_MISSING
    assert SD15 in info.value.message and "offline" in info.value.message and "SD 1.x" in info.value.message


def test_a_damaged_safetensors_file_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(RestyleError) as info:
        Engine().load(str(path))
    assert "broken.safetensors" in info.value.message and "damaged" in info.value.message


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".bin"])
def test_pickles_are_refused_by_default_with_the_reason_and_the_setting(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"x")
    with pytest.raises(RestyleError) as info:
        Engine().load(str(path))
    message = info.value.message
    assert info.value.kind is ErrorKind.BAD_INPUT
    assert f"model{suffix}" in message and "arbitrary code" in message and "Allow pickle checkpoints" in message


class _Payload:
    """Unpickling this runs code: it writes a file (a real attack would do worse)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_an_allowed_pickle_carrying_code_is_still_refused_and_the_code_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    with open(path, "wb") as handle:
        pickle.dump({"state_dict": {"model.diffusion_model.x": _Payload(marker)}}, handle)
    with pytest.raises(RestyleError) as info:
        Engine(allow_pickles=True).load(str(path))
    assert "evil.ckpt" in info.value.message and "weights-only" in info.value.message
    assert not marker.exists()


def test_an_allowed_pickle_of_plain_weights_loads_like_the_safetensors_file(tiny_checkpoint, tiny_model, hub_cache,
                                                                            make_image, tmp_path):
    import torch
    from safetensors.torch import load_file

    add_to_cache(hub_cache, SD15, tiny_model)
    path = tmp_path / "tiny-style.ckpt"
    torch.save({"state_dict": load_file(tiny_checkpoint)}, path)
    init = make_image(size=(64, 64))
    assert np.array_equal(_pixels(path, init, allow_pickles=True), _pixels(tiny_checkpoint, init))
