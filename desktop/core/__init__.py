"""The domain, with no torch and no Qt: generation parameters and their ranges, errors, model families and
sources, A1111 metadata, image and depth-map files, the history tree and its workspace folder, runtime settings,
the model library and downloads, file helpers (one atomic write).

May import the standard library, Pillow and numpy (huggingface_hub only inside functions). Every other layer may
import it; it imports none of them (import-linter contracts in pyproject.toml).
"""
