"""Only plain files are read as pictures, masks, depth maps or latents (a FIFO used to hang for ever), and
cached latents are used only when they are the picture's own (another shape turned 80×56 into 8192²)."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torch

from desktop.cli import main
from desktop.core.errors import RestyleError
from desktop.core.images import load_image
from desktop.core.metadata import read_parameters
from desktop.core.params import GenerationParams
from desktop.engine.latents import load_latents, save_latents
from desktop.engine.runner import Engine


@pytest.fixture()
def fifo(tmp_path):
    path = tmp_path / "picture.png"
    os.mkfifo(path)
    yield path
    # Should anything open it for reading, a writer end lets it go instead of hanging the test run.
    threading.Thread(target=lambda: open(path, "wb").close(), daemon=True).start()


def _quickly(call, *args):
    start = time.monotonic()
    result = call(*args)
    assert time.monotonic() - start < 5
    return result


def test_a_fifo_is_refused_as_an_image_with_a_sentence(fifo):
    with pytest.raises(RestyleError) as info:
        _quickly(load_image, fifo)
    assert "not a regular file" in info.value.message
    assert _quickly(read_parameters, fifo) is None
    assert _quickly(load_latents, fifo) is None


@pytest.mark.parametrize("flag", ["--init", "--control-image", "--mask"])
def test_generate_refuses_a_fifo_at_once(tiny_model, fifo, data_dir, capsys, flag):
    code = _quickly(main, ["generate", "--model", str(tiny_model), "--prompt", "x", "--steps", "2",
                           "--data-dir", str(data_dir), *(["--init", str(fifo)] if flag != "--init" else []),
                           flag, str(fifo)])
    assert code == 2 and "not a regular file" in capsys.readouterr().err


def test_upscale_refuses_a_fifo_as_picture_or_latents(fifo, make_image, data_dir, capsys):
    assert _quickly(main, ["upscale", "--x2", str(fifo), "--data-dir", str(data_dir)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert _quickly(main, ["upscale", "--x2", str(make_image()), "--latents", str(fifo),
                           "--data-dir", str(data_dir)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_the_window_refuses_a_dropped_fifo_without_hanging(qapp, data_dir, fifo):
    from desktop.model.session import SessionModel
    from desktop.model.settings import Settings
    from tests.model.recording_host import RecordingHost

    session = SessionModel(Settings(data_dir), RecordingHost())
    errors = []
    session.error_raised.connect(lambda kind, message: errors.append(message))
    assert _quickly(session.load_init_image, fifo) is False
    assert errors and "not a regular file" in errors[0]


def test_latents_of_another_shape_are_not_used(tiny_model, make_image, tmp_path):
    engine = Engine()
    picture = make_image(size=(80, 56))
    params = GenerationParams(model=str(tiny_model), prompt="x", init_image=str(picture), strength=0.5, steps=2,
                              seed=1)
    vae_id = engine.load(str(tiny_model), "cpu").vae_id
    crafted = save_latents(torch.zeros(1, 4, 16, 16), tmp_path / "crafted.safetensors", vae_id)
    result = engine.generate(params, init_latents=str(crafted))
    assert result.chain_mode == "pixels"
    assert result.image.size[0] <= 96 and result.image.size[1] <= 96  # the plan's size, not the file's 128²


def test_a_pickled_component_in_a_diffusers_folder_is_refused_unless_allowed(tiny_model, tmp_path):
    import shutil

    from safetensors.torch import load_file

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model, folder)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(weights), folder / "unet" / "diffusion_pytorch_model.bin")
    weights.unlink()
    with pytest.raises(RestyleError) as info:
        Engine().load(str(folder), "cpu")
    assert "unet" in info.value.message and "pickle" in info.value.message
    assert "Allow pickle checkpoints" in info.value.message
    assert Engine(allow_pickles=True).load(str(folder), "cpu").family == "sd"  # read as weights only
