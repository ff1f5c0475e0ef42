"""The one atomic write of the app: every file Restyle writes goes through ``atomic_write``.

A temp file beside the target (dot-prefixed, ``.tmp``-suffixed, with a random part so threads never collide),
fsync'd, renamed over the target, then the folder fsync'd so the rename itself survives a power cut. A reader never
sees half a file: either the old one or the new one. Temp files a killed process left are recognised by
``is_temp_name`` and cleaned by their owners.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def is_regular_file(path: str | os.PathLike) -> bool:
    """True for a plain file. A pipe (FIFO) or a device would block a reader for ever or never end: only plain
    files are read as pictures, masks, depth maps or latents. stat() itself never blocks on a pipe."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); Windows cannot open folders and does not need it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def random_hex(nbytes: int) -> str:
    """``nbytes`` random bytes as hex digits, for ids and file names: what secrets.token_hex returns, without
    importing secrets (it brings hmac and OpenSSL's hashes, about 4 ms of the window's start-up)."""
    return os.urandom(nbytes).hex()


def temp_path_for(target: Path) -> Path:
    """A fresh temp name beside ``target``."""
    return target.with_name(f".{target.name}.{random_hex(4)}.tmp")


def remove_stale_temps(folder: Path, *, prefix: str = ".", age_s: float = 600.0) -> int:
    """Delete ``atomic_write`` temp files a killed process left in ``folder`` (only old ones: another process may
    be writing now; only names starting with ``prefix``, in folders shared with other programs). Returns the count."""
    import time

    cutoff, removed = time.time() - age_s, 0
    try:
        entries = list(os.scandir(folder))
    except (OSError, ValueError):  # missing, unreadable, or a hand-edited path with a NUL byte
        return 0
    for entry in entries:
        try:
            if entry.name.startswith(prefix) and is_temp_name(entry.name) and entry.is_file(follow_symlinks=False) \
                    and entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except OSError:
            pass
    return removed


def is_temp_name(name: str) -> bool:
    """True for the temp files ``atomic_write`` makes (a leftover when a process was killed mid-write)."""
    return name.startswith(".") and name.endswith(".tmp")


def atomic_write(target: str | os.PathLike, write: Callable[[BinaryIO], object] | bytes | str, *,
                 durable: bool = True) -> Path:
    """Write ``target`` atomically: ``write(handle)`` (or the bytes/text given) into a temp file, then rename.

    ``durable=False`` skips the fsyncs, for caches (thumbnails) that are simply made again when lost.
    Permissions follow the umask (0o666 & ~umask), as a plain ``open`` would give.
    """
    target = Path(target)
    if isinstance(write, str):
        data = write.encode("utf-8")
        write = lambda handle: handle.write(data)  # noqa: E731
    elif isinstance(write, bytes):
        data_bytes = write
        write = lambda handle: handle.write(data_bytes)  # noqa: E731
    temp = temp_path_for(target)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)
    return target
