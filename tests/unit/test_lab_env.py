"""`gpverify lab` hands its password to another shell in the way that shell loads: POSIX `.` or PowerShell."""

from __future__ import annotations

import shlex
from pathlib import Path

from gpverify.cli.main import lab_env


def test_posix_shells_source_an_export_line(tmp_path: Path) -> None:
    path, text, load = lab_env(tmp_path, "GPVERIFY_LAB_PASSWORD", "p'w $x", windows=False)
    assert path == tmp_path / "lab.env" and load == f". {path}"
    assert text == f"export GPVERIFY_LAB_PASSWORD={shlex.quote(chr(112) + chr(39) + 'w $x')}\n"


def test_windows_reads_the_bare_value_without_running_a_script(tmp_path: Path) -> None:
    folder = tmp_path / "o'brien"
    path, text, load = lab_env(folder, "GPVERIFY_LAB_PASSWORD", "p'w $x", windows=True)
    assert path == folder / "lab-password.txt" and text == "p'w $x"
    assert load == f"$env:GPVERIFY_LAB_PASSWORD = Get-Content '{str(path).replace(chr(39), chr(39) * 2)}'"
