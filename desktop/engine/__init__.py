"""The engine: model loading, pipeline runs with their step callback, previews, depth estimation, upscalers.

May import torch, diffusers, transformers and desktop.core, never Qt. Used only by desktop.worker (in the window)
and desktop.cli (headless). Modules import torch inside functions where they can, so importing this package is
cheap, but the UI and the model never import it at all (import-linter contract).
"""
