"""``restyle generate`` with a depth map: given as a file or estimated first, and its refusals."""

import pytest

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def _generate(tiny_model, *extra, data_dir):
    return main(["generate", "--model", str(tiny_model), "--prompt", "etching", "--steps", "2", "--seed", "4",
                 "--data-dir", str(data_dir), *extra])


def test_a_control_image_steers_the_run_and_is_in_the_metadata(tiny_model, tiny_controlnet, make_image, make_depth,
                                                               tmp_path, data_dir, capsys):
    out = tmp_path / "result.png"
    code = _generate(tiny_model, "--init", str(make_image(size=(64, 64))), "--control-image",
                     str(make_depth(size=(64, 64), bits=16)), "--controlnet", str(tiny_controlnet),
                     "--control-scale", "1.5", "--control-end", "0.5", "--output", str(out), data_dir=data_dir)
    assert code == 0 and str(out) in capsys.readouterr().out
    parsed = parse_parameters_text(read_parameters(out))
    assert parsed.fields["ControlNet 0"] == ("Module: depth, Model: tiny-depth-cn, Weight: 1.5, Guidance Start: 0.0, "
                                             "Guidance End: 0.5")


def test_estimate_depth_first_then_generate(tiny_model, tiny_controlnet, tiny_depth_model, make_image, tmp_path,
                                            data_dir, capsys):
    out = tmp_path / "result.png"
    code = _generate(tiny_model, "--init", str(make_image(size=(96, 64))), "--estimate-depth", "--depth-model",
                     str(tiny_depth_model), "--controlnet", str(tiny_controlnet), "--output", str(out),
                     data_dir=data_dir)
    assert code == 0
    assert "ControlNet 0" in read_parameters(out)
    estimated = list((data_dir / "inputs").glob("depth-*.png"))
    assert len(estimated) == 1 and str(estimated[0]) in capsys.readouterr().err  # kept, and the user told where


@pytest.mark.parametrize("args, words", [
    (["--control-image", "TEXTFILE"], "notes.png is not an image; a depth map must be a PNG, JPEG or TIFF"),
    (["--control-image", "MISSING"], "missing.png was not found"),
    (["--estimate-depth"], "--estimate-depth needs --init"),
    (["--controlnet", "owner/cn"], "--controlnet needs --control-image or --estimate-depth"),
    (["--control-image", "DEPTH", "--depth-model", "m"], "--depth-model is only used with --estimate-depth"),
    (["--control-image", "DEPTH", "--control-start", "0.6", "--control-end", "0.4"], "must start before it ends"),
    (["--control-image", "DEPTH", "--control-scale", "3"], "control scale must be between 0 and 2"),
    (["--control-image", "DEPTH", "--estimate-depth"], "not allowed with argument"),
])
def test_bad_depth_arguments_exit_2_with_one_line(tiny_model, make_depth, tmp_path, data_dir, capsys, args, words):
    text_file = tmp_path / "notes.png"
    text_file.write_text("hello")
    names = {"TEXTFILE": str(text_file), "MISSING": str(tmp_path / "missing.png"), "DEPTH": str(make_depth())}
    try:
        code = _generate(tiny_model, *[names.get(a, a) for a in args], data_dir=data_dir)
    except SystemExit as exit_:  # argparse's own refusals exit directly, with the same code
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


def test_an_sdxl_controlnet_on_an_sd_model_exits_2_and_writes_nothing(tiny_model, tiny_sdxl_controlnet, make_depth,
                                                                     tmp_path, data_dir, capsys):
    out = tmp_path / "result.png"
    code = _generate(tiny_model, "--control-image", str(make_depth(size=(64, 64))), "--controlnet",
                     str(tiny_sdxl_controlnet), "--output", str(out), data_dir=data_dir)
    assert code == 2 and not out.exists()
    lines = capsys.readouterr().err.strip().splitlines()
    # Progress lines ("Loading …") may come first; the refusal is one line, the last.
    assert [line for line in lines if line.startswith("restyle:")] == [lines[-1]]
    assert lines[-1] == ("restyle: This ControlNet is made for SDXL but the model is SD 1.x; choose an SD 1.5 depth "
                         "ControlNet such as lllyasviel/control_v11f1p_sd15_depth.")
