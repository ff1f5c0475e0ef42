"""Fixtures of the session tests: a recording host instead of the worker, and a session on it."""

import pytest

from desktop.model.session import SessionModel
from desktop.model.settings import Settings

from .recording_host import RecordingHost


@pytest.fixture()
def host():
    return RecordingHost()


@pytest.fixture()
def model(qapp, data_dir, host):
    return SessionModel(Settings(data_dir, default_output_dir=data_dir / "out"), host)
