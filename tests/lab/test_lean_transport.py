"""The lean WinRM client on the paths the differential test does not take, and which client a host gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpverify.config.inventory import HostSpec, WinRMSettings
from gpverify.errors import HostUnavailable
from gpverify.lab.models import build_farm
from gpverify.lab.wsman import WsmanServer, issue, make_ca, server_context
from gpverify.transport import get_transport_class, transport_for
from gpverify.transport.lean import LeanTransport
from gpverify.transport.ntlm import lm_hash, md4, nt_hash, ntlm_secret
from gpverify.transport.settings import environment_proxies
from helpers.wsman import COLLECTORS, job, listener, spec


@pytest.fixture(scope="module")
def farm():  # type: ignore[no-untyped-def]
    return build_farm("html", "upgraded")


@pytest.fixture
def tls_listener(farm, tmp_path: Path) -> Iterator[tuple[WsmanServer, Path]]:  # type: ignore[no-untyped-def]
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    server = listener(farm, tls=server_context(*issue(ca, ["localhost"])))
    yield server, tmp_path / "ca.pem"
    server.stop()


@pytest.mark.parametrize(
    ("data", "digest"),
    [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_is_rfc_1320(data: bytes, digest: str) -> None:
    assert md4(data).hex() == digest  # RFC 1320 appendix A.5's test suite


def test_the_hashes_of_a_known_password() -> None:
    # "password": the NT and LM hashes every NTLM reference lists (e.g. MS-NLMP 4.2.1 uses "Password").
    assert nt_hash("password").hex() == "8846f7eaee8fb117ad06bdd830b7586c"
    assert lm_hash("password").hex() == "e52cac67419a9a224a3b108f3fa6cb6d"
    assert nt_hash("Password").hex() == "a4f49c406510bdcab6824ee7c30fd852"  # MS-NLMP 4.2.2.1.2 NTOWFv1
    assert ntlm_secret("password") == "e52cac67419a9a224a3b108f3fa6cb6d:8846f7eaee8fb117ad06bdd830b7586c"


@pytest.mark.parametrize(
    ("winrm", "expected"),
    [
        ({}, "lean"),
        ({"client": "lean"}, "lean"),
        ({"client": "pywinrm"}, "winrm"),
        ({"transport": "basic", "allow_basic_over_http": True}, "lean"),
        ({"transport": "kerberos"}, "winrm"),
        ({"transport": "credssp"}, "winrm"),
        ({"proxy": "http://proxy.example:3128"}, "winrm"),
    ],
)
def test_the_lean_client_where_it_can_pywinrm_for_the_rest(
    winrm: dict[str, object], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    environment_proxies.cache_clear()
    try:
        assert transport_for(spec(5985, **winrm)) == expected  # type: ignore[arg-type]
    finally:
        environment_proxies.cache_clear()


def test_an_unknown_client_is_refused_by_the_inventory() -> None:
    with pytest.raises(ValueError, match="client"):
        WinRMSettings(client="paramiko")  # type: ignore[arg-type]


@pytest.mark.parametrize("driver", COLLECTORS)
def test_sealed_over_https_when_asked_always(farm, tls_listener, driver: str) -> None:  # type: ignore[no-untyped-def]
    server, bundle = tls_listener
    host = spec(server.port, address="localhost", scheme="https", ca_bundle=str(bundle), message_encryption="always")
    assert COLLECTORS[driver](job(farm, host)).services["session_service"][0].is_running
    soap = [r for r in server.requests if r.action]
    # pywinrm's rule: "always" seals over TLS too, after the blank request that sets sealing up.
    assert [r.action for r in server.requests] == ["", "", "Create", "Command", "Send", "Receive", "Delete"]
    assert all(r.encrypted for r in soap)


@pytest.mark.parametrize("driver", COLLECTORS)
def test_basic_over_https(farm, tmp_path: Path, driver: str) -> None:  # type: ignore[no-untyped-def]
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    server = listener(farm, "basic", tls=server_context(*issue(ca, ["localhost"])))
    try:
        host = spec(
            server.port, address="localhost", scheme="https", ca_bundle=str(tmp_path / "ca.pem"), transport="basic"
        )
        assert COLLECTORS[driver](job(farm, host)).computer == "GP-SH01"
        assert {r.auth for r in server.requests if r.action} == {"basic"}
        assert server.http_request_count == 5  # Create, Command, Send, Receive, Delete: Basic needs no handshake
    finally:
        server.stop()


def test_a_host_runs_several_commands_in_one_shell(farm) -> None:  # type: ignore[no-untyped-def]
    server = listener(farm)
    try:
        with LeanTransport(spec(server.port), "Transport-Test-Pw1") as shell:
            first = shell.run("hostname", [])
            second = shell.run("whoami", ["/all"])
        assert first.exit_code == second.exit_code  # the lab answers "not emulated" to both, the same way
        assert server.actions() == ["Create", "Command", "Receive", "Command", "Receive", "Delete"]
        assert server.open_shells == []
    finally:
        server.stop()


@pytest.mark.parametrize(("client", "timers"), [("lean", 0), ("winrm", 1)])
def test_no_timer_thread_per_host(farm, client: str, timers: int) -> None:  # type: ignore[no-untyped-def]
    """The pywinrm transport keeps a timer thread per host for its deadline; the lean one cuts each wait instead."""
    server = listener(farm)
    try:
        with get_transport_class(client)(spec(server.port), "Transport-Test-Pw1") as shell:
            shell.run("hostname", [])
            assert sum(isinstance(t, threading.Timer) for t in threading.enumerate()) == timers
    finally:
        server.stop()


def test_missing_user_or_password_is_a_sentence() -> None:
    with pytest.raises(HostUnavailable, match="no password for user"):
        LeanTransport(spec(5985), None)
    no_user = HostSpec("gp-sh01", "session_host", "127.0.0.1", spec(5985).winrm.model_copy(update={"user": None}))
    with pytest.raises(HostUnavailable, match="no user name"):
        LeanTransport(no_user, "pw")


@pytest.mark.parametrize(
    "answer",
    [
        b'<!DOCTYPE x [<!ENTITY a "ShellId">]><x Name="ShellId">&a;</x>',
        b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x Name="ShellId">id</x>',
        b'<x Name="ShellId">unclosed',
    ],
)
def test_an_answer_with_a_dtd_or_not_xml_is_refused(answer: bytes) -> None:
    from gpverify.transport.wsman import BadAnswer, parse_shell_id

    with pytest.raises(BadAnswer):
        parse_shell_id(answer)


def test_a_request_step_shows_no_authorization_in_its_repr() -> None:
    """Basic's header holds the password (base64): a traceback's locals or a debug line must not show it."""
    from gpverify.transport.lean import _Post

    assert "Basic" not in repr(_Post("Authorization: Basic dXNlcjpwdw==\r\n", b"<s:Envelope/>"))
