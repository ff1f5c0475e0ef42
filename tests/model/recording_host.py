"""A stand-in for the worker host: it records requests, and its worker's signals are emitted by hand.

Its signals are the real worker's, name for name and type for type (test_recording_host.py checks it), so a
session test cannot pass against a signal the real worker does not have.
"""

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage


class _Worker(QObject):
    status = Signal(str)
    model_ready = Signal(object)
    progress = Signal(int, int, float)
    preview = Signal(QImage, int, int)
    finished = Signal(object)
    failed = Signal(int, str, str)
    cancelled = Signal(int)
    job_done = Signal(int)
    depth_ready = Signal(int, str)
    out_of_memory = Signal(int, object)
    memory_changed = Signal(object)
    devices_found = Signal(object)


class RecordingHost:
    def __init__(self):
        self.worker = _Worker()
        self.requests = []
        self.cancels = 0

    def submit(self, request):
        self.requests.append(request)

    def cancel_all(self):
        self.cancels += 1


class RecordingPoolHost(QObject):
    """A stand-in for the window's device pool (desktop/worker/pool_host.py): records requests; its signals are
    the real PoolHost's (test_recording_host.py checks it) and are emitted by hand."""

    status = Signal(str)
    model_ready = Signal(object)
    failed = Signal(int, str, str)
    cancelled = Signal(int)
    job_done = Signal(int)
    job_started = Signal(int, str)
    progress = Signal(int, int, int, float)
    preview = Signal(int, QImage, int, int)
    finished = Signal(int, str, object)
    devices_changed = Signal(object)
    single_device = Signal(object)

    def __init__(self, workers=2, *, allow_pickles=False, cluster=""):
        super().__init__()
        self.workers, self.allow_pickles, self.cluster = workers, allow_pickles, cluster
        self.requests = []
        self.busy = False
        self.stopped = False

    def submit(self, request):
        self.requests.append(request)

    def cancel_all(self):
        pass

    def shutdown(self):
        self.stopped = True
