"""Importing torch and diffusers on the worker without freezing the UI thread.

Measured in bench/ui_stall.py (docs/PERFORMANCE.md): the first ``import torch`` on the worker held the GIL
for ~300 ms while the dynamic loader ran libtorch's static initialisers, and the garbage collector's full
passes over the millions of objects the imports create held it for 45–220 ms each. The UI thread, though
idle, could not run its 10 ms timer. Three changes bring the gaps down:

- load libtorch's shared library first by calling the C library's ``dlopen`` as a ctypes foreign function,
  which runs without the GIL (``ctypes.CDLL(path)`` itself keeps the GIL while loading: measured 250 ms);
- no garbage collection while importing, then ``gc.freeze()`` so later collections skip those objects;
- a 1 ms switch interval while importing, so the UI thread gets the GIL back promptly.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def _preload_libtorch() -> None:
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    candidates = sorted(lib.glob("libtorch_cpu.*")) + sorted(lib.glob("torch_cpu.dll"))
    if not candidates:
        return
    import ctypes

    path = str(candidates[0])
    try:
        if sys.platform == "win32":
            ctypes.WinDLL("kernel32").LoadLibraryW(path)
        else:
            dlopen = ctypes.CDLL(None).dlopen
            dlopen.argtypes, dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
            # RTLD_NOW | RTLD_GLOBAL: the static initialisers run here, and torch's own load finds the library.
            dlopen(path.encode(), ctypes.RTLD_GLOBAL | 2)
    except (OSError, AttributeError):  # only a head start: the import below reports real problems
        log.debug("preloading %s failed", path, exc_info=True)


def import_engine():
    """Import the engine (torch, diffusers, transformers) with the UI thread kept responsive; returns Engine."""
    if "torch" in sys.modules:
        from desktop.engine.runner import Engine

        return Engine
    _preload_libtorch()
    old_interval = sys.getswitchinterval()
    gc_was_enabled = gc.isenabled()
    sys.setswitchinterval(0.001)
    gc.disable()
    try:
        import diffusers
        import transformers  # noqa: F401

        from desktop.engine.runner import Engine

        # diffusers resolves its classes lazily: touch the ones the first load needs while gc is off.
        diffusers.AutoPipelineForImage2Image, diffusers.StableDiffusionImg2ImgPipeline  # noqa: B018
        return Engine
    finally:
        gc.freeze()  # everything imported so far is permanent: later full collections skip it
        if gc_was_enabled:
            gc.enable()
        sys.setswitchinterval(old_interval)
