"""``restyle batch``: a folder restyled with the same settings, non-images reported, resumable."""

import pytest

from desktop.cli import main
from desktop.cli_batch import run_batch_command
from desktop.engine.batch import MANIFEST_NAME
from desktop.engine.metadata import parse_parameters_text, read_parameters


def _args(tiny_model, in_dir, out_dir, data_dir, *extra):
    return ["batch", str(in_dir), str(out_dir), "--model", str(tiny_model), "--prompt", "etching", "--steps", "4",
            "--strength", "0.5", "--seed", "3", "--data-dir", str(data_dir), *extra]


@pytest.fixture()
def folder(tmp_path, make_image):
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    for name, color in (("a.png", (200, 20, 20)), ("b.jpg", (20, 200, 20)), ("c.png", (20, 20, 200))):
        make_image(f"in/{name}", (48, 40), color)
    (in_dir / "notes.txt").write_text("not a picture")
    return in_dir


def test_batch_restyles_every_image_and_reports_files_that_are_not(tiny_model, folder, tmp_path, data_dir, capsys):
    out = tmp_path / "out"
    assert main(_args(tiny_model, folder, out, data_dir)) == 0
    captured = capsys.readouterr()
    assert "notes.txt is not an image; skipped" in captured.err
    assert "3 restyled" in captured.out and "1 not images" in captured.out
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "b.png", "c.png"]
    parsed = parse_parameters_text(read_parameters(out / "b.png"))
    assert parsed.prompt == "etching" and parsed.get_int("Seed") == 3 and parsed.get_float("Denoising strength") == 0.5


def test_an_interrupted_batch_resumes_without_redoing_finished_files(tiny_model, folder, tmp_path, data_dir, capsys):
    out = tmp_path / "out"

    def interrupt(source, target):
        raise KeyboardInterrupt  # as Ctrl+C right after the first file is saved

    assert run_batch_command(_args(tiny_model, folder, out, data_dir)[1:], on_file_done=interrupt) == 1
    assert "run the same command again" in capsys.readouterr().err
    assert [p.name for p in out.glob("*.png")] == ["a.png"]
    first_mtime = (out / "a.png").stat().st_mtime_ns

    assert main(_args(tiny_model, folder, out, data_dir)) == 0
    captured = capsys.readouterr()
    assert "2 restyled" in captured.out and "1 already done" in captured.out
    assert (out / "a.png").stat().st_mtime_ns == first_mtime  # not redone
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "b.png", "c.png"]

    # Other settings are another batch: nothing is skipped.
    assert main(_args(tiny_model, folder, out, data_dir, "--guidance", "3")) == 0
    assert "3 restyled" in capsys.readouterr().out
    assert (out / MANIFEST_NAME).is_file()


def test_a_broken_image_is_reported_and_the_rest_still_done(tiny_model, folder, tmp_path, data_dir, capsys):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    assert main(_args(tiny_model, folder, out, data_dir)) == 2
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "3 restyled" in captured.out and "1 failed" in captured.out
    assert not (out / "broken.png").exists()


def test_bad_folders_and_flags_exit_2_with_a_sentence(tiny_model, tmp_path, data_dir, capsys):
    assert main(_args(tiny_model, tmp_path / "missing", tmp_path / "out", data_dir)) == 2
    assert "is not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # argparse's own refusal exits directly, with the same code
        main(_args(tiny_model, tmp_path, tmp_path / "out", data_dir, "--strength", "3"))
    assert exit_.value.code == 2
    assert "strength must be" in capsys.readouterr().err  # the generate flag's own check and sentence
    assert main(_args(tiny_model, tmp_path, tmp_path, data_dir)) == 2
    assert "must differ" in capsys.readouterr().err
