"""Save docs/screenshot.png: the real window, offscreen, mid-generation, at 1280×800 (for the README).

    .venv/bin/python scripts/screenshot.py [--model PATH_OR_ID] [--theme light|dark] [--output docs/screenshot.png]

The README shows both palettes: ``--theme light`` (docs/screenshot.png) and ``--theme dark``
(docs/screenshot-dark.png, the default output for the dark theme).

Without --model it builds a tiny random-weight model, so the preview shows noise being denoised, which is
exactly what that model makes; with a real model it shows a real restyle.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sample_picture(path: Path) -> Path:
    """A small landscape drawn with Pillow: sky, sun, hills, a house."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (768, 512))
    draw = ImageDraw.Draw(image)
    for y in range(512):
        draw.line([(0, y), (768, y)], fill=(90 + y // 6, 150 + y // 10, 230 - y // 5))
    draw.ellipse((560, 60, 660, 160), fill=(255, 214, 90))
    draw.polygon([(0, 380), (200, 250), (420, 370), (620, 260), (768, 340), (768, 512), (0, 512)], fill=(70, 140, 80))
    draw.rectangle((300, 330, 420, 430), fill=(200, 120, 90))
    draw.polygon([(290, 335), (360, 280), (430, 335)], fill=(120, 50, 50))
    draw.rectangle((345, 380, 375, 430), fill=(80, 50, 40))
    image.save(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--output", default=None)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    args.output = args.output or ("docs/screenshot.png" if args.theme == "light" else "docs/screenshot-dark.png")

    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.app import build_main_window, ensure_application

    work = Path(tempfile.mkdtemp(prefix="restyle-shot-"))
    model = args.model
    if model is None:
        from desktop.testing.tiny import build_tiny_sd

        model = str(build_tiny_sd(work / "tiny-sd-random"))
    app = ensure_application()
    from desktop.model.settings import Settings

    settings = Settings(work / "data")  # the theme setting, as File ▸ Settings stores it
    settings.theme = args.theme
    settings.sync()
    window = build_main_window(["--model", model, str(sample_picture(work / "landscape.png"))], data_dir=work / "data")
    window.resize(1280, 800)
    window.model.update_params(prompt="a cozy house in the hills, gouache painting, warm evening light",
                               negative_prompt="blurry, low quality", strength=0.7, steps=args.steps, seed=2024)
    window.show()

    def run_to_end() -> None:
        done = QEventLoop()
        window.model.result_ready.connect(done.quit)
        QTimer.singleShot(0, window.model.generate)
        done.exec()
        window.model.result_ready.disconnect(done.quit)

    # A little history first: a first pass, a second pass chained from it, then a branch from the first.
    run_to_end()
    first = window.model.history.selected_id
    window.model.history.select(first)  # a click on its row: the picture the next run restyles
    window.model.update_params(prompt="a cozy house in the hills, ukiyo-e woodblock print", strength=0.55)
    run_to_end()
    window.model.history.select(first)  # a click on its row: the picture the next run restyles
    window.model.update_params(prompt="a cozy house in the hills, stained glass", strength=0.6)
    loop = QEventLoop()
    shot_at = max(2, int(args.steps * 0.7 * 0.6))

    steps_seen = []
    window.model.progress_changed.connect(lambda step, total, eta: steps_seen.append((step, total)))

    def on_preview(_image) -> None:
        step, total = steps_seen[-1]
        if step == shot_at:
            app.processEvents()
            window.grab().save(args.output)
            print(f"saved {args.output} at step {step} of {total}")
            window.model.cancel()

    window.model.preview_changed.connect(on_preview)
    window.model.phase_changed.connect(lambda phase: loop.quit() if phase == "idle" else None)
    window.model.error_raised.connect(lambda kind, message: (print(message), loop.quit()))
    QTimer.singleShot(0, window.model.generate)
    loop.exec()
    window.close()
    return 0 if Path(args.output).exists() else 1


if __name__ == "__main__":
    sys.exit(main())
