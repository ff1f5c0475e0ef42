"""Run on a Ray cluster, without widgets or Ray: the choice reaches the worker, and a cluster that goes away
pauses the queue with its run kept (the worker is played by hand)."""

from __future__ import annotations

import importlib.util

import pytest

from desktop.model.settings import Settings
from desktop.worker import EngineOptionsRequest

from .test_queue import _runs, model  # noqa: F401 - the queue tests' session, with an init image and a model


def test_a_cluster_that_goes_away_pauses_the_queue_with_the_run_kept(model, host):  # noqa: F811
    assert model.jobs.enqueue_batch(3)
    first = _runs(host)[0]
    statuses = []
    model.status_changed.connect(statuses.append)
    host.worker.failed.emit(first.job_id, "unavailable", "The Ray cluster at gpu-box:6379 went away.")
    host.worker.job_done.emit(first.job_id)
    queue = model.jobs.queue
    assert queue.paused and len(_runs(host)) == 1  # nothing else was sent to a cluster that is gone
    assert [j.state for j in queue.jobs] == ["waiting"] * 3  # the run is kept, not failed
    assert any("Ray cluster went away" in line and "this computer" in line for line in statuses)
    model.jobs.resume()  # e.g. after choosing Run on: this computer
    assert len(_runs(host)) == 2 and _runs(host)[1].params.seed == first.params.seed  # the kept run goes first


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: a cluster is refused")
def test_the_cluster_choice_is_kept_and_reaches_the_worker(model, host, data_dir, monkeypatch, tmp_path):  # noqa: F811
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    errors = []
    model.devices.error_raised.connect(lambda kind, message: errors.append(message))
    assert not model.devices.set_cluster("198.51.100.4:6379")  # another machine, and no token here
    assert "without a token" in errors[-1] and Settings(data_dir).cluster_address == ""
    assert model.devices.set_cluster("auto")
    options = [r for r in host.requests if isinstance(r, EngineOptionsRequest)]
    assert options[-1].cluster == "auto" and Settings(data_dir).cluster_address == "auto"
    assert model.devices.set_cluster("")  # back to this computer
    options = [r for r in host.requests if isinstance(r, EngineOptionsRequest)]
    assert options[-1].cluster == "" and Settings(data_dir).cluster_address == ""
