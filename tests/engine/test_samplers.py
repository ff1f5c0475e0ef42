"""Samplers by their AUTOMATIC1111 names: the table, other tools' spellings, the swap on a loaded model, metadata."""

import time

import numpy as np
import pytest

from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.output import parameters_text, save_result
from desktop.core.params import GenerationParams
from desktop.core.samplers import (
    SAMPLERS,
    SCHEDULES,
    parse_sampler,
    sampler_fields,
    scheduler_options,
)
from desktop.engine import runner as runner_module
from desktop.engine.runner import Engine


@pytest.mark.parametrize("text, schedule, expected", [
    ("DPM++ 2M", "Karras", ("DPM++ 2M", "karras")),  # A1111 ≥ 1.6
    ("DPM++ 2M Karras", None, ("DPM++ 2M", "karras")),  # A1111 < 1.6 put the schedule in the name
    ("DPM++ 2M SDE Exponential", None, ("DPM++ 2M SDE", "exponential")),
    ("Euler a", None, ("Euler a", "automatic")),
    ("euler_ancestral", "normal", ("Euler a", "automatic")),  # ComfyUI
    ("dpmpp_2m_sde_gpu", "karras", ("DPM++ 2M SDE", "karras")),
    ("uni_pc", "sgm_uniform", ("UniPC", "sgm_uniform")),
    ("EulerDiscreteScheduler", None, ("Euler", "automatic")),  # diffusers class names
    ("PNDMScheduler", None, ("PLMS", "automatic")),
    ("ddim", "SGM Uniform", ("DDIM", "sgm_uniform")),
])
def test_other_tools_sampler_names_map_onto_the_a1111_ones(text, schedule, expected):
    assert parse_sampler(text, schedule) == expected


def test_an_unknown_sampler_is_not_guessed():
    assert parse_sampler("Restart") is None
    assert sampler_fields({"Sampler": "Restart", "Steps": "20"}) == {}


def test_the_picker_offers_every_sampler_the_issue_asks_for():
    for name in ("Euler", "Euler a", "Heun", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "DPM2", "LMS", "DDIM",
                 "PLMS", "UniPC", "LCM"):
        assert name in SAMPLERS
    assert [s.label for s in SCHEDULES.values()] == ["Automatic", "Karras", "Exponential", "SGM Uniform"]


def test_a_schedule_a_sampler_does_not_have_is_reported_not_faked():
    cls, options, note = scheduler_options("DDIM", "karras")
    assert cls == "DDIMScheduler" and "use_karras_sigmas" not in options
    assert "DDIM has no Karras schedule" in note


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_builds_from_an_sd_scheduler_config(name):
    import diffusers

    config = diffusers.PNDMScheduler(skip_prk_steps=True, steps_offset=1).config
    for schedule in SCHEDULES:
        class_name, options, _ = scheduler_options(name, schedule)
        scheduler = getattr(diffusers, class_name).from_config(config, **options)
        assert type(scheduler).__name__ == class_name
        for key, value in options.items():
            assert scheduler.config[key] == value


@pytest.fixture(scope="module")
def engine():
    return Engine()


def _params(tiny_model, init, **changes):
    return GenerationParams(model=str(tiny_model), prompt="a woodcut fox", init_image=str(init), strength=0.8,
                            steps=6, seed=11).replace(**changes)


def test_switching_samplers_changes_the_picture_without_reloading(engine, tiny_model, make_image, monkeypatch):
    init = make_image()
    default = engine.generate(_params(tiny_model, init))
    loads = []
    real_load = runner_module.load_img2img_pipeline
    monkeypatch.setattr(runner_module, "load_img2img_pipeline", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    dpm = engine.generate(_params(tiny_model, init, sampler="DPM++ 2M", schedule="karras"))
    euler = engine.generate(_params(tiny_model, init, sampler="Euler a"))
    back = engine.generate(_params(tiny_model, init))
    assert loads == []  # three switches, no reload
    assert default.sampler == "PLMS" and default.params.schedule == "automatic"  # the tiny model's own PNDM
    assert (dpm.sampler, dpm.params.sampler, dpm.params.schedule) == ("DPM++ 2M", "DPM++ 2M", "karras")
    assert euler.sampler == "Euler a"
    pixels = [np.asarray(r.image) for r in (default, dpm, euler)]
    assert not np.array_equal(pixels[0], pixels[1]) and not np.array_equal(pixels[1], pixels[2])
    assert np.array_equal(pixels[0], np.asarray(back.image))  # the model's own scheduler is kept intact
    scheduler = engine._loaded.img2img.scheduler
    assert type(scheduler).__name__ == "PNDMScheduler"


def test_a_sampler_switch_takes_milliseconds(engine, tiny_model, make_image):
    engine.generate(_params(tiny_model, make_image(), steps=1, strength=1.0))
    styles = engine._loaded.styles
    started = time.perf_counter()
    for name in ("Euler", "DPM++ 2M SDE", "UniPC"):
        styles.prepare_run(engine._loaded.img2img, _params(tiny_model, None, sampler=name, schedule="karras"))
    assert (time.perf_counter() - started) / 3 < 0.05


def test_the_png_names_sampler_and_schedule_as_a1111_does_and_reads_back(engine, tiny_model, make_image, tmp_path):
    result = engine.generate(_params(tiny_model, make_image(), sampler="DPM++ 2M", schedule="karras"))
    path = save_result(result, tmp_path)
    text = read_parameters(path)
    assert "Steps: 6, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale:" in text
    parsed = parse_parameters_text(text)
    assert sampler_fields(parsed.fields) == {"sampler": "DPM++ 2M", "schedule": "karras"}


def test_a_schedule_the_sampler_lacks_is_recorded_as_not_used(engine, tiny_model, make_image):
    result = engine.generate(_params(tiny_model, make_image(), sampler="DDIM", schedule="karras"))
    assert result.params.schedule == "automatic" and result.sampler == "DDIM"
    assert any("DDIM has no Karras schedule" in note for note in result.notes)
    assert "Schedule type" not in parameters_text(result)


def test_an_unknown_sampler_is_refused_before_loading(tiny_model):
    from desktop.core.errors import RestyleError

    with pytest.raises(RestyleError) as error:
        GenerationParams(model=str(tiny_model), sampler="Restart").validate()
    assert "not a sampler Restyle knows" in error.value.message and "DPM++ 2M" in error.value.message
