"""Child process of bench/startup.py: build and show the main window, report when it first painted, exit.

    python bench/_startup_child.py DATA_DIR [GUI ARGS...]

Prints one JSON line of ``time.monotonic()`` marks (CLOCK_MONOTONIC on Linux, the same clock in every
process, so the parent can subtract its own launch time), the CPU time the UI thread used from show()
returning to shown, and the heavy modules present when shown.
"""

import time

started = time.monotonic()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402

BARE = sys.argv[2:3] == ["--bare"]  # the yardstick: an empty PySide6 main window, nothing of Restyle
if BARE:
    from PySide6.QtWidgets import QApplication, QMainWindow
else:
    from desktop.app import build_main_window, ensure_application

HEAVY = ("torch", "diffusers", "transformers", "numpy")
marks = {"child_started": started, "imported": time.monotonic()}


def report() -> None:
    marks["shown"] = time.monotonic()
    marks["ui_cpu_after_show"] = time.thread_time() - ui_cpu_at_show  # a duration, not a time
    marks["heavy_modules"] = [m for m in HEAVY if m in sys.modules]
    print(json.dumps(marks), flush=True)
    os._exit(0)  # the window's close would wait for a preload under way on the worker


class FirstPaint(QObject):
    """Notes the window's first paint event (the window paints first, its children in the same pass), then reports
    once that event loop pass is over.

    It watches the window only: a filter on the whole application sees every object, and the first object of a
    class PySide does not wrap (Qt's private QAnimationTimer, started by the style's animations) makes PySide create
    every class and enum it loads lazily, about 20 ms that the app without such a filter never spends.
    """

    def eventFilter(self, watched, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint and "painted" not in marks:
            marks["painted"] = time.monotonic()
            QTimer.singleShot(0, report)
        return False


if BARE:
    app = QApplication([])
    window = QMainWindow()
    window.resize(1180, 760)
else:
    app = ensure_application()
    window = build_main_window(sys.argv[2:], data_dir=sys.argv[1])
marks["built"] = time.monotonic()
painted = FirstPaint()
window.installEventFilter(painted)
window.show()
marks["show_returned"] = time.monotonic()
ui_cpu_at_show = time.thread_time()
QTimer.singleShot(10000, lambda: (print("no paint within 10 s", file=sys.stderr), os._exit(1)))
app.exec()
