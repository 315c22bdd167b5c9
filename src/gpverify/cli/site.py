"""`gpverify init DIR`: a site folder to start from, and `gpverify run PHASE`: one phase's checks through pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpverify.catalogue import PHASES
from gpverify.config.options import pytest_addopts
from gpverify.config.paths import checks_folder
from gpverify.config.shipped import INVENTORY_TEMPLATE, PLAN_TEMPLATE, checks_root, example
from gpverify.errors import ConfigError
from gpverify.exitcodes import BAD_INPUT, NOT_RUN

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

CUSTOM_CHECKS = "checks"

# What the exit codes of a pytest run of checks mean; 0 and 1 speak for themselves. 3 is gpverify's bad input
# (gpverify.exitcodes), which the plugin ends the run with; pytest's own internal errors share it.
EXIT_MEANING = {
    pytest.ExitCode.INTERRUPTED: "pytest stopped: a checks file could not be collected (see the errors above)",
    3: "bad input, nothing was checked (see the message above)",
    pytest.ExitCode.USAGE_ERROR: "pytest refused the command line (see the message above)",
    pytest.ExitCode.NO_TESTS_COLLECTED: "no checks were collected: check the folders, -k and --host given",
}


def init_site(folder: Path) -> list[Path]:
    """Write inventory.yml, waivers.yml, plan.yml and an empty checks/ folder; never overwrite a file."""
    files = {folder / "inventory.yml": example(INVENTORY_TEMPLATE).read_text(encoding="utf-8"),
             folder / "waivers.yml": WAIVERS_TEMPLATE,
             folder / "plan.yml": example(PLAN_TEMPLATE).read_text(encoding="utf-8")}
    existing = [p for p in [*files, folder / CUSTOM_CHECKS] if p.exists()]
    if existing:
        raise ConfigError("gpverify init", str(existing[0]), "a folder without inventory.yml, waivers.yml, plan.yml "
                          "or checks/ (init never overwrites; pick another folder)")
    (folder / CUSTOM_CHECKS).mkdir(parents=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return [*files, folder / CUSTOM_CHECKS]


def phase_targets(phase: str, custom: list[str]) -> list[str]:
    """The shipped phase folder, and each custom folder's own phase folder when it has one (else the folder)."""
    if phase not in PHASES:
        raise ConfigError("gpverify run", "PHASE", f"one of {', '.join(PHASES)}, got {phase!r}")
    targets = [str(checks_root() / phase)]
    for folder in (checks_folder(path, "--checks", origin="gpverify run") for path in custom):
        targets.append(str(folder / phase if (folder / phase).is_dir() else folder))
    return targets


def run_phase(phase: str, custom: list[str], pytest_args: list[str]) -> int:
    """pytest on one phase's checks (shipped and custom), other phases' custom checks deselected."""
    targets = phase_targets(phase, custom)
    pytest_addopts()  # pytest splits it on start and would raise on an unterminated quote
    # pytest keeps its cache (--lf, --sw) under the rootdir, which for an installed gpverify is inside the
    # package; the folder the command runs in is where an administrator's state belongs.
    cache = f"cache_dir={Path.cwd() / '.pytest_cache'}"
    # gpverify itself is imported before pytest starts, so pytest cannot rewrite its asserts (it has none).
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    ret = pytest.main([*targets, "--check-phase", phase, "-o", cache, *quiet, *pytest_args])
    meaning = EXIT_MEANING.get(int(ret))
    if meaning:
        print(f"gpverify run {phase}: {meaning} (pytest exit {int(ret)})")
    # gpverify's one exit-code table (gpverify.exitcodes): nothing collected is "could not run", a command line
    # pytest refused is bad input.
    gpverify_code: dict[int, int] = {pytest.ExitCode.NO_TESTS_COLLECTED: NOT_RUN, pytest.ExitCode.USAGE_ERROR: BAD_INPUT}
    return gpverify_code.get(int(ret), int(ret))
