"""The mask domain (desktop.core.masks, masked_run): lining up, refusing, cropping, pasting back, outpainting."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.families import FAMILIES, INPAINT, refuse_unsupported
from desktop.core.masked_run import plan_masked_run
from desktop.core.masks import (
    composite,
    crop_box,
    fill_masked,
    grow_canvas,
    load_mask,
    mask_from_depth,
    outpaint_to_aspect,
    parse_outpaint,
)
from desktop.core.params import GenerationParams


def _picture(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def _mask(size, box) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask


def _params(**changes) -> GenerationParams:
    return GenerationParams(model="m", seed=3, mask_image="mask.png", **changes)


def test_composite_keeps_every_unmasked_byte_of_the_source():
    source, result = _picture(96, 64, 1), _picture(96, 64, 2)
    mask = _mask((96, 64), (20, 10, 60, 40))
    out = np.asarray(composite(source, result, mask))
    m = np.asarray(mask)
    assert np.array_equal(out[m == 0], np.asarray(source)[m == 0])
    assert np.array_equal(out[m == 255], np.asarray(result)[m == 255])


def test_masked_area_runs_the_padded_crop_at_the_natural_size_and_pastes_it_back():
    source = _picture(400, 300)
    mask = _mask(source.size, (200, 100, 240, 130))
    plan = plan_masked_run(source, mask, _params(inpaint_area="masked", inpaint_padding=16, mask_blur=2), 64)
    left, top, right, bottom = plan.box
    assert left <= 200 - 16 and top <= 100 - 16 and right >= 240 + 16 and bottom >= 130 + 16
    assert (right - left) < 120 and (bottom - top) < 90  # the crop, not the picture
    assert plan.size[0] * plan.size[1] == pytest.approx(64 * 64, rel=0.3) and plan.image.size == plan.size
    out = plan.finish(_picture(*plan.size, seed=9))
    assert out.size == source.size  # back at the picture's own size
    changed = np.any(np.asarray(out) != np.asarray(source), axis=2)
    assert changed[110:120, 210:230].all()
    assert not changed[np.asarray(plan.source_mask) == 0].any()
    assert not changed[:, :left].any() and not changed[bottom:].any()


def test_whole_picture_runs_at_the_fitted_size_and_keeps_the_unmasked_pixels_at_that_size():
    source = _picture(128, 64)
    plan = plan_masked_run(source, _mask((128, 64), (0, 0, 40, 64)), _params(mask_blur=0), 64)
    assert plan.box is None and plan.size == (88, 48)
    out = np.asarray(plan.finish(_picture(*plan.size, seed=4)))
    kept = np.asarray(plan.mask) == 0
    assert np.array_equal(out[kept], np.asarray(plan.source)[kept]) and kept.any()


def test_a_mask_of_another_size_is_scaled_with_a_note_and_an_empty_one_is_refused():
    source = _picture(64, 64)
    plan = plan_masked_run(source, _mask((32, 32), (0, 0, 16, 16)), _params(), 64)
    assert plan.notes == ("The mask (32×32) was scaled to the picture's 64×64.",)
    with pytest.raises(RestyleError) as caught:
        plan_masked_run(source, Image.new("L", (64, 64), 3), _params(), 64)
    assert caught.value.kind is ErrorKind.BAD_INPUT and "mask is empty" in caught.value.message


def test_a_mask_file_that_is_not_an_image_gets_the_usual_sentence(tmp_path):
    bad = tmp_path / "mask.png"
    bad.write_text("not a picture")
    with pytest.raises(RestyleError) as caught:
        load_mask(bad)
    # The same sentence as for any picture (its list of formats is images.py's).
    assert caught.value.message.startswith("mask.png is not an image Restyle can read (PNG, JPEG")


def test_a_transparent_layer_counts_its_opaque_strokes_as_the_mask(tmp_path):
    layer = Image.new("RGBA", (32, 32), (255, 255, 255, 0))
    layer.paste((255, 255, 255, 255), (8, 8, 16, 16))
    layer.save(tmp_path / "strokes.png")
    mask = np.asarray(load_mask(tmp_path / "strokes.png"))
    assert mask[10, 10] == 255 and mask[0, 0] == 0


def test_outpainting_grows_the_picture_masks_the_new_area_and_keeps_the_old_one():
    source = _picture(64, 48)
    grown, mask, new_area = grow_canvas(source, None, (16, 0, 8, 0), seam=4)
    assert grown.size == (88, 48)
    assert np.array_equal(np.asarray(grown)[:, 16:80], np.asarray(source))
    m = np.asarray(mask)
    assert (m[:, :16] == 255).all() and (m[:, 80:] == 255).all() and (m[:, 20:76] == 0).all()
    assert (m[:, 16:20] == 255).all()  # the seam reaches into the old picture
    plan = plan_masked_run(source, None, GenerationParams(model="m", seed=1, outpaint=(16, 0, 8, 0), mask_blur=4), 64)
    assert plan.size == plan.source.size == (88, 48)
    assert (np.asarray(plan.source_mask)[np.asarray(new_area.resize(plan.source_mask.size)) == 255] == 255).all()


@pytest.mark.parametrize("how", ["fill", "noise"])
def test_a_fill_changes_only_the_masked_start(how):
    source = _picture(48, 48)
    mask = _mask((48, 48), (16, 16, 32, 32))
    out = np.asarray(fill_masked(source, mask, how, seed=2))
    assert np.array_equal(out[:16], np.asarray(source)[:16])
    assert not np.array_equal(out[16:32, 16:32], np.asarray(source)[16:32, 16:32])


def test_outpaint_values_are_read_and_refused_in_sentences():
    assert parse_outpaint("0, 0,256,0") == (0, 0, 256, 0)
    for text in ("1,2,3", "a,b,c,d", "0,0,0,0", "0,0,-8,0", "0,0,99999,0"):
        with pytest.raises(RestyleError) as caught:
            parse_outpaint(text)
        assert caught.value.kind is ErrorKind.BAD_INPUT
    assert outpaint_to_aspect((100, 50), 1.0) == (0, 25, 0, 25)
    assert outpaint_to_aspect((300, 400), 1.0) == (50, 0, 50, 0)


def test_crop_box_stays_inside_the_picture():
    assert crop_box(_mask((100, 100), (0, 90, 10, 100)), 32) == (0, 58, 42, 100)


def test_mask_from_depth_takes_the_near_or_far_part():
    depth = Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (32, 1)), "L")
    near = np.asarray(mask_from_depth(depth, (64, 32), 0.5))
    far = np.asarray(mask_from_depth(depth, (64, 32), 0.5, near=False))
    assert near[:, -1].all() and not near[:, 0].any()
    assert np.array_equal(near == 255, far == 0)


@pytest.mark.parametrize("profile", [key for key, spec in FAMILIES.items() if not spec.accepts(INPAINT)])
def test_families_without_an_inpainting_pipeline_refuse_a_mask_with_a_sentence(profile):
    masked = GenerationParams(model="m", init_image="p.png", mask_image="m.png")
    with pytest.raises(RestyleError) as caught:
        refuse_unsupported(masked, profile, img2img=True)
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert "Masked restyle and outpainting are not available for the" in caught.value.message
    assert "clear the mask" in caught.value.message
    refuse_unsupported(masked.replace(mask_image=None), profile, img2img=True)  # unmasked: their business
    refuse_unsupported(masked, "sd", img2img=True)
    refuse_unsupported(masked, "sdxl", img2img=True)
