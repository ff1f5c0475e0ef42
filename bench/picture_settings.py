"""How long reading a dropped picture's settings takes (it runs on the UI thread when a picture is dropped).

Writes one picture per format in a temp folder (as the tests do: tests/core/tool_pictures.py), then reports the
median of REPEATS calls of ``read_picture_settings`` for each: AUTOMATIC1111 text, ComfyUI graph, Fooocus, InvokeAI,
NovelAI, stealth alpha at 1024×1024, and the two that must stay cheap because they are common and carry nothing:
a 1024×1024 RGB photo and a 2048×2048 RGBA picture (the stealth check reads only its first column's alpha).

    .venv/bin/python bench/picture_settings.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import median, print_machine, temp_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from PIL import Image

    from desktop.core.picture_settings import read_picture_settings
    from tests.core import tool_pictures as tp
    from tests.core.test_picture_settings import A1111_TEXT, FOOOCUS

    print_machine()
    with temp_dir() as raw:
        folder = Path(raw)
        graph = tp.comfy_graph(positive="a lighthouse", negative="fog", seed=1, steps=20, cfg=6.0, sampler="euler",
                               scheduler="karras", width=1024, height=1024, ckpt="x.safetensors", hires=True)
        cases = {
            "AUTOMATIC1111 PNG": tp.a1111_png(folder / "a.png", A1111_TEXT),
            "AUTOMATIC1111 JPEG": tp.a1111_exif(folder / "a.jpg", A1111_TEXT, "JPEG"),
            "ComfyUI": tp.comfyui_png(folder / "c.png", graph),
            "Fooocus": tp.fooocus_png(folder / "f.png", **FOOOCUS),
            "NovelAI": tp.novelai_png(folder / "n.png", prompt="cat", comment={"steps": 28, "sampler": "k_euler",
                                                                               "seed": 1, "scale": 5.0}),
            "stealth 1024×1024": tp.a1111_stealth(folder / "s.png", A1111_TEXT, size=(1024, 1024)),
        }
        photo = folder / "photo.png"
        Image.effect_noise((1024, 1024), 40).convert("RGB").save(photo)
        cases["no settings, RGB 1024×1024"] = photo
        rgba = folder / "rgba.png"
        Image.effect_noise((2048, 2048), 40).convert("RGBA").save(rgba)
        cases["no settings, RGBA 2048×2048"] = rgba
        read_picture_settings(cases["AUTOMATIC1111 PNG"])  # the first call imports sd-parsers
        for name, path in cases.items():
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                found = read_picture_settings(path)
                times.append(time.perf_counter() - start)
            print(f"{name:30s} {median(times) * 1000:8.1f} ms median  {max(times) * 1000:8.1f} ms max  "
                  f"{'read: ' + found.tool if found else 'nothing offered'}")


if __name__ == "__main__":
    main()
