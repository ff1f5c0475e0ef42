"""The window starts without the modules it needs only later (issue 18: start-up within 2.5× a bare PySide6
window). Each of these cost milliseconds of start-up that a user waits for; they load at their first use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported at first use, not by the window (measured cost at start-up on the 2-core VM, PySide6 loaded):
LATER = (
    "torch", "diffusers", "transformers",  # the engine, on the worker after the window shows (seconds)
    "numpy",  # masks, depth, picture chunks (~100 ms)
    "PIL", "PIL.Image", "PIL.PngImagePlugin",  # Pillow, at the first picture (~20 ms)
    "urllib.request", "http.client", "email.parser", "ssl",  # a picture dragged from a browser (~25 ms)
    "sd_parsers", "desktop.core.picture_settings",  # reading another tool's settings from a picture
    "logging.handlers",  # the rotating log handler, swapped in once the window has painted (~8 ms)
    "socket",  # checking whether a cluster address is this computer (~4 ms)
    "secrets", "hashlib",  # hmac and OpenSSL's hashes: ids come from os.urandom, hashes at the first one (~4 ms)
    "html",  # escaping a masked node's tooltip (~1.5 ms)
)


def test_the_window_paints_before_importing_what_it_needs_only_later(tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtCore import QEvent, QObject\n"
        "from desktop.app import build_main_window, ensure_application\n"
        "class FirstPaint(QObject):\n"
        "    def eventFilter(self, watched, event):\n"
        "        if event.type() == QEvent.Type.Paint and not hasattr(self, 'loaded'):\n"
        f"            self.loaded = sorted(m for m in {LATER!r} if m in sys.modules)\n"
        "            app.quit()\n"
        "        return False\n"
        "app = ensure_application()\n"
        f"window = build_main_window([], data_dir={str(tmp_path)!r})\n"
        "watch = FirstPaint()\n"
        "app.installEventFilter(watch)\n"
        "window.show()\n"
        "app.exec()\n"
        "print('LOADED', watch.loaded)\n"
        "window.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert "LOADED []" in out.stdout, out.stdout + out.stderr[-3000:]


def test_the_log_starts_plain_and_rotates_once_the_window_has_painted(qtbot, tmp_path):
    import logging
    import logging.handlers

    from desktop.app import build_main_window
    from desktop.core.paths import log_path

    window = build_main_window([], data_dir=tmp_path)
    qtbot.addWidget(window)
    path = str(log_path(tmp_path))
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == path]
    assert len(handlers) == 1 and not isinstance(handlers[0], logging.handlers.RotatingFileHandler)
    logging.getLogger("restyle.test").warning("before the first paint")

    window.show()
    qtbot.waitUntil(lambda: any(isinstance(h, logging.handlers.RotatingFileHandler)
                                and h.baseFilename == path for h in logging.getLogger().handlers), timeout=10_000)
    logging.getLogger("restyle.test").warning("after the first paint")
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == path]
    assert len(handlers) == 1 and handlers[0].maxBytes > 0  # one handler, and it bounds the log
    handlers[0].flush()
    text = Path(path).read_text(encoding="utf-8")
    assert text.count("before the first paint") == 1 and text.count("after the first paint") == 1
    window.close()


def test_the_window_draws_with_fusion_even_where_the_desktop_asks_for_another_style(tmp_path):
    # The palettes' contrast (theme.py) holds in Fusion only; the style is chosen when the application starts.
    code = (
        "from desktop.app import build_main_window, ensure_application\n"
        "app = ensure_application()\n"
        f"window = build_main_window([], data_dir={str(tmp_path)!r})\n"
        "print('STYLE', window.style().name())\n"
        "window.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, capture_output=True, text=True,
                         timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_STYLE_OVERRIDE": "Windows"})
    assert "STYLE fusion" in out.stdout, out.stdout + out.stderr[-3000:]
