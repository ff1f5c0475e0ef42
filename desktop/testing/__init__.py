"""Test support, not product: tiny random-weight models built offline and saved in the real formats, so tests load
them through the same code as real checkpoints. Only ``tiny.py`` ships in the bundle (the self-test runs it).

May import anything; no product module imports it except desktop.selftest (import-linter contract).
"""
