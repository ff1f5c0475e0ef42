"""``restyle generate/batch --sampler … --schedule …``."""

import pytest

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def test_generate_with_a_sampler_and_schedule_writes_them_in_the_png(tiny_model, make_image, tmp_path, data_dir):
    out = tmp_path / "out.png"
    code = main(["generate", "--model", str(tiny_model), "--prompt", "ink", "--init", str(make_image()), "--steps",
                 "4", "--seed", "1", "--sampler", "DPM++ 2M", "--schedule", "karras", "--output", str(out),
                 "--data-dir", str(data_dir)])
    assert code == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert (fields["Sampler"], fields["Schedule type"]) == ("DPM++ 2M", "Karras")


def test_an_old_a1111_sampler_name_carries_its_schedule(tiny_model, tmp_path, data_dir):
    out = tmp_path / "out.png"
    assert main(["generate", "--model", str(tiny_model), "--prompt", "ink", "--steps", "2", "--seed", "1",
                 "--sampler", "Euler Karras", "--output", str(out), "--data-dir", str(data_dir)]) == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert (fields["Sampler"], fields["Schedule type"]) == ("Euler", "Karras")


def test_an_unknown_sampler_exits_2_naming_the_choices(tiny_model, data_dir, capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's own refusals exit directly
        main(["generate", "--model", str(tiny_model), "--prompt", "x", "--sampler", "Restart",
              "--data-dir", str(data_dir)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'Restart' is not a sampler Restyle knows" in err and "DPM++ 2M" in err and err.count("\n") == 1


def test_batch_takes_the_sampler_flags(tiny_model, make_image, tmp_path, data_dir):
    source = tmp_path / "in"
    source.mkdir()
    make_image().rename(source / "a.png")
    code = main(["batch", str(source), str(tmp_path / "out"), "--model", str(tiny_model), "--prompt", "ink",
                 "--steps", "2", "--seed", "1", "--sampler", "UniPC", "--schedule", "sgm_uniform",
                 "--data-dir", str(data_dir)])
    assert code == 0
    fields = parse_parameters_text(read_parameters(tmp_path / "out" / "a.png")).fields
    assert (fields["Sampler"], fields["Schedule type"]) == ("UniPC", "SGM Uniform")
