"""Depth maps: loading files of every bit depth, lining them up with the image, estimating them with a tiny model."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.depth_maps import load_depth_map, match_depth_to
from desktop.core.errors import ErrorKind, RestyleError
from desktop.engine.depth import DepthEstimator, estimate_depth


def _refusal(call, *args, **kwargs) -> RestyleError:
    with pytest.raises(RestyleError) as info:
        call(*args, **kwargs)
    return info.value


def _bands(size, values):
    """A grey image with vertical bands of the given values, left to right."""
    width, height = size
    array = np.zeros((height, width), np.uint8)
    for i, value in enumerate(values):
        array[:, i * width // len(values):(i + 1) * width // len(values)] = value
    return Image.fromarray(array)


def test_an_8_bit_grey_map_loads_as_rgb_with_the_same_depth(tmp_path):
    path = tmp_path / "depth.png"
    _bands((40, 20), [10, 200]).save(path)
    depth = load_depth_map(path)
    assert depth.mode == "RGB" and depth.size == (40, 20)
    assert depth.getpixel((0, 0)) == (10, 10, 10) and depth.getpixel((39, 0)) == (200, 200, 200)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_16_bit_map_is_scaled_over_its_full_range_not_clipped(tmp_path, suffix):
    array = np.array([[0, 32768, 65535, 1000]], np.uint16).repeat(4, axis=0)
    path = tmp_path / f"depth16{suffix}"
    Image.fromarray(array).save(path)
    with Image.open(path) as written:
        assert written.mode.startswith("I")  # really a 16-bit file
    depth = np.asarray(load_depth_map(path))
    assert depth[0, :, 0].tolist() == [0, 128, 255, 3]  # clipping would give 0, 255, 255, 255
    assert (depth[..., 0] == depth[..., 1]).all() and (depth[..., 1] == depth[..., 2]).all()


def test_an_rgb_map_becomes_one_depth_in_all_channels(tmp_path):
    path = tmp_path / "depth.jpg"
    Image.new("RGB", (32, 16), (90, 90, 90)).save(path, quality=95)
    pixel = load_depth_map(path).getpixel((5, 5))
    assert pixel[0] == pixel[1] == pixel[2] and abs(pixel[0] - 90) <= 2


def test_the_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "phone-depth.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    _bands((40, 20), [0, 255]).convert("RGB").save(path, exif=exif)
    assert load_depth_map(path).size == (20, 40)


def test_a_file_that_is_not_an_image_is_refused_by_name(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("depth? no")
    error = _refusal(load_depth_map, path)
    assert error.kind is ErrorKind.BAD_INPUT
    assert error.message == "notes.png is not an image; a depth map must be a PNG, JPEG or TIFF (grayscale or RGB)."


def test_a_missing_depth_file_is_refused_by_name(tmp_path):
    error = _refusal(load_depth_map, tmp_path / "gone.png")
    assert error.kind is ErrorKind.BAD_INPUT and "gone.png" in error.message


def test_a_map_of_the_same_shape_is_resized_with_a_note():
    depth, note = match_depth_to(_bands((128, 96), [0, 255]).convert("RGB"), (64, 48))
    assert depth.size == (64, 48) and depth.mode == "RGB"
    assert note == "The depth map was resized from 128×96 to 64×48."


def test_a_map_of_the_right_size_is_used_as_it_is():
    original = _bands((64, 48), [0, 255]).convert("RGB")
    depth, note = match_depth_to(original, (64, 48))
    assert note is None and np.array_equal(np.asarray(depth), np.asarray(original))


def test_a_map_of_a_slightly_different_shape_is_cropped_at_the_centre_not_stretched():
    # 90×64 for a square image: the outer bands (values 50 and 250) are what the crop must cut away.
    wide = _bands((90, 64), [50, 0, 0, 0, 120, 120, 120, 120, 120, 250])
    depth, note = match_depth_to(wide, (64, 64))
    assert depth.size == (64, 64)
    values = set(np.asarray(depth)[32, :, 0].tolist())
    assert 50 not in values and 250 not in values
    assert note == ("The depth map (90×64) has a different shape from the image, so its centre 64×64 was used "
                    "(29% cut from the left and right).")


def test_a_cropped_map_is_also_resized_to_the_image_size():
    depth, note = match_depth_to(Image.new("L", (1000, 800)), (512, 384))
    assert depth.size == (512, 384) and depth.mode == "RGB"
    assert note.endswith("its centre 1000×750 was used (6% cut from the top and bottom) and resized to 512×384.")


def test_a_map_of_a_very_different_shape_is_refused():
    error = _refusal(match_depth_to, Image.new("RGB", (300, 1000)), (1000, 300))
    assert error.kind is ErrorKind.BAD_INPUT
    assert error.message == (
        "The depth map is 300×1000 but the image is 1000×300: their shapes differ too much to line up. "
        "Use a depth map made from this image, or press Estimate depth."
    )


def test_an_estimate_is_an_rgb_image_of_the_input_size_spanning_the_full_range(tiny_depth_model, make_image):
    photo = Image.open(make_image(size=(96, 64))).convert("RGB")
    depth = estimate_depth(photo, str(tiny_depth_model))
    assert depth.mode == "RGB" and depth.size == (96, 64)
    array = np.asarray(depth)
    assert array.min() == 0 and array.max() == 255
    assert (array[..., 0] == array[..., 2]).all()


def test_the_estimator_loads_its_model_once(tiny_depth_model, make_image, monkeypatch):
    import transformers

    loads = []
    original = transformers.pipeline
    monkeypatch.setattr(transformers, "pipeline", lambda *a, **k: loads.append(k.get("model")) or original(*a, **k))
    photo = Image.open(make_image(size=(64, 64))).convert("RGB")
    estimator = DepthEstimator()
    first = estimator.estimate(photo, str(tiny_depth_model))
    second = estimator.estimate(photo, str(tiny_depth_model))
    assert len(loads) == 1
    assert np.array_equal(np.asarray(first), np.asarray(second))


def test_a_hub_depth_model_that_is_not_cached_offline_says_how_to_get_it():
    error = _refusal(estimate_depth, Image.new("RGB", (32, 32)), "depth-anything/Depth-Anything-V2-Small-hf")
    assert error.kind is ErrorKind.MODEL_MISSING
    assert error.message == (
        "The depth model depth-anything/Depth-Anything-V2-Small-hf is not in the local Hugging Face cache and "
        "Restyle is offline. Connect to the internet once to download it, or choose a local transformers depth "
        "model folder."
    )


def test_a_folder_that_is_not_a_depth_model_is_refused(tiny_model, tmp_path):
    other = tmp_path / "clip"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "clip"}')
    diffusers_folder = _refusal(estimate_depth, Image.new("RGB", (32, 32)), str(tiny_model))
    clip_folder = _refusal(estimate_depth, Image.new("RGB", (32, 32)), str(other))
    assert diffusers_folder.kind is clip_folder.kind is ErrorKind.MODEL_MISSING
    assert "tiny-sd is not a depth model folder" in diffusers_folder.message
    assert "clip is a clip model, not a depth-estimation model" in clip_folder.message
