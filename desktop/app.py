"""Wiring: build the settings, worker, session model and main window. Never imports torch."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from desktop import APP_NAME, __version__
from desktop.cli.gui_args import parse_gui_args
from desktop.core.files import remove_stale_temps
from desktop.core.paths import data_dir as resolve_data_dir
from desktop.core.paths import default_output_dir, rotate_log, setup_logging
from desktop.model.session import SessionModel
from desktop.model.settings import Settings
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import STYLE
from desktop.worker import WorkerHost

log = logging.getLogger(__name__)


def ensure_application() -> QApplication:
    """The QApplication, created once."""
    app = QApplication.instance()
    if app is None:
        # The style as a command-line option: choosing it later goes through app.style(), and wrapping QStyle with
        # its enums costs PySide about 5 ms of start-up.
        app = QApplication([*sys.argv[:1], "-style", STYLE])
        app.setApplicationName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_NAME)
    return app


def build_main_window(argv: list[str] | None = None, *, data_dir=None) -> QMainWindow:
    """Build the main window from command-line style arguments without entering the event loop.

    ``argv`` takes the GUI's arguments (``["--model", M, IMAGE]``); ``data_dir`` (or $RESTYLE_DATA_DIR)
    moves settings, logs and default outputs there, so tests never touch the user's folders.
    """
    args = parse_gui_args(argv or [])
    ensure_application()
    explicit = data_dir or args.data_dir
    folder = resolve_data_dir(explicit)
    log_file = setup_logging(folder, rotating=False)  # rotate_log below, once the window has painted
    settings = Settings(folder, default_output_dir=default_output_dir(explicit))
    follow_theme(settings)
    # A result being written when the app was killed leaves .restyle-….png.….tmp beside the results: never a picture.
    remove_stale_temps(settings.output_dir, prefix=".restyle-")
    host = WorkerHost(str(log_file))
    model = SessionModel(settings, host, log_path=str(log_file))
    if args.model:
        model.set_model(args.model, preload=False)
    window = MainWindow(model, host)
    _set_icon(window)
    host.setParent(window)
    if args.image:
        model.load_init_image(args.image)
    log.info("%s %s started, data folder %s", APP_NAME, __version__, folder)
    after_first_paint(window, lambda: rotate_log(log_file))
    return window


def after_first_paint(window: QMainWindow, then) -> None:
    """Call ``then`` once the window is on screen: for work its first sight need not wait for.

    The filter watches the window alone (it paints first, its children in the same pass): on the whole application
    it would also see Qt's private QAnimationTimer, which makes PySide create every class it loads lazily (~20 ms).
    """
    window.installEventFilter(_FirstPaint(then, parent=window))


def follow_theme(settings) -> None:
    """Give the app the light or dark palette the settings ask for; "system" follows the desktop, live."""
    from desktop.ui import theme

    app = QApplication.instance()
    theme.apply(app, settings.theme)
    hints = app.styleHints()
    if not getattr(app, "_restyle_follows_scheme", False):  # connect once, however many windows are built
        app._restyle_follows_scheme = True
        hints.colorSchemeChanged.connect(lambda _scheme: theme.apply(app, settings.theme))


def _set_icon(window) -> None:
    """The app icon from resources/ (beside the package, or inside a PyInstaller bundle)."""
    from pathlib import Path

    from PySide6.QtGui import QIcon

    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[1]))
    icon = base / "resources" / "restyle.png"
    if icon.is_file():
        window.setWindowIcon(QIcon(str(icon)))


def run_gui(argv: list[str]) -> int:
    """Open the window and run the event loop until it closes."""
    app = ensure_application()
    window = build_main_window(argv)
    if parse_gui_args(argv).exit_when_shown:
        _exit_after_first_paint(window)
    window.show()
    return app.exec()


class _FirstPaint(QObject):
    """Calls ``then`` once the event-loop pass that handled the first paint event of the watched window is over,
    and stops watching (a Python filter costs on every event)."""

    def __init__(self, then, parent=None) -> None:
        super().__init__(parent)
        self._then = then

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._then)
        return False


def _exit_after_first_paint(window: QMainWindow) -> None:
    """``--exit-when-shown``: print when the window first painted (``time.monotonic()``, one clock for every
    process on Linux, so a launcher can subtract its own launch time) and exit 0. Frozen start-up is measured
    this way (bench/startup_frozen.py), and the bundle test proves the frozen window opens."""
    import os
    import time

    def report() -> None:
        print(f"shown at monotonic {time.monotonic():.6f}", flush=True)
        log.info("window shown; exiting (--exit-when-shown)")
        logging.shutdown()
        os._exit(0)  # closing normally would wait for a model preload under way on the worker

    after_first_paint(window, report)
    QTimer.singleShot(60_000, lambda: (print("the window did not paint within 60 s", file=sys.stderr, flush=True),
                                       os._exit(1)))
