"""The history's append-only journal: one small fsync'd line per change, written on a background thread.

A change to the history (a new result, a star, a delete) costs the UI thread one queue put. The writer thread
appends the record to ``journal.jsonl`` and fsyncs it (all records waiting at that moment in one fsync), then
runs any file work that had to wait for the record (removing a deleted node's files). Every COMPACT_AFTER
records it asks the workspace to write a fresh index (atomically, through the one atomic-write helper) and
empties the journal. Each record carries a sequence number, and the index the last one it includes, so a
crash between the two steps only leaves records that the next open skips. No Qt here.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.jsonl"
COMPACT_AFTER = 1000  # records; a 10,000-node index takes about a tenth of a second to write in the background


def read_journal(path: Path) -> list[dict]:
    """The records in the journal, oldest first; a line cut short by a kill (or damaged) is left out."""
    try:
        raw = path.read_bytes()
    except OSError:  # missing (nothing since the index), or unreadable: the pictures still hold every node
        return []
    records = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            log.warning("skipped a damaged line in %s", path)
            continue
        if isinstance(record, dict) and isinstance(record.get("seq"), int) and isinstance(record.get("op"), str):
            records.append(record)
    return records


def cut_torn_tail(path: Path) -> None:
    """Drop a last line a kill left half-written, so the next record starts on a line of its own."""
    try:
        with open(path, "r+b") as handle:
            raw = handle.read()
            if raw and not raw.endswith(b"\n"):
                handle.truncate(raw.rfind(b"\n") + 1)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError:  # missing, or a read-only folder: nothing will be appended to it either
        pass


class Journal:
    """Appends records from any thread; a daemon thread writes and fsyncs them, then compacts now and then."""

    def __init__(self, path: Path, compact: Callable[[], None], *, compact_after: int = COMPACT_AFTER):
        self.path = Path(path)
        self._compact = compact
        self._compact_after = compact_after
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._file_lock = threading.Lock()  # the writer's appends against a truncation from save_index
        self.error: str | None = None  # the last write failure, in words, for the user
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only folder, say: the history lives on in memory for this session
            self._fd = None
            self.error = f"Restyle cannot save history changes in {self.path.parent}: {exc.strerror or exc}."
            log.error("%s", self.error)
        self._since_compaction = sum(1 for _ in read_journal(self.path))
        self._thread = threading.Thread(target=self._run, name="history-journal", daemon=True)
        self._thread.start()

    # --- any thread --------------------------------------------------------------------------------------
    def append(self, record: dict, after: Callable[[], None] | None = None) -> None:
        """Queue a record; ``after`` runs on the writer thread once the record is on disk."""
        # Serialised here, so the record says what was true when the change was made.
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        self._queue.put((line, after))

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every record queued so far is on disk (and its after-work done); False on timeout."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(30.0)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def truncate(self) -> None:
        """Empty the journal: the index now holds everything in it. Called with the workspace lock held."""
        with self._file_lock:
            if self._fd is None:
                return
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
            self._since_compaction = 0

    # --- the writer thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            lines = [item[0] for item in batch if isinstance(item, tuple)]
            if lines:
                self._write(b"".join(lines))
            for item in batch:
                if isinstance(item, tuple) and item[1] is not None:
                    try:
                        item[1]()
                    except Exception:  # file work after a change must not stop the journal
                        log.exception("history journal: follow-up work failed")
            if self._since_compaction >= self._compact_after:
                try:
                    self._compact()
                except Exception:  # the journal still holds every change
                    log.exception("history journal: compaction failed")
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
                elif item is None:
                    stop = True

    def _write(self, data: bytes) -> None:
        with self._file_lock:
            if self._fd is None:
                return
            try:
                os.write(self._fd, data)
                os.fsync(self._fd)
            except OSError as exc:
                self.error = f"Restyle could not save a history change in {self.path.parent}: {exc.strerror or exc}."
                log.error("%s", self.error)
                return
            self.error = None
            self._since_compaction += data.count(b"\n")
