"""The house floors (../shared/STYLE.md): each floor imports only the floors below it.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked by
import-linter, a maintained tool, not a home-made script. The second test proves the check has
teeth: a copy of the package with one wrong-way import fails it.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "schoolplan"


def _lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    return subprocess.run([*cmd, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_import_contracts_are_kept():
    run = _lint_imports(ROOT, ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_wrong_way_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "schoolplan", ignore=shutil.ignore_patterns("_assets", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    errors = copy / "schoolplan" / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\nimport schoolplan.outputs.maps  # wrong way\n",
                      encoding="utf-8")
    run = _lint_imports(tmp_path, copy)
    assert run.returncode != 0
    assert "schoolplan.errors is not allowed to import schoolplan.outputs" in " ".join(run.stdout.split())


def _imports_of(path: Path) -> list[tuple[int, str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("schoolplan"):
            out.append((node.lineno, node.module, [a.name for a in node.names]))
    return out


def _subpackage(module: str) -> str:
    """``schoolplan.io`` for ``schoolplan.io._files`` and ``schoolplan.io``; ``schoolplan`` for a
    top-level module such as ``schoolplan.errors``."""
    parts = module.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return ".".join(parts[:2])
    return "schoolplan"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_from_outside_its_subpackage(path):
    here = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    home = _subpackage(here)
    bad = []
    for line, module, names in _imports_of(path):
        leaf_private = any(part.startswith("_") and part != "__init__" for part in module.split(".")[1:])
        private_names = [n for n in names if n.startswith("_") and n != "__version__"]
        if (leaf_private or private_names) and _subpackage(module) != home:
            bad.append(f"line {line}: from {module} import {', '.join(names)}")
    assert not bad, f"{path.name} reaches into another subpackage's private names: {bad}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_under_800_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 800, f"{path.relative_to(ROOT)} has {n} lines; split it by concept"
