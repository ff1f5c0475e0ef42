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
)


def test_the_shown_window_has_not_imported_what_it_needs_only_later(tmp_path):
    code = (
        "import sys\n"
        "from desktop.app import build_main_window, ensure_application\n"
        "app = ensure_application()\n"
        f"window = build_main_window([], data_dir={str(tmp_path)!r})\n"
        "window.show()\n"
        "app.processEvents()\n"
        f"print('LOADED', sorted(m for m in {LATER!r} if m in sys.modules))\n"
        "window.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert "LOADED []" in out.stdout, out.stdout + out.stderr[-3000:]
