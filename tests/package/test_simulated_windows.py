"""Windows-ready: every subcommand's --help, a site folder written by init, and an audit of the lab with its
example checks, with POSIX-only modules unimportable."""

# Windows has no fcntl, pwd, grp or termios. A subprocess makes them unimportable (sys.modules[name] = None
# makes `import name` raise ImportError) before gpverify is imported, then runs the commands in-process.

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from gpverify.cli.main import parser

POSIX_ONLY = ("fcntl", "pwd", "grp", "termios")

SCRIPT = """
import json, sys
for name in {posix!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as on Windows
from gpverify.cli.main import main
helps = {{}}
for argv in {commands!r}:
    try:
        main([*argv, "--help"])
    except SystemExit as exc:
        helps[" ".join(argv)] = exc.code
init = main(["init", "site"])  # the example checks and templates, then audited beside the shipped checks
audit = main(["audit", "--lab", "--checks", "site/checks", "--reports", {reports!r}])
print(json.dumps({{"helps": helps, "audit": audit, "init": init,
                  "imported": [n for n in {posix!r} if sys.modules.get(n) is not None]}}))
"""


def subcommands() -> list[list[str]]:
    """Every subcommand, nested ones included (baseline capture, baseline diff)."""
    found: list[list[str]] = [[]]

    def walk(p: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append([*prefix, name])
                    walk(sub, [*prefix, name])

    # `gpverify --help` lists the commands kept in their own modules by name only; each is whole in the
    # command line made for it (gpverify.cli.commands).
    names = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in names:
        found.append([name])
        whole = next(a for a in parser(name)._actions if isinstance(a, argparse._SubParsersAction))
        walk(whole.choices[name], [name])
    return found


def test_every_help_and_a_lab_audit_without_posix_modules(tmp_path: Path) -> None:
    commands = subcommands()
    assert {"run", "init", "checks", "demo", "upgrade", "audit", "lab", "baseline capture"} <= {
        " ".join(c) for c in commands
    }
    script = SCRIPT.format(posix=POSIX_ONLY, commands=commands, reports=str(tmp_path / "reports"))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["helps"] == {" ".join(c): 0 for c in commands}
    assert result["init"] == 0 and result["audit"] == 0, proc.stdout[-3000:]
    audited = json.loads(next((tmp_path / "reports").glob("audit-*.json")).read_text(encoding="utf-8"))
    assert {r["check"] for r in audited["results"]} >= {"ACME-001", "ACME-011", "ACME-016"}
    assert result["imported"] == []
