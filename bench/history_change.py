"""What a big history costs the window: the time to show it, and how long a change holds the UI thread.

Targets: a star, a new result or a delete holds the UI thread <= 5 ms at 10,000 nodes; a 100,000-node workspace
shows its window in <= 2 s.

For each NODES count, builds a workspace (chains with side branches, see history_open.py; ``fast`` pictures) as
the default workspace of a temp data folder, then launches one fresh process that builds the main window, shows
it, and after its first paint times, through the session's HistoryModel as the panels use it:

- star: ``set_starred`` on the newest node, then the event passes that follow (view updates, repaint);
- new result: ``add_nodes`` for a result whose picture and thumbnail are already written, likewise. The child
  writes both first with ``write_node_image`` and ``write_thumbnail``, as the worker does when it saves a result
  (``--loader-thumbnails`` leaves the thumbnail out, so the row's ThumbnailLoader makes it, as it did before the
  worker wrote them and still does for older workspaces);
- delete: ``delete`` of a leaf that is not selected, likewise;
- select: ``select`` of the new result (what a finished run does next; the canvas loads the picture);
- icon: then the events until the new row's icon has loaded (``ThumbnailLoader.loaded``): wall is from the
  ``add_nodes`` call to the icon (how much later the row shows its thumbnail), CPU is the UI thread's in the wait;
- select 2048²: ``select`` of one of two 2048×2048 results, in turn (the picture is read off the UI thread);
  (``--gallery``: all of these with the Gallery tab shown, so each change reaches the grid as well)
- filter: the history filter box narrowing to a word (``apply_filter``, run after a 30 ms pause in typing)
  for one match, about 1% of the nodes, the one starred node and every node; the last of each four is
  clearing the box again. Target: <= 100 ms at 10,000 nodes for a word (the first two).

Each is the wall time of the call plus three ``processEvents`` passes, median (and max) of REPEATS, with the CPU
time the UI thread itself spent (``time.thread_time``: what other processes do to a busy machine's wall clock
leaves it nearly alone); "shown" is process launch to first paint, as bench/history_window.py measures it.

    .venv/bin/python bench/history_change.py [--nodes 1000 10000 100000] [--repeats 15] [--full-settings]
        [--picture 32] [--loader-thumbnails]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    REPO,
    SHOW_THEN_AFTER_FIRST_PAINT,
    median,
    print_machine,
    setup_env,
    temp_dir,
    verdict,
)

sys.path.insert(0, str(REPO))  # the workspace is built by this checkout's code (the editable install may be another's)
from history_open import build  # after the path is set

CHANGE_TARGET_MS = 5.0
FILTER_TARGET_MS = 100.0
OPEN_TARGET_S = 2.0
CHILD = r"""
import json, os, sys, time
from desktop.app import build_main_window, ensure_application
app = ensure_application()
window = build_main_window([], data_dir=sys.argv[1])
repeats = int(sys.argv[2])
side, thumbs_by_worker = int(sys.argv[4]), sys.argv[5] == "worker"
if sys.argv[3] == "gallery":  # --gallery: the Gallery tab shown, so every change reaches the grid too
    from PySide6.QtWidgets import QWidget
    window.side_tabs.setCurrentWidget(window.findChild(QWidget, "galleryPage"))
FILTERS = ["take 4242", "take 12", "is:starred", "lighthouse"]  # one match, about 1%, one node, every node


def settle():
    for _ in range(3):
        app.processEvents()


def timed(action):
    start, cpu = time.perf_counter(), time.thread_time()
    action()
    settle()
    return [(time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000]


def until_icon(node_id, loaded):
    # Sleeps in the event loop (a queued signal wakes it), so the UI CPU is only what the waiting events cost.
    from PySide6.QtCore import QEventLoop, QTimer
    deadline = time.perf_counter() + 5
    while node_id not in loaded and time.perf_counter() < deadline:
        QTimer.singleShot(50, lambda: None)
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    assert node_id in loaded, "the new row's icon never loaded"


def measure():
    shown = time.monotonic()
    from PIL import Image
    from PySide6.QtWidgets import QTreeView
    from desktop.core.history import Node, timestamp
    from desktop.core.node_files import write_node_image, write_thumbnail
    history = window.model.history
    ws = history.workspace
    nodes = len(history.tree)
    loaded = set()
    window.findChild(QTreeView, "historyView").model().thumbnails.loaded.connect(loaded.add)
    settle()
    times = {"star": [], "new result": [], "delete": [], "select": [], "icon": []}
    newest = [n.id for n in history.tree][-1]
    for _ in range(repeats):
        flag = not history.tree.get(newest).starred
        times["star"].append(timed(lambda: history.set_starred(newest, flag)))
    # A picture that compresses like a result (a flat colour would make reading it nearly free).
    picture = Image.merge("RGB", [Image.radial_gradient("L"), Image.effect_noise((256, 256), 40),
                                  Image.linear_gradient("L")]).resize((side, side))
    parent, made = newest, []
    for n in range(repeats):
        node_id = ws.new_node_id()
        node = Node(node_id, parent, "generation", node_id + ".png", timestamp(), side, side,
                    {"model": "sd15", "prompt": f"a new result {n}", "seed": n}, model="sd15", seed=n)
        write_node_image(ws.folder, node, picture, None)  # the worker's part, not the UI thread's
        if thumbs_by_worker:
            write_thumbnail(ws.folder, node_id, picture)  # the worker's too, from the pixels in hand
        arrived = time.perf_counter()
        times["new result"].append(timed(lambda: history.add_nodes([node])))
        times["select"].append(timed(lambda: history.select(node_id)))
        wait = timed(lambda: until_icon(node_id, loaded))
        times["icon"].append([(time.perf_counter() - arrived) * 1000, wait[1]])
        made.append(node_id)
        parent = node_id
    history.select(newest)
    for node_id in reversed(made):  # each is a leaf when its turn comes
        times["delete"].append(timed(lambda: history.delete(node_id)))
    # Choosing a big result: its picture is read off the UI thread (working_picture.py), the thumbnail shows first.
    big, made = Image.radial_gradient("L").resize((2048, 2048)).convert("RGB"), []
    for n in range(2):
        node_id = ws.new_node_id()
        node = Node(node_id, newest, "generation", node_id + ".png", timestamp(), 2048, 2048,
                    {"model": "sd15", "prompt": f"a big result {n}", "seed": n}, model="sd15", seed=n)
        write_node_image(ws.folder, node, big, None)
        if thumbs_by_worker:
            write_thumbnail(ws.folder, node_id, big)
        history.add_nodes([node])
        made.append(node_id)
    times["select 2048²"] = [timed(lambda node_id=node_id: history.select(node_id))
                             for _ in range(max(1, repeats // 3)) for node_id in made]
    window.working_picture.wait()
    history.select(newest)
    for node_id in made:  # the next launch (the warm-up's next) finds the workspace as built
        history.delete(node_id)
    panel = window.history_panel
    if hasattr(panel, "filter_edit"):  # the window before the history filter had none
        for words in FILTERS:
            def narrow(words=words):
                panel.filter_edit.setText(words)
                panel.apply_filter()  # what the typing pause (30 ms) triggers
            times[f"filter {words!r}"] = [timed(narrow) for _ in range(3)] + [timed(lambda: narrow(""))]
    print(json.dumps({"shown": shown, "nodes": nodes, "times": times}), flush=True)
    os._exit(0)


after_first_paint = measure
""" + SHOW_THEN_AFTER_FIRST_PAINT


def launch(data_dir: Path, repeats: int, tab: str = "history", side: int = 32, thumbs: str = "worker") -> dict:
    """One fresh process: seconds from launch to first paint, and the change timings it reports."""
    launched = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout this benchmark lives in
    done = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), str(repeats), tab, str(side), thumbs],
                          check=False, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        raise SystemExit(f"child failed:\n{done.stderr[-2000:]}")
    result = json.loads(line)
    result["shown"] -= launched
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--gallery", action="store_true", help="measure with the Gallery tab shown")
    parser.add_argument("--picture", type=int, default=32, help="side of each new result's picture in pixels")
    parser.add_argument("--loader-thumbnails", action="store_true",
                        help="write no thumbnail with a new result: the row's loader makes it (as before the "
                             "worker wrote them)")
    parser.add_argument("--full-settings", action="store_true",
                        help="nodes record every GenerationParams field, as the app saves them (37 instead of 7)")
    args = parser.parse_args()
    setup_env()
    print_machine()
    print(f"measuring {REPO / 'desktop'}; new results {args.picture}×{args.picture}, thumbnails written by the "
          f"{'window (loader)' if args.loader_thumbnails else 'worker'}")
    ok = True
    for count in args.nodes:
        with temp_dir() as tmp:
            data = Path(tmp) / "data"
            started = time.perf_counter()
            build(data / "workspaces" / "default", count, fast=True, full_settings=args.full_settings)
            print(f"{count} nodes: built in {time.perf_counter() - started:.1f} s")
            tab = "gallery" if args.gallery else "history"
            thumbs = "loader" if args.loader_thumbnails else "worker"
            launch(data, 2, tab, args.picture, thumbs)  # warm-up: file cache, thumbnails of the first screenful
            result = launch(data, args.repeats, tab, args.picture, thumbs)
        assert result["nodes"] == count, result["nodes"]
        print(f"    window shown after {result['shown']:.3f} s")
        for op, pairs in result["times"].items():
            values, cpu = [p[0] for p in pairs], [p[1] for p in pairs]
            result["times"][op] = values
            if op == "icon":
                print(f"    new row's icon shown {median(values):.1f} ms after the result arrived (median; max "
                      f"{max(values):.1f} ms); UI thread CPU while waiting for it, median {median(cpu):.1f} ms")
                continue
            print(f"    {op:10s} holds the UI thread: median {median(values):.1f} ms, max {max(values):.1f} ms "
                  f"(n={len(values)}); UI thread CPU median {median(cpu):.1f} ms")
        if count == 10000:
            for op in ("filter 'take 4242'", "filter 'take 12'"):
                if op in result["times"]:
                    ok &= verdict(f"{op} at 10,000 nodes, median", median(result["times"][op][:3]),
                                  FILTER_TARGET_MS, " ms")
            for op in ("star", "new result", "delete"):
                ok &= verdict(f"{op} at 10,000 nodes, median", median(result["times"][op]), CHANGE_TARGET_MS, " ms")
        if count == 100000:
            ok &= verdict("100,000-node window shown", result["shown"], OPEN_TARGET_S, " s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
