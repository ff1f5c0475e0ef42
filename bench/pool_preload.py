"""Devices at once: 2: how long after the window shows each device has the model, and the first batch's time.

The window opens with the tiny random SD 1.x model on two CPU workers (Settings ▸ Devices at once: 2) and preloads
it. Printed per window: the seconds from ``window.show()`` to the model reported ready (the window's own load), to
each device holding the model (idle with it, or a run of it past its first step), and the wall time of a batch of
one run per device sent the moment the model is reported ready (an artist who waits for "loaded", then presses
Generate batch), with the UI thread's CPU seconds beside it. The first window also starts the fork server that
imports torch once (seconds): it is printed apart, as a warm-up.

    PYTHONPATH=. .venv/bin/python bench/pool_preload.py [--windows 4] [--size 128] [--steps 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import build_tiny, setup_env, temp_dir, write_init_png

setup_env()


def _window(app, root: Path, model: Path, image: Path, index: int, steps: int) -> dict:
    from desktop.app import build_main_window
    from desktop.model.settings import Settings

    data = root / f"data-{index}"
    data.mkdir()
    settings = Settings(data)
    settings.device_workers = 2
    settings.sync()
    window = build_main_window(["--model", str(model), str(image)], data_dir=data)
    session = window.model
    session.update_params(prompt="an etching", strength=1.0, steps=steps, seed=1)
    figures: dict = {}
    has_model: dict[str, float] = {}

    def note_rows() -> None:
        for row in session.pool.rows:
            holds = row.model == str(model) and (row.state == "idle" or (row.state == "running" and row.step >= 1))
            if holds and row.id not in has_model:
                has_model[row.id] = time.perf_counter() - shown

    session.pool.changed.connect(note_rows)
    shown = time.perf_counter()
    window.show()
    _until(app, lambda: session.model_info is not None)
    figures["ready"] = time.perf_counter() - shown
    ui0, wall0 = time.thread_time(), time.perf_counter()
    assert session.jobs.enqueue_batch(2)
    _until(app, lambda: session.phase.value == "idle" and not session.jobs.queue.jobs
           and sum(n.kind == "generation" for n in session.history.tree) == 2)
    figures["batch"], figures["ui"] = time.perf_counter() - wall0, time.thread_time() - ui0
    figures["devices"] = dict(sorted(has_model.items()))
    window.close()
    return figures


def _until(app, done, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there")
        app.processEvents()
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with temp_dir() as tmp:
        root = Path(tmp)
        model = build_tiny(root / "tiny-sd", in_subprocess=True)
        image = write_init_png(root / "init.png", args.size)
        print(f"a batch of 2 runs of {args.size}×{args.size}, {args.steps} steps, tiny SD 1.x, 2 CPU workers")
        for index in range(args.windows):
            f = _window(app, root, model, image, index, args.steps)
            devices = ", ".join(f"{device} {seconds:.2f} s" for device, seconds in f["devices"].items())
            label = "warm-up (fork server starts)" if index == 0 else f"window {index}"
            print(f"{label}: model ready {f['ready']:.2f} s after show; each device holds it at: {devices}; "
                  f"first batch {f['batch']:.2f} s (UI thread {f['ui']:.2f} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
