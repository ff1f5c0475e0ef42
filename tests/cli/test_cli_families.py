"""``restyle generate`` with the settings only some families take."""

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def _generate(model, *extra, data_dir):
    return main(["generate", "--model", str(model), "--prompt", "ink wash", "--steps", "2", "--seed", "4",
                 "--data-dir", str(data_dir), *extra])


def test_kandinsky_prior_settings_reach_the_run_and_the_png(tiny_kandinsky, make_image, tmp_path, data_dir):
    out = tmp_path / "k.png"
    code = _generate(tiny_kandinsky, "--init", str(make_image()), "--prior-steps", "2", "--prior-guidance", "2.5",
                     "--aesthetic-score", "7", "--output", str(out), data_dir=data_dir)
    assert code == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["Prior steps"] == "2" and fields["Prior CFG scale"] == "2.5"
    assert "Aesthetic score" not in fields  # Kandinsky does not take it: not claimed in the metadata


def test_the_refiner_rejects_a_denoising_start_outside_0_to_1(tiny_sdxl_refiner, make_image, data_dir, capsys):
    code = _generate(tiny_sdxl_refiner, "--init", str(make_image()), "--denoising-start", "1.5", data_dir=data_dir)
    assert code == 2
    assert "Denoising start must be above 0 and below 1" in capsys.readouterr().err
