"""Frozen start-up: time from launching the bundle's ``restyle`` to its main window's first paint.
Target: <= 2 s (median and max).

Needs a built bundle (packaging/build_linux.sh; or --bundle DIR). Each run launches
``DIR/restyle --exit-when-shown --data-dir TEMP`` offscreen: the app prints ``time.monotonic()`` when the
event-loop pass that handled the first paint is over (the same moment bench/startup.py uses) and exits; the time
is measured from the moment this process launched it (CLOCK_MONOTONIC, one clock for every process on Linux).
So it includes the PyInstaller bootloader, unpacking nothing (onedir), the frozen interpreter's start and the
window's imports from the bundle's archive.

- ``cold``: with --drop-caches (root on Linux) the page cache is dropped before each run, as after a reboot:
  every file the start reads comes from disk. Without it the first run is reported as "first" and is cold only
  if nothing read the bundle since it was written.
- ``warm``: RUNS further launches with the files in the page cache, the usual case of opening the app again.

A run during which other processes used more than 5% of the CPU (``--max-other-cpu``) is discarded and rerun
(up to 2 × RUNS discards).

    .venv/bin/python bench/startup_frozen.py [--bundle dist/restyle] [--runs 5] [--drop-caches]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, OtherLoad, median, print_machine, setup_env, temp_dir, verdict

TARGET_S = 2.0


def launch(exe: Path, data_dir: Path) -> float:
    """Seconds from launch to the first paint of one fresh process of the frozen app."""
    launched = time.monotonic()
    done = subprocess.run([str(exe), "--exit-when-shown", "--data-dir", str(data_dir)], check=False,
                          capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("shown at monotonic ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{exe} failed ({done.returncode}): {(done.stdout + done.stderr).strip()[-800:]}")
    return float(line.removeprefix("shown at monotonic ")) - launched


def drop_caches() -> bool:
    """Empty the page cache (Linux, root); False when not allowed."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "restyle")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drop-caches", action="store_true", help="measure cold starts too (needs root)")
    parser.add_argument("--max-other-cpu", type=float, default=0.05)
    args = parser.parse_args()
    exe = args.bundle / "restyle"
    if not exe.is_file():
        print(f"no bundle at {args.bundle}: run packaging/build_linux.sh first")
        return 2
    setup_env()
    print_machine()
    size = sum(f.stat().st_size for f in args.bundle.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"bundle: {args.bundle} ({size / 1e6:.0f} MB)")
    ok = True
    with temp_dir() as tmp_name:
        tmp = Path(tmp_name)
        cases = []
        if args.drop_caches:
            cold = []
            for i in range(args.runs):
                if not drop_caches():
                    print("cold: cannot drop the page cache (not root?); skipped")
                    break
                cold.append(launch(exe, tmp / f"cold-{i}"))
            if cold:
                cases.append(("cold (page cache dropped)", cold, 0))
        else:
            print(f"first launch: {launch(exe, tmp / 'first'):.3f} s (cold only if nothing read the bundle yet)")
        warm, discarded = [], 0
        while len(warm) < args.runs and discarded < 2 * args.runs:
            others = OtherLoad()
            seconds = launch(exe, tmp / f"warm-{len(warm) + discarded}")
            if others.fraction() > args.max_other_cpu:
                discarded += 1
            else:
                warm.append(seconds)
        if warm:
            cases.append(("warm (files cached)", warm, discarded))
        for label, runs, dropped in cases:
            print(f"{label}: shown after median {median(runs):.3f} s, max {max(runs):.3f} s over {len(runs)} runs"
                  + (f" ({dropped} discarded: other processes used the CPU meanwhile)" if dropped else ""))
            ok &= verdict(f"{label}: median", median(runs), TARGET_S, " s")
            ok &= verdict(f"{label}: max", max(runs), TARGET_S, " s")
        if not warm:
            print("warm: every run was disturbed by other processes; no figures")
            return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
