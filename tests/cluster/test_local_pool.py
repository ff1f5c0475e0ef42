"""Several devices on this computer: `restyle batch --workers N` and the local pool of worker processes.

The CPU workers stand in for GPUs here (each gets its share of the cores); they run the real engine on the tiny
model, in processes of their own, as a workstation's cards would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop.cli.main import main
from desktop.cluster.batch import run_batch_on_pool
from desktop.cluster.events import STEP
from desktop.cluster.local_pool import LocalPool
from desktop.cluster.pool_engine import PoolEngine
from desktop.core.batch import MANIFEST_NAME, Manifest
from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.params import GenerationParams

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # each pool starts processes that load torch (seconds on a busy 2-core machine)


@pytest.fixture()
def folder(make_folder):
    in_dir = make_folder(4)
    (in_dir / "notes.txt").write_text("not a picture")
    return in_dir


@pytest.fixture(scope="module")
def pool():
    pool = LocalPool(2)
    yield pool
    pool.close()


def _args(tiny_model, in_dir, out_dir, data_dir, *extra):
    return ["batch", str(in_dir), str(out_dir), "--model", str(tiny_model), "--prompt", "etching", "--steps", "4",
            "--strength", "0.5", "--seed", "3", "--data-dir", str(data_dir), *extra]


def test_two_workers_restyle_every_file_once_with_the_pixels_of_one(tiny_model, folder, tmp_path, data_dir, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(_args(tiny_model, folder, one, data_dir)) == 0
    capsys.readouterr()
    assert main(_args(tiny_model, folder, two, data_dir, "--workers", "2")) == 0
    captured = capsys.readouterr()
    assert "4 restyled" in captured.out and "1 not images" in captured.out
    assert "done on CPU worker 1" in captured.err and "done on CPU worker 2" in captured.err  # both worked
    names = sorted(p.name for p in two.glob("*.png"))
    assert names == ["p0.png", "p1.png", "p2.png", "p3.png"]
    assert sorted(Manifest(two / MANIFEST_NAME).files) == names  # each recorded once
    for name in names:  # the same pictures and metadata as one device makes
        assert (two / name).read_bytes() == (one / name).read_bytes()
    parsed = parse_parameters_text(read_parameters(two / "p1.png"))
    assert parsed.prompt == "etching" and parsed.get_int("Seed") == 3
    # The same command again finds everything done.
    assert main(_args(tiny_model, folder, two, data_dir, "--workers", "2")) == 0
    assert "4 already done" in capsys.readouterr().out


def test_previews_stream_and_cancel_stops_within_a_step(pool, tiny_model, make_image):
    engine = PoolEngine(pool)
    if True:
        params = GenerationParams(model=str(tiny_model), prompt="ink", init_image=str(make_image(size=(64, 64))),
                                  steps=5, strength=1.0, seed=2)
        steps = []
        result = engine.generate(params, on_step=steps.append)
        assert [s.step for s in steps] == list(range(1, steps[-1].total + 1)) and steps[-1].total >= 5
        assert steps[0].preview.shape[2] == 3  # a picture at every step
        assert result.params.init_image == params.init_image  # this computer's path, as a local run records
        assert result.latents is not None and engine.model_info.name == str(tiny_model)

        seen = []

        def cancel_after_two(step):
            seen.append(step.step)

        with pytest.raises(RestyleError) as error:
            engine.generate(params.replace(steps=40), on_step=cancel_after_two, cancelled=lambda: len(seen) >= 2)
        assert error.value.kind is ErrorKind.CANCELLED
        assert max(seen) <= 3  # within one step of asking
        assert engine.generate(params, on_step=None).image.size == (64, 64)  # the worker goes on


def test_a_worker_killed_mid_file_has_that_file_done_on_the_other(pool, tiny_model, folder, tmp_path):
    killed: list[str] = []

    class KillFirstStep:  # the pool as the batch sees it, but worker 1 dies at its first step
        def __getattr__(self, name):
            return getattr(pool, name)

        def next_event(self, timeout=0.1):
            event = pool.next_event(timeout)
            if event is not None and event.kind == STEP and event.slot == "cpu-1" and not killed:
                slot = next(s for s in pool.slots if s.id == "cpu-1")
                killed.append(event.job_id)
                os.kill(slot.info["pid"], signal.SIGKILL)
            return event

    lines: list[str] = []
    params = GenerationParams(model=str(tiny_model), prompt="ink", steps=6, strength=1.0, seed=9)
    report = run_batch_on_pool(KillFirstStep(), folder, tmp_path / "out", params, status=lines.append)
    assert killed, "worker 1 never ran a step"
    assert sorted(report.done) == ["p0.png", "p1.png", "p2.png", "p3.png"]  # each once, none lost
    killed_file = f"p{int(killed[0]) - 1}.png"  # the batch numbers its jobs 1, 2, … in file order
    assert report.devices[killed_file] == "CPU worker 2 (1 thread)"  # redone on the worker still alive
    redone = [line for line in lines if "is done again on another device" in line]
    assert len(redone) == 1 and "CPU worker 1" in redone[0]
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    assert [s.id for s in pool.slots] == ["cpu-2"]


def test_a_wake_ends_the_wait_for_the_devices_at_once(pool):
    # The window's next job goes out as soon as it is sent, not when the pool's thread stops waiting for reports.
    while pool.next_event(0.05) is not None:  # whatever the devices still had to say
        pass
    threading.Timer(0.2, pool.wake).start()
    started = time.monotonic()
    assert pool.next_event(timeout=30) is None
    assert time.monotonic() - started < 10


def test_a_closed_pool_leaves_no_semaphore_behind_even_when_its_process_then_exits_at_once():
    # The window leaves with os._exit (--exit-when-shown, a model preload under way), which skips the interpreter's
    # clean-up: what the pool held must already be freed by close(), or the resource tracker reports it leaked.
    code = ("import os\nfrom desktop.cluster.local_pool import LocalPool\n"
            "LocalPool(2, device='cpu').close()\nprint('closed', flush=True)\nos._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0 and out.stdout.strip() == "closed", out.stderr[-2000:]
    assert "leaked" not in out.stderr, out.stderr[-2000:]
