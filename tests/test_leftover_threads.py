"""The leftover-thread check also catches a background job (a download, a scan) still running after a test."""

import threading

import pytest

from tests import conftest


def test_a_background_job_left_running_fails_the_check(qapp):
    from desktop.worker.background import BackgroundJob, running_jobs

    release = threading.Event()
    job = BackgroundJob(lambda report, cancelled: release.wait(5) or cancelled(), "left-behind")
    job.start()
    check = conftest._no_worker_thread_left.__wrapped__()
    next(check)
    release.set()
    with pytest.raises(AssertionError, match=r"background job.*BackgroundJob-left-behind"):
        next(check)
    assert not running_jobs()  # the check also stopped it, so later tests are not affected
