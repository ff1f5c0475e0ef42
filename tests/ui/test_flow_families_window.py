"""In the window: switching between SD 1.5, SDXL, SD 3, FLUX.1 and FLUX.1 Kontext shows only each family's controls,
and each runs with a preview every step; a Kontext edit continues from a FLUX result in latent space."""

from PySide6.QtWidgets import QAbstractSpinBox, QFormLayout

from .conftest import TIMEOUT


def _spin(window, name):
    spin = window.findChild(QAbstractSpinBox, name)
    assert spin is not None, f"no spin box named {name}"
    return spin


def _shown(window, name) -> bool:
    return _spin(window, name).isVisibleTo(window)


def _guidance_label(window) -> str:
    panel = window.params_panel
    return panel.layout().labelForField(panel.guidance).text()


def _load(qtbot, window, model):
    window.model.set_model(str(model))
    qtbot.waitUntil(lambda: getattr(window.model.model_info, "name", None) == str(model), timeout=TIMEOUT)


def _run(qtbot, window, **params):
    previews = []
    window.model.preview_changed.connect(previews.append)
    window.model.update_params(**{"prompt": "ink wash lighthouse", "seed": 3, **params})
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        window.model.generate()
    window.model.preview_changed.disconnect(previews.append)
    return window.model.last_result, previews


def test_each_family_shows_only_its_controls_and_previews_every_step(qtbot, open_window, tiny_model, tiny_sdxl,
                                                                     tiny_sd3, tiny_flux, make_image):
    window = open_window([str(make_image(size=(64, 64)))])
    assert isinstance(window.params_panel.layout(), QFormLayout)
    seen = {}
    for model in (tiny_model, tiny_sdxl, tiny_sd3, tiny_flux):
        _load(qtbot, window, model)
        seen[window.model.model_info.profile] = {
            "true_cfg": _shown(window, "trueCfgSpin"), "strength": _shown(window, "strengthSpin"),
            "guidance": _guidance_label(window), "prior": _shown(window, "priorGuidanceSpin"),
            "aesthetic": _shown(window, "aestheticScoreSpin"),
            "negative": window.prompt_panel.negative_edit.isEnabled(),
        }
        result, previews = _run(qtbot, window, steps=4, strength=0.5)
        assert result.model.name == str(model) and result.steps_run >= 2
        assert len(previews) == result.steps_run  # one preview per step, SD3/FLUX's 16 channels too
    assert seen["sd"] == seen["sdxl"] == seen["sd3"] == {
        "true_cfg": False, "strength": True, "guidance": "Guidance", "prior": False, "aesthetic": False,
        "negative": True}
    assert seen["flux"] == {"true_cfg": True, "strength": True, "guidance": "Distilled guidance", "prior": False,
                            "aesthetic": False, "negative": False}  # the negative prompt needs true CFG
    # FLUX's own defaults came with it: distilled guidance 3.5, true CFG off.
    assert window.model.last_result.params.guidance_scale == 3.5
    assert window.model.last_result.params.true_cfg_scale == 1.0
    _spin(window, "trueCfgSpin").setValue(2.0)
    assert window.model.params.true_cfg_scale == 2.0 and window.prompt_panel.negative_edit.isEnabled()


def test_a_kontext_edit_continues_a_flux_result_with_history_and_metadata(qtbot, open_window, tiny_flux,
                                                                          tiny_flux_kontext, make_image):
    from desktop.core.metadata import parse_parameters_text, read_parameters

    window = open_window(["--model", str(tiny_flux), str(make_image(size=(64, 64)))])
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    first, _ = _run(qtbot, window, steps=4, strength=0.5)
    _load(qtbot, window, tiny_flux_kontext)
    assert not _shown(window, "strengthSpin") and _shown(window, "trueCfgSpin")  # Kontext: no strength
    assert _guidance_label(window) == "Distilled guidance" and _spin(window, "guidanceSpin").value() == 2.5
    assert window.model.continue_from(first.history_nodes[-1].id)  # as the history's "Continue from here"
    edit, previews = _run(qtbot, window, steps=3, prompt="make it a watercolour, keep the faces")
    assert edit.steps_run == 3 and len(previews) == 3  # every step runs: the picture is a condition
    fields = parse_parameters_text(read_parameters(edit.output_path)).fields
    assert fields["Model"] == "tiny-flux-kontext" and "Denoising strength" not in fields
    assert fields["Distilled CFG Scale"] == "2.5"
    # Same VAE as the FLUX model: the edit started from the kept latents, and the history records the chain.
    assert edit.chain_mode == "latent"
    assert edit.history_nodes[-1].parent == first.history_nodes[-1].id


def test_the_token_count_follows_t5s_limit_for_flux(qtbot, open_window, tiny_flux, tiny_model):
    from PySide6.QtWidgets import QLabel

    window = open_window(["--model", str(tiny_flux)])
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    window.prompt_panel.prompt_edit.setPlainText("a (red:1.3) boat at dusk")
    label = window.findChild(QLabel, "promptTokenLabel")
    qtbot.waitUntil(lambda: "of 512 T5 tokens" in label.text(), timeout=TIMEOUT)
    assert "(word:1.2) weights are not applied" in window.prompt_panel.prompt_edit.toolTip()
    _load(qtbot, window, tiny_model)
    qtbot.waitUntil(lambda: "of 75 tokens" in label.text(), timeout=TIMEOUT)
