"""The layers hold: the import contracts pass and catch a violation, the UI loads without torch, no module takes
another module's private name."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--config", str(folder / "pyproject.toml")], cwd=folder,
                          check=False, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The package and its contracts, copied so a test can break them without touching the checkout."""
    folder = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "desktop", folder / "desktop", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (scripts/setup installs it)")
def test_the_contracts_pass_and_fail_when_the_model_reaches_into_the_engine(tree_copy):
    clean = _lint(tree_copy)
    assert clean.returncode == 0, clean.stdout[-3000:]
    session = tree_copy / "desktop" / "model" / "session.py"
    session.write_text(session.read_text() + "\nfrom desktop.engine.runner import Engine  # noqa\n")
    broken = _lint(tree_copy)
    assert broken.returncode != 0
    assert "desktop.model is not allowed to import desktop.engine" in broken.stdout


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (scripts/setup installs it)")
def test_the_contracts_fail_when_the_core_imports_torch_or_qt(tree_copy):
    params = tree_copy / "desktop" / "core" / "params.py"
    original = params.read_text()
    try:
        params.write_text(original + "\nimport torch  # noqa\n")
        result = _lint(tree_copy)
        assert result.returncode != 0 and "desktop.core is not allowed to import torch" in result.stdout
    finally:
        params.write_text(original)


def test_importing_every_ui_and_model_module_loads_no_torch_diffusers_or_transformers():
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in ("ui", "model", "core")
        for path in (ROOT / "desktop" / package).glob("*.py")
    )
    code = ("import sys\n" + "".join(f"import {m.removesuffix('.__init__')}\n" for m in modules)
            + "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_no_module_imports_another_modules_private_name():
    offenders = []
    for path in (ROOT / "desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("desktop")):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}")
    assert offenders == []
