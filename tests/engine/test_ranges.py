"""One table of ranges: validation, the command line and the sliders accept exactly the same values."""

from __future__ import annotations

import pytest

from desktop.cli.common import in_range
from desktop.core.errors import RestyleError
from desktop.core.params import GenerationParams
from desktop.core.ranges import RANGES


@pytest.mark.parametrize("name", ["strength", "guidance_scale", "steps", "control_scale", "prior_steps"])
def test_validation_and_the_cli_agree_at_both_ends_of_every_range(name):
    limits = RANGES[name]
    convert = in_range(name)
    for value in (limits.low, limits.high):
        if limits.contains(value):
            assert convert(str(value)) == value
            GenerationParams(model="m", **{name: value}).validate()
    outside = limits.high + (1 if limits.whole else 0.5)
    with pytest.raises(Exception, match="must be"):
        convert(str(outside))
    with pytest.raises(RestyleError, match=f"{limits.label} must be"):
        GenerationParams(model="m", **{name: outside}).validate()


def test_a_size_that_is_not_a_multiple_of_8_is_refused_with_the_rule():
    with pytest.raises(RestyleError, match="Width must be a multiple of 8 between 64 and 4096 \\(got 100\\)"):
        GenerationParams(model="m", width=100, height=64).validate()


def test_the_steps_and_guidance_fields_reach_the_validated_maximum(qtbot):
    from desktop.ui.slider_field import SliderField

    steps = SliderField.for_parameter("steps", "stepsSpin")
    guidance = SliderField.for_parameter("guidance_scale", "guidanceSpin")
    qtbot.addWidget(steps)
    qtbot.addWidget(guidance)
    assert steps.spin.maximum() == RANGES["steps"].high == 500
    assert guidance.spin.maximum() == RANGES["guidance_scale"].high == 50
