"""Modules that load at their first use instead of with the window.

Pillow takes about 20 ms to import here (``PIL.Image`` with its EXIF tables, the PNG plugin with ``fractions`` and
``decimal``), a tenth of the window's start-up, yet the core modules the window imports only touch it once a picture
is opened. ``Image = lazy_module("PIL.Image")`` at the top of such a module keeps its code as it reads with a plain
import, and ``tests/layers/test_startup_imports.py`` checks that the window still starts without it.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for the module ``name``: the first attribute read imports it (the import system's lock makes that safe
    from any thread), every read after that is the module's own attribute."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported at first use>"


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, imported when one of its attributes is first read."""
    return LazyModule(name)  # type: ignore[return-value]  # reads like the module it stands for
