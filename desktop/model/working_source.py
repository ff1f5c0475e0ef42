"""WorkingSource: where the working picture came from, kept across restarts, and File ▸ New / Back.

QtCore only, owned by the session (which it drives through ``continue_from``, ``load_init_image`` and
``clear_init_image``). The source is written as "node:<id>", "file:<path>" or "text" in the settings each time
it changes, so a restart opens exactly the picture the canvas showed; selecting a history node makes it the
working picture.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject

log = logging.getLogger(__name__)


class WorkingSource(QObject):
    """The working picture's origin, its restore after a restart, and the picture File ▸ New left."""

    def __init__(self, session):
        super().__init__()
        self._session = session
        self._previous: str | None = None  # what File ▸ New left, for "Back to the picture"

    def changed(self, source: str) -> None:
        """The working picture is now ``source`` ("node:…", "file:…" or "text"): remembered for a restart."""
        self._session.settings.working_source = source
        if source != "text":
            self._previous = None

    def start_from_text(self) -> None:
        """File ▸ New: the next run starts from text; ``back`` returns to the picture left."""
        session = self._session
        init = session.init_image
        previous = None
        if init is not None:
            previous = f"node:{session.source_node}" if session.source_node else f"file:{init.path}"
        self._previous = previous  # before the change is announced, so File ▸ Back is offered with it
        session.clear_init_image()
        session.history.select(None)
        session.status_changed.emit("The next run starts from text. File ▸ Back to the picture returns to it.")

    def back(self) -> bool:
        """Return to the picture File ▸ New left; False when there is none."""
        previous, self._previous = self._previous, None
        return previous is not None and self.open(previous)

    @property
    def can_go_back(self) -> bool:
        """True after File ▸ New, while the picture it left can be returned to."""
        return self._previous is not None and self._session.init_image is None

    def open(self, source: str) -> bool:
        """Make ``source`` the working picture; False when it is gone."""
        session = self._session
        kind, _, value = source.partition(":")
        if kind == "node" and value in session.history.tree:
            session.history.select(value)
            return session.continue_from(value)
        if kind == "file" and Path(value).is_file():
            return session.load_init_image(value)
        return False

    def restore(self) -> None:
        """After a restart: the working picture as it was (a history node, a file, or text)."""
        settings, history = self._session.settings, self._session.history
        source = settings.working_source
        if not source:  # saved by an older version: the selected node was what the canvas showed
            source = f"node:{history.selected_id}" if history.selected_id else "text"
        if source != "text" and not self.open(source):
            log.info("the working picture %s is gone; starting from text", source)
            settings.working_source = "text"

    def follow_selection(self, node_id) -> None:
        """A history node was selected: it becomes the working picture."""
        if node_id is not None and node_id != self._session.source_node:
            self._session.continue_from(node_id)
