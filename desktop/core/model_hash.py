"""A checkpoint's `Model hash` as AUTOMATIC1111 writes it: the first 10 hex digits of the file's SHA-256.

Hashing reads the whole file (gigabytes for SDXL), so each result is remembered by path, size and modification
time, in memory and, when a cache file is given, on disk: a model is hashed once, not at every start.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from .files import atomic_write

log = logging.getLogger(__name__)

HASH_CACHE_NAME = "model-hashes.json"
SHORT_HASH_LENGTH = 10
_lock = threading.Lock()
_memory: dict[str, str] = {}


def _key(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def _read_cache(cache_file: Path | None) -> dict[str, str]:
    if cache_file is None:
        return {}
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def cached_short_hash(path: str | os.PathLike, cache_file: Path | None = None) -> str | None:
    """The hash if it was computed before (never reads the file's contents); None otherwise."""
    try:
        key = _key(Path(path))
    except OSError:
        return None
    with _lock:
        return _memory.get(key) or _read_cache(cache_file).get(key)


def short_hash(path: str | os.PathLike, cache_file: Path | None = None) -> str:
    """The first 10 hex digits of the file's SHA-256 (A1111's `Model hash`), from the cache when it is there."""
    path = Path(path)
    key = _key(path)
    known = cached_short_hash(path, cache_file)
    if known:
        return known
    import hashlib  # here, not at import: OpenSSL's hashes are a few ms of the window's start-up

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    value = digest.hexdigest()[:SHORT_HASH_LENGTH]
    with _lock:
        _memory[key] = value
        if cache_file is not None:
            cache = _read_cache(cache_file)
            cache[key] = value
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(cache_file, json.dumps(cache, indent=0), durable=False)
            except OSError as exc:  # a read-only data folder only costs hashing again next time
                log.info("model hash cache not written: %s", exc)
    return value
