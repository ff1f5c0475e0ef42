"""One image from many: a labelled grid like diffusers' ``make_image_grid``, for exporting chains."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 28
TITLE_HEIGHT = 32
GAP = 8


def make_grid(images: list[Image.Image], captions: list[str] | None = None, columns: int | None = None,
              cell: int = 384, title: str | None = None) -> Image.Image:
    """Images fitted into equal cells (``cell`` px on the long side), captions under each, on white; a
    ``title`` gets a band of its own above them."""
    if not images:
        raise ValueError("no images")
    columns = columns or min(len(images), max(1, math.ceil(math.sqrt(len(images)))))
    rows = math.ceil(len(images) / columns)
    caption_h = CAPTION_HEIGHT if captions else 0
    cell_w = cell_h = cell
    top = TITLE_HEIGHT if title else 0
    sheet = Image.new("RGB", (GAP + columns * (cell_w + GAP), top + GAP + rows * (cell_h + caption_h + GAP)),
                      "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    if title:
        text = _fit(draw, title, font, sheet.width - 2 * GAP)
        draw.text((sheet.width / 2, top / 2 + GAP / 2), text, fill="black", font=font, anchor="mm")
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        x0 = GAP + col * (cell_w + GAP)
        y0 = top + GAP + row * (cell_h + caption_h + GAP)
        thumb = image.convert("RGB")
        thumb.thumbnail((cell_w, cell_h), Image.Resampling.LANCZOS)
        sheet.paste(thumb, (x0 + (cell_w - thumb.width) // 2, y0 + (cell_h - thumb.height) // 2))
        if captions:
            text = _fit(draw, captions[index], font, cell_w)
            draw.text((x0 + cell_w / 2, y0 + cell_h + caption_h / 2), text, fill="black", font=font, anchor="mm")
    return sheet


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
