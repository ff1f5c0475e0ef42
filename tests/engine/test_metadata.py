"""Tests for desktop.core.metadata: A1111 "parameters" text, written and read back from files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.metadata import (
    ParsedParameters,
    build_parameters_text,
    parse_parameters_text,
    png_info,
    read_parameters,
    save_png_with_parameters,
)

A1111_SAMPLE = (
    "a cat, best quality\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, "
    "Model: v1-5-pruned-emaonly, Denoising strength: 0.75, Version: v1.6.0"
)


def _exif_with_user_comment(comment: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = comment  # UserComment lives in the Exif sub-IFD
    return exif


# --- text ----------------------------------------------------------------------------------


def test_a1111_sample_parses() -> None:
    parsed = parse_parameters_text(A1111_SAMPLE)
    assert parsed.prompt == "a cat, best quality"
    assert parsed.negative_prompt == "blurry"
    assert parsed.fields == {
        "Steps": "20",
        "Sampler": "Euler a",
        "CFG scale": "7",
        "Seed": "1234",
        "Size": "512x512",
        "Model hash": "6ce0161689",
        "Model": "v1-5-pruned-emaonly",
        "Denoising strength": "0.75",
        "Version": "v1.6.0",
    }
    assert parsed.get_int("Steps") == 20
    assert parsed.get_float("CFG scale") == 7.0
    assert parsed.get_float("Denoising strength") == 0.75
    assert parsed.get_int("Seed") == 1234


def test_build_matches_a1111_layout() -> None:
    fields = [
        ("Steps", 20), ("Sampler", "Euler a"), ("CFG scale", 7), ("Seed", 1234), ("Size", "512x512"),
        ("Model hash", "6ce0161689"), ("Model", "v1-5-pruned-emaonly"), ("Denoising strength", 0.75),
        ("Version", "v1.6.0"),
    ]
    assert build_parameters_text("a cat, best quality", "blurry", fields) == A1111_SAMPLE


def test_values_formatted_and_none_skipped() -> None:
    text = build_parameters_text("p", "", [("CFG scale", 7.0), ("Strength", 0.75), ("Seed", None), ("Steps", 30)])
    assert text == "p\nCFG scale: 7.0, Strength: 0.75, Steps: 30"


@pytest.mark.parametrize(
    "value",
    [
        "a, b", "key: value", 'say "hi", ok', "line one\nline two", 'back\\slash: "x"', '"quoted"',
        " padded ", "", "猫, 🎨", "plain",
    ],
)
def test_awkward_values_round_trip(value: str) -> None:
    text = build_parameters_text("prompt", "neg", [("Steps", 20), ("Note", value), ("Seed", 1)])
    assert len(text.split("\n")) == 3  # the parameters stay on one line
    parsed = parse_parameters_text(text)
    assert parsed.fields == {"Steps": "20", "Note": value, "Seed": "1"}
    assert (parsed.prompt, parsed.negative_prompt) == ("prompt", "neg")


def test_multiline_prompt_and_negative_round_trip() -> None:
    prompt = "a watercolour fox,\nin the snow: soft light\n\nwith \"quotes\""
    negative = "blurry,\nlow quality: jpeg artifacts"
    text = build_parameters_text(prompt, negative, [("Steps", 20), ("Seed", 7), ("Size", "512x768")])
    parsed = parse_parameters_text(text)
    assert parsed == ParsedParameters(prompt, negative, {"Steps": "20", "Seed": "7", "Size": "512x768"})


def test_empty_negative_omits_the_line() -> None:
    text = build_parameters_text("a cat", "", [("Steps", 20), ("Seed", 1), ("Size", "512x512")])
    assert "Negative prompt" not in text
    assert text == "a cat\nSteps: 20, Seed: 1, Size: 512x512"
    parsed = parse_parameters_text(text)
    assert parsed.prompt == "a cat" and parsed.negative_prompt == ""


def test_plain_text_is_the_whole_prompt() -> None:
    parsed = parse_parameters_text("just a prompt\nover two lines")
    assert parsed == ParsedParameters("just a prompt\nover two lines", "", {})


def test_last_line_with_fewer_than_three_pairs_is_prompt() -> None:
    text = "a portrait\nstyle: oil, mood: calm"
    parsed = parse_parameters_text(text)
    assert parsed.prompt == text
    assert parsed.fields == {}


def test_negative_without_params_line() -> None:
    parsed = parse_parameters_text("a cat\nNegative prompt: dogs\nand birds")
    assert (parsed.prompt, parsed.negative_prompt, parsed.fields) == ("a cat", "dogs\nand birds", {})


def test_getters_return_none_when_missing_or_bad() -> None:
    parsed = ParsedParameters("", "", {"Steps": "twenty", "CFG scale": "nan", "Seed": "12.0", "Strength": "0.5"})
    assert parsed.get_int("Steps") is None
    assert parsed.get_float("Steps") is None
    assert parsed.get_float("CFG scale") is None
    assert parsed.get_int("Missing") is None and parsed.get_float("Missing") is None
    assert parsed.get_int("Seed") == 12
    assert parsed.get_int("Strength") is None


def test_bad_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        build_parameters_text("p", "", [("Bad: key", 1)])


# --- files ---------------------------------------------------------------------------------


def test_unicode_prompt_survives_png(tmp_path: Path) -> None:
    text = build_parameters_text("猫, 🎨\nзима", "ぼやけ", [("Steps", 20), ("Seed", 3), ("Size", "8x8")])
    path = tmp_path / "out.png"
    save_png_with_parameters(Image.new("RGB", (8, 8), (1, 2, 3)), path, text)
    assert read_parameters(path) == text
    assert parse_parameters_text(read_parameters(path) or "").prompt == "猫, 🎨\nзима"
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.getpixel((0, 0)) == (1, 2, 3)


def test_ascii_text_is_a_plain_text_chunk(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (2, 2)).save(path, pnginfo=png_info(A1111_SAMPLE))
    assert b"tEXtparameters\0" in path.read_bytes()  # what A1111 writes and every reader understands
    assert read_parameters(path) == A1111_SAMPLE


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "result.png"
    path.write_bytes(b"old contents")
    save_png_with_parameters(Image.new("RGB", (4, 4)), str(path), "x\nSteps: 1, Seed: 2, Size: 4x4")
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]
    assert read_parameters(path) == "x\nSteps: 1, Seed: 2, Size: 4x4"
    if os.name == "posix":  # a normal file, not mkstemp's owner-only 0600
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_save_into_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(RestyleError) as caught:
        save_png_with_parameters(Image.new("RGB", (4, 4)), tmp_path / "gone" / "out.png", "x")
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert "out.png" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_save_converts_modes_png_cannot_hold(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.png"
    save_png_with_parameters(Image.new("CMYK", (2, 2), (0, 0, 0, 0)), path, "x")
    with Image.open(path) as saved:
        assert saved.mode == "RGB"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_exif_user_comment_unicode_big_endian(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"photo.{fmt.lower()}"
    comment = b"UNICODE\0" + A1111_SAMPLE.encode("utf-16-be")  # piexif's UserComment.dump layout
    Image.new("RGB", (8, 8)).save(path, format=fmt, exif=_exif_with_user_comment(comment))
    assert read_parameters(path) == A1111_SAMPLE


@pytest.mark.parametrize(
    "comment",
    [
        b"UNICODE\0\0" + "猫, 🎨\nSteps: 1".encode("utf-16-be"),  # one NUL too many after the code
        b"UNICODE\0" + "猫, 🎨\nSteps: 1".encode("utf-16-le"),
        b"UNICODE\0" + "猫, 🎨\nSteps: 1".encode("utf-16"),  # with a byte-order mark
        b"ASCII\0\0\0" + "猫, 🎨\nSteps: 1".encode(),
        b"\0" * 8 + "猫, 🎨\nSteps: 1".encode() + b"\0",
    ],
)
def test_exif_user_comment_variants(tmp_path: Path, comment: bytes) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=_exif_with_user_comment(comment))
    assert read_parameters(path) == "猫, 🎨\nSteps: 1"


def test_no_metadata_gives_none(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.jpg")
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.jpg.webp", format="WEBP")
    (tmp_path / "notes.png").write_text("not an image")
    for name in ("plain.png", "plain.jpg", "plain.jpg.webp", "notes.png", "missing.png"):
        assert read_parameters(tmp_path / name) is None


def test_chunk_after_pixel_data_is_found(tmp_path: Path) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add(b"tEXt", b"parameters\0" + A1111_SAMPLE.encode("latin-1"), after_idat=True)
    path = tmp_path / "late.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    assert read_parameters(path) == A1111_SAMPLE
