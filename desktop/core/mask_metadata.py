"""A masked run's settings in the AUTOMATIC1111 ``parameters`` text, written and read back.

AUTOMATIC1111 writes ``Mask blur``, ``Inpaint area`` ("Only masked" / "Whole picture"), ``Masked area padding``
and ``Inpainting fill`` for its inpainting runs; Restyle writes the same keys (plus ``Outpaint``) so other tools
show them, and reads AUTOMATIC1111's own values back ("latent noise" is read as noise, its "fill" as fill).
"""

from __future__ import annotations

from .masks import AREA_LABELS, INPAINT_FILLS

_FILL_READ = {"original": "original", "fill": "fill", "noise": "noise", "latent noise": "noise",
              "latent nothing": "fill"}


def mask_fields(params) -> list[tuple[str, object]]:
    """The (key, value) pairs of a masked run, in A1111's words; [] for a whole-picture run."""
    if not params.uses_mask:
        return []
    masked_area = params.inpaint_area == "masked"
    return [
        ("Mask blur", params.mask_blur),
        ("Inpaint area", AREA_LABELS[params.inpaint_area]),
        ("Masked area padding", params.inpaint_padding if masked_area else None),
        ("Inpainting fill", params.inpaint_fill),
        ("Outpaint", ",".join(str(side) for side in params.outpaint) if params.outpaint else None),
    ]


def mask_changes_from(parsed) -> dict:
    """The GenerationParams changes a parsed parameters text carries for masked runs (only those it has)."""
    changes: dict = {}
    blur = parsed.get_int("Mask blur")
    if blur is not None:
        changes["mask_blur"] = blur
    area = {label.lower(): key for key, label in AREA_LABELS.items()}.get(parsed.fields.get("Inpaint area", "").lower())
    if area is not None:
        changes["inpaint_area"] = area
    padding = parsed.get_int("Masked area padding")
    if padding is not None:
        changes["inpaint_padding"] = padding
    fill = _FILL_READ.get(parsed.fields.get("Inpainting fill", "").strip().lower())
    if fill in INPAINT_FILLS:
        changes["inpaint_fill"] = fill
    return changes

