"""The session tests' stand-in worker has exactly the real worker's signals (names and argument types)."""

from PySide6.QtCore import QMetaMethod

from desktop.worker.host import WorkerHost
from desktop.worker.inference import InferenceWorker
from desktop.worker.pool_host import PoolHost

from .recording_host import RecordingHost, RecordingPoolHost, _Worker


def _signals(cls) -> set[str]:
    meta = cls.staticMetaObject
    return {bytes(meta.method(i).methodSignature()).decode() for i in range(meta.methodOffset(), meta.methodCount())
            if meta.method(i).methodType() == QMetaMethod.MethodType.Signal}


def test_the_recording_worker_has_the_real_workers_signals():
    real = _signals(InferenceWorker)
    assert "failed(int,QString,QString)" in real  # failed carries the job id, like cancelled and job_done
    assert _signals(_Worker) == real


def test_the_recording_host_has_the_methods_the_session_calls():
    for name in ("submit", "cancel_all"):
        assert callable(getattr(RecordingHost(), name)) and callable(getattr(WorkerHost, name))


def test_the_recording_pool_host_has_the_real_pool_hosts_signals_and_methods():
    assert _signals(RecordingPoolHost) == _signals(PoolHost)
    for name in ("submit", "cancel_all", "shutdown"):
        assert callable(getattr(PoolHost, name))
