"""`gpverify init DIR`: a site folder to start from, and `gpverify run PHASE`: one phase's checks through pytest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpverify import customchecks
from gpverify.catalogue import PHASES
from gpverify.config.options import pytest_addopts
from gpverify.config.shipped import INVENTORY_TEMPLATE, PLAN_TEMPLATE, SITE_FILES, checks_root, example, site_file
from gpverify.errors import ConfigError
from gpverify.exitcodes import ExitCode
from gpverify.pytestrun import run_checks

WAIVERS_TEMPLATE = """\
# Accepted failures for `gpverify audit --waivers waivers.yml`. Each needs a justification, an approver, a
# risk (low | medium | high | critical) and an expiry date; an expired waiver no longer waives. Example:
#
#   - check: GP-POST-002
#     host: gpsh02.contoso.local      # optional: only the checks run on this host
#     justification: gpsh02 is being rebuilt this week
#     approver: jane.doe
#     risk: medium
#     created: 2026-11-20
#     expires: 2026-12-01
waivers: []
"""

# Why a run of checks could not run, by pytest's own status (the plugin has turned it into gpverify's code).
WHY_NOT_RUN: dict[int, str] = {
    pytest.ExitCode.INTERRUPTED: "pytest stopped: a checks file could not be collected, or the run was interrupted",
    pytest.ExitCode.USAGE_ERROR: "pytest refused the command line (see the message above)",
    pytest.ExitCode.NO_TESTS_COLLECTED: "no checks were collected: check the folders, -k and --host given",
}


def init_site(folder: Path) -> list[Path]:
    """Write inventory.yml, waivers.yml, plan.yml, example checks (checks/), lab overlays that make them fail
    (lab/) and the nightly audit's scheduler templates (deploy/); never overwrite a file."""
    files = {
        folder / "inventory.yml": example(INVENTORY_TEMPLATE).read_bytes(),
        folder / "waivers.yml": WAIVERS_TEMPLATE.encode("utf-8"),
        folder / "plan.yml": example(PLAN_TEMPLATE).read_bytes(),
        **{folder / place: site_file(place).read_bytes() for place in SITE_FILES},
    }
    tops = dict.fromkeys(folder / p.relative_to(folder).parts[0] for p in files)
    existing = [p for p in tops if p.exists()]
    if existing:
        raise ConfigError(
            "gpverify init",
            str(existing[0]),
            "a folder without inventory.yml, waivers.yml, plan.yml, "
            "checks/, lab/ or deploy/ (init never overwrites; pick another folder)",
        )
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if path.suffix == ".sh":  # the systemd and cron wrapper runs as a program
            path.chmod(0o755)
    return list(files)


# What each part of a site folder is for, as `gpverify init` lists them.
SITE_PARTS = {
    "inventory.yml": "your farm: hosts, SQL Server, where passwords come from (commented: edit it first)",
    "waivers.yml": "failures the nightly audit accepts, each approved until a date (none yet)",
    "plan.yml": "the upgrade, step by step, with a check gate after each phase",
    "checks": "your own checks, run beside gpverify's: a Python one and acme.checks.yml (YAML, no Python)",
    "lab": "lab overlays that make the example checks fail on the simulated lab",
    "deploy": "the nightly audit's scheduler: windows/ (Task Scheduler), systemd/ (timer); paths to edit inside",
}


def print_site(folder: Path, written: list[Path]) -> None:
    """What init wrote and what to run next, with this system's path separators: the commands work as shown in
    PowerShell, cmd.exe and a POSIX shell (a path with a space is put in double quotes, which all three read)."""
    print(f"gpverify init: wrote {len(written)} files in {folder}")
    width = max(len(str(folder / p)) for p in SITE_PARTS) + 2
    for part, what in SITE_PARTS.items():
        shown = str(folder / part) + ("" if "." in part else os.sep)
        print(f"  {shown:{width}}{what}")
    checks, lab, inventory = (
        _arg(folder / p) for p in ("checks", os.path.join("lab", "acme-faults.yml"), "inventory.yml")
    )
    print("Try the example checks on the simulated lab (every check passes; then the YAML checks fail):")
    print(f"  gpverify run post --lab --checks {checks}")
    print(f"  gpverify run post --lab {lab} --checks {checks}")
    print(f"Then, with {inventory} describing your farm:")
    print(f"  gpverify run pre --inventory {inventory} --checks {checks}")
    print(f"  gpverify audit --inventory {inventory} --waivers {_arg(folder / 'waivers.yml')} --checks {checks}")
    print(
        f"Schedule the audit: {folder / 'deploy' / 'windows' / 'gpverify-audit-task.xml'} (Windows) or "
        f"{folder / 'deploy' / 'systemd'}{os.sep} (Linux)."
    )


def _arg(path: Path) -> str:
    return f'"{path}"' if " " in str(path) else str(path)


def phase_targets(phase: str, custom: list[str]) -> list[str]:
    """The shipped phase folder, and each custom folder's own phase folder when it has one (else the folder)."""
    if phase not in PHASES:
        raise ConfigError("gpverify run", "PHASE", f"one of {', '.join(PHASES)}, got {phase!r}")
    return [
        str(checks_root() / phase),
        *customchecks.phase_targets(phase, customchecks.check_folders(custom, "gpverify run")),
    ]


def run_phase(phase: str, custom: list[str], pytest_args: list[str]) -> int:
    """pytest on one phase's checks (shipped and custom), other phases' custom checks deselected."""
    targets = phase_targets(phase, custom)
    pytest_addopts()  # pytest splits it on start and would raise on an unterminated quote
    # pytest keeps its cache (--lf, --sw) under the rootdir, which for an installed gpverify is inside the
    # package; the folder the command runs in is where an administrator's state belongs.
    cache = f"cache_dir={Path.cwd() / '.pytest_cache'}"
    run = run_checks([*targets, "--check-phase", phase, "-o", cache, *pytest_args], all_plugins=True)
    # gpverify's plugin has set the code of the run (gpverify.exitcodes); only an error pytest raises after the
    # session (a -k expression it cannot parse) or before it (an option it does not know) is its own usage error.
    ret = run.exit_code
    code = ExitCode.BAD_INPUT if ret == pytest.ExitCode.USAGE_ERROR else ExitCode.of(ret)
    # Bad input is gpverify's own message, printed above; pytest's status would only say nothing ran.
    status = run.pytest_status if run.pytest_status is not None else ret
    why = "see the message above" if code == ExitCode.BAD_INPUT else WHY_NOT_RUN.get(status)
    if code != ExitCode.PASSED:  # the code's meaning, as pytest's own summary line cannot say it
        print(f"gpverify run {phase}: exit {int(code)}, {code.meaning}" + (f": {why}" if why else ""))
    return code
