"""UI-thread stalls while the worker loads a model and generates. Target: largest heartbeat gap <= 50 ms.

A fresh process builds the real main window (``build_main_window(["--model", TINY, INIT_PNG])``, offscreen)
with torch and diffusers not yet imported (the tiny model is built in a subprocess), starts a 10 ms
precise QTimer on the UI thread that records ``time.perf_counter()`` at every tick, and shows the window:

- load phase: from ``show()`` until the model is ready; the window's preload imports torch, diffusers and
  transformers on the worker thread and loads the model there;
- generation phase: ``model.generate()`` (SIZE×SIZE img2img, STEPS steps, strength 1, previews every step,
  PNG saved) until ``result_ready``.

For each phase: the number of ticks and the largest, 99th-percentile and median gap between ticks; then the
largest gaps, each with the worker's last status/step before it and the CPU the UI thread itself used inside
it (little CPU in a long gap means the UI thread was waiting for the GIL, not working).

The worker imports the engine through ``desktop.worker.quiet_imports`` (libtorch loaded first with the GIL
released, no garbage collection and a 1 ms switch interval while importing), built from what these options
found. Diagnostic options (the default run uses none of them):
  --plain-import        import the engine with a plain ``import`` instead, as before quiet_imports existed;
  --trace               record imports on the worker thread and every garbage collection, and name the
                        import chain and any collection under way during each large gap;
  --switch-interval S   sys.setswitchinterval(S): stalls from Python bytecode shrink, C code holding the
                        GIL does not;
  --no-gc-during-load   gc.disable() from show() until the model is ready, then gc.freeze() + gc.enable();
  --preload-libtorch    load torch's libtorch_cpu.so (ctypes.CDLL, on the UI thread) before the heartbeat
                        starts, as if that part of ``import torch`` had already happened.

    .venv/bin/python bench/ui_stall.py [--steps 20] [--size 256] [--trace] [--plain-import] ...
"""

from __future__ import annotations

import argparse
import builtins
import gc
import itertools
import sys
import threading
import time
from pathlib import Path

from _common import (
    OtherLoad,
    build_tiny,
    median,
    percentile,
    print_machine,
    setup_env,
    temp_dir,
    verdict,
    write_init_png,
)

TARGET_MS = 50.0
HEAVY = ("torch", "diffusers", "transformers")


class WorkerTrace:
    """Records imports on non-main threads (by wrapping ``builtins.__import__``) and every garbage collection.

    Lazy ``importlib.import_module`` calls (diffusers' lazy modules) are not seen, only import statements.
    """

    def __init__(self, min_s: float = 0.001):
        self.imports: list[tuple[float, float, int, str]] = []  # start, end, depth, module
        self.collections: list[tuple[float, float, int, str]] = []  # start, end, generation, thread
        self._min_s, self._local, self._original = min_s, threading.local(), builtins.__import__
        self._main = threading.main_thread().ident
        self._gc_started = 0.0

    def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
        if threading.get_ident() == self._main:
            return self._original(name, globals, locals, fromlist, level)
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        started = time.perf_counter()
        try:
            return self._original(name, globals, locals, fromlist, level)
        finally:
            self._local.depth = depth
            ended = time.perf_counter()
            if ended - started >= self._min_s:
                package = (globals or {}).get("__package__") or ""
                full = name if not level else f"{package.rsplit('.', level - 1)[0]}.{name}".strip(".")
                self.imports.append((started, ended, depth, full))

    def _gc(self, phase, info) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._gc_started = now
        elif now - self._gc_started >= self._min_s:
            thread = "UI" if threading.get_ident() == self._main else "worker"
            self.collections.append((self._gc_started, now, info["generation"], thread))

    def install(self) -> None:
        builtins.__import__ = self
        gc.callbacks.append(self._gc)

    def uninstall(self) -> None:
        builtins.__import__ = self._original
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    def during(self, start: float, end: float) -> str:
        """What the worker was inside during [start, end]: the import chain, and any garbage collection."""
        covering = sorted((e for e in self.imports if e[0] <= start and e[1] >= end), key=lambda e: e[2])
        text = "importing " + (" > ".join(e[3] for e in covering[-4:]) if covering else "nothing")
        for began, ended, generation, thread in self.collections:
            overlap = min(end, ended) - max(start, began)
            if overlap > 0:
                text += f"; gen-{generation} GC on {thread} thread, {overlap * 1000:.0f} ms of it"
        return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=256, help="init image side and the size the run uses")
    parser.add_argument("--interval", type=int, default=10, help="heartbeat period in ms")
    parser.add_argument("--trace", action="store_true", help="attribute gaps to worker imports and GC runs")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval in seconds (Python: 0.005)")
    parser.add_argument("--plain-import", action="store_true",
                        help="bypass desktop.worker.quiet_imports: a plain import of the engine on the worker")
    parser.add_argument("--no-gc-during-load", action="store_true",
                        help="experiment: gc.disable() from show() until the model is ready, then gc.freeze()")
    parser.add_argument("--preload-libtorch", action="store_true",
                        help="experiment: load libtorch_cpu.so before the heartbeat starts")
    parser.add_argument("--top", type=int, default=8, help="how many of the largest gaps to describe")
    args = parser.parse_args()
    setup_env()
    print_machine()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    print(f"switch interval {sys.getswitchinterval() * 1000:.1f} ms")

    with temp_dir() as tmp_name:
        tmp = Path(tmp_name)
        tiny = str(build_tiny(tmp / "tiny", in_subprocess=True))
        init_png = str(write_init_png(tmp / "init.png", args.size))

        from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, Qt, QTimer

        from desktop.app import build_main_window, ensure_application
        from desktop.worker import WorkerHost

        ensure_application()
        if args.plain_import:
            from desktop.worker import quiet_imports

            def plain_import():
                from desktop.engine.runner import Engine

                return Engine

            quiet_imports.import_engine = plain_import
        window = build_main_window(["--model", tiny, init_png], data_dir=tmp / "data")
        model = window.model
        if args.preload_libtorch:
            import ctypes
            import importlib.util

            torch_dir = Path(importlib.util.find_spec("torch").submodule_search_locations[0])
            ctypes.CDLL(str(torch_dir / "lib" / "libtorch_cpu.so"), mode=ctypes.RTLD_GLOBAL)
        loaded = [m for m in HEAVY if m in sys.modules]
        assert not loaded, f"{loaded} imported before the heartbeat started"
        timeline = WorkerTrace()
        if args.trace:
            timeline.install()

        # Worker-side events, recorded on the worker thread itself (direct connections).
        events: list[tuple[float, str]] = []
        direct = Qt.ConnectionType.DirectConnection
        worker = window.findChild(WorkerHost).worker
        worker.status.connect(lambda m: events.append((time.perf_counter(), f"status {m!r}")), direct)
        worker.progress.connect(lambda s, n, e: events.append((time.perf_counter(), f"step {s}/{n} done")), direct)
        worker.finished.connect(lambda r: events.append((time.perf_counter(), "finished emitted")), direct)

        beats: list[tuple[float, float]] = []  # (perf_counter, UI thread CPU time)
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(lambda: beats.append((time.perf_counter(), time.thread_time())))

        def wait(signal) -> None:
            loop = QEventLoop()

            def error(kind, message):
                print(f"error: {kind}: {message}")
                loop.quit()

            signal.connect(loop.quit)
            model.error_raised.connect(error)
            loop.exec()
            signal.disconnect(loop.quit)
            model.error_raised.disconnect(error)

        marks = {}
        others = OtherLoad()
        timer.start(args.interval)
        beats.append((time.perf_counter(), time.thread_time()))
        marks["load"] = time.perf_counter()
        if args.no_gc_during_load:
            gc.disable()
        window.show()
        wait(model.model_info_changed)
        if args.no_gc_during_load:
            gc.freeze()  # the imported modules' objects skip later collections (else the first one stalls)
            gc.enable()
        marks["generate"] = time.perf_counter()
        model.update_params(prompt="an oil painting of a harbour", steps=args.steps, seed=1, strength=1.0,
                            width=args.size, height=args.size)
        model.generate()
        wait(model.result_ready)
        marks["end"] = time.perf_counter()
        timer.stop()
        timeline.uninstall()
        result = model.last_result
        window.close()  # stops the worker thread
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # delete it before interpreter exit

    if result is None:
        print("the generation did not finish")
        return 1
    print(f"load phase {marks['generate'] - marks['load']:.2f} s; generation phase "
          f"{marks['end'] - marks['generate']:.2f} s ({result.steps_run} steps, {result.image.width}×"
          f"{result.image.height}, PNG saved); other processes used {others.fraction():.0%} of the CPU meanwhile")
    gaps = [(b[0], b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(beats)]  # (end, gap, UI CPU)
    phases = {
        "load": [g for g in gaps if g[0] <= marks["generate"]],
        "generation": [g for g in gaps if g[0] > marks["generate"]],
        "total": gaps,
    }
    for name, chosen in phases.items():
        ms = [g[1] * 1000 for g in chosen]
        print(f"{name:>10}: {len(ms):5d} ticks, largest {max(ms):7.1f} ms, p99 {percentile(ms, 99):6.1f} ms, "
              f"p50 {median(ms):5.1f} ms, {sum(m > TARGET_MS for m in ms)} over {TARGET_MS:.0f} ms")

    print(f"largest {args.top} gaps (t from show(); UI CPU = CPU the UI thread used inside the gap):")
    for end, gap, cpu in sorted(gaps, key=lambda g: -g[1])[: args.top]:
        start = end - gap
        phase = "load" if end <= marks["generate"] else "gen"
        before = [label for t, label in events if t <= start]
        line = (f"  {gap * 1000:7.1f} ms at t={start - marks['load']:6.2f} s ({phase}), UI CPU {cpu * 1000:5.1f} ms, "
                f"worker after: {before[-1] if before else 'nothing reported yet'}")
        if args.trace:
            line += f"; {timeline.during(start, end)}"
        print(line)
    return 0 if verdict("largest UI gap", max(g[1] for g in gaps) * 1000, TARGET_MS, " ms") else 1


if __name__ == "__main__":
    sys.exit(main())
