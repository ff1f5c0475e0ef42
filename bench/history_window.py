"""Open a history of 1,000 nodes: process start to a usable window with the tree shown. Target: <= 1 s.

Builds a workspace of NODES generations (tiny pictures, chains with branches; see history_open.py) as the
default workspace of a temp data folder, then launches RUNS fresh processes that build the main window, show
it and report when its first paint has been handled, with the number of nodes in the history panel's model.
One untimed warm-up run first (file cache).

    .venv/bin/python bench/history_window.py [--nodes 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import SHOW_THEN_AFTER_FIRST_PAINT, median, print_machine, setup_env, temp_dir, verdict
from history_open import build

TARGET_S = 1.0
CHILD = """
import time
started = time.monotonic()
import json, os, sys
from desktop.app import build_main_window, ensure_application
app = ensure_application()
window = build_main_window([], data_dir=sys.argv[1])

def report():
    view = window.history_panel.view
    nodes = sum(1 for _ in window.model.history.tree)
    print(json.dumps({"started": started, "shown": time.monotonic(), "nodes": nodes,
                      "visible_rows": view.model().rowCount()}), flush=True)
    os._exit(0)

after_first_paint = report
""" + SHOW_THEN_AFTER_FIRST_PAINT


def launch(data_dir: Path) -> dict:
    """One fresh process; seconds from launch to the first paint handled."""
    launched = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], check=False, capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        raise SystemExit(f"child failed:\n{done.stderr[-2000:]}")
    marks = json.loads(line)
    return {"shown": marks["shown"] - launched, "nodes": marks["nodes"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_env()
    print_machine()
    with temp_dir() as tmp:
        data = Path(tmp) / "data"
        started = time.perf_counter()
        build(data / "workspaces" / "default", args.nodes)
        print(f"built a workspace of {args.nodes} nodes in {time.perf_counter() - started:.1f} s")
        launch(data)  # warm-up
        runs = [launch(data) for _ in range(args.runs)]
    times = [r["shown"] for r in runs]
    assert all(r["nodes"] == args.nodes for r in runs), runs
    print(f"window with {args.nodes} history nodes shown: median {median(times):.3f} s, max {max(times):.3f} s "
          f"({', '.join(f'{t:.3f}' for t in times)})")
    return 0 if verdict("history window, median", median(times), TARGET_S, " s") else 1


if __name__ == "__main__":
    sys.exit(main())
