"""The window under a real X server (Xvfb), not only offscreen: it maps, paints, and Generate is on screen.

Offscreen rendering skips the window manager's view of the world: real screen geometry, mapping and the
xcb plugin's own font and palette handling. This test starts Xvfb at 1280×800, opens the window there in a
child process, grabs the whole screen and checks what is on it. It skips, saying why, where there is no Xvfb
(`.ci/run` installs Debian's xvfb first) or the xcb plugin cannot load.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = r"""
import json, sys
from PySide6.QtWidgets import QApplication, QPushButton, QProgressBar
from desktop.app import build_main_window

window = build_main_window([], data_dir=sys.argv[1])
app = QApplication.instance()
window.resize(1280, 800)
window.move(0, 0)
window.show()
for _ in range(50):
    app.processEvents()
shot = app.primaryScreen().grabWindow(0)
shot.save(sys.argv[2])
image = shot.toImage()
colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
found = {}
for cls, name in ((QPushButton, "generateButton"), (QPushButton, "cancelButton"), (QProgressBar, "progressBar")):
    widget = window.findChild(cls, name)
    found[name] = widget.visibleRegion().boundingRect() == widget.rect() and widget.isVisible()
print(json.dumps({"platform": app.platformName(), "screen": [image.width(), image.height()],
                  "colours": len(colours), "visible": found}))
window.close()
"""


def _free_display() -> int:
    for number in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    pytest.skip("no free X display number between :90 and :139")


@pytest.fixture()
def xvfb():
    """DISPLAY of a fresh Xvfb at 1280×800, stopped after the test."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb); the offscreen tests still ran")
    number = _free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        server.kill()
        pytest.skip(f"Xvfb did not start: {server.stderr.read().decode(errors='replace')[-300:]}")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_the_window_shows_generate_on_a_real_x_screen(xvfb, data_dir, tmp_path):
    shot = tmp_path / "xvfb-1280x800.png"
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    run = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), str(shot)], env=env, check=False,
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    if run.returncode != 0 and "Could not load the Qt platform plugin" in run.stderr:
        pytest.skip("Qt's xcb plugin cannot load here (Debian: apt-get install libxcb-cursor0 "
                    "libxkbcommon-x11-0): " + run.stderr.strip().splitlines()[-1][:200])
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["platform"] == "xcb"
    assert report["screen"] == [1280, 800]
    assert report["colours"] > 20  # a painted window, not a blank screen
    assert report["visible"] == {"generateButton": True, "cancelButton": True, "progressBar": True}
    assert shot.is_file() and shot.stat().st_size > 10_000
