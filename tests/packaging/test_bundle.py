"""The Linux installers, built from this checkout: the frozen bundle self-tests, its window opens, the .deb
installs into a throwaway root and its binary runs there, the .tar.gz and the AppDir carry what they promise.

Building takes minutes of both cores and gigabytes of disk, so it runs only when asked (.ci/run asks):
    RESTYLE_BUILD_BUNDLE=1 scripts/test -m slow tests/packaging
RESTYLE_BUILD_BUNDLE=package reuses an existing dist/restyle/ and reruns only packaging/linux/package.sh
(for working on the packaging steps)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
MODE = os.environ.get("RESTYLE_BUILD_BUNDLE", "")
VERSION = re.search(r'__version__ = "(.+)"', (ROOT / "desktop" / "__init__.py").read_text()).group(1)
BUILD_TIMEOUT_S = 2400

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(BUILD_TIMEOUT_S),
    pytest.mark.skipif(MODE not in ("1", "package"), reason="set RESTYLE_BUILD_BUNDLE=1 to build the installers"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="packaging/build_linux.sh is for Linux"),
]


def _headless_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "RESTYLE_DATA_DIR", "HF_HOME", "HF_HUB_CACHE", "XDG_DATA_HOME")}
    return {**env, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", **extra}


@pytest.fixture(scope="module")
def build() -> str:
    """Build (or repackage) once for the module; the build's output."""
    command = ["packaging/build_linux.sh"] if MODE == "1" else ["packaging/linux/package.sh", "dist"]
    started = time.monotonic()
    out = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    print(f"{command[0]}: {time.monotonic() - started:.0f} s")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return out.stdout


def _one(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in dist/, found {found}"
    return found[0]


def test_both_frozen_executables_pass_the_self_test(build):
    if MODE != "1":
        pytest.skip("the self-tests run in packaging/build_linux.sh, which RESTYLE_BUILD_BUNDLE=package skips")
    assert build.count("self-test passed in ") == 2, build[-3000:]
    assert build.count(", frozen); data folder: ") == 2


def test_the_frozen_window_opens(build, tmp_path):
    launched = time.monotonic()
    out = subprocess.run([str(DIST / "restyle" / "restyle"), "--exit-when-shown", "--data-dir", str(tmp_path)],
                         check=False, capture_output=True, text=True, timeout=120, env=_headless_env())
    assert out.returncode == 0, out.stdout + out.stderr
    shown = float(out.stdout.strip().splitlines()[-1].removeprefix("shown at monotonic "))
    print(f"frozen window shown {shown - launched:.2f} s after launch")
    assert "window shown" in (tmp_path / "logs" / "restyle.log").read_text()


def _dpkg(root: Path, *args: str) -> subprocess.CompletedProcess:
    # --force-not-root: a plain user can run this test too; --force-depends: the throwaway root has none of
    # the system libraries the package depends on (the host has them, and the binary runs against those).
    return subprocess.run(["dpkg", f"--root={root}", "--force-not-root", "--force-depends", "--log=/dev/null",
                           *args], check=False, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg")
def test_the_deb_installs_into_a_fresh_root_runs_there_with_the_usual_folders_and_uninstalls(build, tmp_path):
    deb = _one(f"restyle_{VERSION}+*_amd64.deb")
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version", "Architecture", "Depends"],
                          capture_output=True, text=True, check=True).stdout
    assert "Package: restyle" in info and "Architecture: amd64" in info and "libxcb-cursor0" in info

    # Install as dpkg does on a real system (its database, file list and removal), into an empty root.
    root = tmp_path / "root"
    for sub in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
        (root / sub).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    installed = _dpkg(root, "--install", str(deb))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    files = _dpkg(root, "--listfiles", "restyle").stdout.splitlines()
    for path in ("/opt/restyle/restyle", "/opt/restyle/restyle-cli", "/usr/bin/restyle", "/usr/bin/restyle-cli",
                 "/usr/share/applications/restyle.desktop", "/usr/share/icons/hicolor/256x256/apps/restyle.png"):
        assert path in files
    entry = (root / "usr/share/applications/restyle.desktop").read_text()
    assert "Exec=restyle " in entry and "Icon=restyle" in entry

    # The installed command, through its /usr/bin link, with no folder given: it must use the same data
    # folder, log file and Hub cache as Restyle installed from source would under the same environment.
    env = _headless_env(XDG_DATA_HOME=str(tmp_path / "xdg"), HF_HOME=str(tmp_path / "hf"))
    ran = subprocess.run([str(root / "usr/bin/restyle"), "--self-test"], check=False, capture_output=True, text=True,
                         timeout=600, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().splitlines()[-1].startswith("self-test passed in ")
    source = subprocess.run(
        [sys.executable, "-c", ("from desktop.core.paths import data_dir, log_path; "
                                "from huggingface_hub import constants; d = data_dir(); "
                                "print(f'data folder: {d}; Hub cache: {constants.HF_HUB_CACHE}; log: {log_path(d)}')")],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT).stdout.strip()
    first = ran.stdout.splitlines()[0]
    assert "frozen" in first and first.endswith(source), (first, source)
    assert str(tmp_path / "xdg" / "restyle") in source and str(tmp_path / "hf" / "hub") in source

    removed = _dpkg(root, "--remove", "restyle")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not (root / "opt/restyle").exists() and not (root / "usr/bin/restyle").exists()


def test_the_tarball_carries_the_bundle_and_adds_itself_to_the_menu(build, tmp_path):
    archive = _one(f"restyle-{VERSION}-linux-x86_64-*.tar.gz")
    wanted = {"restyle/restyle", "restyle/restyle-cli", "restyle/restyle.desktop", "restyle/restyle.png",
              "restyle/install-desktop-entry.sh"}
    with tarfile.open(archive) as tar:
        names = set()
        for member in tar:  # one pass through the stream
            names.add(member.name)
            if member.name in wanted:
                tar.extract(member, tmp_path, filter="tar")
    assert wanted <= names and "restyle/_internal/base_library.zip" in names
    share = tmp_path / "share"
    subprocess.run([str(tmp_path / "restyle/install-desktop-entry.sh")], check=True, timeout=60,
                   env={**os.environ, "XDG_DATA_HOME": str(share)}, capture_output=True)
    entry = (share / "applications/restyle.desktop").read_text()
    assert f'Exec="{tmp_path / "restyle" / "restyle"}" %f' in entry
    assert (share / "icons/hicolor/256x256/apps/restyle.png").is_file()


def test_the_appdir_runs_the_bundle(build):
    appdir = DIST / "Restyle.AppDir"
    for name in ("restyle.desktop", "restyle.png", ".DirIcon", "usr/lib/restyle/restyle"):
        assert (appdir / name).exists(), name
    out = subprocess.run([str(appdir / "AppRun"), "--version"], check=False, capture_output=True, text=True,
                         timeout=120, env=_headless_env())
    assert out.returncode == 0 and out.stdout.strip() == f"Restyle {VERSION}", out.stdout + out.stderr
    appimages = list(DIST.glob("Restyle-*.AppImage"))
    if appimages:  # only where appimagetool is installed
        out = subprocess.run([str(appimages[0]), "--appimage-extract-and-run", "--version"], check=False,
                             capture_output=True, text=True, timeout=300, env=_headless_env())
        assert out.stdout.strip() == f"Restyle {VERSION}", out.stdout + out.stderr
