"""The style tools in the window: sampler picker, LoRA panel, reference panel, name completion, restoring a PNG."""

import shutil

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import Qt

from desktop.core.style_files import lora_hash

from .conftest import drop_files
from .test_prompt_highlighter import char_formats


def _library(data_dir, tiny_style_files):
    loras = data_dir / "loras"
    loras.mkdir(exist_ok=True)
    shutil.copy(tiny_style_files["kohya"], loras / "inkwash.safetensors")
    shutil.copy(tiny_style_files["diffusers"], loras / "pastel.safetensors")
    Image.new("RGB", (64, 48), (200, 80, 40)).save(loras / "inkwash.png")  # a preview beside the file
    embeddings = data_dir / "embeddings"
    embeddings.mkdir(exist_ok=True)
    shutil.copy(tiny_style_files["embedding"], embeddings / "grainy.safetensors")


def test_the_sampler_picker_sets_and_follows_the_parameters(open_window):
    window = open_window()
    picker = window.params_panel.sampler_picker
    assert picker.sampler_combo.objectName() == "samplerPicker"
    assert picker.sampler_combo.currentText() == "Model default"
    picker.sampler_combo.setCurrentIndex(picker.sampler_combo.findData("DPM++ 2M"))
    picker.sampler_combo.activated.emit(picker.sampler_combo.currentIndex())
    picker.schedule_combo.setCurrentIndex(picker.schedule_combo.findData("karras"))
    picker.schedule_combo.activated.emit(picker.schedule_combo.currentIndex())
    assert (window.model.params.sampler, window.model.params.schedule) == ("DPM++ 2M", "karras")
    window.model.update_params(sampler="Euler a", schedule="automatic")
    assert (picker.sampler_combo.currentText(), picker.schedule_combo.currentText()) == ("Euler a", "Automatic")


def test_the_lora_panel_lists_the_folder_with_thumbnails_and_sets_weights(open_window, data_dir, tiny_style_files):
    _library(data_dir, tiny_style_files)
    window = open_window()
    panel = window.lora_panel
    names = [panel.add_picker.itemData(i) for i in range(panel.add_picker.count())]
    assert names == ["", "inkwash", "pastel"]
    assert not panel.add_picker.itemIcon(1).isNull() and panel.add_picker.itemIcon(2).isNull()
    assert "grainy" in panel.embeddings_label.text()
    panel.add_picker.activated.emit(1)
    panel.add_picker.activated.emit(2)
    assert window.model.params.loras == (("inkwash", 1.0), ("pastel", 1.0))
    ink, pastel = panel.rows
    assert ink.thumb.pixmap() is not None and not ink.thumb.pixmap().isNull()
    ink.weight.spin.setValue(0.6)
    pastel.enabled_check.setChecked(False)
    assert window.model.params.loras == (("inkwash", 0.6),)
    assert len(panel.rows) == 2  # switched off, still listed
    ink.remove_button.click()
    assert window.model.params.loras == () and [r.name for r in panel.rows] == ["pastel"]


def test_a_new_lora_folder_is_remembered_and_scanned(open_window, data_dir, tiny_style_files, tmp_path):
    folder = tmp_path / "more-loras"
    folder.mkdir()
    shutil.copy(tiny_style_files["diffusers"], folder / "watercolour.safetensors")
    window = open_window()
    window.lora_panel.add_folder(str(folder))
    assert window.lora_panel.add_picker.findData("watercolour") > 0
    assert str(folder) in window.model.settings.lora_dirs


def test_names_complete_in_the_prompt_box(open_window, data_dir, tiny_style_files, qtbot):
    _library(data_dir, tiny_style_files)
    window = open_window()
    edit = window.prompt_panel.prompt_edit
    completer = window.prompt_panel.prompt_completer
    edit.setFocus()
    qtbot.keyClicks(edit, "harbour <lora:ink")
    assert completer.candidates() == ["inkwash"]
    completer.insert_completion("inkwash")
    assert window.model.params.prompt == "harbour <lora:inkwash:1>"
    qtbot.keyClicks(edit, ", gra")
    assert completer.candidates() == ["grainy"]
    completer.insert_completion("grainy")
    assert window.model.params.prompt == "harbour <lora:inkwash:1>, grainy"


def test_references_are_dropped_on_the_panel_with_scale_and_style_only(open_window, make_image, tmp_path):
    window = open_window()
    panel = window.reference_panel
    text = tmp_path / "notes.txt"
    text.write_text("x")
    assert drop_files(panel, make_image("a.png"), make_image("b.png"), text)
    assert [p.split("/")[-1] for p in window.model.params.references] == ["a.png", "b.png"]
    assert panel.list.count() == 2 and "notes.txt" in window.status_label.text()
    panel.scale.spin.setValue(0.9)
    panel.style_only.setChecked(True)
    assert (window.model.params.reference_scale, window.model.params.reference_style_only) == (0.9, True)
    panel.list.item(0).setSelected(True)
    panel.remove_button.click()
    assert [p.split("/")[-1] for p in window.model.params.references] == ["b.png"]


def test_a_dropped_a1111_png_restores_sampler_and_loras_found_by_name_or_hash(open_window, data_dir,
                                                                              tiny_style_files, tmp_path):
    _library(data_dir, tiny_style_files)
    digest = lora_hash(tiny_style_files["kohya"])
    info = PngInfo()
    info.add_text("parameters", "harbour <lora:old-ink-name:0.7> <lora:gone:0.5>\nSteps: 12, Sampler: DPM++ 2M, "
                  f"Schedule type: Karras, CFG scale: 6, Seed: 3, Size: 64x64, Lora hashes: \"old-ink-name: {digest}, "
                  "gone: 0123456789ab\"")
    picture = tmp_path / "a1111.png"
    Image.new("RGB", (64, 64), "white").save(picture, pnginfo=info)
    window = open_window()
    found = []
    window.model.metadata_found.connect(found.append)
    window.model.load_init_image(picture)
    assert window.restore_banner.isVisible() and len(found) == 1
    window.model.restore_settings(found[0])  # what the banner's Restore settings does
    params = window.model.params
    assert params.prompt == "harbour <lora:inkwash:0.7> <lora:gone:0.5>"
    assert (params.sampler, params.schedule, params.steps) == ("DPM++ 2M", "karras", 12)
    status = window.status_label.text()
    assert "found as inkwash by its hash" in status and "Not in your LoRA folders: gone" in status


def test_a_lora_tag_is_coloured_apart_and_not_counted_as_tokens(open_window, qtbot):
    window = open_window()
    panel = window.prompt_panel
    panel.prompt_edit.setPlainText("a quiet harbour")
    plain = panel.prompt_tokens.text()
    panel.prompt_edit.setPlainText("a quiet harbour <lora:inkwash:0.8>")
    assert panel.prompt_tokens.text() == plain
    formats = char_formats(panel.prompt_edit)
    text = panel.prompt_edit.toPlainText()
    tag = range(text.index("<lora:"), len(text))
    assert all(i in formats and formats[i].fontItalic() for i in tag)
    assert not any(formats[i].fontItalic() for i in range(len("a quiet harbour")) if i in formats)


def test_the_issue_s_done_when_a_cli_png_with_a_lora_and_sampler_restores_all_of_it(open_window, data_dir,
                                                                                    tiny_model, tiny_style_files,
                                                                                    make_image, tmp_path):
    from desktop.cli import main

    _library(data_dir, tiny_style_files)
    out = tmp_path / "made.png"
    style = data_dir / "loras" / "inkwash.safetensors"
    assert main(["generate", "--model", str(tiny_model), "--prompt", "harbour", "--init", str(make_image()),
                 "--steps", "2", "--seed", "4", "--lora", f"{style}:0.8", "--sampler", "DPM++ 2M", "--schedule",
                 "karras", "--output", str(out), "--data-dir", str(data_dir)]) == 0
    window = open_window()
    found = []
    window.model.metadata_found.connect(found.append)
    window.model.load_init_image(out)
    window.model.restore_settings(found[0])
    params = window.model.params
    assert params.prompt == "harbour <lora:inkwash:0.8>"
    assert (params.sampler, params.schedule, params.seed, params.steps) == ("DPM++ 2M", "karras", 4, 2)
    assert "Not in your LoRA folders" not in window.status_label.text()
    assert window.prompt_panel.prompt_edit.toPlainText() == "harbour <lora:inkwash:0.8>"
    picker = window.params_panel.sampler_picker
    assert (picker.sampler_combo.currentText(), picker.schedule_combo.currentText()) == ("DPM++ 2M", "Karras")


def test_a_lora_path_or_hub_file_can_be_typed_into_the_picker(open_window, qtbot, tiny_style_files):
    window = open_window()
    picker = window.lora_panel.add_picker
    picker.lineEdit().setFocus()
    picker.lineEdit().selectAll()
    qtbot.keyClicks(picker.lineEdit(), "someone/ink-loras/ink.safetensors")
    qtbot.keyClick(picker.lineEdit(), Qt.Key.Key_Return)
    assert window.model.params.loras == (("someone/ink-loras/ink.safetensors", 1.0),)
    assert picker.count() == 1  # typing added nothing to the list of files
