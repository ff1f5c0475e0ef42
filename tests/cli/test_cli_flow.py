"""``restyle generate`` / ``batch`` with SD 3, FLUX.1 and FLUX.1 Kontext folders: a PNG with A1111 metadata that
names the model and the family's own settings, the family's defaults where no flag is given."""

from PIL import Image

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def _generate(model, out, *extra, data_dir):
    return main(["generate", "--model", str(model), "--prompt", "ink wash", "--seed", "4", "--output", str(out),
                 "--data-dir", str(data_dir), *extra])


def _fields(path):
    return parse_parameters_text(read_parameters(path)).fields


def test_sd3_restyles_a_picture_with_its_metadata(tiny_sd3, make_image, tmp_path, data_dir):
    out = tmp_path / "sd3.png"
    assert _generate(tiny_sd3, out, "--init", str(make_image()), "--steps", "4", "--guidance", "4",
                     data_dir=data_dir) == 0
    fields = _fields(out)
    assert fields["Model"] == "tiny-sd3" and fields["CFG scale"] == "4.0" and fields["Steps"] == "4"
    assert fields["Denoising strength"] == "0.75" and fields["Sampler"] == "Euler"
    assert Image.open(out).size == (80, 48)  # 96×64 at the 64-px scale, in SD 3's multiples of 16


def test_flux_writes_its_distilled_guidance_and_true_cfg_as_forge_does(tiny_flux, make_image, tmp_path, data_dir,
                                                                       capsys):
    out = tmp_path / "flux.png"
    assert _generate(tiny_flux, out, "--init", str(make_image()), "--steps", "2", "--negative", "blurry",
                     "--true-cfg", "2.5", data_dir=data_dir) == 0
    fields = _fields(out)
    # Guidance left out: FLUX.1 dev's own 3.5 (distilled), not SD's 7.5.
    assert fields["Model"] == "tiny-flux" and fields["Distilled CFG Scale"] == "3.5" and fields["CFG scale"] == "2.5"
    assert parse_parameters_text(read_parameters(out)).negative_prompt == "blurry"
    assert "negative prompt" not in capsys.readouterr().err  # used: true CFG is on


def test_flux_schnell_defaults_to_four_steps_without_guidance(tiny_flux_schnell, make_image, tmp_path, data_dir):
    out = tmp_path / "schnell.png"
    assert _generate(tiny_flux_schnell, out, "--init", str(make_image()), "--strength", "1", data_dir=data_dir) == 0
    fields = _fields(out)
    assert fields["Steps"] == "4" and fields["CFG scale"] == "1.0" and "Distilled CFG Scale" not in fields


def test_kontext_edits_by_instruction_without_a_strength(tiny_flux_kontext, make_image, tmp_path, data_dir):
    out = tmp_path / "kontext.png"
    assert _generate(tiny_flux_kontext, out, "--init", str(make_image()), "--steps", "3", data_dir=data_dir) == 0
    fields = _fields(out)
    assert fields["Model"] == "tiny-flux-kontext" and fields["Distilled CFG Scale"] == "2.5"
    assert "Denoising strength" not in fields and fields["Steps"] == "3"


def test_a_flux_negative_prompt_without_true_cfg_is_left_out_with_a_sentence(tiny_flux, make_image, tmp_path,
                                                                            data_dir, capsys):
    out = tmp_path / "f.png"
    assert _generate(tiny_flux, out, "--init", str(make_image()), "--steps", "2", "--negative", "blurry",
                     data_dir=data_dir) == 0
    assert "uses the negative prompt only with true CFG" in capsys.readouterr().err


def test_a_quantization_without_its_package_is_refused_with_a_sentence(tiny_flux, tmp_path, data_dir, capsys):
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is not None:
        import pytest

        pytest.skip("bitsandbytes is installed here")
    assert _generate(tiny_flux, tmp_path / "q.png", "--quantize", "bnb-4bit", data_dir=data_dir) == 2
    assert "needs the bitsandbytes package, which is not installed" in capsys.readouterr().err


def test_batch_restyles_a_folder_with_flux_and_true_cfg(tiny_flux, make_image, tmp_path, data_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    make_image("in/a.png")
    out = tmp_path / "out"
    assert main(["batch", str(folder), str(out), "--model", str(tiny_flux), "--prompt", "ink", "--steps", "2",
                 "--seed", "1", "--true-cfg", "1.5", "--negative", "blur", "--data-dir", str(data_dir)]) == 0
    (png,) = out.glob("*.png")
    assert _fields(png)["CFG scale"] == "1.5" and _fields(png)["Distilled CFG Scale"] == "3.5"
