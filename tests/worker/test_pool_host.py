"""The window's device pool (Settings ▸ Devices at once): runs go to two CPU workers, each reported by its id."""

from __future__ import annotations

import pytest

from desktop.core.params import GenerationParams
from desktop.worker import GenerateRequest, LoadModelRequest, PoolHost

pytestmark = pytest.mark.slow  # the pool starts two processes that load torch (seconds on a busy machine)

TIMEOUT = 120_000


@pytest.fixture()
def pool_host():
    host = PoolHost(2)
    yield host
    host.shutdown()


def test_runs_spread_over_both_devices_with_their_own_steps_and_a_cancel_stops_them(qtbot, pool_host, tiny_model,
                                                                                    make_image, tmp_path):
    finished, started, steps, done, cancelled = {}, {}, [], [], []
    pool_host.finished.connect(lambda job, device, result: finished.__setitem__(job, (device, result)))
    pool_host.job_started.connect(started.__setitem__)
    pool_host.preview.connect(lambda job, image, step, total: steps.append((job, step, image.width())))
    pool_host.job_done.connect(done.append)
    pool_host.cancelled.connect(cancelled.append)
    # A model load (the window's preload) loads it on both devices at once; the window hears of it once.
    models = []
    pool_host.model_ready.connect(models.append)
    load = LoadModelRequest(str(tiny_model))
    pool_host.submit(load)
    qtbot.waitUntil(lambda: done == [load.job_id] and len(pool_host.rows) == 2
                    and all(row.state == "idle" and row.model == str(tiny_model) for row in pool_host.rows),
                    timeout=TIMEOUT)
    assert len(models) == 1 and models[0].name == str(tiny_model)
    done.clear()

    params = GenerationParams(model=str(tiny_model), prompt="ink", init_image=str(make_image(size=(64, 64))),
                              steps=4, strength=1.0)
    requests = [GenerateRequest(params.replace(seed=k), str(tmp_path / "out")) for k in range(4)]
    for request in requests:
        pool_host.submit(request)
    qtbot.waitUntil(lambda: len(done) == 4, timeout=TIMEOUT)
    assert sorted(finished) == sorted(r.job_id for r in requests)
    assert {device for device, _ in finished.values()} == {"cpu-1", "cpu-2"}  # both devices worked
    assert all(started[job] == device for job, (device, _) in finished.items())
    assert {job for job, _, _ in steps} == set(finished) and all(width > 0 for *_, width in steps)
    assert sorted(r.seed for _, r in finished.values()) == [0, 1, 2, 3]
    assert len(list((tmp_path / "out").glob("*.png"))) == 4  # saved, once each
    assert [row.state for row in pool_host.rows] == ["idle", "idle"]
    assert all(row.model == str(tiny_model) for row in pool_host.rows)

    # A pinned run waits for its device; a cancel stops both running ones within a step and drops the waiting one.
    long = [GenerateRequest(params.replace(steps=200, seed=k), str(tmp_path / "out")) for k in range(2)]
    pinned = GenerateRequest(params.replace(seed=9), str(tmp_path / "out"), slot="cpu-2")
    for request in (*long, pinned):
        pool_host.submit(request)
    qtbot.waitUntil(lambda: sum(row.state == "running" and row.step >= 1 for row in pool_host.rows) == 2,
                    timeout=TIMEOUT)
    assert pinned.job_id not in started  # both devices are busy: it waits for cpu-2
    pool_host.cancel_all()
    qtbot.waitUntil(lambda: len(done) == 7, timeout=TIMEOUT)
    assert sorted(cancelled) == sorted(r.job_id for r in (*long, pinned))
    assert max(step for job, step, _ in steps if job in (long[0].job_id, long[1].job_id)) < 100
    assert len(list((tmp_path / "out").glob("*.png"))) == 4  # nothing half-made saved
