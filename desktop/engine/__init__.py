"""The engine: parameters, image I/O, metadata, model loading, pipeline runs and previews.

May import torch, diffusers, transformers, PIL and numpy, never Qt. Importing this package is cheap:
modules that need torch import it themselves, so ``desktop.engine.images`` and ``desktop.engine.metadata``
can be used from the UI thread without pulling in torch.
"""
