"""A worker host per test, stopped afterwards."""

import pytest

from desktop.worker import WorkerHost

TIMEOUT = 60_000


@pytest.fixture()
def host():
    host = WorkerHost()
    yield host
    host.shutdown()
