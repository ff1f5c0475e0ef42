"""WebImageFetch: an image dragged from a web browser (an http/https URL) fetched in the background, then
made the working picture under its own file name.

QtCore only. The download runs as a BackgroundJob (never on the UI thread) with core/web_images.py's size cap
and timeout; progress goes to the status line, and every failure (offline, too large, not an image, a server
error, a timeout) is one sentence.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.hubcache import is_offline
from desktop.core.web_images import MAX_URL_BYTES, URL_TIMEOUT_S, fetch_image, url_file_name
from desktop.worker.background import BackgroundJob


class WebImageFetch(QObject):
    """Fetches one dropped URL at a time into the data folder's inputs/."""

    fetched = Signal(str, str)  # the saved file, the name to show ("landscape.jpg")
    status_changed = Signal(str)
    error_raised = Signal(str, str)

    def __init__(self, data_dir: Path):
        super().__init__()
        self._folder = Path(data_dir) / "inputs"
        self.job: BackgroundJob | None = None
        self.max_bytes, self.timeout = MAX_URL_BYTES, URL_TIMEOUT_S  # tests make them small

    @property
    def busy(self) -> bool:
        """True while a download runs."""
        return self.job is not None

    def fetch(self, url: str) -> bool:
        """Start downloading ``url``; the picture arrives through ``fetched`` (False when one is running)."""
        if self.job is not None:
            self.status_changed.emit("An image is being fetched already; drop the next one when it is done.")
            return False
        name = url_file_name(url)
        folder, offline, cap, timeout = self._folder, is_offline(), self.max_bytes, self.timeout

        def work(report, cancelled):
            return str(fetch_image(url, folder, offline=offline, max_bytes=cap, timeout=timeout,
                                   on_progress=lambda done, total: report((done, total)), cancelled=cancelled))

        job = BackgroundJob(work, "fetch-image")
        job.progressed.connect(lambda p: self.status_changed.emit(_progress(name, *p)))
        job.succeeded.connect(lambda path: self._end() or self.fetched.emit(path, name))
        job.failed.connect(lambda _kind, message: self._end() or self.error_raised.emit("bad_input", message))
        job.cancelled.connect(lambda message: self._end() or self.status_changed.emit(message))
        self.job = job
        self.status_changed.emit(f"Fetching {name}…")
        job.start()
        return True

    def _end(self) -> None:
        self.job = None


def _progress(name: str, done: int, total: int) -> str:
    of = f" of {total / 1024:.0f} KB" if total else ""
    return f"Fetching {name}: {done / 1024:.0f} KB{of}…"
