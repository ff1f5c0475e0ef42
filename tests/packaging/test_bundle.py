"""The frozen Linux bundle: build it with PyInstaller and self-test it. Minutes of work and gigabytes of disk,
so it runs only when asked: RESTYLE_BUILD_BUNDLE=1 pytest tests/packaging."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RESTYLE_BUILD_BUNDLE") != "1", reason="set RESTYLE_BUILD_BUNDLE=1 to build"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="packaging/build_linux.sh is for Linux"),
]


@pytest.mark.timeout(1800)
def test_the_linux_bundle_builds_and_passes_its_self_test():
    out = subprocess.run(["packaging/build_linux.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "self-test passed" in out.stdout
    assert (ROOT / "dist" / "restyle-linux-x86_64.tar.gz").stat().st_size > 0
