"""``restyle --self-test``: the smoke check an installer runs on a fresh bundle, through the real worker."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from desktop.launcher import main
from desktop.testing import tiny


@pytest.fixture()
def quick_self_test(tiny_model, tmp_path, monkeypatch):
    """The self-test with the session's tiny model copied in (building one takes seconds) and its own temp root."""
    def copy_model(folder, seed=0, **_):
        return shutil.copytree(tiny_model, folder)

    monkeypatch.setattr(tiny, "build_tiny_sd", copy_model)
    temp_root = tmp_path / "temp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    for name in ("HF_HUB_OFFLINE", "QT_QPA_PLATFORM", "OMP_NUM_THREADS", "HF_HUB_DISABLE_PROGRESS_BARS",
                 "TRANSFORMERS_VERBOSITY", "DIFFUSERS_VERBOSITY"):  # the self-test sets these: restore them
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    return temp_root


def test_self_test_passes_prints_each_check_and_cleans_up(quick_self_test, data_dir, capsys):
    assert main(["--self-test", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert str(data_dir / "logs" / "restyle.log") in lines[0]
    checks = [line for line in lines if line.startswith("ok  ")]
    assert any("worker thread" in line for line in checks) and any("PNG saved" in line for line in checks)
    assert lines[-1].startswith("self-test passed in ") and lines[-1].endswith(" s")
    assert list(quick_self_test.iterdir()) == []  # the model, the init image and the result are gone
    assert "self-test passed" in (data_dir / "logs" / "restyle.log").read_text()


def test_a_failing_generation_exits_1_with_one_clear_line(quick_self_test, data_dir, capsys, monkeypatch):
    from desktop.engine import runner

    monkeypatch.setattr(runner.Engine, "generate", lambda *a, **k: 1 / 0)
    assert main(["--self-test", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    failed = [line for line in out if line.startswith("FAILED")]
    assert len(failed) == 1 and "worker thread" in failed[0] and str(data_dir / "logs") in failed[0]
    assert "Traceback" not in "\n".join(out) and "passed" not in out[-1]
    assert "ZeroDivisionError" in (data_dir / "logs" / "restyle.log").read_text()
    assert list(quick_self_test.iterdir()) == []


def test_the_command_self_tests_in_its_own_process_without_a_display(tmp_path):
    # The real thing: a fresh process that builds its own tiny model, as a frozen bundle's self-test does.
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM",
                                                              "HF_HUB_OFFLINE")}
    out = subprocess.run([sys.executable, "-m", "desktop", "--self-test"], check=False, capture_output=True, text=True,
                         timeout=240, env={**env, "RESTYLE_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("self-test passed in ")
    assert (tmp_path / "data" / "logs" / "restyle.log").is_file()
