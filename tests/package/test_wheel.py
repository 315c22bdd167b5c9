"""Works where it is installed: the wheel in a fresh virtual environment, run from an empty folder."""

# One test, so the build and the install (the slow part: the dependencies come from PyPI or pip's cache) happen
# once; every command of issue 12's "Done when" then runs from a folder that holds nothing of the repository.

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gpverify.lab.models import LAB_DISCOVERED

REPO = Path(__file__).resolve().parents[2]
CUSTOM = REPO / "tests" / "examples" / "custom_checks"
# The lab's names for the configuration database's tables and columns, as `gpverify discover` lists them.
LAB_NAMES = "".join(f"  {key}: {value}\n" for key, value in LAB_DISCOVERED.items() if key.startswith("config_db."))
# Not part of a source distribution: the environment, caches, reports and earlier builds.
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "reports", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def _run(venv_bin: Path, cwd: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GPVERIFY_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    exe = shutil.which(argv[0], path=str(venv_bin))
    assert exe, f"{argv[0]} is not installed in the new environment"
    return subprocess.run(
        [exe, *argv[1:]],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh virtual environment with only the built wheel (and its dependencies) installed."""
    pytest.importorskip("build", reason="python -m build is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=IGNORE)
    # sdist first, then the wheel from the unpacked sdist: what PyPI would get, with this environment's setuptools.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(root / "dist"), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wheel = next((root / "dist").glob("gpverify-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return bin_dir


# The six kinds of declarative checks in the example `gpverify init` writes (site/checks/acme.checks.yml).
SIX = ("ACME-011", "ACME-012", "ACME-013", "ACME-014", "ACME-015", "ACME-016")


def _declarative_checks_pass_and_fail(gv: Callable[..., str], work: Path) -> None:
    """The YAML checks init writes pass on the lab and fail on the overlay it writes, in `run`, the audit and the
    upgrade's gates: from the installed wheel, in a folder that holds nothing of the repository."""
    passing = gv("run", "post", "--lab", "--checks", "site/checks", "-v", code=0)
    assert all(re.search(rf"^{i} +\S+ +passed ", passing, re.MULTILINE) for i in SIX), passing[-3000:]
    failing = gv("run", "post", "--lab", "site/lab/acme-faults.yml", "--checks", "site/checks", code=1)
    assert all(re.search(rf"^FAILED {i} \S+  ", failing, re.MULTILINE) for i in SIX), failing[-3000:]
    for scenario, code in (("healthy", 0), ("site/lab/acme-faults.yml", 1)):
        gv("audit", "--lab", scenario, "--checks", "site/checks", "--reports", f"audit-{code}", code=code)
        document = json.loads(next((work / f"audit-{code}").glob("audit-*.json")).read_text(encoding="utf-8"))
        outcomes = {r["outcome"] for r in document["results"] if r["check"] in SIX}
        assert outcomes == ({"passed"} if code == 0 else {"passed", "failed"})
        assert {r["check"] for r in document["results"] if r["outcome"] == "failed"} >= (set(SIX) if code else set())
    # The upgrade's post gate runs them (a plan of that one gate: the lab's farm is already upgraded).
    (work / "post-gate.yml").write_text("phases:\n  - phase: post\n", encoding="utf-8")
    for scenario, code in (("healthy", 0), ("site/lab/acme-faults.yml", 1)):
        out = gv(
            "upgrade",
            "--lab",
            scenario,
            "--plan",
            "post-gate.yml",
            "--checks",
            "site/checks",
            "--yes",
            "--confirmed-by",
            "Jane Doe",
            "--reports",
            f"runs-{code}",
            code=code,
        )
        run = next((work / f"runs-{code}").glob("*/gate-post.results.json"))
        results = json.loads(run.read_text(encoding="utf-8"))["results"]
        assert {r["check"] for r in results} >= set(SIX)
        if code:
            assert "STOPPED: gate gate-post failed" in out and all(f"- {i} " in out for i in SIX)


def test_the_installed_wheel_does_what_the_readme_says(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def gv(*argv: str, code: int) -> str:
        proc = _run(installed, work, "gpverify", *argv)
        results[" ".join(argv)] = proc
        assert proc.returncode == code, (
            f"gpverify {' '.join(argv)} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
        return proc.stdout + proc.stderr

    assert gv("--version", code=0).strip() == "gpverify 0.1.0"
    listing = gv("checks", code=0)
    for check_id in ("GP-PRE-001", "GP-WEB-001", "GP-HOST-001", "GP-POST-001", "GP-CLI-001"):
        assert check_id in listing
    gv("run", "post", "--lab", code=0)
    stopped = gv("run", "post", "--lab", "session-service-stopped", code=1)
    assert re.search(r"gp-sh02\W.*Session Service.* is Stopped, expected Running", stopped)
    rerun = gv("run", "post", "--lab", "session-service-stopped", "--lf", code=1)  # pytest's cache works
    assert "gpverify: 1 check result(s): 1 failed" in rerun.splitlines()  # only the one that failed

    gv("init", "site", code=0)
    assert sorted(p.name for p in (work / "site").iterdir()) == [
        "checks",
        "deploy",
        "inventory.yml",
        "lab",
        "plan.yml",
        "waivers.yml",
    ]
    assert sorted(p.name for p in (work / "site" / "checks").iterdir()) == [
        "acme.checks.yml",
        "test_acme_session_service.py",
    ]
    assert (work / "site" / "deploy" / "windows" / "gpverify-audit-task.xml").is_file()
    assert (work / "site" / "deploy" / "systemd" / "gpverify-audit.timer").is_file()
    assert "password_env" in (work / "site" / "inventory.yml").read_text(encoding="utf-8")  # the commented example
    _declarative_checks_pass_and_fail(gv, work)
    # The site's settings on the lab's farm without the GP PowerShell module: the configuration database's names
    # are not set yet, so the Session Management checks are "not verified" until the overrides `gpverify discover`
    # suggests are set.
    unset = "without the module, the configuration database's tables are not public"
    no_module = ("run", "post", "--lab", "session-central-no-module", "--inventory", "site/inventory.yml")
    assert unset in gv(*no_module, code=0)
    site = work / "site" / "inventory.yml"
    site.write_text(
        site.read_text(encoding="utf-8").replace("overrides:", "overrides:\n" + LAB_NAMES, 1), encoding="utf-8"
    )
    verified = gv(*no_module, code=0)
    assert unset not in verified and " passed" in verified  # the Session Management checks now verified
    real = gv("run", "post", "--inventory", "site/inventory.yml", code=3)  # its password variable is not set
    assert "GPVERIFY_WINRM_PASSWORD" in real

    shutil.copytree(CUSTOM, work / "acme")
    custom = gv("run", "post", "--lab", "--checks", "acme", "-v", code=0)
    assert re.search(r"^ACME-001 +gp-sh01 +passed ", custom, flags=re.MULTILINE)
    assert re.search(r"^GP-POST-002 +gp-sh02 +passed ", custom, flags=re.MULTILINE)  # the shipped ones ran too
    failing = gv("run", "post", "--lab", "acme/acme-session-service-manual.yml", "--checks", "acme", code=1)
    assert "starts Manual, expected Auto" in failing
    assert "ACME-001" in gv("checks", "--checks", "acme", code=0)

    nothing = gv("run", "post", "--lab", "-k", "no_such_check", code=2)  # could not run (gpverify.exitcodes)
    assert "no checks were collected" in nothing
    (work / "broken").mkdir()
    (work / "broken" / "test_broken.py").write_text("def test_x(:\n", encoding="utf-8")
    assert "could not be collected" in gv("run", "post", "--lab", "--checks", "broken", code=2)
    assert "could not collect" in gv("checks", "--checks", "broken", code=2)
    assert "--hosts" in gv("run", "post", "--lab", "--hosts", "x", code=3)  # no testinfra option beside --host

    pyargs = _run(installed, work, "pytest", "--pyargs", "gpverify.checks.post", "--lab", "-q")
    assert pyargs.returncode == 0, pyargs.stdout[-3000:]
    assert (work / ".pytest_cache").is_dir()  # pytest's cache is on, in the folder it runs in
    assert not list(installed.parent.rglob(".pytest_cache"))  # and never inside the installed package

    gv("audit", "--lab", code=0)
    demo = gv("demo", code=0)
    assert "Reports of the upgrade on the lab" in demo
