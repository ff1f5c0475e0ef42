"""How long a big history takes to open, to rebuild and to show: the workspace part of the history benchmark.

Builds a workspace of NODES generations (32×32 PNGs written by ``write_node_image``, chains of a few steps
with side branches, as a long session makes them) in a temp folder, then reports the median of REPEATS runs:

- open: ``Workspace.open`` with a good index (what every start of the app pays);
- rebuild: ``Workspace.open`` after index.json was overwritten with garbage (every picture's chunk is read);
- save: one ``save_index`` with all NODES nodes (paid after every generation, star and delete);
- thumbs: ``thumbnail_path`` for the first THUMBS nodes with no thumbnail on disk yet (128 px).

The window part (the history panel showing these nodes) is measured separately.

    .venv/bin/python bench/history_open.py [--nodes 1000] [--repeats 5] [--thumbs 50]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

from _common import median, print_machine, temp_dir


def build(folder: Path, count: int, seed: int = 0, *, fast: bool = False, full_settings: bool = False):
    """A workspace of ``count`` generations: mostly chains, one in five starting a branch somewhere earlier.

    ``fast`` writes one shared 32×32 PNG per node without fsync or node chunk (the index names them all), so
    100,000 nodes take seconds to build instead of minutes; only a rebuild from the pictures needs the chunks.
    ``full_settings`` records every GenerationParams field (37, as the app saves a run) instead of seven.
    """
    import io

    from PIL import Image

    from desktop.core.history import Node, timestamp
    from desktop.core.node_files import write_node_image
    from desktop.core.params import GenerationParams
    from desktop.core.workspace import Workspace

    ws, _ = Workspace.open(folder)
    rng = random.Random(seed)
    made: list[str] = []
    shared = io.BytesIO()
    Image.frombytes("RGB", (32, 32), rng.randbytes(32 * 32 * 3)).save(shared, format="PNG")
    for index in range(count):
        if not made or index % 50 == 0:
            parent = None
        elif rng.random() < 0.2:
            parent = rng.choice(made)
        else:
            parent = made[-1]
        node_id = ws.new_node_id()
        params = {"model": "sd15", "prompt": f"a lighthouse, take {index}", "strength": 0.6, "seed": index,
                  "steps": 30, "guidance_scale": 7.5, "init_image": None}
        if full_settings:
            params = {**GenerationParams(model="sd15").to_dict(), **params}
        node = Node(node_id, parent, "generation", f"{node_id}.png", timestamp(), 32, 32, params,
                    model="sd15", seed=index, chain_mode="pixels" if parent else None)
        if fast:
            (folder / "images" / node.image).write_bytes(shared.getvalue())
        else:
            picture = Image.frombytes("RGB", (32, 32), rng.randbytes(32 * 32 * 3))
            write_node_image(folder, node, picture, f"a lighthouse\nSteps: 30, Seed: {index}, Size: 32x32")
        ws.tree.add(node)  # one index save at the end: saving 1,000 times would only slow the build down
        made.append(node_id)
    ws.save_index()
    return ws


def timed(action, repeats: int, before=None) -> list[float]:
    """Seconds per call of ``action``, ``before`` run untimed ahead of each."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--thumbs", type=int, default=50)
    args = parser.parse_args()
    print_machine()

    from desktop.core.workspace import Workspace

    with temp_dir() as tmp:
        folder = Path(tmp) / "history"
        start = time.perf_counter()
        ws = build(folder, args.nodes)
        print(f"built {len(ws.tree)} nodes ({len(ws.tree.roots())} roots) in {time.perf_counter() - start:.1f} s")

        def check_open(expect_corrupt: bool):
            opened, report = Workspace.open(folder)
            assert len(opened.tree) == args.nodes and report.corrupt_index is expect_corrupt, report

        def damage_index():
            for old in folder.glob("index.json.damaged-*"):
                old.unlink()
            (folder / "index.json").write_bytes(b"\0garbage")

        first = [n.id for n in list(ws.tree)[: args.thumbs]]

        def clear_thumbs():
            shutil.rmtree(folder / "thumbs")
            (folder / "thumbs").mkdir()

        results = {
            "open": timed(lambda: check_open(False), args.repeats),
            "save": timed(ws.save_index, args.repeats),
            "thumbs": timed(lambda: [ws.thumbnail_path(i) for i in first], args.repeats, before=clear_thumbs),
            "rebuild": timed(lambda: check_open(True), args.repeats, before=damage_index),
        }
    labels = {
        "open": f"Workspace.open, {args.nodes} nodes, good index",
        "rebuild": f"Workspace.open, {args.nodes} nodes, damaged index (rebuilt from the PNGs)",
        "save": f"save_index, {args.nodes} nodes",
        "thumbs": f"thumbnails for the first {args.thumbs} nodes (none cached)",
    }
    for key, label in labels.items():
        values = results[key]
        print(f"{label}: median {median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f}, "
              f"max {max(values) * 1000:.1f}, n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
