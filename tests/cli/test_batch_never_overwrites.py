"""Batches and --output never replace a file the user already had unless --overwrite says so; every input gets
its own output, the manifest maps one input to one file, and a damaged manifest is kept aside."""

import json

from PIL import Image

from desktop.cli import main
from desktop.core.batch import MANIFEST_NAME


def _batch(tiny_model, in_dir, out_dir, data_dir, *extra):
    return ["batch", str(in_dir), str(out_dir), "--model", str(tiny_model), "--prompt", "etching", "--steps", "2",
            "--strength", "0.5", "--seed", "3", "--data-dir", str(data_dir), *extra]


def _folder(tmp_path, make_image, names):
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    for index, name in enumerate(names):
        make_image(f"in/{name}", (40, 32), (40 * index, 90, 120))
    return in_dir


def test_a_file_the_user_already_had_is_kept_and_the_result_gets_another_name(tiny_model, tmp_path, make_image,
                                                                              data_dir, capsys):
    in_dir = _folder(tmp_path, make_image, ["photo.jpg"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.png").write_bytes(b"the user's own picture")
    assert main(_batch(tiny_model, in_dir, out, data_dir)) == 0
    assert (out / "photo.png").read_bytes() == b"the user's own picture"
    assert "photo-2.png" in capsys.readouterr().err
    with Image.open(out / "photo-2.png") as result:
        assert result.format == "PNG"
    # Asked to, it replaces.
    (out / MANIFEST_NAME).unlink()
    assert main(_batch(tiny_model, in_dir, out, data_dir, "--overwrite")) == 0
    assert (out / "photo.png").read_bytes() != b"the user's own picture"


def test_inputs_whose_names_collide_get_one_output_each_and_a_rerun_knows_them(tiny_model, tmp_path, make_image,
                                                                              data_dir, capsys):
    in_dir = _folder(tmp_path, make_image, ["a.png", "a.jpg", "a_png.png"])
    out = tmp_path / "out"
    assert main(_batch(tiny_model, in_dir, out, data_dir)) == 0
    files = json.loads((out / MANIFEST_NAME).read_text())["files"]
    outputs = [entry["output"] for entry in files.values()]
    assert sorted(files) == ["a.jpg", "a.png", "a_png.png"]
    assert len(set(outputs)) == 3 and all((out / name).is_file() for name in outputs)
    assert len(list(out.glob("*.png"))) == 3
    capsys.readouterr()
    assert main(_batch(tiny_model, in_dir, out, data_dir)) == 0
    assert "3 already done" in capsys.readouterr().out
    assert json.loads((out / MANIFEST_NAME).read_text())["files"] == files  # stable names


def test_other_settings_never_replace_an_earlier_result(tiny_model, tmp_path, make_image, data_dir):
    in_dir = _folder(tmp_path, make_image, ["cat.png"])
    out = tmp_path / "out"
    assert main(_batch(tiny_model, in_dir, out, data_dir)) == 0
    first = (out / "cat.png").read_bytes()
    assert main(_batch(tiny_model, in_dir, out, data_dir, "--guidance", "3")) == 0
    assert (out / "cat.png").read_bytes() == first
    assert json.loads((out / MANIFEST_NAME).read_text())["files"]["cat.png"]["output"] == "cat-2.png"


def test_a_deeply_nested_manifest_is_kept_aside_and_the_batch_runs(tiny_model, tmp_path, make_image, data_dir, capsys):
    in_dir = _folder(tmp_path, make_image, ["cat.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST_NAME).write_text("[" * 100_000 + "]" * 100_000)
    assert main(_batch(tiny_model, in_dir, out, data_dir)) == 0
    assert "was damaged" in capsys.readouterr().err
    assert list(out.glob(f"{MANIFEST_NAME}.damaged-*")) and (out / "cat.png").is_file()


def test_generate_output_never_replaces_a_file_unless_asked(tiny_model, tmp_path, data_dir, capsys):
    target = tmp_path / "mine.png"
    target.write_bytes(b"keep me")
    args = ["generate", "--model", str(tiny_model), "--prompt", "x", "--steps", "2", "--seed", "1",
            "--data-dir", str(data_dir), "--output", str(target)]
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err and target.read_bytes() == b"keep me"
    assert main([*args, "--overwrite"]) == 0
    with Image.open(target) as result:
        assert result.format == "PNG"


def test_an_output_folder_that_is_a_file_is_a_sentence_naming_it(tiny_model, tmp_path, data_dir, capsys):
    blocker = tmp_path / "outputs"
    blocker.write_text("a file where the folder should be")
    args = ["generate", "--model", str(tiny_model), "--prompt", "x", "--steps", "2", "--seed", "1",
            "--data-dir", str(data_dir), "--output", str(blocker / "r.png")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(blocker) in err and "is a file, not a folder" in err
