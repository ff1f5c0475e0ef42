"""The engine on a tiny random model, through the real from_pretrained path."""

import numpy as np
import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.output import save_result
from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _params(tiny_model, init, **changes):
    base = GenerationParams(model=str(tiny_model), prompt="a watercolour cat", init_image=str(init) if init else None,
                            strength=0.5, steps=8, seed=7)
    return base.replace(**changes)


def test_same_seed_gives_the_same_pixels_and_another_seed_does_not(engine, tiny_model, make_image):
    init = make_image()
    first = np.asarray(engine.generate(_params(tiny_model, init)).image)
    again = np.asarray(engine.generate(_params(tiny_model, init)).image)
    other = np.asarray(engine.generate(_params(tiny_model, init, seed=8)).image)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_a_preview_arrives_for_every_step_that_runs(engine, tiny_model, make_image):
    steps = []
    result = engine.generate(_params(tiny_model, make_image(), strength=0.5, steps=8), on_step=steps.append)
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == result.steps_run >= 4  # int(8 * 0.5) = 4 (PLMS adds one warm-up step)
    assert all(s.total == len(steps) for s in steps)
    assert all(s.preview.shape[2] == 3 for s in steps)
    assert steps[-1].eta == 0


def test_tiny_strength_still_runs_at_least_one_step(engine, tiny_model, make_image):
    result = engine.generate(_params(tiny_model, make_image(), strength=0.02, steps=5))
    assert result.steps_run >= 1
    assert result.params.strength == 0.02 and result.params.steps == 5  # the user's values are recorded


def test_the_size_is_fitted_to_the_model_keeping_the_aspect(engine, tiny_model, make_image):
    result = engine.generate(_params(tiny_model, make_image(size=(300, 150))))
    width, height = result.image.size
    assert width % 8 == 0 and height % 8 == 0
    assert abs(width / height - 2.0) < 0.3
    assert (result.params.width, result.params.height) == (width, height)


def test_a_random_seed_is_chosen_and_recorded(engine, tiny_model, make_image):
    result = engine.generate(_params(tiny_model, make_image(), seed=None))
    assert isinstance(result.seed, int)
    replay = engine.generate(_params(tiny_model, make_image(), seed=result.seed))
    assert np.array_equal(np.asarray(result.image), np.asarray(replay.image))


def test_text_to_image_shares_the_loaded_modules(tiny_model, monkeypatch):
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

    loads = []
    for cls in (AutoPipelineForImage2Image, AutoPipelineForText2Image):
        original = cls.from_pretrained.__func__
        monkeypatch.setattr(cls, "from_pretrained",
                            classmethod(lambda c, *a, _o=original, **k: loads.append(a[0]) or _o(c, *a, **k)))
    engine = Engine()
    img2img = engine.generate(_params(tiny_model, None, strength=1.0))
    assert img2img.image.size == (64, 64)  # the model's natural size without an init image
    engine.generate(_params(tiny_model, None, seed=3))
    assert len(loads) == 1  # one load; text-to-image came from from_pipe


def test_cancel_stops_within_one_step_and_returns_nothing(engine, tiny_model, make_image):
    steps = []
    with pytest.raises(RestyleError) as info:
        engine.generate(_params(tiny_model, make_image(), strength=1.0, steps=10),
                        on_step=steps.append, cancelled=lambda: len(steps) >= 2)
    assert info.value.kind is ErrorKind.CANCELLED
    assert len(steps) == 2


def test_the_saved_png_carries_parameters_other_tools_read(engine, tiny_model, make_image, tmp_path):
    params = _params(tiny_model, make_image(), prompt="oil paint, thick: strokes", negative_prompt="blurry")
    result = engine.generate(params)
    path = save_result(result, tmp_path / "out")
    parsed = parse_parameters_text(read_parameters(path))
    assert parsed.prompt == "oil paint, thick: strokes"
    assert parsed.negative_prompt == "blurry"
    assert parsed.get_int("Seed") == 7 and parsed.get_int("Steps") == 8
    assert parsed.get_float("CFG scale") == 7.5 and parsed.get_float("Denoising strength") == 0.5
    assert parsed.fields["Size"] == f"{result.image.width}x{result.image.height}"
    assert parsed.fields["Model"] == "tiny-sd" and parsed.fields["Sampler"] == "PLMS"


def test_an_unreadable_init_image_is_refused_before_loading(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(RestyleError) as info:
        Engine().generate(GenerationParams(model="never/loaded", prompt="x", init_image=str(bad)))
    assert info.value.kind is ErrorKind.BAD_INPUT and "notes.png" in info.value.message
