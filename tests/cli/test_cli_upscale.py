"""``restyle upscale``: the window's upscales, headless, with the generate command's exit codes."""

from PIL import Image

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def test_x4_writes_the_png_with_its_noise_level(tiny_x4_upscaler, make_image, tmp_path, data_dir, capsys):
    out = tmp_path / "big.png"
    code = main(["upscale", str(make_image(size=(24, 16))), "--x4", "--model", str(tiny_x4_upscaler), "--steps", "2",
                 "--noise-level", "60", "--seed", "9", "--prompt", "tiles", "--output", str(out),
                 "--data-dir", str(data_dir)])
    assert code == 0 and str(out) in capsys.readouterr().out
    assert Image.open(out).size == (96, 64)
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["Noise level"] == "60" and fields["Seed"] == "9" and fields["Hires upscale"] == "4"


def test_bad_arguments_are_one_line_and_exit_2(tiny_x4_upscaler, make_image, data_dir, capsys):
    image = str(make_image())
    assert main(["upscale", image, "--x2", "--noise-level", "30", "--data-dir", str(data_dir)]) == 2
    assert "--noise-level is only used with --x4" in capsys.readouterr().err
    assert main(["upscale", image, "--x4", "--model", str(tiny_x4_upscaler), "--latents", "x.safetensors",
                 "--data-dir", str(data_dir)]) == 2
    assert "--latents is only used with --x2" in capsys.readouterr().err
    assert main(["upscale", str(data_dir / "missing.png"), "--x4", "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.png" in err
