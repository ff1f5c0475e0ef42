"""``restyle batch``: a folder restyled with the same settings, non-images reported, resumable."""

from pathlib import Path

import pytest

from desktop.cli import main
from desktop.cli.batch import run_batch_command
from desktop.core.batch import MANIFEST_NAME
from desktop.core.metadata import parse_parameters_text, read_parameters


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


def test_a_killed_batch_loses_at_most_the_file_in_progress(tiny_model, tmp_path, make_image, data_dir):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    in_dir = tmp_path / "many"
    in_dir.mkdir()
    for index in range(8):
        make_image(f"many/{index:02d}.png", (48, 40), (30 * index, 90, 120))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "desktop", *_args(tiny_model, in_dir, out, data_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / MANIFEST_NAME
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if manifest.is_file() and any("settings" in e for e in json.loads(manifest.read_text())["files"].values()):
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)  # no chance to clean up
    finally:
        process.wait()
    # An entry with only its output name is reserved, not finished (the kill came before it was recorded).
    finished = {k: e for k, e in json.loads(manifest.read_text())["files"].items() if "settings" in e}
    assert 1 <= len(finished) <= 8
    mtimes = {name: (out / entry["output"]).stat().st_mtime_ns for name, entry in finished.items()}

    assert main(_args(tiny_model, in_dir, out, data_dir)) == 0
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:02d}.png" for i in range(8)]
    assert {name: (out / f"{Path(name).stem}.png").stat().st_mtime_ns for name in finished} == mtimes
    assert not list(out.glob(".*.tmp"))  # a half-written file from the kill is cleaned away
