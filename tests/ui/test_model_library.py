"""The model library dialog, opened from the model picker of the real window."""

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop.worker.background import running_jobs
from tests.hub_helpers import add_to_cache

from .conftest import TIMEOUT

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
REPO = "artist/tiny-style"


@pytest.fixture()
def library(open_window, qtbot, hub_cache):
    """open_library() -> (window, dialog) with the first scan done."""
    def open_():
        window = open_window()
        window.findChild(QPushButton, "libraryButton").click()
        dialog = window.model_picker.library
        assert dialog is not None and dialog.objectName() == "modelLibrary" and dialog.isVisible()
        qtbot.waitUntil(lambda: bool(dialog.entries), timeout=TIMEOUT)
        return window, dialog

    yield open_
    for job in running_jobs():
        job.stop()


def _rescan(qtbot, dialog):
    with qtbot.waitSignal(dialog.entries_changed, timeout=TIMEOUT):
        dialog.refresh()


def _row(dialog, name):
    return next(i for i, e in enumerate(dialog.entries) if e.name == name)


def _cell(dialog, name, column):
    return dialog.table.item(_row(dialog, name), column).text()


def test_the_library_lists_the_catalogue_and_shows_cached_models_as_installed(library, hub_cache, tiny_model, qtbot):
    add_to_cache(hub_cache, SD15, tiny_model)
    window, dialog = library()
    assert _cell(dialog, SD15, 5) == "yes"
    assert _cell(dialog, "stabilityai/stable-diffusion-xl-base-1.0", 5) == "no"
    assert _cell(dialog, "stabilityai/stable-diffusion-xl-base-1.0", 3).startswith("≈")
    assert _cell(dialog, SD15, 1) == "base" and "OpenRAIL" in _cell(dialog, SD15, 4)
    # Use makes it the current model, through the picker, as typing it would.
    dialog.select(SD15)
    dialog.use_button.click()
    assert window.model.params.model == SD15 and window.model_picker.combo.currentText() == SD15
    # Not installed: nothing to use.
    dialog.select("stabilityai/stable-diffusion-xl-base-1.0")
    assert not dialog.use_button.isEnabled()


def test_a_download_shows_bytes_and_rate_then_the_model_is_installed(library, fake_hub, tiny_model, qtbot,
                                                                     monkeypatch):
    fake_hub.add_folder(REPO, tiny_model)
    fake_hub.throttle_s = 0.005
    window, dialog = library()
    formats = []
    dialog.progress.valueChanged.connect(lambda _v: formats.append(dialog.progress.format()))
    dialog.hub_edit.setText(REPO)
    with qtbot.waitSignal(dialog.entries_changed, timeout=TIMEOUT):
        dialog.download_button.click()
        assert dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
        qtbot.waitUntil(lambda: not dialog.cancel_button.isEnabled(), timeout=TIMEOUT)
    assert dialog.progress.value() == 1000
    assert any(" of " in f and "/s" in f for f in formats), formats
    assert REPO in dialog.status_label.text() and "downloaded" in dialog.status_label.text()
    assert "downloaded by Restyle" in _cell(dialog, REPO, 5)
    # The window stayed usable meanwhile; now Use loads it by its Hub id.
    dialog.select(REPO)
    dialog.use_button.click()
    qtbot.waitUntil(lambda: window.model.model_info is not None, timeout=TIMEOUT)
    assert window.model.model_info.name == REPO


def test_cancel_stops_the_download_and_says_what_is_kept(library, fake_hub, tiny_model, qtbot):
    fake_hub.add_folder(REPO, tiny_model)
    fake_hub.throttle_s = 0.05
    _window, dialog = library()
    dialog.hub_edit.setText(REPO)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=TIMEOUT)
    with qtbot.waitSignal(dialog.download_job.cancelled, timeout=TIMEOUT):
        dialog.cancel_button.click()
    assert "cancelled" in dialog.status_label.text() and "fetches only the rest" in dialog.status_label.text()
    assert dialog.download_button.isEnabled()


def test_a_server_error_is_shown_as_a_sentence(library, fake_hub, tiny_model, qtbot):
    fake_hub.add_folder(REPO, tiny_model)
    fake_hub.fail_with = 500
    _window, dialog = library()
    dialog.hub_edit.setText(REPO)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "HTTP 500" in dialog.status_label.text(), timeout=TIMEOUT)
    assert not dialog.progress.isVisible() and dialog.download_button.isEnabled()


def test_remove_asks_first_and_deletes_only_what_restyle_downloaded(library, fake_hub, hub_cache, tiny_model, qtbot,
                                                                    monkeypatch):
    from desktop.core.downloads import download
    from desktop.core.hubcache import repo_folder

    fake_hub.add_folder(REPO, tiny_model)
    download(REPO)
    other = add_to_cache(hub_cache, "someone/other-tool", tiny_model)
    _window, dialog = library()
    answers = []

    def answer(choice):
        def ask(*args, **kwargs):
            answers.append(args[2])
            return choice
        return ask

    dialog.select(REPO)
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    dialog.remove_button.click()
    assert "Delete the files Restyle downloaded" in answers[-1] and repo_folder(REPO).exists()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(dialog.entries_changed, timeout=TIMEOUT):
        dialog.remove_button.click()
    assert not repo_folder(REPO).exists() and REPO not in [e.name for e in dialog.entries]
    # Another tool's download: only hidden from the list, its files stay.
    dialog.select("someone/other-tool")
    with qtbot.waitSignal(dialog.entries_changed, timeout=TIMEOUT):
        dialog.remove_button.click()
    assert "files stay on disk" in answers[-1]
    assert "someone/other-tool" not in [e.name for e in dialog.entries]
    assert (other / "model_index.json").is_file()


def test_add_checkpoint_file_refuses_pickles_until_allowed(library, tmp_path, tiny_model, qtbot):
    from desktop.testing.tiny_single import save_tiny_single_file

    window, dialog = library()
    checkpoint = save_tiny_single_file(tiny_model, tmp_path / "comic.safetensors")
    assert dialog.add_path(str(checkpoint))
    qtbot.waitUntil(lambda: str(checkpoint) in [e.name for e in dialog.entries], timeout=TIMEOUT)
    assert _cell(dialog, str(checkpoint), 2) == "SD 1.x"
    pickle = tmp_path / "old.ckpt"
    pickle.write_bytes(b"x")
    assert not dialog.add_path(str(pickle))
    assert "arbitrary code" in dialog.status_label.text()
    dialog.pickle_check.setChecked(True)
    assert window.model.settings.allow_pickles
    assert dialog.add_path(str(pickle))
    assert str(pickle) in window.model.settings.library_paths


def test_use_puts_an_upscaler_controlnet_or_depth_model_in_its_own_slot(library, hub_cache, tiny_model,
                                                                         tiny_x2_upscaler, tiny_controlnet, qtbot):
    add_to_cache(hub_cache, "stabilityai/sd-x2-latent-upscaler", tiny_x2_upscaler)
    add_to_cache(hub_cache, "lllyasviel/control_v11f1p_sd15_depth", tiny_controlnet)
    add_to_cache(hub_cache, SD15, tiny_model)
    window, dialog = library()
    window.model.set_model(SD15, preload=False)
    for name in ("stabilityai/sd-x2-latent-upscaler", "lllyasviel/control_v11f1p_sd15_depth"):
        dialog.select(name)
        dialog.use_button.click()
        # Before: it became the main model, and loading it failed ("AutoPipeline can't find a pipeline …").
        assert window.model.params.model == SD15 and window.model_picker.combo.currentText() != name
    assert window.model.settings.upscaler("x2") == "stabilityai/sd-x2-latent-upscaler"
    assert window.model.depth.controlnet == "lllyasviel/control_v11f1p_sd15_depth"
    assert "ControlNet" in dialog.status_label.text()


@pytest.mark.parametrize("fmt", ["kohya", "diffusers"])
def test_a_lora_from_the_hub_downloads_in_the_library_and_use_adds_it_to_the_next_run(
        fmt, library, fake_hub, tiny_style_files, qtbot, tmp_path):
    lora = tiny_style_files[fmt]
    folder = tmp_path / "lora-repo"
    folder.mkdir()
    (folder / lora.name).write_bytes(lora.read_bytes())
    repo = f"artist/{lora.stem}-lora"
    fake_hub.add_folder(repo, folder, {"README.md": b"# a style"})
    window, dialog = library()
    dialog.hub_edit.setText(repo)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.cancel_button.isEnabled(), timeout=TIMEOUT)
    assert "downloaded" in dialog.status_label.text(), dialog.status_label.text()
    qtbot.waitUntil(lambda: any(e.name == repo for e in dialog.entries), timeout=TIMEOUT)
    entry = dialog.entries[_row(dialog, repo)]
    assert entry.installed and entry.role == "LoRA" and entry.location.endswith(lora.name)
    dialog.select(repo)
    dialog.use_button.click()
    assert window.model.params.loras == ((entry.location, 1.0),)  # the main model is untouched
    assert "LoRA" in dialog.status_label.text()
    dialog.use_button.click()  # used twice: still once
    assert len(window.model.params.loras) == 1
