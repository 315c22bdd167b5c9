"""The custom-checks example (tests/examples/custom_checks): ACME-001 runs with the shipped checks on the lab."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from gpverify.cli.checks import print_catalogue
from helpers.checks import CHECK_ID_PARAM, CHECKS

CUSTOM = Path(__file__).parent / "custom_checks"
ACME = "test_acme_session_service.py::test_session_service_starts_automatically"


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    # Keyed by file, test and host: the check ID the plugin puts in test ids ("[ACME-001-gp-sh01]") left out.
    return {
        CHECK_ID_PARAM.sub(lambda m: "[" if m.group(1) == "-" else "", r.nodeid.rsplit("/", 1)[-1]): r.outcome
        for r in reports
        if r.when == "call"
    }


def test_acme_check_runs_with_the_shipped_post_checks(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(str(CHECKS / "post"), str(CUSTOM), "--lab", "-p", "no:cacheprovider")
    outcomes = _outcomes(result)
    assert result.ret == 0, result.stdout.str()
    assert outcomes[f"{ACME}[gp-sh01]"] == outcomes[f"{ACME}[gp-sh02]"] == "passed"
    assert sum(1 for nodeid in outcomes if nodeid.startswith("test_services.py")) >= 2  # shipped checks ran too


def test_acme_check_fails_on_its_overlay_naming_host_and_values(pytester: pytest.Pytester) -> None:
    overlay = CUSTOM / "acme-session-service-manual.yml"
    result = pytester.runpytest_inprocess(
        str(CHECKS / "post"), str(CUSTOM), "--lab", str(overlay), "-p", "no:cacheprovider"
    )
    outcomes = _outcomes(result)
    assert result.ret == 1
    assert outcomes[f"{ACME}[gp-sh01]"] == "failed" and outcomes[f"{ACME}[gp-sh02]"] == "passed"
    assert re.search(r"ACME-001 gp-sh01\W.*Session Service.* starts Manual, expected Auto", result.stdout.str())
    assert [n for n, o in outcomes.items() if o == "failed"] == [f"{ACME}[gp-sh01]"]  # nothing shipped broke


def test_catalogue_lists_the_custom_check_in_its_phase(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert print_catalogue(CHECKS, "json", CUSTOM) == 0
    rows = {row["id"]: row for row in json.loads(out.getvalue())}
    assert rows["ACME-001"]["phase"] == "post" and rows["ACME-001"]["impact"] == "high"
    assert "GP-POST-002" in rows


def test_a_custom_check_takes_its_phase_from_its_folder(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (CUSTOM / "test_acme_session_service.py").read_text(encoding="utf-8")
    folder = pytester.mkdir("site_checks")
    (folder / "pre").mkdir()
    (folder / "pre" / "test_acme_pre.py").write_text(
        source.replace('    phase="post",\n', "").replace("ACME-001", "ACME-PRE-7"), encoding="utf-8"
    )
    (folder / "test_acme_flat.py").write_text(
        source.replace('    phase="post",\n', "").replace("ACME-001", "XYZ-1"), encoding="utf-8"
    )
    with contextlib.redirect_stdout(io.StringIO()) as out:
        print_catalogue(folder, "json")
    phases = {row["id"]: row["phase"] for row in json.loads(out.getvalue())}
    assert phases == {"ACME-PRE-7": "pre", "XYZ-1": "post"}  # the folder, else post (README, Custom checks)
