"""The session follows the loaded model's family: defaults on a family change, sizes, restored settings."""


from desktop.core.params import ModelInfo
from desktop.core.picture_settings import a1111_settings


def _info(profile, family=None, natural=768):
    return ModelInfo("m", "m", family or profile, natural, "Pipeline", "cpu", "float32", profile=profile)


def test_a_new_family_brings_its_defaults_and_the_same_family_keeps_edits(model, host):
    model.update_params(guidance_scale=9.0, strength=0.6)
    host.worker.model_ready.emit(_info("sd", natural=512))
    assert (model.params.guidance_scale, model.params.strength) == (9.0, 0.6)  # SD's edits are kept
    host.worker.model_ready.emit(_info("kandinsky22"))
    assert (model.params.guidance_scale, model.params.strength, model.params.steps) == (4.0, 0.3, 50)
    model.update_params(guidance_scale=3.0, prior_steps=10)
    host.worker.model_ready.emit(_info("kandinsky22"))  # another Kandinsky: the artist's values stay
    assert (model.params.guidance_scale, model.params.prior_steps) == (3.0, 10)
    host.worker.model_ready.emit(_info("sdxl-refiner", family="sdxl", natural=1024))
    assert (model.params.guidance_scale, model.params.strength, model.params.prior_steps) == (5.0, 0.3, None)


def test_records_without_a_profile_read_as_their_family(model, host):
    host.worker.model_ready.emit(ModelInfo("m", "m", "sdxl", 1024, "P", "cpu", "float32"))
    assert model.family.key == "sdxl" and model.params.guidance_scale == 5.0


def test_kandinsky_sizes_are_planned_in_multiples_of_64(model, host, make_image):
    host.worker.model_ready.emit(_info("kandinsky22"))
    model.load_init_image(make_image(size=(400, 190)))
    width, height = model.planned_size()
    assert width % 64 == 0 and height % 64 == 0 and width > height


def test_restoring_a_png_brings_back_the_family_settings(model):
    text = "a fox\nSteps: 20, CFG scale: 4.0, Seed: 5, Prior CFG scale: 2.5, Prior steps: 12, Aesthetic score: 7.0"
    model.restore_settings(model.offer_for(a1111_settings(text)))
    p = model.params
    assert (p.prior_guidance_scale, p.prior_steps, p.aesthetic_score) == (2.5, 12, 7.0)


def test_a_flux_png_written_as_forge_writes_it_restores_its_distilled_guidance_and_true_cfg(model):
    text = ("a fox\nNegative prompt: blur\nSteps: 28, Sampler: Euler, CFG scale: 2.5, Distilled CFG Scale: 3.5, "
            "Seed: 5, Size: 1024x1024, Model: flux1-dev")
    model.restore_settings(model.offer_for(a1111_settings(text)))
    p = model.params
    assert (p.guidance_scale, p.true_cfg_scale, p.steps, p.negative_prompt) == (3.5, 2.5, 28, "blur")


def test_a_flux_model_sets_its_defaults_and_sizes_in_16s(model, host, make_image):
    host.worker.model_ready.emit(_info("flux"))
    p = model.params
    assert (p.guidance_scale, p.steps, p.true_cfg_scale) == (3.5, 28, None)  # None: the family's 1 (off)
    model.load_init_image(make_image(size=(400, 190)))
    width, height = model.planned_size()
    assert width % 16 == 0 and height % 16 == 0
