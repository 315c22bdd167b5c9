"""pypsrp, a WinRM client written independently of pywinrm, runs commands through the lab: NTLM and SPNEGO-wrapped
Negotiate (what pypsrp's and .NET's "negotiate" send), sealed over HTTP and channel-bound over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pypsrp")  # the dev extra brings it; a bare install of gpverify does not need it

from pypsrp.client import Client
from pypsrp.exceptions import AuthenticationError, WinRMTransportError

from gpverify.lab.wsman import CommandOutput, WsmanServer, issue, make_ca, server_context
from helpers.wsman import PASSWORD, listener


class _Echo:
    """Answers every command with its own command line and stdin."""

    def run(self, command_line: str, stdin: bytes) -> CommandOutput:
        return CommandOutput(stdout=f"ran {command_line}".encode() + stdin, stderr=b"", exit_code=3)


@pytest.fixture(scope="module")
def farm():  # type: ignore[no-untyped-def]
    from gpverify.lab.models import build_farm

    return build_farm("html", "upgraded")


@pytest.fixture
def server(farm) -> Iterator[WsmanServer]:  # type: ignore[no-untyped-def]
    server = listener(farm)
    server.handler = _Echo()
    yield server
    server.stop()


def _client(server: WsmanServer, auth: str, password: str = PASSWORD, **kwargs: object) -> Client:
    return Client(
        "127.0.0.1",
        port=server.port,
        username="LAB\\gpadmin",
        password=password,
        auth=auth,
        ssl=False,
        encryption="always",
        **kwargs,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_pypsrp_runs_a_command_sealed_over_http(server: WsmanServer, auth: str) -> None:
    assert _client(server, auth).execute_cmd("hostname /all") == ("ran hostname /all", "", 3)
    soap = [r for r in server.requests if r.action]
    assert [r.action for r in soap] == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert all(r.encrypted and r.auth == "ntlm" for r in soap)
    assert server.handler_errors == []


def test_negotiate_is_spnego_with_the_listeners_mechlistmic(server: WsmanServer) -> None:
    """pyspnego's Negotiate initiator verifies the listener's mechListMIC and restarts its RC4 streams after it
    (MS-SPNG 3.1.5.1): a wrong MIC or a missing reset would fail the first sealed answer."""
    client = _client(server, "negotiate")
    for n in range(3):
        assert client.execute_cmd(f"echo {n}")[0] == f"ran echo {n}"


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_a_wrong_password_is_refused(server: WsmanServer, auth: str) -> None:
    with pytest.raises((AuthenticationError, WinRMTransportError)) as info:
        _client(server, auth, password="Not-The-Password-9").execute_cmd("hostname")
    assert "401" in str(info.value) or "failed to authenticate" in str(info.value).lower()
    assert server.open_shells == []


@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_https_binds_the_channel(farm, tmp_path: Path, auth: str) -> None:  # type: ignore[no-untyped-def]
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    server = listener(farm, tls=server_context(*issue(ca, ["localhost"])))  # channel binding enforced
    server.handler = _Echo()
    try:
        client = Client(
            "localhost",
            port=server.port,
            username="LAB\\gpadmin",
            password=PASSWORD,
            auth=auth,
            ssl=True,
            cert_validation=str(tmp_path / "ca.pem"),
        )
        assert client.execute_cmd("whoami") == ("ran whoami", "", 3)
        unbound = Client(
            "localhost",
            port=server.port,
            username="LAB\\gpadmin",
            password=PASSWORD,
            auth=auth,
            ssl=True,
            cert_validation=str(tmp_path / "ca.pem"),
            negotiate_send_cbt=False,
        )
        with pytest.raises((AuthenticationError, WinRMTransportError)):
            unbound.execute_cmd("whoami")
    finally:
        server.stop()
