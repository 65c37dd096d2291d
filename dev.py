#!/usr/bin/env python3
"""Set up schoolplan in a local virtual environment and run it: the README's two commands.

    python3 dev.py demo    # install into .venv, run the bundled demo scenario, print where the outputs are
    python3 dev.py test    # install into .venv (with test tools); lint, import contracts, types, tests

``python3 dev.py test`` with no further arguments first runs the checks CI needs (ruff,
import-linter's layer contracts, mypy), then the whole test suite; with arguments (``python3
dev.py test tests/test_io.py -k gbk``) it runs only pytest with them.

Needs only Python 3.11+ with its standard ``venv`` module. The install uses ``uv`` (itself
installed from PyPI into the venv, ~20 s) and falls back to plain pip (~90 s). It is redone
only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".schoolplan-install-stamp"


def _run(cmd: list[str], **kw) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)


def ensure_installed() -> None:
    """Create .venv and install schoolplan with its test extras, unless already up to date."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text().strip() == want:
        return
    if not PY.exists():
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # e.g. Debian without python3-venv
            sys.exit(f"could not create {VENV} ({exc}). On Debian/Ubuntu: apt-get install python3-venv")
    spec = f"{ROOT}[test]"
    ok = _run([PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv"]) == 0
    if ok:
        # --compile-bytecode, as pip does: without .pyc files every start of schoolplan compiles
        # pandas, scipy ... again where bytecode is not written (PYTHONDONTWRITEBYTECODE, a
        # read-only install), 3-4 s of CPU per command (issue 15)
        ok = _run([BIN / "uv", "pip", "install", "-q", "--compile-bytecode", "-p", PY, "-e",
                   spec]) == 0
    if not ok:
        print("uv was not usable; installing with pip (slower)", flush=True)
        if _run([PY, "-m", "pip", "install", "-q", "-e", spec]) != 0:
            sys.exit("installation failed; see the messages above")
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "install"):
        print(__doc__)
        return 2
    ensure_installed()
    if argv[0] == "demo":
        return _run([BIN / "schoolplan", "run", "scenarios/demo-county.yaml", "--out",
                     "out/demo-county", *argv[1:]])
    if argv[0] == "test":
        if len(argv) == 1:
            for check in ([BIN / "ruff", "check", "schoolplan", "tests", "benchmarks", "tools", "dev.py"],
                          [BIN / "lint-imports"],
                          [BIN / "mypy"]):
                if _run(check) != 0:
                    print(f"{Path(check[0]).name} failed: fix the findings above", flush=True)
                    return 1
        return _run([PY, "-m", "pytest", *argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
