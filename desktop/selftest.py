"""``restyle --self-test``: a headless smoke check of an install, frozen bundles included.

It runs a real generation the way the window does (a WorkerHost on its QThread, the engine loaded lazily on
that thread) with a tiny random-weight model built in a temporary folder, so it needs no download, no GPU and
no display. One line per check on stdout; exit 0 when all pass, 1 with a sentence and the log path when one
fails. Installers run it after building a bundle, and a user can run it when the app will not start.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from desktop import APP_NAME, __version__

EXIT_OK, EXIT_FAILED = 0, 1
PROMPT = "self-test: a woodcut of a lighthouse"
SEED = 1234
# The worker on a busy 2-core machine did this in a few seconds; minutes mean something is stuck.
GENERATION_TIMEOUT_S = 300
log = logging.getLogger(__name__)


class SelfTestFailure(Exception):
    """A check that failed, with the sentence to print."""


def _prepare_environment() -> None:
    # Before Qt or huggingface_hub is imported: never the network, never a display.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The tiny model gains nothing from torch's threads, and on a busy machine spinning OpenMP threads made
    # each step ~100× slower (tests/conftest.py). Only effective before torch is imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The libraries' progress bars and advice (e.g. "install torchvision") would drown the check lines.
    for name, value in (("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                        ("DIFFUSERS_VERBOSITY", "error")):
        os.environ.setdefault(name, value)


def run_self_test(data_dir: str | None = None) -> int:
    """Run every check, print one line each, and return the exit code."""
    _prepare_environment()
    started = time.perf_counter()
    from desktop.core.paths import data_dir as resolve_data_dir
    from desktop.core.paths import setup_logging

    folder = resolve_data_dir(data_dir)
    log_file = setup_logging(folder)
    # The folders a frozen bundle must share with an installed copy: the bundle test compares them.
    from huggingface_hub.constants import HF_HUB_CACHE

    _say(f"{APP_NAME} {__version__} self-test (Python {sys.version.split()[0]}, "
         f"{'frozen' if getattr(sys, 'frozen', False) else 'from source'}); data folder: {folder}; "
         f"Hub cache: {HF_HUB_CACHE}; log: {log_file}")
    log.info("self-test started")
    workdir = Path(tempfile.mkdtemp(prefix="restyle-selftest-"))
    try:
        _run_checks(workdir, str(log_file))
    except SelfTestFailure as failure:
        log.error("self-test failed: %s", failure)
        _say(f"FAILED: {failure} (details in {log_file})")
        return EXIT_FAILED
    except Exception as exc:  # one line for the user; the traceback goes to the log
        log.exception("self-test crashed")
        _say(f"FAILED: unexpected {type(exc).__name__}: {exc} (details in {log_file})")
        return EXIT_FAILED
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    log.info("self-test passed in %.1f s", elapsed)
    _say(f"self-test passed in {elapsed:.1f} s")
    return EXIT_OK


def _run_checks(workdir: Path, log_file: str) -> None:
    app = _check(_start_qt, "Qt started")
    _check(_import_window, "the window's modules import")
    model = _check(lambda: _build_model(workdir), "tiny random model built")
    init = _check(lambda: _make_init_image(workdir), "init image written")
    result = _check(lambda: _generate_on_worker(app, model, init, workdir / "outputs", log_file),
                    "generated on the worker thread")
    _check(lambda: _check_png(result), "PNG saved with its parameters")


def _check(step, label: str):
    """Run one check; print ``ok  label (detail)`` or raise SelfTestFailure naming it."""
    t0 = time.perf_counter()
    try:
        value = step()
    except SelfTestFailure as failure:
        raise SelfTestFailure(f"{label}: {failure}") from None
    except Exception as exc:
        log.exception("check %r crashed", label)
        raise SelfTestFailure(f"{label}: {type(exc).__name__}: {exc}") from None
    detail = value[1] if isinstance(value, tuple) else ""
    _say(f"ok  {label} ({detail + ', ' if detail else ''}{time.perf_counter() - t0:.1f} s)")
    return value[0] if isinstance(value, tuple) else value


def _start_qt():
    # QApplication rather than QCoreApplication: it loads the platform plugin, the part of Qt a frozen
    # bundle most often loses, and the window needs it too.
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    return app, f"PySide6 {pyside_version}, platform {app.platformName()}"


def _import_window():
    import desktop.app  # noqa: F401 - the GUI's imports, which must not pull in torch

    return None, "without torch" if "torch" not in sys.modules else "torch already loaded"


def _build_model(workdir: Path):
    from desktop.testing.tiny import build_tiny_sd

    return build_tiny_sd(workdir / "tiny-sd", seed=0)


def _make_init_image(workdir: Path):
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 255, 64, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (64, 1)), np.tile(ramp[:, None], (1, 64)), np.full((64, 64), 128, np.uint8)],
                      axis=-1)
    path = workdir / "init.png"
    Image.fromarray(pixels).save(path)
    return path


def _generate_on_worker(app, model: Path, init: Path, output_dir: Path, log_file: str):
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.core.params import GenerationParams
    from desktop.worker import GenerateRequest, WorkerHost

    params = GenerationParams(model=str(model), prompt=PROMPT, init_image=str(init), strength=1.0, steps=2,
                              seed=SEED, device="cpu")
    outcome: dict = {}
    loop = QEventLoop()
    host = WorkerHost(log_file)
    try:
        host.worker.finished.connect(lambda result: outcome.setdefault("result", result))
        host.worker.failed.connect(lambda _job, kind, message: outcome.setdefault("error", f"{message} ({kind})"))
        host.worker.status.connect(lambda message: log.info("worker: %s", message))
        host.worker.job_done.connect(lambda job_id: loop.quit())
        QTimer.singleShot(GENERATION_TIMEOUT_S * 1000, loop.quit)
        host.submit(GenerateRequest(params, str(output_dir)))
        loop.exec()
    finally:
        if not host.shutdown():
            log.error("the worker thread did not stop")
    if "error" in outcome:
        raise SelfTestFailure(outcome["error"])
    if "result" not in outcome:
        raise SelfTestFailure(f"no result within {GENERATION_TIMEOUT_S} s")
    result = outcome["result"]
    return result, f"{result.steps_run} steps, {result.image.width}×{result.image.height}, {result.model.device}"


def _check_png(result):
    from desktop.core.metadata import parse_parameters_text, read_parameters

    path = Path(result.output_path or "")
    if not path.is_file():
        raise SelfTestFailure(f"{path} was not written")
    with path.open("rb") as file:
        if file.read(8) != b"\x89PNG\r\n\x1a\n":
            raise SelfTestFailure(f"{path.name} is not a PNG")
    text = read_parameters(path)
    if not text:
        raise SelfTestFailure(f"{path.name} has no 'parameters' text")
    parsed = parse_parameters_text(text)
    if parsed.prompt != PROMPT or parsed.get_int("Seed") != SEED:
        raise SelfTestFailure(f"its parameters do not match the request: {text!r}")
    return None, f"{path.stat().st_size} bytes, Seed {SEED}"


def _say(line: str) -> None:
    print(line, flush=True)
