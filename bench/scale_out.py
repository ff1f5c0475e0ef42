"""Scale-out: a 16-picture folder on 1 vs 2 local workers, and on 1 vs 2 Ray actors. Target: speed-up >= 1.7.

Every configuration restyles the same folder (PICTURES noise PNGs of SIZE×SIZE) with the tiny random SD 1.x model
(desktop.testing.tiny), img2img, STEPS steps at strength 1, seed 1, into a fresh output folder, through the same
code as ``restyle batch --workers N`` / ``--cluster``: ``cluster.batch.run_batch_on_pool``, which packs each file,
dispatches it to a free device, saves the PNG here and records it in the manifest. The clock runs from the first
file dispatched to the last PNG recorded; the devices are started and warmed up first (each has loaded the model
and run one picture), since start-up is paid once per batch, not per picture.

- local: ``LocalPool(N)`` worker processes. By default each gets cores // N torch threads (what ``--workers`` does);
  ``--threads T`` fixes it instead (on a 2-core machine, 1 worker × 2 threads of a tiny model is mostly OpenMP
  threads spinning against each other, so 1 × 1 is the fairer baseline there: both are printed).
- ray: a local Ray cluster (``ray.init(num_cpus=cores, resources={"restyle_slot": 2})``) and ``RayPool(N)``,
  one thread per actor; skipped when Ray is not installed.

First it measures the machine's own ceiling: two processes each running the same pure-Python loop, against
one (2.00× on two free cores). Each run also prints the CPU seconds per picture used by this process and everything
it started (psutil), and the share of the machine other processes used meanwhile: on a shared machine two workers
also win a bigger share of the cores from the others, so a wall-clock speed-up there can exceed the number of
workers; the CPU seconds per picture show whether the work itself grew.

With ``--window`` it measures the window instead: File ▸ Restyle a folder… on Devices at once: One (the window's
own engine) and on 2 (two CPU workers, desktop/worker/pool_host.py), each warmed up first with a batch of one run
per device; the clock runs from the folder queued to its summary, and the UI thread's CPU seconds are printed
beside the wall time. On 2 devices it also prints how long a device sits idle between two runs: from its result
reaching the pool's thread to its next job going out (``--pool-only`` runs just that configuration).

    .venv/bin/python bench/scale_out.py [--pictures 16] [--size 128] [--steps 20] [--threads T] [--no-ray]
    .venv/bin/python bench/scale_out.py --window [--pictures 16] [--size 128] [--steps 20] [--pool-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from _common import _proc_stat, build_tiny, print_machine, setup_env, temp_dir, write_init_png

TARGET = 1.7
BURN_LOOPS = 20_000_000


def _burn(loops: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i * i
    return time.perf_counter() - started


def machine_parallelism() -> float:
    """How much faster two processes do two equal pure-Python loops than one process does one of them, ×2:
    2.0 on two free cores. The ceiling for any two-device speed-up on this machine right now."""
    import multiprocessing

    one = _burn(BURN_LOOPS)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        started = time.perf_counter()
        pool.map(_burn, [BURN_LOOPS, BURN_LOOPS])
        two = time.perf_counter() - started
    return 2 * one / two


def _tree_cpu() -> float:
    """CPU seconds used so far by this process and everything it started (workers, the fork server, Ray)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _timed_batch(pool, folder: Path, out: Path, params) -> tuple[float, float, float, dict]:
    """Seconds for the whole folder on ``pool``, our CPU seconds, other processes' CPU share, and who did what."""
    from desktop.cluster.batch import run_batch_on_pool

    shutil.rmtree(out, ignore_errors=True)
    (busy0, total0), ours0 = _proc_stat(), _tree_cpu()
    started = time.perf_counter()
    report = run_batch_on_pool(pool, folder, out, params)
    elapsed = time.perf_counter() - started
    (busy1, total1), ours = _proc_stat(), _tree_cpu() - ours0
    other = max(0.0, (busy1 - busy0) - ours) / max(total1 - total0, 1e-9)
    assert len(report.done) == len(list(folder.glob("*.png"))), report.summary()
    return elapsed, ours, other, report.devices


def _warm(pool, params, image: Path) -> None:
    """Start every device and have each load the model and make one picture."""
    from desktop.cluster.dispatch import run_jobs, wait_ready
    from desktop.cluster.owner import pack_job

    wait_ready(pool)
    jobs = [pack_job(f"warm-{s.id}", params.replace(init_image=str(image)), device=s.id) for s in pool.slots]
    run_jobs(pool, jobs, lambda event: None)


def _run(label: str, make_pool, folder: Path, out: Path, params) -> float:
    pool = make_pool()
    try:
        _warm(pool, params, next(folder.glob("*.png")))
        seconds, ours, other, devices = _timed_batch(pool, folder, out, params)
    finally:
        pool.close()
    shares = {d: list(devices.values()).count(d) for d in sorted(set(devices.values()))}
    print(f"{label}: {seconds:.2f} s for {len(devices)} pictures ({seconds / len(devices):.3f} s each; "
          f"{ours / len(devices):.3f} CPU-s each); other processes used {other:.0%} of the machine meanwhile; "
          f"files per device {shares}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pictures", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch threads per local worker (default: cores // workers)")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--window", action="store_true", help="the window's queue on 1 vs 2 devices instead")
    parser.add_argument("--pool-only", action="store_true", help="with --window: only on 2 devices")
    args = parser.parse_args()
    setup_env()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print_machine()
    ceiling = machine_parallelism()
    print(f"this machine now runs two CPU-bound processes {ceiling:.2f}× as fast as one (2.00 = two free cores): "
          "the ceiling of any speed-up below")
    if args.window:
        return _window_figures(args)
    from desktop.cluster.local_pool import LocalPool
    from desktop.core.params import GenerationParams

    ok = True
    with temp_dir() as tmp:
        root = Path(tmp)
        model, folder = _model_and_folder(root, args)
        params = GenerationParams(model=str(model), prompt="an etching", strength=1.0, steps=args.steps, seed=1)
        print(f"{args.pictures} pictures of {args.size}×{args.size}, {args.steps} steps, tiny SD 1.x, CPU")

        first = f"1 local worker × {args.threads} thread(s)" if args.threads else "1 local worker, all cores (default)"
        baselines = [(first, None)]
        if args.threads is None and (os.cpu_count() or 1) > 1:
            baselines.append(("1 local worker × 1 thread", 1))
        one = {label: _run(label, lambda t=t: LocalPool(1, threads=args.threads or t), folder, root / "out", params)
               for label, t in baselines}
        second = f"2 local workers × {args.threads} thread(s)" if args.threads else "2 local workers, cores split"
        two = _run(second, lambda: LocalPool(2, threads=args.threads), folder, root / "out", params)
        for label, seconds in one.items():
            speedup = seconds / two
            print(f"speed-up, 2 local workers over {label}: {speedup:.2f}× (target >= {TARGET})")
        ok &= min(one.values()) / two >= TARGET

        if not args.no_ray:
            ok &= _ray_figures(root, folder, params)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _ray_figures(root: Path, folder: Path, params) -> bool:
    try:
        import ray
    except ImportError:
        print("ray: not installed (pip install -e '.[cluster]'); skipped")
        return True
    from desktop.cluster.connect import actor_env
    from desktop.cluster.ray_pool import SLOT_RESOURCE, RayPool
    from desktop.core.cluster_address import parse_address

    ray.init(num_cpus=os.cpu_count(), resources={SLOT_RESOURCE: 2}, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": actor_env(parse_address("auto"))})
    try:
        one = _run("1 Ray actor", lambda: RayPool(1), folder, root / "out", params)
        two = _run("2 Ray actors", lambda: RayPool(2), folder, root / "out", params)  # the first one, and one more
    finally:
        ray.shutdown()
    speedup = one / two
    print(f"speed-up, 2 Ray actors over 1: {speedup:.2f}× (target >= {TARGET})")
    return speedup >= TARGET


def _model_and_folder(root: Path, args) -> tuple[Path, Path]:
    """The tiny model and the folder of noise pictures every configuration restyles."""
    model = build_tiny(root / "tiny", in_subprocess=True)
    folder = root / "in"
    folder.mkdir()
    for k in range(args.pictures):
        write_init_png(folder / f"pic{k:02d}.png", args.size, seed=k)
    return model, folder


def _window_figures(args) -> int:
    """A folder queued in the window (File ▸ Restyle a folder…) on Devices at once: One, then on Devices at once: 2."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    seconds = {}
    with temp_dir() as tmp:
        root = Path(tmp)
        model, folder = _model_and_folder(root, args)
        print(f"{args.pictures} pictures of {args.size}×{args.size}, {args.steps} steps, tiny SD 1.x, CPU, "
              "in the window")
        for workers in (2,) if args.pool_only else (1, 2):
            seconds[workers] = _window_run(app, args, root, model, folder, workers)
    if args.pool_only:
        return 0
    speedup = seconds[1] / seconds[2]
    print(f"speed-up, the window's queue on 2 devices over 1: {speedup:.2f}× (target >= {TARGET})")
    print("PASS" if speedup >= TARGET else "FAIL")
    return 0 if speedup >= TARGET else 1


def _window_run(app, args, root: Path, model: Path, folder: Path, workers: int) -> float:
    """One window on ``workers`` devices restyles the folder; returns the wall seconds it took."""
    from desktop.app import build_main_window
    from desktop.model.settings import Settings

    data = root / f"data-{workers}"
    data.mkdir()
    settings = Settings(data)
    settings.device_workers = workers
    settings.sync()
    window = build_main_window(["--model", str(model)], data_dir=data)
    window.show()
    session = window.model
    session.update_params(prompt="an etching", strength=1.0, steps=args.steps, seed=1)
    session.load_init_image(next(folder.glob("*.png")))

    def idle() -> bool:
        return session.phase.value == "idle" and not session.jobs.queue.jobs

    gaps = DeviceGaps()
    _settle(app, lambda: session.jobs.enqueue_batch(workers), idle)  # every device starts and loads
    gaps.start()
    summaries = []
    session.jobs.folder_summary_changed.connect(summaries.append)
    (busy0, total0), ours0 = _proc_stat(), _tree_cpu()
    ui0, wall0 = time.thread_time(), time.perf_counter()
    _settle(app, lambda: session.jobs.enqueue_folder(folder), lambda: bool(summaries) and idle())
    wall, ui = time.perf_counter() - wall0, time.thread_time() - ui0
    (busy1, total1), ours = _proc_stat(), _tree_cpu() - ours0
    other = max(0.0, (busy1 - busy0) - ours) / max(total1 - total0, 1e-9)
    made = sum(n.kind == "generation" for n in session.history.tree) - workers
    gaps.stop()
    window.close()
    assert made == args.pictures, f"{made} of {args.pictures} made"
    print(f"Devices: {workers}: {wall:.2f} s for {made} pictures ({wall / made:.3f} s each; {ours / made:.3f} "
          f"CPU-s each, all processes); UI thread {ui:.2f} CPU-s ({ui / made * 1000:.0f} ms a picture); "
          f"other processes used {other:.0%} of the machine meanwhile")
    if gaps.gaps:
        print(f"  a device idle between two runs: {_spread(gaps.gaps)} ({len(gaps.gaps)} gaps, from its result "
              f"reaching the pool's thread to its next job going out); of which saving the result into the history "
              f"{_spread(gaps.saves)}, the pool's thread taking the window's next request {_spread(gaps.pickups)}")
    return wall


def _spread(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"median {ms[len(ms) // 2]:.1f} ms, largest {ms[-1]:.1f} ms"


class DeviceGaps:
    """Each device's wait between runs, timed on the pool's thread by wrapping LocalPool's next_event and submit; and
    two parts of it: saving the result (inference.save_finished, on the pool's thread), and from the window's request
    (PoolHost.submit) to the job going out. The rest is the window's: the result shown, the next job started."""

    def __init__(self):
        from desktop.cluster.events import ERROR, RESULT
        from desktop.cluster.local_pool import LocalPool
        from desktop.worker import inference
        from desktop.worker.pool_host import PoolHost

        self.gaps: list[float] = []
        self.saves: list[float] = []
        self.pickups: list[float] = []
        self._ended: dict[str, float] = {}  # slot id -> when its last run's outcome arrived
        self._requested: list[float] = []  # when the window sent the requests not yet gone out
        self._original = LocalPool.next_event, LocalPool.submit, PoolHost.submit, inference.save_finished
        next_event, submit, request, save = self._original

        def timed_next_event(pool, timeout=0.1):
            event = next_event(pool, timeout)
            if event is not None and event.kind in (RESULT, ERROR):
                self._ended[event.slot] = time.perf_counter()
            return event

        def timed_submit(pool, slot, job):
            ended, now = self._ended.pop(slot.id, None), time.perf_counter()
            if ended is not None:
                self.gaps.append(now - ended)
                if self._requested:
                    self.pickups.append(now - self._requested[0])
            if self._requested:
                self._requested.pop(0)
            submit(pool, slot, job)

        def timed_request(host, sent):
            self._requested.append(time.perf_counter())
            request(host, sent)

        def timed_save(*args, **kwargs):
            started = time.perf_counter()
            try:
                return save(*args, **kwargs)
            finally:
                self.saves.append(time.perf_counter() - started)

        self._timed = timed_next_event, timed_submit, timed_request, timed_save

    def start(self) -> None:
        """Time from now on (the warm-up's runs are not counted)."""
        from desktop.cluster.local_pool import LocalPool
        from desktop.worker import inference
        from desktop.worker.pool_host import PoolHost

        LocalPool.next_event, LocalPool.submit, PoolHost.submit, inference.save_finished = self._timed

    def stop(self) -> None:
        """Put what ``start`` wrapped back as it was."""
        from desktop.cluster.local_pool import LocalPool
        from desktop.worker import inference
        from desktop.worker.pool_host import PoolHost

        LocalPool.next_event, LocalPool.submit, PoolHost.submit, inference.save_finished = self._original


def _settle(app, start, done, timeout_s: float = 900.0) -> None:
    """Start something in the queue and run the event loop until ``done()``."""
    assert start() is not False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
        if done():
            return
    raise TimeoutError("the queue did not finish")


if __name__ == "__main__":
    sys.exit(main())
