"""One meaning per exit code (gpverify.exitcodes), through the real command line: `gpverify run`, plain `pytest`
with gpverify's plugin, `upgrade`, `checks`, `history` and `fleet` (audit, report and doctor: their own tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpverify.exitcodes import ExitCode

LAB_ENV = {**os.environ, "GPVERIFY_LAB_PASSWORD": "exit-codes-test-lab-password-0xBEEF"}
PASSED, FAILED, NOT_RUN, BAD_INPUT = ExitCode.PASSED, ExitCode.FAILED, ExitCode.NOT_RUN, ExitCode.BAD_INPUT


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as an administrator types it, in an empty folder, stdin not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=LAB_ENV,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["gpverify.cli.main", "run", "post", "--lab", "-k", "GP-POST-002"], PASSED, "passed"),
        (
            ["gpverify.cli.main", "run", "post", "--lab", "session-service-stopped", "-k", "GP-POST-002"],
            FAILED,
            "exit 1, a check failed",
        ),
        (["gpverify.cli.main", "run", "post", "--lab", "host-unreachable"], NOT_RUN, "exit 2, could not run"),
        (["gpverify.cli.main", "run", "post", "--lab", "-k", "NO_SUCH_CHECK"], NOT_RUN, "no checks were collected"),
        (["gpverify.cli.main", "run", "post", "--lab", "-k", "GP-POST-002 and ("], BAD_INPUT, "exit 3, bad input"),
        (["gpverify.cli.main", "run", "post", "--lab", "no-such-scenario"], BAD_INPUT, "no-such-scenario"),
        # plain pytest's 0, 1 and 2 (host-unreachable): the README's lab block, run by tests/examples/test_readme_lab.py
        (["pytest", "--pyargs", "gpverify.checks.post", "--lab", "-k", "NO_SUCH_CHECK"], NOT_RUN, "deselected"),
        (["pytest", "--pyargs", "gpverify.checks.post", "--lab", "no-such-scenario"], BAD_INPUT, "no-such-scenario"),
    ],
    ids=lambda v: " ".join(v[1:]) if isinstance(v, list) else str(v),
)
def test_a_run_of_checks(argv: list[str], code: ExitCode, said: str, tmp_path: Path) -> None:
    proc = run(*argv, "-p", "no:cacheprovider", cwd=tmp_path)
    assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert said in proc.stdout + proc.stderr


def test_plain_pytest_a_failing_site_test_and_a_broken_checks_file(tmp_path: Path) -> None:
    """A test that is not a check still fails the run; a checks file that cannot load is could-not-run."""
    (tmp_path / "test_site.py").write_text("def test_site_rule():\n    assert 1 == 2\n")
    failing = run("pytest", "test_site.py", "--lab", "-p", "no:cacheprovider", cwd=tmp_path)
    assert failing.returncode == FAILED, failing.stdout[-2000:]
    (tmp_path / "test_site.py").write_text("def test_x(:\n")
    broken = run("pytest", "test_site.py", "--lab", "-p", "no:cacheprovider", cwd=tmp_path)
    assert broken.returncode == NOT_RUN and "SyntaxError" in broken.stdout, broken.stdout[-2000:]


def test_plain_pytest_without_a_farm_keeps_pytests_codes(tmp_path: Path) -> None:
    """Another suite's pytest in the same environment: gpverify's plugin changes nothing (1 stays 1, 5 stays 5)."""
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert False\n")
    assert run("pytest", "test_other.py", "-p", "no:cacheprovider", cwd=tmp_path).returncode == 1
    assert run("pytest", "test_other.py", "-k", "nothing", "-p", "no:cacheprovider", cwd=tmp_path).returncode == 5


def test_upgrade_refuses_yes_without_a_person(tmp_path: Path) -> None:
    proc = run("gpverify.cli.main", "upgrade", "--lab", "--yes", "--reports", "r", cwd=tmp_path)
    assert proc.returncode == BAD_INPUT and "--confirmed-by NAME" in proc.stderr
    assert not (tmp_path / "r").exists()  # nothing started


def test_history_fleet_and_checks(tmp_path: Path) -> None:
    assert run("gpverify.cli.main", "history", "--reports", "r", cwd=tmp_path).returncode == BAD_INPUT
    assert run("gpverify.cli.main", "fleet", "--silent-after", "0", cwd=tmp_path).returncode == BAD_INPUT
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "test_nothing.py").write_text("def test_not_a_check():\n    pass\n")
    listed = run("gpverify.cli.main", "checks", "--checks", "empty", cwd=tmp_path)
    assert listed.returncode == PASSED and "GP-POST-002" in listed.stdout
