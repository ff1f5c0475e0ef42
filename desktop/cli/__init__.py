"""The headless command line: ``restyle generate``, ``restyle batch`` and ``restyle upscale``, and the window's own
arguments (gui_args). Runs the engine directly, without Qt; ``desktop.launcher`` decides between this and the window.

May import desktop.core and desktop.engine; never desktop.app, desktop.ui, desktop.model or desktop.worker.
"""

from .main import main

__all__ = ["main"]
