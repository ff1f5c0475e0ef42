"""The window end to end: drop an image, write a prompt, generate, watch it denoise, find the PNG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
)

from desktop.core.metadata import parse_parameters_text, read_parameters

from .conftest import TIMEOUT, drop_files


def _find(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def _set_spin(window, name, value):
    from PySide6.QtWidgets import QAbstractSpinBox

    spin = _find(window, QAbstractSpinBox, name)
    spin.setValue(value)
    return spin


def test_drop_type_generate_and_find_the_png(qtbot, open_window, tiny_model, make_image):
    window = open_window(["--model", str(tiny_model)])
    canvas = window.findChild(type(window.canvas), "canvas")
    assert drop_files(canvas, make_image("photo.jpg", size=(96, 64), format="JPEG"))
    assert "photo.jpg" in canvas.caption and "runs at" in canvas.caption

    prompt = _find(window, QPlainTextEdit, "promptEdit")
    qtbot.keyClicks(prompt, "stained glass window")
    qtbot.keyClicks(_find(window, QPlainTextEdit, "negativePromptEdit"), "blurry")
    _set_spin(window, "strengthSpin", 0.5)
    _set_spin(window, "guidanceSpin", 6.0)
    _set_spin(window, "stepsSpin", 10)
    qtbot.keyClicks(_find(window, QLineEdit, "seedEdit"), "1234")

    previews = []
    window.model.preview_changed.connect(lambda image: previews.append(canvas.caption))
    bar = _find(window, QProgressBar, "progressBar")
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as saved:
        qtbot.mouseClick(_find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
        assert _find(window, QPushButton, "generateButton").text() == "Queue next"  # pressing it queues a run
        assert _find(window, QPushButton, "cancelButton").isEnabled()

    path = Path(saved.args[0])
    assert path == window.last_output_path and path.is_file()
    result = window.model.last_result
    assert len(previews) == result.steps_run >= 5  # a preview for every step actually run
    assert previews[0].startswith("Step 1 of")
    assert bar.format() == "Done"
    assert "seed 1234" in canvas.caption
    assert canvas.image.size().width() == result.image.width  # the result replaced the preview
    parsed = parse_parameters_text(read_parameters(path))
    assert parsed.prompt == "stained glass window" and parsed.negative_prompt == "blurry"
    assert parsed.get_int("Seed") == 1234 and parsed.get_int("Steps") == 10
    assert parsed.get_float("Denoising strength") == 0.5 and parsed.get_float("CFG scale") == 6.0
    assert "1234" in _find(window, QLabel, "lastSeedLabel").text()


def test_ctrl_enter_generates_and_escape_cancels(qtbot, open_window, tiny_model, make_image):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    window.model.update_params(prompt="charcoal", steps=60, strength=1.0)
    cancel_at_step = []

    def on_progress(step, total, eta):
        if step == 2 and not cancel_at_step:
            cancel_at_step.append(step)
            qtbot.keyClick(window, Qt.Key.Key_Escape)

    window.model.progress_changed.connect(on_progress)
    with qtbot.waitSignal(window.model.phase_changed, timeout=TIMEOUT, check_params_cb=lambda p: p == "idle"):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert cancel_at_step == [2]
    assert window.last_output_path is None  # nothing half-made was saved
    outputs = window.model.settings.output_dir
    assert not outputs.exists() or not list(outputs.iterdir())
    assert _find(window, QPushButton, "generateButton").isEnabled()
    assert "photo" not in window.canvas.caption and "input.png" in window.canvas.caption  # back to the init image
    # The window is still usable: the next run goes through.
    window.model.update_params(steps=4)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_text_to_image_when_no_image_is_dropped(qtbot, open_window, tiny_model):
    window = open_window(["--model", str(tiny_model)])
    window.model.update_params(prompt="a lighthouse at dusk", steps=3, seed=5)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as saved:
        window.model.generate()
    parsed = parse_parameters_text(read_parameters(saved.args[0]))
    assert "Denoising strength" not in parsed.fields
    assert parsed.fields["Size"] == "64x64"


def test_a_file_that_is_not_an_image_gets_a_clear_sentence(qtbot, open_window, tiny_model, make_image, tmp_path):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    drop_files(window.canvas, notes)
    banner = window.error_banner
    assert banner.isVisible() and "notes.txt" in banner.text and "PNG" in banner.text
    assert window.model.init_image.path.name == "input.png"  # the previous image is kept


def test_without_a_model_the_window_opens_and_says_what_to_do(qtbot, open_window, make_image):
    window = open_window([str(make_image())])
    assert not window.windowIcon().isNull()  # the app's own icon from resources/
    assert "No model chosen" in window.model_picker.state_label.text()
    window.model.update_params(prompt="x")
    assert not window.model.generate()
    assert window.error_banner.isVisible() and "Choose a model" in window.error_banner.text


def test_a_model_that_cannot_be_found_is_reported(qtbot, open_window, make_image, tmp_path):
    window = open_window([str(make_image())])
    picker = window.findChild(type(window.model_picker.combo), "modelPicker")
    picker.setCurrentText(str(tmp_path / "missing-model"))
    with qtbot.waitSignal(window.model.error_raised, timeout=TIMEOUT) as error:
        picker.lineEdit().editingFinished.emit()
    assert error.args[0] == "model_missing" and "does not exist" in error.args[1]
    assert "does not exist" in window.model_picker.state_label.text()


def test_the_chosen_model_is_remembered(qtbot, open_window, tiny_model, data_dir):
    window = open_window(["--model", str(tiny_model)])
    window.close()
    reopened = open_window([])
    assert reopened.model.params.model == str(tiny_model)
    assert reopened.findChild(type(reopened.model_picker.combo), "modelPicker").currentText() == str(tiny_model)


def test_dropping_a_restyle_png_offers_to_restore_its_settings(qtbot, open_window, tiny_model, make_image):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    window.model.update_params(prompt="gouache, soft light", negative_prompt="text", steps=6, seed=99,
                               strength=0.4, guidance_scale=4.5)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as saved:
        window.model.generate()
    window.model.update_params(prompt="something else", steps=20, seed=None)
    drop_files(window.canvas, saved.args[0])
    banner = window.restore_banner
    assert banner.isVisible() and "gouache, soft light" in banner.text
    qtbot.mouseClick(banner.findChild(QPushButton, "restoreBannerAction0"), Qt.MouseButton.LeftButton)
    assert _find(window, QPlainTextEdit, "promptEdit").toPlainText() == "gouache, soft light"
    assert _find(window, QPlainTextEdit, "negativePromptEdit").toPlainText() == "text"
    assert window.model.params.steps == 6 and window.model.params.seed == 99
    assert _find(window, QLineEdit, "seedEdit").text() == "99"
    assert window.model.params.strength == 0.4 and window.model.params.guidance_scale == 4.5


def test_pasting_an_image_makes_it_the_init_image_and_keeps_a_copy(qtbot, open_window, data_dir):
    window = open_window([])
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(image)
    assert window.paste_image()
    init = window.model.init_image
    assert init.size == (120, 80)
    assert init.path.parent == data_dir / "inputs" and init.path.is_file()


def test_the_planned_size_is_shown(qtbot, open_window, tiny_model, make_image):
    window = open_window([str(make_image(size=(200, 100)))])
    label = _find(window, QLabel, "sizeLabel")

    def shown_size(aspect_tolerance):
        width, height = (int(v) for v in label.text().split(" ")[0].split("×"))
        assert width % 8 == 0 and height % 8 == 0 and abs(width / height - 2) < aspect_tolerance
        return width * height

    assert 0.9 < shown_size(0.05) / 512**2 < 1.1  # SD 1.5's natural area until the model says otherwise
    with qtbot.waitSignal(window.model.model_info_changed, timeout=TIMEOUT):
        window.model.set_model(str(tiny_model))
    assert 0.8 < shown_size(0.2) / 64**2 < 1.2  # the tiny model's natural size is 64 px (coarse in 8s)


def test_importing_and_showing_the_window_does_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "from desktop.app import build_main_window\n"
        f"w = build_main_window([], data_dir={str(tmp_path)!r})\n"
        "w.show()\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]\n"
        "w.close()\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_restoring_a_png_with_300_steps_and_guidance_40_shows_300_and_40(qtbot, open_window, tiny_model, tmp_path):
    from PIL import Image

    from desktop.core.metadata import save_png_with_parameters

    png = tmp_path / "elsewhere.png"
    save_png_with_parameters(Image.new("RGB", (64, 64), (40, 90, 160)), png,
                             "ink wash\nSteps: 300, Sampler: DDIM, CFG scale: 40, Seed: 5, Size: 64x64")
    window = open_window(["--model", str(tiny_model)])
    drop_files(window.canvas, png)
    qtbot.mouseClick(window.restore_banner.findChild(QPushButton, "restoreBannerAction0"), Qt.MouseButton.LeftButton)
    assert window.model.params.steps == 300 and window.model.params.guidance_scale == 40
    # The panel shows what the next run will use, not a value clamped by the slider.
    assert _find(window, QAbstractSpinBox, "stepsSpin").value() == 300
    assert _find(window, QAbstractSpinBox, "guidanceSpin").value() == 40
