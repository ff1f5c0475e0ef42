"""Weighted and long prompts through Engine.generate on the tiny model: they run, they change the picture, the
saved file keeps the prompt as typed, and the user is told what was done."""

import numpy as np
import pytest

from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.output import save_result
from desktop.core.params import GenerationParams
from desktop.engine.runner import Engine

try:
    import compel
except ImportError:  # a worktree set up before compel joined pyproject.toml; scripts/setup installs it
    compel = None
needs_compel = pytest.mark.skipif(compel is None, reason="compel is not installed: run scripts/setup")


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _params(tiny_model, prompt, **changes):
    return GenerationParams(model=str(tiny_model), prompt=prompt, steps=3, seed=11).replace(**changes)


@needs_compel
def test_a_weighted_prompt_changes_the_picture_and_is_saved_as_typed(engine, tiny_model, make_image, tmp_path):
    typed = "a watercolour (cat:1.6), [blurry] background, gold++"
    for init in (None, str(make_image())):
        plain = engine.generate(_params(tiny_model, "a watercolour cat, blurry background, gold", init_image=init))
        weighted = engine.generate(_params(tiny_model, typed, init_image=init))
        assert not np.array_equal(np.asarray(plain.image), np.asarray(weighted.image))
        assert weighted.params.prompt == typed
        assert weighted.notes == ()
        saved = parse_parameters_text(read_parameters(save_result(weighted, tmp_path / "out")))
        assert saved.prompt == typed


def test_unit_weights_give_the_same_picture_as_the_plain_prompt(engine, tiny_model):
    plain = engine.generate(_params(tiny_model, "a watercolour cat"))
    unit = engine.generate(_params(tiny_model, "a watercolour (cat:1.0)"))
    assert np.array_equal(np.asarray(plain.image), np.asarray(unit.image))


@needs_compel
def test_a_long_prompt_runs_whole_and_the_note_says_so(engine, tiny_model):
    prompt = "a castle on a hill under a stormy sky, ravens circling the towers, " * 3
    result = engine.generate(_params(tiny_model, prompt, negative_prompt="(blurry:1.3)"))
    assert any("chunks, none of it cut" in note for note in result.notes)
    assert result.params.prompt == prompt


def test_a_weighted_prompt_works_with_depth_control(engine, tiny_model, tiny_controlnet, make_image, make_depth):
    params = _params(tiny_model, "a (stone house:1.4)", init_image=str(make_image()), strength=1.0,
                     control_image=str(make_depth()), controlnet=str(tiny_controlnet), steps=2)
    result = engine.generate(params)
    assert result.depth_map is not None and result.image.size == result.depth_map.size


def test_an_unbalanced_bracket_runs_and_is_noted(engine, tiny_model):
    result = engine.generate(_params(tiny_model, "a (watercolour cat"))
    assert result.notes == ("In the prompt: An unmatched '(' was read as plain text.",)


@needs_compel
def test_sdxl_and_its_refiner_take_weighted_prompts(engine, tiny_sdxl, tiny_sdxl_refiner, make_image):
    typed = "a (stone house:1.4), [fog]"
    base = engine.generate(_params(tiny_sdxl, typed, negative_prompt="blurry--"))
    plain = engine.generate(_params(tiny_sdxl, "a stone house, fog", negative_prompt="blurry"))
    assert not np.array_equal(np.asarray(base.image), np.asarray(plain.image))
    assert base.notes == () and base.params.prompt == typed
    # The refiner has only the second text encoder: the weights go through that one alone.
    init = str(make_image())
    refined = engine.generate(_params(tiny_sdxl_refiner, typed, init_image=init, strength=0.5))
    unweighted = engine.generate(_params(tiny_sdxl_refiner, "a stone house, fog", init_image=init, strength=0.5))
    assert refined.notes == ()
    assert not np.array_equal(np.asarray(refined.image), np.asarray(unweighted.image))


def test_kandinsky_gets_the_words_without_weights_and_says_so(engine, tiny_kandinsky):
    result = engine.generate(_params(tiny_kandinsky, "a (stone house:1.4)", steps=2))
    assert result.notes == (
        "Prompt weights are not applied with this kind of model: the words were sent without them.",)
    assert result.params.prompt == "a (stone house:1.4)"


def test_if_weighting_fails_the_run_goes_on_with_the_words_and_a_note(engine, tiny_model, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "compel", None)  # as if Compel were missing or broke: import fails
    weighted = engine.generate(_params(tiny_model, "a watercolour (cat:1.5)"))
    plain = engine.generate(_params(tiny_model, "a watercolour cat"))
    assert weighted.notes == (
        "The prompt weights could not be applied (see the log): the words were sent without them.",)
    assert np.array_equal(np.asarray(weighted.image), np.asarray(plain.image))
