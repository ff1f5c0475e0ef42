"""Fetching an image dragged from a browser: saved under its own name, or one sentence for each way it fails
(offline, too large, not an image, a server error, a timeout, nobody answering). Against 127.0.0.1 only."""

from __future__ import annotations

import socket

import pytest

from desktop.core.errors import RestyleError
from desktop.core.images import load_image
from desktop.core.web_images import fetch_image, is_web_url, url_file_name
from tests.web_server import WebServer


@pytest.fixture()
def server():
    web = WebServer()
    yield web
    web.close()


def test_a_picture_is_saved_under_its_name_with_progress(server, tmp_path):
    seen = []
    path = fetch_image(f"{server.url}/pictures/landscape.png", tmp_path, on_progress=lambda d, t: seen.append((d, t)))
    assert path.name.endswith("-landscape.png") and path.parent == tmp_path
    assert load_image(path).size == (80, 48)
    assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(("path", "options", "words"), [
    ("/big.png", {"max_bytes": 100_000}, "larger than"),
    ("/page.html", {}, "not an image"),
    ("/gone.png", {}, "answered 404"),
    ("/slow.png", {"timeout": 0.5}, "within 0.5 s"),
])
def test_each_failure_is_a_sentence_and_leaves_nothing(server, tmp_path, path, options, words):
    with pytest.raises(RestyleError) as error:
        fetch_image(server.url + path, tmp_path, **options)
    assert words in error.value.message and "127.0.0.1" in error.value.message
    assert error.value.kind.value == "bad_input"
    assert not list(tmp_path.iterdir())


def test_offline_and_unreachable_are_refused_with_a_sentence(tmp_path):
    with pytest.raises(RestyleError, match="offline"):
        fetch_image("https://example.org/a.png", tmp_path, offline=True)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RestyleError, match=r"could not reach 127\.0\.0\.1"):
        fetch_image(f"http://127.0.0.1:{port}/a.png", tmp_path, timeout=2)


def test_urls_and_names():
    assert is_web_url("https://a.org/x.png") and is_web_url("http://a.org/x") and not is_web_url("file:///x.png")
    assert url_file_name("https://a.org/path/my%20photo.jpg?x=1") == "my_photo.jpg"
    assert url_file_name("https://a.org/render", "image/webp") == "render.webp"
