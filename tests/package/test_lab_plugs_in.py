"""The product never imports the simulated lab: the lab registers itself under the gpverify.lab entry point."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gpverify

PACKAGE = Path(gpverify.__file__).parent


def test_product_modules_import_nothing_of_the_lab() -> None:
    code = (
        "import gpverify.facts.collect, gpverify.runner.engine, gpverify.audit.runner, gpverify.transport.winrm, "
        "gpverify.cli.main, gpverify.plugin, sys; "
        "assert not [m for m in sys.modules if m.startswith('gpverify.lab')], sorted(sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def test_no_product_source_names_the_lab_in_an_import() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "lab":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            offenders += [
                f"{path.relative_to(PACKAGE)}:{node.lineno} {n}"
                for n in names
                if n == "gpverify.lab" or n.startswith("gpverify.lab.")
            ]
    assert offenders == []


def test_the_lab_is_found_by_its_entry_point() -> None:
    from gpverify.extension import lab

    assert type(lab()).__module__ == "gpverify.lab.extension"
    assert ("healthy",) == next((name,) for name, _, _ in lab().scenarios() if name == "healthy")
