"""More ways in: an image dragged from a web page (an http URL, fetched from 127.0.0.1 here) and a GIF or APNG
(its first frame, with a note). Both were refused before."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QLabel

from desktop.worker.background import running_jobs
from tests.web_server import WebServer

from .conftest import TIMEOUT, drop_files, drop_mime


def _drop_url(widget, url: str) -> bool:
    """Drag a URL onto ``widget`` as a web browser does (text/uri-list and the text)."""
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    mime.setText(url)
    return all(drop_mime(widget, mime))


@pytest.fixture()
def server():
    web = WebServer()
    yield web
    web.close()


def test_an_image_dragged_from_a_browser_becomes_the_working_picture(qtbot, open_window, server, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    window = open_window([])
    statuses = []
    window.model.status_changed.connect(statuses.append)
    with qtbot.waitSignal(window.model.init_image_changed, timeout=TIMEOUT):
        assert _drop_url(window.canvas, f"{server.url}/pictures/landscape.png")
    qtbot.waitUntil(lambda: not running_jobs(), timeout=TIMEOUT)
    assert window.model.init_image.size == (80, 48)
    assert window.findChild(QLabel, "sourceLabel").text() == "Restyling: landscape.png"
    assert window.model.init_image.path.parent == window.model.settings.data_dir / "inputs"
    assert any(s.startswith("Fetching landscape.png") for s in statuses)


def test_a_url_dropped_offline_is_refused_with_a_sentence(qtbot, open_window):
    window = open_window([])  # the tests run with HF_HUB_OFFLINE=1: the app is offline
    with qtbot.waitSignal(window.model.error_raised, timeout=TIMEOUT) as error:
        assert _drop_url(window.canvas, "https://example.org/pictures/landscape.png")
    qtbot.waitUntil(lambda: not running_jobs(), timeout=TIMEOUT)
    assert "offline" in error.args[1] and window.error_banner.isVisible()
    assert window.model.init_image is None


def test_a_gif_gives_its_first_frame_with_a_note(qtbot, open_window, tmp_path):
    frames = [Image.new("RGB", (64, 40), colour) for colour in ((250, 10, 10), (10, 250, 10), (10, 10, 250))]
    gif = tmp_path / "wave.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    window = open_window([])
    statuses = []
    window.model.status_changed.connect(statuses.append)
    assert drop_files(window.canvas, gif)
    init = window.model.init_image
    assert init is not None and init.size == (64, 40)
    assert init.image.getpixel((5, 5))[0] > 200  # the first (red) frame
    assert any("animation of 3 frames: its first frame is used" in s for s in statuses)


def test_an_apng_gives_its_first_frame(tmp_path):
    from desktop.core.images import load_image_noting

    frames = [Image.new("RGB", (32, 32), colour) for colour in ((10, 10, 250), (250, 250, 10))]
    apng = tmp_path / "blink.png"
    frames[0].save(apng, save_all=True, append_images=frames[1:], duration=100)
    image, note = load_image_noting(apng)
    assert image.getpixel((1, 1))[2] > 200 and "2 frames" in note
