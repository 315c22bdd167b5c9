"""The collector over real pywinrm on each transport path the lab serves: NTLM+encryption, Basic, HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gpverify.config.inventory import HostSpec
from gpverify.errors import HostUnavailable
from gpverify.facts.collect import collect_host, collect_hosts
from gpverify.lab.models import build_farm
from gpverify.lab.wsman import WsmanServer, issue, make_ca, server_context
from helpers.wsman import COLLECTORS
from helpers.wsman import job as _job
from helpers.wsman import listener as _server
from helpers.wsman import spec as _spec


@pytest.fixture(scope="module")
def farm():  # type: ignore[no-untyped-def]
    return build_farm("html", "upgraded")


@pytest.fixture
def ntlm_server(farm) -> Iterator[WsmanServer]:  # type: ignore[no-untyped-def]
    server = _server(farm)
    yield server
    server.stop()


def test_ntlm_with_message_encryption_collects_in_one_shell(farm, ntlm_server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    facts = collect_host(_job(farm, _spec(ntlm_server.port)))
    assert facts.services["session_service"][0].is_running
    soap = [r for r in ntlm_server.requests if r.action]
    assert all(r.encrypted for r in soap), "every SOAP body travels NTLM-sealed over HTTP"
    actions = [r.action for r in soap]
    assert actions.count("Create") == 1 and actions.count("Delete") == 1 and actions.count("Command") == 1
    assert ntlm_server.http_request_count <= 7  # tests/lab/test_transport_requests.py names each one


def test_basic_over_http_needs_explicit_permission(farm) -> None:  # type: ignore[no-untyped-def]
    server = _server(farm, "basic")
    try:
        with pytest.raises(HostUnavailable, match="Basic authentication over plain HTTP is refused"):
            collect_host(_job(farm, _spec(server.port, transport="basic")))
        facts = collect_host(_job(farm, _spec(server.port, transport="basic", allow_basic_over_http=True)))
        assert facts.files["dynamics_exe"].exists
        assert {r.auth for r in server.requests if r.action} == {"basic"}
    finally:
        server.stop()


@pytest.mark.parametrize("driver", COLLECTORS)
def test_https_with_ca_bundle_and_name_mismatch(farm, tmp_path: Path, driver: str) -> None:  # type: ignore[no-untyped-def]
    collect_host = COLLECTORS[driver]
    ca = make_ca()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.cert_pem)
    server = _server(farm, tls=server_context(*issue(ca, ["localhost"])))
    try:
        https = {"scheme": "https", "port": server.port, "ca_bundle": str(bundle)}
        ok = HostSpec("gp-sh01", "session_host", "localhost", _spec(**https).winrm)  # type: ignore[arg-type]
        assert collect_host(_job(farm, ok)).computer == "GP-SH01"
        wrong = HostSpec("gp-sh01", "session_host", "127.0.0.1", ok.winrm)
        with pytest.raises(HostUnavailable, match="does not match the name"):
            collect_host(_job(farm, wrong))
        untrusted = HostSpec("gp-sh01", "session_host", "localhost", _spec(scheme="https", port=server.port).winrm)
        with pytest.raises(HostUnavailable, match="not trusted: set winrm.ca_bundle"):
            collect_host(_job(farm, untrusted))
    finally:
        server.stop()


def test_wrong_password_is_a_host_error_and_others_are_unaffected(farm, ntlm_server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    good, bad = _spec(ntlm_server.port), HostSpec("gp-sh02", "session_host", "127.0.0.1", _spec(ntlm_server.port).winrm)
    results = collect_hosts([_job(farm, good), _job(farm, bad, "wrong")])
    assert not isinstance(results["gp-sh01"], HostUnavailable)
    assert isinstance(results["gp-sh02"], HostUnavailable)
    assert "credentials rejected" in str(results["gp-sh02"]) and "wrong" not in str(results["gp-sh02"])


def test_only_the_shipped_collector_is_sent(farm, ntlm_server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    collect_host(_job(farm, _spec(ntlm_server.port)))
    handler = ntlm_server.handler
    assert [c.kind for c in handler.received] == ["collector"]
    assert len(handler.received[0].command_line) < 2000, "the script rides on stdin, not the command line"
