"""Where Restyle keeps its files, and its log. Qt-free so the CLI and the engine can use it."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

DATA_DIR_ENV = "RESTYLE_DATA_DIR"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder: ``explicit``, else $RESTYLE_DATA_DIR, else the platform's per-user app data folder."""
    if explicit:
        path = Path(explicit)
    elif os.environ.get(DATA_DIR_ENV):
        path = Path(os.environ[DATA_DIR_ENV])
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "Restyle"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / "Restyle"
    else:
        path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "restyle"
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_path(folder: Path) -> Path:
    """The log file inside a data folder."""
    return folder / "logs" / "restyle.log"


def is_writable(folder: Path) -> bool:
    """True when a file can be made in ``folder`` (tried, not guessed: access() says yes to root on read-only
    folders and cannot see every read-only mount)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


_LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def setup_logging(folder: Path, *, rotating: bool = True) -> Path:
    """Send this process's log records (tracebacks included) to the rotating log file; returns its path.

    When the data folder cannot be written (read-only, full), the log goes to the temporary folder instead, so
    the app and the CLI still start. ``rotating=False`` appends with a plain handler until ``rotate_log``: the
    window starts that way, because the rotating handler's module (logging.handlers, with socket, pickle and queue)
    costs about 8 ms of start-up.
    """
    path = log_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        import tempfile

        uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
        path = Path(tempfile.gettempdir()) / f"restyle-logs-{uid}" / "restyle.log"
        path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if _handler_of(path) is None:
        handler = _rotating_handler(path) if rotating else logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def rotate_log(path: Path) -> None:
    """Swap the plain handler of ``setup_logging(rotating=False)`` for the rotating one (no record lost or doubled)."""
    import logging.handlers

    plain = _handler_of(path)
    if plain is None or isinstance(plain, logging.handlers.RotatingFileHandler):
        return
    handler = _rotating_handler(path)
    handler.setFormatter(plain.formatter)
    root = logging.getLogger()
    # One assignment: a record logged meanwhile on another thread sees either list, so it is written once.
    root.handlers = [handler if h is plain else h for h in root.handlers]
    plain.close()


def _handler_of(path: Path) -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == str(path)), None)


def _rotating_handler(path: Path) -> logging.Handler:
    import logging.handlers

    return logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")


def default_output_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where results go unless the user chose a folder, for the window and the CLI alike: inside an explicit data
    folder (tests, portable installs), else the user's Pictures folder / Restyle."""
    if explicit or os.environ.get(DATA_DIR_ENV):
        return data_dir(explicit) / "outputs"
    return pictures_dir() / "Restyle"


def pictures_dir() -> Path:
    """The user's Pictures folder: XDG's (localised names included) on Linux, else ~/Pictures."""
    configured = os.environ.get("XDG_PICTURES_DIR")
    if not configured:
        dirs = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "user-dirs.dirs"
        try:
            for line in dirs.read_text(encoding="utf-8").splitlines():
                if line.startswith("XDG_PICTURES_DIR="):
                    configured = line.split("=", 1)[1].strip().strip('"').replace("$HOME", str(Path.home()))
        except (OSError, UnicodeDecodeError):
            pass
    return Path(configured) if configured else Path.home() / "Pictures"
