import pytest

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.params import GenerationParams, effective_steps


def test_params_round_trip_through_a_dict():
    params = GenerationParams(model="m", prompt="a, b: c\nd", negative_prompt="x", init_image="/a.png",
                              strength=0.3, guidance_scale=5.5, steps=12, seed=42, width=512, height=768)
    assert GenerationParams.from_dict(params.to_dict()) == params


def test_unknown_keys_from_newer_files_are_ignored():
    params = GenerationParams.from_dict({"model": "m", "prompt": "p", "future_field": 1})
    assert params.prompt == "p"


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"model": " "}, "Choose a model"),
        ({"strength": 0.0}, "Strength"),
        ({"strength": 1.5}, "Strength"),
        ({"guidance_scale": -1}, "Guidance"),
        ({"steps": 0}, "Steps"),
        ({"seed": -3}, "seed"),
        ({"width": 512}, "both a width and a height"),
        ({"width": 500, "height": 512}, "multiple of 8"),
        ({"device": "tpu"}, "Device"),
    ],
)
def test_invalid_values_are_refused_with_a_sentence(changes, words):
    with pytest.raises(RestyleError) as info:
        GenerationParams(model="m").replace(**changes).validate()
    assert info.value.kind is ErrorKind.BAD_INPUT
    assert words in info.value.message


@pytest.mark.parametrize("steps", [1, 2, 3, 10, 30, 50])
@pytest.mark.parametrize("strength", [0.01, 0.04, 0.05, 0.1, 0.3, 0.33, 0.5, 0.75, 1.0])
def test_effective_steps_always_run_at_least_one_step(steps, strength):
    n = effective_steps(steps, strength)
    assert int(n * strength) >= 1
    assert n >= steps
    if int(steps * strength) >= 1:
        assert n == steps  # the user's count is kept whenever it already works
