"""Runner test helpers: run `gpverify upgrade` as its own process, read a run's state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAB_PASSWORD = "runner-test-lab-password-0xC0FFEE"


def gpverify(*args: str, reports: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    """`gpverify <args> --reports DIR` in a subprocess (stdin not a terminal), from the repository root."""
    env = {**os.environ, "GPVERIFY_LAB_PASSWORD": LAB_PASSWORD}
    cmd = [sys.executable, "-m", "gpverify.cli.main", *args, "--reports", str(reports)]
    return subprocess.run(
        cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240, check=False, **kw
    )


def only_run(reports: Path) -> Path:
    runs = [p for p in reports.iterdir() if (p / "state.json").exists()]
    assert len(runs) == 1, runs
    return runs[0]


def state(run: Path) -> dict[str, Any]:
    return json.loads((run / "state.json").read_text())


def write_plan(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
