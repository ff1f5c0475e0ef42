"""Make the installers' icons from resources/restyle.png with Pillow, into build/icons/ (or the folder given):

    restyle.ico   Windows (16-256 px), for the executables and the Inno Setup installer
    restyle.icns  macOS (16-1024 px), for Restyle.app
    hicolor/NxN/apps/restyle.png   Linux icon theme sizes, for the .deb and the AppDir

    python packaging/make_icons.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "restyle.png"
HICOLOR_SIZES = (32, 48, 64, 128, 256)


def make_icons(out: Path) -> list[Path]:
    """Write every icon into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    image = Image.open(SOURCE).convert("RGBA")
    made = [out / "restyle.ico", out / "restyle.icns"]
    image.save(made[0], sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    # Pillow writes every ICNS size from one 1024 px image; the 256 px source is scaled up for the largest.
    image.resize((1024, 1024), Image.Resampling.LANCZOS).save(made[1])
    for size in HICOLOR_SIZES:
        path = out / "hicolor" / f"{size}x{size}" / "apps" / "restyle.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        (image if image.size == (size, size) else image.resize((size, size), Image.Resampling.LANCZOS)).save(path)
        made.append(path)
    return made


if __name__ == "__main__":
    for made_path in make_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"):
        print(made_path)
