"""The Qt binding itself: PySide6 6.12.0 lost a reference to True on every emit() and aborted the process."""

import sys

from PySide6.QtCore import QObject, Signal


class _Sender(QObject):
    changed = Signal(object)
    text = Signal(str)


def test_signals_emitted_from_python_do_not_eat_references(qapp):
    sender = _Sender()
    received = []
    sender.changed.connect(received.append)
    sender.text.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(2000):  # a long editing session emits far more than this
        sender.changed.emit(n)
        sender.text.emit("x")
    assert len(received) == 4000
    assert sys.getrefcount(True) >= before - 10
