"""The HTTPS endpoints browsers reach besides the site: each session host's runtime service (certificate on 443,
clientaccesspolicy.xml) and the GP Service help page, checked against the lab's real TLS stand-ins."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpverify.config.inventory import parse_inventory
from gpverify.config.profiles import load_profile
from gpverify.errors import ConfigError
from gpverify.facts.web import xml_root_name
from gpverify.lab.models import CLIENT_ACCESS_POLICY, GP_SERVICE_HELP
from gpverify.lab.runtime import RunningLab, start_lab
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
CERT = "test_session_host_runtime_certificate_is_valid"
POLICY = "test_session_host_serves_client_access_policy"
HELP = "test_gp_service_help_page_answers"
MINIMAL: dict[str, Any] = {
    "farm": "Contoso",
    "profile": "gp18.4",
    "sql": {"server": "gpsql01"},
    "web_server": {"name": "gpweb01"},
    "session_hosts": [{"name": "gpsh01.contoso.local"}],
}


def _inventory(https_url: object) -> dict[str, Any]:
    return {**MINIMAL, "session_hosts": [{"name": "gpsh01.contoso.local", "https_url": https_url}]}


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningLab]:
    running = start_lab(getattr(request, "param", "healthy"), tmp_path / "lab")
    yield running
    running.stop()


def overlay(tmp_path: Path, name: str, **fields: Any) -> str:
    """A scenario overlay file of the test's own (what an operator passes to --lab)."""
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump({"description": name, **fields}), encoding="utf-8")
    return str(path)


def test_session_host_url_defaults_to_its_name_on_443_and_can_be_set() -> None:
    inv = parse_inventory(MINIMAL, "farm.yml")
    assert inv.session_hosts[0].runtime_url == "https://gpsh01.contoso.local"
    inv = parse_inventory(_inventory("https://gpsh01.contoso.com:8443/"), "farm.yml")
    assert inv.session_hosts[0].runtime_url == "https://gpsh01.contoso.com:8443"


@pytest.mark.parametrize(
    "url",
    [
        "http://gpsh01.contoso.com",
        "https://",
        "gpsh01.contoso.com",
        "https://:443",
        "https://gpsh01.contoso.com:99999",
        "https://gpsh01.contoso.com/GP",
        "https://gpsh01.contoso.com/?x=1",
        "ftp://gpsh01",
    ],
)
def test_session_host_url_must_be_https_with_a_host(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_inventory(_inventory(url), "farm.yml")
    message = str(caught.value)
    assert message.startswith("farm.yml: session_hosts[0].https_url: expected an https:// URL"), message
    assert repr(url) in message and "Traceback" not in message


def test_client_access_policy_flag_is_sourced_per_era_and_overridable_only_as_true_or_false() -> None:
    for name in ("gp2013r2", "gp2015r2"):
        ident = load_profile(name).identifiers["web.session_host_client_access_policy"]
        assert (ident.value, ident.confidence) == (True, "confirmed") and "troubleshooting" in ident.source
    # The HTML releases: troubleshooting.md still prescribes the file for "the HTML application" (issue 21): true,
    # inferred, so GP-POST-012 warns where it is missing.
    for name in ("gp2016r2", "gp2018r2", "gp18.3", "gp18.4", "gp18.5", "gp18.8"):
        ident = load_profile(name).identifiers["web.session_host_client_access_policy"]
        assert (ident.value, ident.confidence) == (True, "inferred"), name
        assert "HTML application" in ident.source
    assert (
        load_profile("gp18.4", {"web.session_host_client_access_policy": False})[
            "web.session_host_client_access_policy"
        ]
        is False
    )
    with pytest.raises(
        ConfigError,
        match=r"overrides\.web\.session_host_client_access_policy: expected true or "
        r"false, got 'yes'",
    ):
        load_profile("gp18.4", {"web.session_host_client_access_policy": "yes"})


def test_xml_bodies_are_recognised_without_expanding_entities() -> None:
    assert (
        xml_root_name(b'<?xml version="1.0"?><access-policy><cross-domain-access/></access-policy>') == "access-policy"
    )
    assert xml_root_name(b"<html><title>x</title></html>") == "html"
    assert xml_root_name(b"Not Found") is None and xml_root_name(b"") is None
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><access-policy>&b;</access-policy>'
    assert xml_root_name(bomb) is None  # defusedxml refuses entity declarations


def test_html_lab_checks_each_runtime_certificate_policy_file_and_help_page_once(
    run_checks: Run, lab: RunningLab
) -> None:
    run = run_checks("post", "--inventory", str(lab.inventory_path), "-k", "session_host_https")
    assert run.ret == 0, run.text
    assert run.with_outcome("passed") == sorted(
        [f"{CERT}[gp-sh01]", f"{CERT}[gp-sh02]", HELP, f"{POLICY}[gp-sh01]", f"{POLICY}[gp-sh02]"]
    ), run.text
    assert lab.web is not None and lab.web.hits[GP_SERVICE_HELP] == 1
    assert [server.hits[CLIENT_ACCESS_POLICY] for server in lab.runtimes.values()] == [1, 1]


def test_an_html_era_host_without_the_policy_file_is_a_warning(run_checks: Run) -> None:
    """troubleshooting.md prescribes the file for the HTML application too; that the HTML runtime serves it is
    inferred, so its absence is advice naming the host, where it used to be 'not verified'."""
    run = run_checks("post", "--lab", "post-html-host-no-client-access-policy", "-k", "session_host_https")
    assert run.ret == 0, run.text
    assert run.with_outcome("warning") == [f"{POLICY}[gp-sh02]"], run.text
    message = run.messages[f"{POLICY}[gp-sh02]"]
    assert "gp-sh02" in message and "HTTP 404" in message and "web.session_host_client_access_policy" in message


@pytest.mark.parametrize("lab", ["silverlight"], indirect=True)
def test_silverlight_lab_fetches_each_policy_file_once_and_passes(run_checks: Run, lab: RunningLab) -> None:
    run = run_checks("post", "--inventory", str(lab.inventory_path), "-k", "session_host_https")
    assert run.ret == 0, run.text
    assert len(run.with_outcome("passed")) == 5, run.text
    assert sorted(lab.runtimes) == ["gp-sh01", "gp-sh02"]
    assert [server.hits[CLIENT_ACCESS_POLICY] for server in lab.runtimes.values()] == [1, 1]


def test_lab_stops_the_session_host_stand_ins(lab: RunningLab) -> None:
    ports = [server.port for server in lab.runtimes.values()]
    assert all(lab.inventory_path.read_text().count(f"https_url: https://localhost:{p}") == 1 for p in ports)
    lab.stop()
    for port in ports:
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", port))


@pytest.mark.parametrize(("served", "outcome"), [(True, "passed"), (False, "skipped")])
def test_html_operator_decides_whether_the_policy_file_is_checked(
    run_checks: Run, tmp_path: Path, served: bool, outcome: str
) -> None:
    spec = overlay(tmp_path, "policy", inventory={"overrides": {"web.session_host_client_access_policy": served}})
    run = run_checks("post", "--lab", spec, "-k", POLICY)
    assert run.ret == 0, run.text
    assert run.with_outcome(outcome) == [f"{POLICY}[gp-sh01]", f"{POLICY}[gp-sh02]"], run.text
    if not served:
        assert (
            "does not serve clientaccesspolicy.xml (web.session_host_client_access_policy: false)"
            in run.messages[f"{POLICY}[gp-sh01]"]
        )


def test_html_override_true_fails_a_host_without_the_policy_file(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        "no-policy",
        inventory={"overrides": {"web.session_host_client_access_policy": True}},
        hosts={"gp-sh01": {"https": {"missing_paths": [CLIENT_ACCESS_POLICY]}}},
    )
    run = run_checks("post", "--lab", spec, "-k", POLICY)
    assert run.with_outcome("failed") == [f"{POLICY}[gp-sh01]"], run.text
    message = run.messages[f"{POLICY}[gp-sh01]"]
    assert "gp-sh01" in message and "expected https://localhost:" in message and "found HTTP 404" in message


def test_expiring_runtime_certificate_fails_with_days_left_and_the_setting(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(tmp_path, "expiring", hosts={"gp-sh02": {"https": {"cert_days_left": 5}}})
    run = run_checks("post", "--lab", spec, "-k", CERT)
    assert run.with_outcome("failed") == [f"{CERT}[gp-sh02]"], run.text
    message = run.messages[f"{CERT}[gp-sh02]"]
    for text in (
        "gp-sh02",
        "https://localhost:",
        "CN=localhost",
        "5 days left",
        "at least 30 days",
        "certificate_expiry_days",
    ):
        assert text in message, (text, message)
    # The operator's threshold decides: 3 days asked, 5 left.
    spec = overlay(
        tmp_path,
        "expiring-ok",
        hosts={"gp-sh02": {"https": {"cert_days_left": 5}}},
        inventory={"certificate_expiry_days": 3},
    )
    assert run_checks("post", "--lab", spec, "-k", CERT).ret == 0


def test_runtime_service_down_fails_naming_the_host_while_its_winrm_is_fine(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(tmp_path, "down", era="silverlight", hosts={"gp-sh01": {"https": {"down": True}}})
    run = run_checks("post", "--lab", spec)
    assert run.with_outcome("failed") == [f"{CERT}[gp-sh01]", f"{POLICY}[gp-sh01]"], run.text
    assert not run.with_outcome("error"), run.text
    assert "gp-sh01" in run.messages[f"{CERT}[gp-sh01]"]
    assert "Connection refused" in run.messages[f"{CERT}[gp-sh01]"]
    assert "no connection" in run.messages[f"{POLICY}[gp-sh01]"]


def test_https_knobs_only_for_session_hosts(tmp_path: Path) -> None:
    spec = overlay(tmp_path, "web-https", hosts={"gp-web01": {"https": {"down": True}}})
    with pytest.raises(ConfigError, match=r"hosts\.gp-web01\.https: expected a session host"):
        start_lab(spec, tmp_path / "lab")
