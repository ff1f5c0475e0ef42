"""``restyle generate --mask`` / ``--outpaint`` and ``restyle batch`` with masks, end to end."""

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters


@pytest.fixture()
def picture(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB").save(path)
    return path


def _mask(path, size=(64, 64), box=(0, 0, 32, 64)):
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    mask.save(path)
    return path


def _generate(tiny_model, init, data_dir, out, *extra):
    return main(["generate", "--model", str(tiny_model), "--prompt", "a fresco", "--init", str(init), "--steps", "2",
                 "--strength", "1", "--seed", "4", "--data-dir", str(data_dir), "--output", str(out), *extra])


def _changed(out, init):
    return np.any(np.asarray(Image.open(out).convert("RGB")) != np.asarray(Image.open(init).convert("RGB")), axis=2)


def test_generate_with_a_mask_changes_only_the_white_part_and_says_so_in_the_png(tiny_model, picture, tmp_path,
                                                                                data_dir, capsys):
    out = tmp_path / "out.png"
    code = _generate(tiny_model, picture, data_dir, out, "--mask", str(_mask(tmp_path / "m.png")), "--mask-blur", "2")
    assert code == 0, capsys.readouterr().err
    changed = _changed(out, picture)
    assert not changed[:, 44:].any() and changed[:, :28].mean() > 0.9  # beyond the feathered edge: untouched
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["Mask blur"] == "2" and fields["Inpaint area"] == "Whole picture"


def test_a_mask_of_another_size_is_scaled_with_a_note(tiny_model, picture, tmp_path, data_dir, capsys):
    mask = _mask(tmp_path / "small.png", (32, 32), (0, 0, 16, 32))
    assert _generate(tiny_model, picture, data_dir, tmp_path / "o.png", "--mask", str(mask)) == 0
    assert "The mask (32×32) was scaled to the picture's 64×64." in capsys.readouterr().err


@pytest.mark.parametrize("content, sentence", [
    ("empty", "The mask is empty (all black), so nothing would change"),
    ("text", "m.png is not an image Restyle can read"),
])
def test_an_empty_mask_or_one_that_is_not_an_image_is_refused(content, sentence, tiny_model, picture, tmp_path,
                                                              data_dir, capsys):
    mask = tmp_path / "m.png"
    if content == "empty":
        Image.new("L", (64, 64), 0).save(mask)
    else:
        mask.write_text("hello")
    assert _generate(tiny_model, picture, data_dir, tmp_path / "o.png", "--mask", str(mask)) == 2
    assert sentence in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_outpaint_grows_the_picture_and_bad_sides_are_refused(tiny_model, picture, tmp_path, data_dir, capsys):
    out = tmp_path / "wide.png"
    assert _generate(tiny_model, picture, data_dir, out, "--outpaint", "0,0,32,0", "--width", "96",
                     "--height", "64") == 0
    assert Image.open(out).size == (96, 64)
    assert parse_parameters_text(read_parameters(out)).fields["Outpaint"] == "0,0,32,0"
    with pytest.raises(SystemExit) as exited:
        _generate(tiny_model, picture, data_dir, out, "--outpaint", "0,0,32")
    assert exited.value.code == 2
    assert "Outpaint takes four whole numbers LEFT,TOP,RIGHT,BOTTOM" in capsys.readouterr().err


def test_batch_takes_each_pictures_own_mask_or_the_one_for_all(tiny_model, tmp_path, data_dir, capsys):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    for name, seed in (("a.png", 1), ("b.png", 2)):
        Image.fromarray(np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(in_dir / name)
    _mask(in_dir / "a.mask.png", box=(32, 0, 64, 64))  # a's own: its right half
    shared = _mask(tmp_path / "left.png")  # everyone else's: the left half
    args = ["batch", str(in_dir), str(out_dir), "--model", str(tiny_model), "--prompt", "ink", "--steps", "2",
            "--strength", "1", "--seed", "3", "--data-dir", str(data_dir), "--mask", str(shared), "--mask-blur", "0"]
    assert main(args) == 0, capsys.readouterr().err
    assert "2 restyled" in capsys.readouterr().out  # the mask file is not a picture to restyle
    assert sorted(p.name for p in out_dir.glob("*.png")) == ["a.png", "b.png"]
    a, b = _changed(out_dir / "a.png", in_dir / "a.png"), _changed(out_dir / "b.png", in_dir / "b.png")
    assert not a[:, :32].any() and a[:, 32:].mean() > 0.9
    assert not b[:, 32:].any() and b[:, :32].mean() > 0.9
