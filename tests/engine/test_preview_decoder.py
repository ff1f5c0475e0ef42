"""Detailed previews: a TAESD decodes the step latents every k steps at output size, loaded like any model;
without one the run goes on with latent colours and says why."""

from __future__ import annotations

import pytest

from desktop.core.params import GenerationParams
from desktop.core.previews import PREVIEW_DECODERS, preview_decoder_for
from desktop.core.runtime import RuntimeSettings


@pytest.fixture(scope="module")
def tiny_taesd(tmp_path_factory):
    from desktop.testing.tiny_taesd import build_tiny_taesd

    return build_tiny_taesd(tmp_path_factory.mktemp("taesd") / "tiny-taesd")


def _run(engine, tiny_model, make_image):
    steps = []
    params = GenerationParams(model=str(tiny_model), prompt="ink", init_image=str(make_image(size=(64, 64))),
                              strength=1.0, steps=5, seed=3, device="cpu")
    result = engine.generate(params, on_step=lambda s: steps.append((s.step, None if s.preview is None
                                                                      else s.preview.shape)))
    return result, steps


def test_taesd_every_k_steps_at_output_size(tiny_model, tiny_taesd, make_image):
    from desktop.engine.runner import Engine

    engine = Engine()
    engine.configure(RuntimeSettings(preview="taesd", preview_every=2, preview_model=str(tiny_taesd)))
    result, steps = _run(engine, tiny_model, make_image)
    shapes = dict(steps)
    last = max(shapes)
    assert sorted(shapes) == list(range(1, last + 1)) and last >= 5
    assert shapes[1] == (8, 8, 3)  # the first step at once, in latent colours
    for step in range(2, last + 1):
        if step % 2 == 0 or step == last:
            assert shapes[step] == (64, 64, 3), step  # TAESD: the picture at output size
        else:
            assert shapes[step] is None, step  # between decodes the canvas keeps the last one
    assert not result.notes


def test_latent_colours_every_step_by_default_and_when_taesd_is_missing(tiny_model, make_image, tmp_path):
    from desktop.engine.runner import Engine

    engine = Engine()
    _, steps = _run(engine, tiny_model, make_image)
    assert all(shape == (8, 8, 3) for _, shape in steps)
    engine.configure(RuntimeSettings(preview="taesd", preview_model=str(tmp_path / "no-taesd")))
    result, steps = _run(engine, tiny_model, make_image)
    assert all(shape == (8, 8, 3) for _, shape in steps)  # the run went on
    assert any("Detailed previews need" in note for note in result.notes)


def test_one_table_names_each_familys_taesd():
    assert preview_decoder_for("sd") == "madebyollin/taesd" and preview_decoder_for("sdxl") == "madebyollin/taesdxl"
    assert preview_decoder_for("kandinsky") == ""  # no TAESD: latent colours, with a note
    assert set(PREVIEW_DECODERS) >= {"sd", "sdxl"}


def test_bad_preview_settings_are_refused():
    from desktop.core.errors import RestyleError

    with pytest.raises(RestyleError, match="every 1 to"):
        RuntimeSettings(preview="taesd", preview_every=0).validate()
    with pytest.raises(RestyleError, match="Preview must be one of"):
        RuntimeSettings(preview="vae").validate()
