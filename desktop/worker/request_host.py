"""RequestHost: what the window's two hosts of runs share, the one-device WorkerHost and the device pool's PoolHost.

Both take requests on the UI thread, keep those not yet done (``_pending``: what makes the host busy), and run
them on a thread of their own (``_thread``); each request carries its own cancel flag. Kept here once so
"busy", "cancel everything" and "shut down" mean the same on one device and on several. Declares no signals:
each host keeps its own signal surface (the tests' stand-in hosts are checked against them).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject


def cancel_requests(requests: Iterable) -> None:
    """Set the cancel flag of each request that has one (a run stops within one step, a waiting one never starts)."""
    for request in requests:
        cancel = getattr(request, "cancel_event", None)
        if cancel is not None:
            cancel.set()


class RequestHost(QObject):
    """The accessors both hosts share; a host sets ``_pending`` and ``_thread``, and says which requests are in
    flight and how its thread stops."""

    _pending: list | dict  # the requests not yet done that make the host busy
    _thread: object  # the QThread that serves the requests

    @property
    def busy(self) -> bool:
        """True while a request that occupies the host (a generation, an upscale; on the pool a load too) runs or
        waits."""
        return bool(self._pending)

    def is_running(self) -> bool:
        """True while the host's thread runs."""
        return self._thread.isRunning()

    def cancel_all(self) -> None:
        """Cancel every request running or waiting: a run stops within one step, a waiting one never starts (on
        one device, depth estimates too)."""
        cancel_requests(self._in_flight())

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything, stop the thread and wait for it; True when it stopped in time."""
        self.cancel_all()
        return self._stop_thread(timeout_ms)

    def _in_flight(self) -> Iterable:
        """Every request ``cancel_all`` cancels (the host says: some are not kept in ``_pending``)."""
        raise NotImplementedError

    def _stop_thread(self, timeout_ms: int) -> bool:
        """Stop the thread once the requests are cancelled (the host says how its thread ends)."""
        raise NotImplementedError
