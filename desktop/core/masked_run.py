"""Planning a masked run: what the pipeline starts from, at which size, and how its output goes back.

Two areas, as in AUTOMATIC1111: "whole" runs the whole picture at the model's size and composites the result
over the picture at that size; "masked" cuts out the painted box plus padding, runs that crop at the model's
natural size (a small face in a large picture gets the model's full attention) and pastes it back into the
picture at the picture's own size. Either way the last step is ``masks.composite``: outside the mask the
pixels are the source's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .images import fit_size, resize_for_model
from .masks import blur_mask, composite, crop_box, fill_masked, fit_mask, grow_canvas, paste_back, require_painted


@dataclass(frozen=True)
class MaskedRun:
    """The inputs of one masked run and what its output is composited onto."""

    image: Image.Image  # the pipeline's start picture, at ``size``
    mask: Image.Image  # the (blurred) mask at ``size``: white = restyle
    size: tuple[int, int]  # the size the pipeline runs at
    source: Image.Image  # the picture the result goes back into (grown when outpainting)
    source_mask: Image.Image  # the blurred mask at the source's size (what the history keeps)
    box: tuple[int, int, int, int] | None  # "masked" area: the crop of ``source`` that was run; None: whole
    painted: Image.Image | None = None  # the mask as painted (not blurred), lined up with the finished picture
    notes: tuple[str, ...] = ()

    def finish(self, output: Image.Image) -> Image.Image:
        """The pipeline's output put back: unmasked pixels exactly the source's, a feathered edge between."""
        if self.box is None:
            return composite(self.source, output, self.mask)
        return paste_back(self.source, output, self.box, self.source_mask)

    def crop_for_run(self, picture: Image.Image) -> Image.Image:
        """Another picture lined up with the source (a depth map) brought to the run: cropped like it, then sized."""
        picture = picture.resize(self.source.size, Image.Resampling.BILINEAR) if picture.size != self.source.size \
            else picture
        if self.box is not None:
            picture = picture.crop(self.box)
        return resize_for_model(picture, self.size)


def plan_masked_run(init: Image.Image, mask: Image.Image | None, params, natural: int, multiple: int = 8,
                    *, whole_if_missing: str | None = None) -> MaskedRun:
    """Line up the mask with ``init`` (scaled, with a note), grow the canvas for outpainting, blur, and cut out
    the "only masked" box. ``params``: a GenerationParams with the seed resolved. Without a mask and without
    outpainting, ``whole_if_missing`` (a note) makes the whole picture the mask; else an empty mask is refused."""
    notes: list[str] = []
    seed = params.seed or 0
    new_area = None
    if mask is not None:
        mask, note = fit_mask(mask, init.size)
        if note:
            notes.append(note)
    if params.outpaint:
        # Wide enough that the blur's falloff lies inside the old picture, never over the new area.
        seam = max(8, 3 * int(params.mask_blur))
        source, mask, new_area = grow_canvas(init, mask, params.outpaint, seam=seam, seed=seed,
                                             fill=params.inpaint_fill)
        start = source
    else:
        if mask is None:
            if whole_if_missing is None:
                require_painted(Image.new("L", init.size, 0))
            mask = Image.new("L", init.size, 255)
            notes.append(whole_if_missing)
        require_painted(mask)
        source = init.convert("RGB")
        start = fill_masked(source, mask, params.inpaint_fill, seed)
    blurred = blur_mask(mask, params.mask_blur)
    if new_area is not None:
        # The new area is always restyled in full: a blurred edge there would leave the stretched fill showing.
        blurred = Image.fromarray(np.maximum(np.asarray(blurred), np.asarray(new_area)), "L")
    given = (params.width, params.height) if params.width and params.height else None
    if params.inpaint_area == "masked":
        box = crop_box(blurred, int(params.inpaint_padding))
        crop_w, crop_h = box[2] - box[0], box[3] - box[1]
        size = given or fit_size(crop_w, crop_h, natural, multiple)
        return MaskedRun(image=start.crop(box).resize(size, Image.Resampling.LANCZOS),
                         mask=blurred.crop(box).resize(size, Image.Resampling.BILINEAR), size=size, source=source,
                         source_mask=blurred, box=box, painted=mask, notes=tuple(notes))
    size = given or fit_size(*source.size, natural, multiple)
    run_mask = blurred.resize(size, Image.Resampling.BILINEAR) if blurred.size != size else blurred
    return MaskedRun(image=resize_for_model(start, size), mask=run_mask, size=size,
                     source=resize_for_model(source, size), source_mask=run_mask, box=None,
                     painted=mask.resize(size, Image.Resampling.BILINEAR) if mask.size != size else mask,
                     notes=tuple(notes))
