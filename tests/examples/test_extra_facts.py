"""A custom check reads a fact the inventory's extra_facts adds to the one collector request per host."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CHECK = """
from gpverify import HostView, check


@check("ACME-010", title="The SBA Dexterity Service of this release is installed.", section="Acme",
       impact="low", remediation="Install it.", phase="hosts")
def test_gpds_installed(session_host: HostView) -> None:
    services = session_host.services("acme_gpds")
    assert services, f"{session_host.name}: no GPDS service"
    assert session_host.products("acme_gp_entry"), f"{session_host.name}: no GP entry"
"""


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        (
            {
                "session_hosts": {
                    "services": {"acme_gpds": {"name": "GPDS-*"}},
                    "products": {"acme_gp_entry": "Microsoft Dynamics GP 2018*"},
                }
            },
            "passed",
        ),
        (
            {"session_hosts": {"services": {"acme_gpds": {"name": "GPDS-NONE-*"}}, "products": {"acme_gp_entry": "*"}}},
            "failed",
        ),
        ({}, "error"),  # nothing collected it: an error naming the key, never "not installed"
    ],
)
def test_extra_facts_reach_custom_checks(
    pytester: pytest.Pytester, tmp_path: Path, extra: dict[str, object], outcome: str
) -> None:
    from gpverify.lab.runtime import temporary_lab

    pytester.makepyfile(
        test_acme_extra_facts=CHECK
    )  # its own name: an audit in this process may have loaded a test_acme
    with temporary_lab("healthy") as lab:
        inventory = yaml.safe_load(lab.inventory_path.read_text())
        inventory["extra_facts"] = extra
        path = tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory))
        result = pytester.runpytest_inprocess(
            "--inventory",
            str(path),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:gpverify-terminal",
        )
    counts = result.parseoutcomes()
    assert counts.get(outcome) == 2 or counts.get(outcome + "s") == 2, result.stdout.str()
    if outcome == "error":
        assert "no services 'acme_gpds' was collected" in result.stdout.str()
