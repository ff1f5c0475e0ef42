"""Shared by the device-pool tests: a folder of small, different pictures."""

from __future__ import annotations

import pytest


@pytest.fixture()
def make_folder(tmp_path, make_image):
    """make_folder(count, prefix, size) -> a folder of ``count`` pictures named PREFIX0.png, PREFIX1.png, …"""

    def make(count: int, prefix: str = "p", size=(48, 40)):
        folder = tmp_path / "in"
        folder.mkdir(exist_ok=True)
        for k in range(count):
            make_image(f"in/{prefix}{k}.png", size, (30 * k % 256, (200 - 20 * k) % 256, 120))
        return folder

    return make
