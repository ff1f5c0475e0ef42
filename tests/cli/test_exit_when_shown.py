"""``restyle --exit-when-shown``: the window opens, reports the moment it first painted, and the process exits.
Start-up benchmarks of the frozen bundle and the bundle test rely on it."""

import os
import subprocess
import sys
import time


def test_the_window_opens_reports_its_first_paint_and_exits(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RESTYLE_DATA_DIR": str(tmp_path / "data")}
    launched = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "desktop", "--exit-when-shown"], check=False, capture_output=True,
                         text=True, timeout=120, env=env)
    finished = time.monotonic()
    assert out.returncode == 0, out.stdout + out.stderr
    shown = float(out.stdout.strip().splitlines()[-1].removeprefix("shown at monotonic "))
    assert launched < shown < finished
    assert "window shown" in (tmp_path / "data" / "logs" / "restyle.log").read_text()


def test_it_is_not_offered_to_users_in_the_help():
    out = subprocess.run([sys.executable, "-m", "desktop", "--help"], check=False, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "--self-test" in out.stdout and "exit-when-shown" not in out.stdout
