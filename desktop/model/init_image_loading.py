"""InitImageLoading: the session's part that makes a picture the one the next run starts from (the init image).

A mixin of SessionModel (session.py), which owns the state (``_init``, ``_init_node``) and the signals. Kept
apart because a new working picture is news for many owners at once: the canvas caption, the depth panel, the
painted mask, the planned size, the history selection, the remembered source and, for a file from outside,
the settings it carries (an offer to restore them); all of that happens here, in one order.
"""

from __future__ import annotations

import threading
from pathlib import Path

from desktop.core.captions import source_caption
from desktop.core.errors import RestyleError
from desktop.core.images import image_size_noting, load_image_noting


class InitImage:
    """The image the next run starts from, normalised to RGB.

    A history node's pixels are read when first asked for (``image``), on whichever thread asks first: the
    window reads them off its UI thread to show them, so stepping through big results never stalls it; its
    size comes from the file's header. A file from outside is read at once, so a bad one is refused at once."""

    def __init__(self, path: Path, image=None, label: str = "", note: str = "", *, size=None):
        self.path = Path(path)
        self.label = label  # what the canvas calls it ("Restyling: landscape.png"); the file name when empty
        self.note = note  # something to know about the file (an animation's first frame was taken)
        self._image = image  # PIL.Image.Image (RGB), or None until read
        self._size = tuple(image.size) if image is not None else tuple(size)
        self._lock = threading.Lock()

    @property
    def image(self):
        """The pixels (PIL, RGB), read from the file the first time (RestyleError if it went bad since)."""
        with self._lock:  # two threads asking at once read the file once
            if self._image is None:
                self._image = load_image_noting(self.path)[0]
            return self._image

    @property
    def loaded(self) -> bool:
        """Whether the pixels are in memory already (``image`` answers at once)."""
        return self._image is not None

    @property
    def name(self) -> str:
        """The file name the artist knows it by (a history copy is named after its original)."""
        return self.label.removeprefix("Restyling: ") if self.label else self.path.name

    @property
    def size(self) -> tuple[int, int]:
        """Its size in pixels before fitting."""
        return self._size


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

    def load_init_image(self, path: str | Path, *, node_id: str | None = None, label: str = "",
                        pixels=None) -> bool:
        """Make the image at ``path`` the init image; a bad file is reported, the old image kept.

        ``node_id`` says the picture is that history node (the next result becomes its child); a file from
        outside becomes an imported root when the first run starts from it. ``label`` names a downloaded file
        after its URL.
        """
        path = Path(path)
        try:
            if node_id is not None and pixels is not None:  # a result just made: its pixels are in hand
                rgb = pixels if pixels.mode == "RGB" else pixels.convert("RGB")
                init = InitImage(path, rgb, source_caption(self.history.tree, node_id))
            elif node_id is not None:  # one of ours: its header now, its pixels when first needed (InitImage)
                size, note = image_size_noting(path)
                init = InitImage(path, None, source_caption(self.history.tree, node_id), note, size=size)
            else:
                image, note = load_image_noting(path)
                init = InitImage(path, image, f"Restyling: {label}" if label else "", note)
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return False
        self._init = init
        self._init_node = node_id
        self.source.changed(f"node:{node_id}" if node_id else f"file:{path}")
        if node_id is None and self.history.selected_id is not None:
            self.history.select(None)  # a picture from outside: no history node is the working picture now
        self.init_image_changed.emit(self._init)
        self.source_changed.emit(self.source_label)
        self.depth.init_image_changed(self._init)
        node_mask = self.history.workspace.mask_path(node_id) if node_id in self.history.tree else None
        self.mask.picture_changed(init.size, node_mask=node_mask, continuing=node_id is not None)
        self._emit_planned_size()
        width, height = self.planned_size()
        extra = f" {init.note}" if init.note else ""
        self.status_changed.emit(f"{init.name}: {init.size[0]}×{init.size[1]}, runs at {width}×{height}.{extra}")
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

    def continue_from(self, node_id: str, pixels=None) -> bool:
        """Make a history node the next init image; running from an older node starts a branch.

        ``pixels``: the node's picture, when the caller has it already (a run's result), so it is not read back."""
        if node_id not in self.history.tree:
            return False
        if node_id == self._init_node and self._init is not None:
            return True  # it is the working picture already
        if not self.load_init_image(self.history.workspace.image_path(node_id), node_id=node_id, pixels=pixels):
            return False
        self.status_changed.emit("The next run continues from the selected image.")
        return True

    def continue_from_selected(self) -> bool:
        """Continue from the node selected in the history."""
        return self.history.selected_id is not None and self.continue_from(self.history.selected_id)
