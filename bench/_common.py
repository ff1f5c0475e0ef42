"""Helpers shared by the benchmarks: environment, temp folders, the tiny model, an init image, statistics.

Imports nothing heavy (no torch, no Qt), so a benchmark can use it before it starts measuring imports.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup_env() -> None:
    """Headless Qt, no network; call before importing Qt or the app."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")


# Appended to a child script that defines ``app``, ``window`` and ``after_first_paint()``: shows the window and calls
# after_first_paint once the first paint event has been handled.
SHOW_THEN_AFTER_FIRST_PAINT = """
from PySide6.QtCore import QEvent, QObject, QTimer


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
            self.done = True
            QTimer.singleShot(0, after_first_paint)
        return False


painted = FirstPaint()
app.installEventFilter(painted)
window.show()
app.exec()
"""


def temp_dir() -> tempfile.TemporaryDirectory:
    """A temp folder for models, data dirs and outputs, removed when the ``with`` block ends."""
    return tempfile.TemporaryDirectory(prefix="restyle-bench-")


def write_init_png(path: Path, size: int, seed: int = 0) -> Path:
    """A size×size RGB noise PNG (PIL only, so no numpy/torch import in the measuring process)."""
    from PIL import Image

    data = random.Random(seed).randbytes(size * size * 3)
    Image.frombytes("RGB", (size, size), data).save(path)
    return path


def build_tiny(folder: Path, *, in_subprocess: bool = False) -> Path:
    """Save the tiny random SD 1.x model at ``folder``.

    ``in_subprocess`` keeps torch/diffusers out of this process (for benchmarks that measure first imports).
    """
    if not in_subprocess:
        from desktop.testing.tiny import build_tiny_sd

        return build_tiny_sd(folder)
    code = "import sys; from desktop.testing.tiny import build_tiny_sd; build_tiny_sd(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else ''."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _proc_stat() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / tick, sum(fields) / tick


def cpu_busy(seconds: float = 1.0) -> float:
    """Fraction of all CPU time spent busy (by anything) over the next ``seconds``."""
    try:
        busy0, total0 = _proc_stat()
        time.sleep(seconds)
        busy1, total1 = _proc_stat()
    except (OSError, ValueError, IndexError):
        return 0.0
    return (busy1 - busy0) / max(total1 - total0, 1e-9)


class OtherLoad:
    """How much of the machine's CPU other processes used between ``__init__`` and ``fraction()``."""

    def __init__(self):
        self._start = (_proc_stat(), self._own())

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def fraction(self) -> float:
        (busy0, total0), own0 = self._start
        busy1, total1 = _proc_stat()
        return max(0.0, (busy1 - busy0) - (self._own() - own0)) / max(total1 - total0, 1e-9)


def print_machine() -> float:
    """One line about the machine and how busy it is now; warns when other work would make timings noisy."""
    busy = cpu_busy()
    print(f"machine: {cpu_model() or 'unknown CPU'}, {os.cpu_count()} cores; CPU busy before start {busy:.0%}")
    if busy > 0.1:
        print("warning: something else is using the CPU; timings are noisy. Rerun when the machine is idle.")
    return busy


def verdict(label: str, value: float, target: float, unit: str = "") -> bool:
    """Print "label VALUE (target <= TARGET): PASS/FAIL" and return whether it passed."""
    ok = value <= target
    fmt = "{:.3f}" if unit.strip() in ("x", "s") else "{:.1f}"
    shown = (fmt.format(value) + unit, fmt.format(target) + unit)
    print(f"{label} {shown[0]} (target <= {shown[1]}): {'PASS' if ok else 'FAIL'}")
    return ok


def wait_for(signal, failed, timeout_s: float = 600.0):
    """Run a Qt event loop until ``signal`` fires; return its arguments. ``failed`` firing raises."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, got = QEventLoop(), {}

    def done(*args):
        got["args"] = args
        loop.quit()

    def fail(*args):  # the worker's (job id, kind, message) or a background job's (kind, message)
        kind, message = args[-2:]
        got["error"] = f"{kind}: {message}"
        loop.quit()

    signal.connect(done)
    failed.connect(fail)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)
    failed.disconnect(fail)
    if "error" in got:
        raise RuntimeError(got["error"])
    if "args" not in got:
        raise TimeoutError(f"no signal within {timeout_s} s")
    return got["args"]
