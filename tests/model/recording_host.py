"""A stand-in for the worker host: it records requests, and its worker's signals are emitted by hand."""

from PySide6.QtCore import QObject, Signal


class _Worker(QObject):
    status = Signal(str)
    model_ready = Signal(object)
    progress = Signal(int, int, float)
    preview = Signal(object, int, int)
    finished = Signal(object)
    failed = Signal(str, str)
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
