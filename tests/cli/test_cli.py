"""``restyle generate``: the headless face of the engine, its output and its exit codes."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


def _generate(tiny_model, *extra, data_dir):
    return main(["generate", "--model", str(tiny_model), "--prompt", "linocut print", "--steps", "6",
                 "--data-dir", str(data_dir), *extra])


def test_generate_writes_the_png_with_metadata(tiny_model, make_image, tmp_path, data_dir, capsys):
    out = tmp_path / "result.png"
    code = _generate(tiny_model, "--init", str(make_image()), "--strength", "0.6", "--guidance", "5",
                     "--seed", "77", "--negative", "photo, blur", "--output", str(out), data_dir=data_dir)
    assert code == 0
    assert str(out) in capsys.readouterr().out
    parsed = parse_parameters_text(read_parameters(out))
    assert parsed.prompt == "linocut print" and parsed.negative_prompt == "photo, blur"
    assert parsed.get_int("Seed") == 77 and parsed.get_float("Denoising strength") == 0.6


def test_same_arguments_and_seed_give_the_same_pixels(tiny_model, make_image, tmp_path, data_dir):
    init = make_image()
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in paths:
        assert _generate(tiny_model, "--init", str(init), "--seed", "5", "--output", str(path), data_dir=data_dir) == 0
    a, b = (np.asarray(Image.open(p).convert("RGB")) for p in paths)
    assert np.array_equal(a, b)


def test_text_to_image_with_an_explicit_size_and_a_default_output(tiny_model, data_dir, capsys):
    assert _generate(tiny_model, "--width", "96", "--height", "64", data_dir=data_dir) == 0
    saved = list((data_dir / "outputs").glob("*.png"))
    assert len(saved) == 1 and Image.open(saved[0]).size == (96, 64)
    assert "seed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--strength", "1.5"], "strength"),
        (["--strength", "0"], "strength"),
        (["--steps", "many"], "steps"),
        (["--width", "100", "--height", "64"], "multiple of 8"),
        (["--width", "64"], "both a width and a height"),
        (["--device", "tpu"], "device"),
        (["--output", "x.jpg"], ".png"),
        (["--init", "MISSING"], "was not found"),
        (["--init", "TEXTFILE"], "not an image"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tiny_model, tmp_path, data_dir, capsys, args, words):
    text_file = tmp_path / "notes.png"
    text_file.write_text("hello")
    args = [str(tmp_path / "missing.png") if a == "MISSING" else str(text_file) if a == "TEXTFILE" else a
            for a in args]
    try:
        code = _generate(tiny_model, *args, data_dir=data_dir)
    except SystemExit as exit_:  # argparse's own refusals exit directly, with the same code
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


def test_a_missing_model_exits_2(tmp_path, data_dir, capsys):
    code = main(["generate", "--model", str(tmp_path / "nowhere"), "--prompt", "x", "--data-dir", str(data_dir)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err


def test_an_unexpected_failure_exits_1_with_the_log_path(tiny_model, data_dir, capsys, monkeypatch):
    from desktop.engine import runner

    monkeypatch.setattr(runner.Engine, "generate", lambda *a, **k: 1 / 0)
    assert _generate(tiny_model, data_dir=data_dir) == 1
    err = capsys.readouterr().err
    assert str(data_dir / "logs" / "restyle.log") in err and "Traceback" not in err
    assert "ZeroDivisionError" in (data_dir / "logs" / "restyle.log").read_text()


def test_the_installed_command_reports_a_bad_argument_in_one_line(tmp_path):
    # The real entry point, in its own process: argument errors come before torch is imported.
    out = subprocess.run([sys.executable, "-m", "desktop", "generate", "--model", "m", "--prompt", "p",
                          "--guidance", "lots"], check=False, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "RESTYLE_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "restyle generate: argument --guidance: guidance must be a number, not 'lots' (see restyle generate --help)"
    ]


def test_a_pickle_model_is_refused_with_the_same_sentence_as_everywhere(tmp_path, data_dir, capsys):
    from desktop.core.sources import pickle_refusal

    path = tmp_path / "style.ckpt"
    path.write_bytes(b"x")
    code = main(["generate", "--model", str(path), "--prompt", "p", "--data-dir", str(data_dir)])
    assert code == 2
    assert pickle_refusal(path).message in capsys.readouterr().err


def test_a_single_file_checkpoint_is_accepted_by_model(tiny_model, tmp_path, data_dir, hub_cache, capsys):
    from desktop.testing.tiny_single import save_tiny_single_file
    from tests.hub_helpers import add_to_cache

    add_to_cache(hub_cache, "stable-diffusion-v1-5/stable-diffusion-v1-5", tiny_model)
    checkpoint = save_tiny_single_file(tiny_model, tmp_path / "style.safetensors")
    out = tmp_path / "out.png"
    code = main(["generate", "--model", str(checkpoint), "--prompt", "p", "--steps", "2", "--seed", "3",
                 "--output", str(out), "--data-dir", str(data_dir)])
    assert code == 0, capsys.readouterr().err
    assert Image.open(out).size == (64, 64)


def test_precision_and_memory_flags_change_the_run_and_say_what_could_not_apply(tiny_model, tmp_path, data_dir,
                                                                               capsys):
    paths = {dtype: tmp_path / f"{dtype}.png" for dtype in ("fp32", "bf16")}
    for dtype, path in paths.items():
        assert _generate(tiny_model, "--seed", "3", "--dtype", dtype, "--vae-tiling", "--output", str(path),
                         data_dir=data_dir) == 0
    fp32, bf16 = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in paths.values())
    assert not np.array_equal(fp32, bf16)  # bf16 really ran: close, not equal
    assert np.abs(fp32 - bf16).mean() < 40
    capsys.readouterr()
    assert _generate(tiny_model, "--seed", "3", "--dtype", "fp16", "--offload", "model", data_dir=data_dir) == 0
    err = capsys.readouterr().err
    assert "fp16 is slow and inexact on the CPU, so Restyle runs in fp32 there." in err
    assert "CPU offload only helps a GPU" in err
