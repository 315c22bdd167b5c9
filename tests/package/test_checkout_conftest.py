"""The checkout's conftest: without the gpverify plugin, `pytest checks/pre` says how to install it, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_checks_without_the_plugin_say_how_to_install_it() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "checks/pre", "-q", "-p", "no:cacheprovider", "-p", "no:gpverify"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert "gpverify is not installed" in out and "make demo" in out
    assert "Traceback" not in out and "ImportError" not in out


def test_checks_without_a_farm_are_bad_input_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "checks/pre", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "GPVERIFY_INVENTORY"},
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "gpverify: no farm to check: pass --inventory FILE" in out
    assert "_pytest" not in out and "Exit:" not in out and "Traceback" not in out
