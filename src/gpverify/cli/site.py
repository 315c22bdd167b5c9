"""`gpverify init DIR`: a site folder to start from, and `gpverify run PHASE`: one phase's checks through pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpverify.catalogue import PHASES
from gpverify.config.shipped import INVENTORY_TEMPLATE, PLAN_TEMPLATE, checks_root, example
from gpverify.errors import ConfigError
from gpverify.exitcodes import ExitCode

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

# Why a run of checks could not run, by pytest's own status (the plugin has turned it into gpverify's code).
WHY_NOT_RUN: dict[int, str] = {
    pytest.ExitCode.INTERRUPTED: "pytest stopped: a checks file could not be collected, or the run was interrupted",
    pytest.ExitCode.USAGE_ERROR: "pytest refused the command line (see the message above)",
    pytest.ExitCode.NO_TESTS_COLLECTED: "no checks were collected: check the folders, -k and --host given",
}


class _PytestStatus:
    """Keeps pytest's own status of the session (the exitstatus argument; the plugin sets gpverify's code)."""

    def __init__(self) -> None:
        self.status: int | None = None

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.status = int(exitstatus)


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
    for folder in map(Path, custom):
        if not folder.is_dir():
            raise ConfigError("gpverify run", "--checks", f"a folder of checks, got {str(folder)!r} (not a folder)")
        targets.append(str(folder / phase if (folder / phase).is_dir() else folder))
    return targets


def run_phase(phase: str, custom: list[str], pytest_args: list[str]) -> int:
    """pytest on one phase's checks (shipped and custom), other phases' custom checks deselected."""
    targets = phase_targets(phase, custom)
    # pytest keeps its cache (--lf, --sw) under the rootdir, which for an installed gpverify is inside the
    # package; the folder the command runs in is where an administrator's state belongs.
    cache = f"cache_dir={Path.cwd() / '.pytest_cache'}"
    # gpverify itself is imported before pytest starts, so pytest cannot rewrite its asserts (it has none).
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    seen = _PytestStatus()
    ret = pytest.main([*targets, "--check-phase", phase, "-o", cache, *quiet, *pytest_args], plugins=[seen])
    # gpverify's plugin has set the code of the run (gpverify.exitcodes); only an error pytest raises after the
    # session (a -k expression it cannot parse) or before it (an option it does not know) is its own usage error.
    code = ExitCode.BAD_INPUT if ret == pytest.ExitCode.USAGE_ERROR else ExitCode.of(int(ret))
    why = WHY_NOT_RUN.get(seen.status if seen.status is not None else int(ret))
    if code != ExitCode.PASSED:  # the code's meaning, as pytest's own summary line cannot say it
        print(f"gpverify run {phase}: exit {int(code)}, {code.meaning}" + (f": {why}" if why else ""))
    return code
