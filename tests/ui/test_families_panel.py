"""The side panel follows the loaded model's family: its controls, its defaults, its preview label."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractSpinBox

from .conftest import TIMEOUT


def _spin(window, name):
    spin = window.findChild(QAbstractSpinBox, name)
    assert spin is not None, f"no spin box named {name}"
    return spin


def _shown(window, name) -> bool:
    return _spin(window, name).isVisibleTo(window)


def _load(qtbot, window, model):
    window.model.set_model(str(model))
    qtbot.waitUntil(lambda: getattr(window.model.model_info, "name", None) == str(model), timeout=TIMEOUT)


def test_kandinsky_shows_its_prior_controls_and_defaults_and_sd_hides_them(qtbot, open_window, tiny_kandinsky,
                                                                         tiny_model):
    window = open_window([])
    assert not _shown(window, "priorGuidanceSpin") and not _shown(window, "aestheticScoreSpin")
    _load(qtbot, window, tiny_kandinsky)
    assert _shown(window, "priorGuidanceSpin") and _shown(window, "priorStepsSpin")
    assert not _shown(window, "aestheticScoreSpin") and not _shown(window, "denoisingStartSpin")
    assert _spin(window, "guidanceSpin").value() == 4.0 and _spin(window, "strengthSpin").value() == 0.3
    assert _spin(window, "priorGuidanceSpin").value() == 4.0 and _spin(window, "priorStepsSpin").value() == 25
    _spin(window, "priorStepsSpin").setValue(12)
    assert window.model.params.prior_steps == 12

    _load(qtbot, window, tiny_model)
    assert not _shown(window, "priorGuidanceSpin") and not _shown(window, "priorStepsSpin")
    assert _spin(window, "guidanceSpin").value() == 7.5 and _spin(window, "strengthSpin").value() == 0.75
    assert window.model.params.prior_steps is None  # back to "the family's default" for the next Kandinsky


def test_the_refiner_shows_aesthetic_scores_and_denoising_start(qtbot, open_window, tiny_sdxl_refiner, make_image):
    window = open_window([str(make_image())])
    _load(qtbot, window, tiny_sdxl_refiner)
    assert _shown(window, "aestheticScoreSpin") and _shown(window, "negativeAestheticScoreSpin")
    assert _shown(window, "denoisingStartSpin") and not _shown(window, "priorGuidanceSpin")
    assert _spin(window, "aestheticScoreSpin").value() == 6.0 and _spin(window, "strengthSpin").value() == 0.3
    _spin(window, "aestheticScoreSpin").setValue(7.5)
    assert window.model.params.aesthetic_score == 7.5
    assert _spin(window, "strengthSpin").isEnabled()
    _spin(window, "denoisingStartSpin").setValue(0.8)
    assert window.model.params.denoising_start == 0.8
    assert not _spin(window, "strengthSpin").isEnabled()  # denoising start overrides the strength
    _spin(window, "denoisingStartSpin").setValue(0.0)  # shown as "off"
    assert window.model.params.denoising_start is None and _spin(window, "strengthSpin").isEnabled()


def test_edits_survive_a_restart_with_a_model_of_the_same_family(qtbot, open_window, tiny_kandinsky):
    window = open_window(["--model", str(tiny_kandinsky)])
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    _spin(window, "guidanceSpin").setValue(6.5)
    _spin(window, "priorGuidanceSpin").setValue(2.0)
    window.close()
    reopened = open_window([])
    qtbot.waitUntil(lambda: reopened.model.model_info is not None, timeout=TIMEOUT)
    assert reopened.model.params.guidance_scale == 6.5 and reopened.model.params.prior_guidance_scale == 2.0
    assert _spin(reopened, "priorGuidanceSpin").value() == 2.0


def test_kandinsky_generates_from_the_window_with_a_labelled_coarse_preview(qtbot, open_window, tiny_kandinsky,
                                                                          make_image):
    window = open_window(["--model", str(tiny_kandinsky), str(make_image())])
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    window.model.update_params(prompt="ink wash", steps=4, strength=0.5, prior_steps=2, seed=3)
    captions = []
    window.model.preview_changed.connect(lambda image: captions.append(window.canvas.caption))
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    assert captions and all("coarse preview" in c for c in captions)
