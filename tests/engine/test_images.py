"""Tests for desktop.core.images: every mode to RGB, clear errors, and the model size rule."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.images import (
    SUPPORTED_SUFFIXES,
    describe_size,
    fit_size,
    image_size_noting,
    load_image,
    load_image_noting,
    resize_for_model,
)


def _assert_bad_input(path: Path, *words: str) -> RestyleError:
    with pytest.raises(RestyleError) as caught:
        load_image(path)
    error = caught.value
    assert error.kind is ErrorKind.BAD_INPUT
    assert path.name in error.message
    for word in words:
        assert word in error.message
    assert "Traceback" not in error.message
    return error


def _png16(width: int, height: int, colour_type: int, pixels: list[tuple[int, ...]]) -> bytes:
    """A hand-built 16-bit PNG, since Pillow cannot write 16-bit RGB itself."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    rows = b"".join(
        b"\0" + b"".join(struct.pack(">" + "H" * channels, *pixels[y * width + x]) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _loaded(path: Path) -> Image.Image:
    image = load_image(path)
    assert image.mode == "RGB"
    return image


# --- modes ---------------------------------------------------------------------------------


def test_rgb_png_loads_and_file_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 3), (10, 20, 30)).save(path)
    image = _loaded(path)
    assert image.size == (4, 3)
    assert image.getpixel((0, 0)) == (10, 20, 30)
    path.unlink()  # would fail on Windows if the file were still open; pixels must already be loaded
    assert image.getpixel((3, 2)) == (10, 20, 30)


def test_exif_orientation_6_rotates(tmp_path: Path) -> None:
    source = Image.new("RGB", (8, 4), (0, 0, 0))
    source.putpixel((0, 0), (255, 0, 0))  # mark the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "rotated.png"
    source.save(path, exif=exif)
    image = _loaded(path)
    assert image.size == (4, 8)
    # After a clockwise turn the stored top-left corner is shown at the top-right.
    assert image.getpixel((3, 0)) == (255, 0, 0)
    assert image.getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_the_size_from_the_header_is_the_upright_size_the_load_gives(tmp_path: Path, suffix: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # turned a quarter: 8 wide as stored, 4 wide as shown
    path = tmp_path / f"rotated{suffix}"
    Image.new("RGB", (8, 4), (200, 10, 10)).save(path, exif=exif)
    assert image_size_noting(path) == ((4, 8), "") and load_image(path).size == (4, 8)


def test_the_size_from_the_header_refuses_what_the_load_refuses(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("RGB", (4, 4)).save(tmp_path / "picture.ico")
    for name in ("notes.png", "missing.png", "picture.ico", "."):
        with pytest.raises(RestyleError) as loading:
            load_image_noting(tmp_path / name)
        with pytest.raises(RestyleError) as sizing:
            image_size_noting(tmp_path / name)
        assert sizing.value.message == loading.value.message and sizing.value.kind == ErrorKind.BAD_INPUT


def test_rgba_transparent_area_becomes_white(tmp_path: Path) -> None:
    source = Image.new("RGBA", (4, 4), (0, 0, 255, 255))
    source.putpixel((0, 0), (255, 0, 0, 0))
    source.putpixel((1, 0), (255, 0, 0, 128))
    path = tmp_path / "alpha.png"
    source.save(path)
    image = _loaded(path)
    assert image.getpixel((0, 0)) == (255, 255, 255)
    red, green, blue = image.getpixel((1, 0))
    assert red == 255 and 120 <= green <= 135 and 120 <= blue <= 135  # half red over white
    assert image.getpixel((3, 3)) == (0, 0, 255)


def test_palette_transparency_becomes_white(tmp_path: Path) -> None:
    source = Image.new("P", (4, 4), 1)
    source.putpalette([0, 0, 0] + [0, 128, 0] + [0, 0, 0] * 254)
    source.putpixel((0, 0), 0)
    path = tmp_path / "palette.png"
    source.save(path, transparency=0)
    image = _loaded(path)
    assert image.getpixel((0, 0)) == (255, 255, 255)  # transparent index, not its black colour
    assert image.getpixel((2, 2)) == (0, 128, 0)


def test_palette_without_transparency(tmp_path: Path) -> None:
    source = Image.new("P", (4, 4), 1)
    source.putpalette([0, 0, 0] + [200, 10, 10] + [0, 0, 0] * 254)
    path = tmp_path / "palette.bmp"
    source.save(path)
    assert _loaded(path).getpixel((1, 1)) == (200, 10, 10)


def test_la_composites_over_white(tmp_path: Path) -> None:
    source = Image.new("LA", (2, 1), (50, 255))
    source.putpixel((1, 0), (50, 0))
    path = tmp_path / "grey_alpha.png"
    source.save(path)
    image = _loaded(path)
    assert image.getpixel((0, 0)) == (50, 50, 50)
    assert image.getpixel((1, 0)) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(path)  # pure cyan ink
    red, green, blue = _loaded(path).getpixel((4, 4))
    assert red < 30 and green > 225 and blue > 225


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_16_bit_grayscale_scales_instead_of_clipping(tmp_path: Path, mode: str) -> None:
    values = np.array([[0, 255, 32768, 65535]], dtype=np.uint16)
    source = Image.fromarray(values)
    path = tmp_path / "depth.png"
    if mode == "I":  # Pillow cannot write "I" as PNG; 32-bit TIFF opens as "I"
        source, path = source.convert("I"), tmp_path / "depth.tif"
    source.save(path)
    with Image.open(path) as stored:
        assert stored.mode == mode
    image = _loaded(path)
    assert [image.getpixel((x, 0))[0] for x in range(4)] == [0, 0, 128, 255]


@pytest.mark.parametrize("mode", ["I;16B", "I;16L"])
def test_16_bit_variants_in_memory_formats(tmp_path: Path, mode: str) -> None:
    source = Image.new(mode, (2, 1))
    source.putpixel((0, 0), 65535)
    source.putpixel((1, 0), 32768)
    path = tmp_path / "depth.tif"
    source.save(path)
    image = _loaded(path)
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (128, 128, 128)


def test_16_bit_rgb_png(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    path.write_bytes(_png16(2, 1, 2, [(65535, 32768, 0), (0, 0, 65535)]))
    image = _loaded(path)
    assert image.getpixel((0, 0)) == pytest.approx((255, 128, 0), abs=1)
    assert image.getpixel((1, 0)) == (0, 0, 255)


def test_16_bit_rgba_png(tmp_path: Path) -> None:
    path = tmp_path / "deep_alpha.png"
    path.write_bytes(_png16(2, 1, 6, [(0, 0, 0, 0), (0, 65535, 0, 65535)]))
    image = _loaded(path)
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (0, 255, 0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.0, 0.5, 1.0], [0, 128, 255]), ([0.0, 100.0, 255.0], [0, 100, 255]), ([0.0, 32768.0, 65535.0], [0, 128, 255])],
)
def test_float_mode_rule(tmp_path: Path, values: list[float], expected: list[int]) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([values], dtype=np.float32)).save(path)
    image = _loaded(path)
    assert [image.getpixel((x, 0))[0] for x in range(3)] == expected


def test_bilevel_and_grey(tmp_path: Path) -> None:
    bilevel = Image.new("1", (2, 1), 0)
    bilevel.putpixel((1, 0), 1)
    bilevel.save(tmp_path / "ink.png")
    image = _loaded(tmp_path / "ink.png")
    assert image.getpixel((0, 0)) == (0, 0, 0) and image.getpixel((1, 0)) == (255, 255, 255)
    Image.new("L", (2, 2), 77).save(tmp_path / "grey.png")
    assert _loaded(tmp_path / "grey.png").getpixel((1, 1)) == (77, 77, 77)


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_every_supported_suffix_round_trips(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"photo{suffix}"
    Image.new("RGB", (6, 4), (40, 160, 220)).save(path)
    image = _loaded(path)
    assert image.size == (6, 4)
    assert image.getpixel((3, 2)) == pytest.approx((40, 160, 220), abs=6)  # JPEG/WebP are lossy


def test_detected_format_wins_over_suffix(tmp_path: Path) -> None:
    path = tmp_path / "actually_png.jpg"
    Image.new("RGB", (3, 3), (1, 2, 3)).save(path, format="PNG")
    assert _loaded(path).getpixel((0, 0)) == (1, 2, 3)


# --- errors --------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    _assert_bad_input(tmp_path / "nowhere.png", "not found")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "holiday.png"
    folder.mkdir()
    _assert_bad_input(folder, "folder")


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_text("hello, I am not a picture")
    _assert_bad_input(path, "not an image", "PNG, JPEG, WebP, BMP, TIFF or GIF")


def test_truncated_png(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = tmp_path / "whole.png"
    Image.fromarray(noise).save(whole)
    data = whole.read_bytes()
    path = tmp_path / "half.png"
    path.write_bytes(data[: len(data) // 2])
    _assert_bad_input(path, "damaged")


def test_decompression_bomb_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.png"
    Image.new("RGB", (40, 40)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the Error is raised above twice this
    error = _assert_bad_input(path, "too large", "1,600", "200")
    assert "pixels" in error.message


def test_decompression_warning_zone_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (10, 15)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 150 pixels: over the limit, under twice it
    assert _loaded(path).size == (10, 15)


def test_an_animated_gif_gives_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "animation.gif"
    frames = [Image.new("RGB", (8, 6), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = load_image(path)
    assert image.size == (8, 6) and image.mode == "RGB"
    assert image.getpixel((4, 3))[0] > 200 and image.getpixel((4, 3))[2] < 50  # red: the first frame


def test_other_formats_refused_naming_supported_formats(tmp_path: Path) -> None:
    path = tmp_path / "icon.ico"  # Pillow reads it, Restyle does not take it (GIF is taken since issue 12)
    Image.new("RGB", (16, 16), (255, 0, 0)).save(path)
    _assert_bad_input(path, "ICO", "PNG, JPEG, WebP, BMP, TIFF or GIF")


def test_a_still_gif_opens_without_a_note(tmp_path: Path) -> None:
    from desktop.core.images import load_image_noting

    path = tmp_path / "still.gif"
    Image.new("RGB", (4, 4), (255, 0, 0)).save(path)
    image, note = load_image_noting(path)
    assert image.mode == "RGB" and image.getpixel((0, 0))[0] > 200 and note == ""


# --- sizes ---------------------------------------------------------------------------------

SIZES = [
    (512, 512), (1024, 768), (768, 1024), (1920, 1080), (1080, 1920), (4032, 3024),
    (10, 10), (8000, 500), (500, 8000), (333, 777), (640, 480), (3000, 2000), (1, 1),
]


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("natural", [512, 768, 1024])
def test_fit_size_properties(width: int, height: int, natural: int) -> None:
    fitted_w, fitted_h = fit_size(width, height, natural)
    assert fitted_w % 8 == 0 and fitted_h % 8 == 0
    assert fitted_w >= 8 and fitted_h >= 8
    # The exact rule: each side is the ideal (area-preserving) side rounded to the nearest multiple of 8.
    scale = natural / math.sqrt(width * height)
    assert abs(fitted_w - width * scale) <= 4 and abs(fitted_h - height * scale) <= 4
    assert abs(fitted_w * fitted_h - natural * natural) <= 0.1 * natural * natural
    aspect, fitted_aspect = width / height, fitted_w / fitted_h
    assert abs(math.log(fitted_aspect / aspect)) < 0.07


def test_fit_size_examples() -> None:
    assert fit_size(1024, 768, 512) == (592, 440)
    assert fit_size(10, 10, 512) == (512, 512)
    assert fit_size(4000, 4000, 1024) == (1024, 1024)
    assert fit_size(8000, 500, 512) == (2048, 128)
    assert fit_size(100000, 1, 512, multiple=64)[1] == 64  # never below one multiple


def test_fit_size_other_multiple() -> None:
    width, height = fit_size(1920, 1080, 1024, multiple=64)
    assert width % 64 == 0 and height % 64 == 0


def test_fit_size_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        fit_size(0, 100, 512)


def test_resize_for_model() -> None:
    image = Image.new("RGB", (100, 50))
    assert resize_for_model(image, (100, 50)) is image
    resized = resize_for_model(image, (64, 32))
    assert resized.size == (64, 32) and resized.mode == "RGB"


def test_describe_size() -> None:
    assert describe_size((512, 768)) == "512×768"
