"""Restyle: a desktop app for restyling images locally with diffusion models.

Layers (each package's docstring says what it may import):
- ``engine``: torch/diffusers/PIL only, no Qt.
- ``worker``: QtCore (+ QImage); the one place that calls the engine from Qt.
- ``model``: QtCore observable state, no widgets and no torch.
- ``ui``: QtWidgets panels that observe the model and send requests.
"""

__version__ = "0.1.0"
APP_NAME = "Restyle"
