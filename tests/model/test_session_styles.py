"""The session restores the style tools from a dropped picture's AUTOMATIC1111 text."""

from desktop.core.picture_settings import a1111_settings


def test_restoring_a1111_metadata_sets_sampler_and_schedule(model):
    model.restore_settings(model.offer_for(a1111_settings(
        "a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 512x512")))
    assert (model.params.sampler, model.params.schedule) == ("DPM++ 2M", "karras")


def test_an_old_a1111_sampler_name_restores_its_schedule_and_an_unknown_one_keeps_the_choice(model):
    settings = a1111_settings("a fox\nSteps: 20, Sampler: Euler a Karras, CFG scale: 7, Seed: 5")
    model.restore_settings(model.offer_for(settings))
    assert (model.params.sampler, model.params.schedule) == ("Euler a", "karras")
    model.restore_settings(model.offer_for(a1111_settings("a fox\nSteps: 20, Sampler: Restart, CFG scale: 7, Seed: 5")))
    assert model.params.sampler == "Euler a"
