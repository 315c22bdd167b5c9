"""GP-HOST-009/010 without hand-picked names: the Web Client Runtime and Service Based Architecture features found by
the titles the docs use, in the Feature table of the GP entry's cached package (the lab's own feature IDs), judged by
whether that feature is installed; the inventory's feature ID first when it names one; "not verified" only when no
feature carries the title (or the cached package cannot be read)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gpverify.lab.runtime  # noqa: F401  (imported once here, so that in-process runs do not re-import it)
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
FEATURES = ("-k", "GP-HOST-009 or GP-HOST-010")
RUNTIME, SBA = "test_web_client_runtime_feature_installed", "test_service_based_architecture_feature_installed"


def overlay(tmp_path: Path, text: str) -> str:
    path = tmp_path / "overlay.yml"
    path.write_text("description: a feature case\n" + text, encoding="utf-8")
    return str(path)


def test_healthy_lab_finds_both_features_by_their_titles(run_checks: Run) -> None:
    for scenario in ("healthy", "silverlight"):
        run = run_checks("hosts", "--lab", scenario, *FEATURES)
        assert set(run.outcomes.values()) == {"passed"} and len(run.outcomes) == 4, run.text
        basis = run.sentences[f"{RUNTIME}[gp-sh01]"]
        assert "LabWebClientRuntime in Microsoft Dynamics GP" in basis, basis
        assert "found by its title 'Web Client Runtime' in the cached package's Feature table" in basis, basis
        assert "'Service Based Architecture'" in run.sentences[f"{SBA}[gp-sh02]"]


def test_a_missing_feature_fails_naming_the_id_its_title_gave(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "host-runtime-feature-missing", *FEATURES)
    assert run.with_outcome("failed") == [f"{RUNTIME}[gp-sh01]"], run.text
    message = run.sentences[f"{RUNTIME}[gp-sh01]"]
    assert "the Web Client Runtime feature (LabWebClientRuntime, found by its title" in message, message
    assert "installed features: Microsoft Dynamics GP 2018 18.4.1361: GP, LabServiceBasedArchitecture" in message, (
        message
    )


def test_the_inventory_feature_id_comes_first(run_checks: Run, tmp_path: Path) -> None:
    named = overlay(tmp_path, "inventory:\n  overrides:\n    features.web_client_runtime: HRM\n")
    run = run_checks("hosts", "--lab", named, *FEATURES)
    # The operator named another feature: it is judged, whatever the titles say (and it is not installed).
    assert run.with_outcome("failed") == [f"{RUNTIME}[gp-sh01]", f"{RUNTIME}[gp-sh02]"], run.text
    assert "(HRM, named in the inventory's overrides)" in run.sentences[f"{RUNTIME}[gp-sh01]"]


def test_not_verified_when_no_feature_has_the_title_or_the_package_is_not_there(
    run_checks: Run, tmp_path: Path
) -> None:
    localized = overlay(
        tmp_path,
        "hosts:\n  gp-sh01:\n    feature_titles: {LabWebClientRuntime: Web-Client-Laufzeit, "
        "LabServiceBasedArchitecture: Service Based Architecture}\n"
        "  gp-sh02:\n    feature_titles: {}\n",
    )
    run = run_checks("hosts", "--lab", localized, *FEATURES)
    assert run.outcomes == {
        f"{RUNTIME}[gp-sh01]": "not verified",
        f"{SBA}[gp-sh01]": "passed",
        f"{RUNTIME}[gp-sh02]": "not verified",
        f"{SBA}[gp-sh02]": "not verified",
    }, run.text
    assert "no feature titled 'Web Client Runtime'" in run.sentences[f"{RUNTIME}[gp-sh01]"]
    assert "'Web-Client-Laufzeit'" in run.sentences[f"{RUNTIME}[gp-sh01]"]
    assert "features.web_client_runtime: <feature ID>" in run.sentences[f"{RUNTIME}[gp-sh01]"]
    assert "cached package not read (no cached package (LocalPackage))" in run.sentences[f"{RUNTIME}[gp-sh02]"]
