"""InitImageLoading: the session's part that makes a picture the one the next run starts from (the init image).

A mixin of SessionModel (session.py), which owns the state (``_init``, ``_init_node``) and the signals. Kept
apart because a new working picture is news for many owners at once: the canvas caption, the depth panel, the
painted mask, the planned size, the history selection, the remembered source and, for a file from outside,
the settings it carries (an offer to restore them); all of that happens here, in one order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.core.captions import source_caption
from desktop.core.errors import RestyleError
from desktop.core.images import load_image_noting


@dataclass(frozen=True)
class InitImage:
    """The image the next run starts from, already normalised to RGB."""

    path: Path
    image: object  # PIL.Image.Image (RGB)
    label: str = ""  # what the canvas calls it ("Restyling: landscape.png"); the file name when empty
    note: str = ""  # something to know about the file (an animation's first frame was taken)

    @property
    def name(self) -> str:
        """The file name the artist knows it by (a history copy is named after its original)."""
        return self.label.removeprefix("Restyling: ") if self.label else self.path.name

    @property
    def size(self) -> tuple[int, int]:
        """Its size in pixels before fitting."""
        return self.image.size


class InitImageLoading:
    """The working picture: a file, a history node, or none (text-to-image)."""

    @property
    def init_image(self) -> InitImage | None:
        """The current init image, or None for text-to-image."""
        return self._init

    @property
    def source_node(self) -> str | None:
        """The history node the working picture is, or None (a file from outside, or text)."""
        return self._init_node if self._init is not None else None

    @property
    def source_label(self) -> str:
        """What the next run starts from, as the canvas says it: "Restyling: landscape.png", "From text"."""
        if self._init is None:
            return "From text"
        return self._init.label or f"Restyling: {self._init.path.name}"

    def load_init_image(self, path: str | Path, *, node_id: str | None = None, label: str = "") -> bool:
        """Make the image at ``path`` the init image; a bad file is reported, the old image kept.

        ``node_id`` says the picture is that history node (the next result becomes its child); a file from
        outside becomes an imported root when the first run starts from it. ``label`` names a downloaded file
        after its URL.
        """
        path = Path(path)
        try:
            image, note = load_image_noting(path)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        if node_id is not None:
            label = source_caption(self.history.tree, node_id)
        elif label:
            label = f"Restyling: {label}"
        self._init = InitImage(path, image, label, note)
        self._init_node = node_id
        self.source.changed(f"node:{node_id}" if node_id else f"file:{path}")
        if node_id is None and self.history.selected_id is not None:
            self.history.select(None)  # a picture from outside: no history node is the working picture now
        self.init_image_changed.emit(self._init)
        self.source_changed.emit(self.source_label)
        self.depth.init_image_changed(self._init)
        node_mask = self.history.workspace.mask_path(node_id) if node_id in self.history.tree else None
        self.mask.picture_changed(image.size, node_mask=node_mask, continuing=node_id is not None)
        self._emit_planned_size()
        width, height = self.planned_size()
        extra = f" {note}" if note else ""
        self.status_changed.emit(f"{self._init.name}: {image.width}×{image.height}, runs at {width}×{height}.{extra}")
        if node_id is None:
            self._offer_settings_in(path)  # a picture from outside may carry the settings it was made with
        return True

    def clear_init_image(self) -> None:
        """Go back to text-to-image."""
        self._init = None
        self._init_node = None
        self.source.changed("text")
        self.init_image_changed.emit(None)
        self.source_changed.emit(self.source_label)
        self.depth.init_image_changed(None)
        self.mask.picture_changed(None)
        self._emit_planned_size()

    def continue_from(self, node_id: str) -> bool:
        """Make a history node the next init image; running from an older node starts a branch."""
        if node_id not in self.history.tree:
            return False
        if node_id == self._init_node and self._init is not None:
            return True  # it is the working picture already
        if not self.load_init_image(self.history.workspace.image_path(node_id), node_id=node_id):
            return False
        self.status_changed.emit("The next run continues from the selected image.")
        return True

    def continue_from_selected(self) -> bool:
        """Continue from the node selected in the history."""
        return self.history.selected_id is not None and self.continue_from(self.history.selected_id)
