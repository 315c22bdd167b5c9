"""What one host costs on the wire (issue 15): seven WinRM HTTP requests, NTLM hashes computed once per run,
Negotiate sent up front with a fallback, proxies resolved once. Counted against the lab; nothing is timed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gpverify.config.inventory import HostSpec, WinRMSettings
from gpverify.config.redact import MASK, Redactor
from gpverify.errors import HostUnavailable
from gpverify.facts.collect import collect_host, collect_hosts
from gpverify.lab.models import build_farm
from gpverify.lab.wsman import WsmanServer
from gpverify.transport.ntlm import ntlm_secret
from gpverify.transport.winrm import environment_proxies, protocol_options, resolve_proxy
from helpers.wsman import PASSWORD, listener
from helpers.wsman import job as _job
from helpers.wsman import spec as _spec

# Negotiate (401 + challenge), Authenticate on pywinrm's blank POST that sets up encryption, then the shell:
# Create, Command, Send (the collector on stdin), Receive, Delete.
WIRE = ["", "", "Create", "Command", "Send", "Receive", "Delete"]


@pytest.fixture(scope="module")
def farm():  # type: ignore[no-untyped-def]
    return build_farm("html", "upgraded")


@pytest.fixture
def server(farm) -> Iterator[WsmanServer]:  # type: ignore[no-untyped-def]
    server = listener(farm)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _proxies_read_anew() -> Iterator[None]:
    # The environment's proxies are read once per run (process); each test here sets its own.
    environment_proxies.cache_clear()
    yield
    environment_proxies.cache_clear()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_host_costs_seven_requests_with_negotiate_sent_up_front(farm, server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    facts = collect_host(_job(farm, _spec(server.port)))
    assert facts.services["session_service"][0].is_running
    assert [r.action or "" for r in server.requests] == WIRE
    assert server.http_request_count == len(WIRE) == 7
    # The first request already carried the NTLM Negotiate token: no anonymous 401 leg.
    assert server.requests[0].http_status == 401 and server.requests[1].auth == "ntlm"


def test_over_https_a_host_costs_six_requests_with_channel_binding(farm, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gpverify.lab.wsman import issue, make_ca, server_context

    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    # The listener enforces channel binding: the certificate's hash in the NTLM answer.
    server = listener(farm, tls=server_context(*issue(ca, ["localhost"])))
    try:
        host = _spec(server.port, address="localhost", scheme="https", ca_bundle=str(tmp_path / "ca.pem"))
        facts = collect_host(_job(farm, host))
        assert facts.services["session_service"][0].is_running
        # TLS protects the messages, so no blank request sets up encryption: the Create carries the tokens.
        assert [r.action or "" for r in server.requests] == ["", "Create", "Command", "Send", "Receive", "Delete"]
    finally:
        server.stop()


def test_a_listener_that_refuses_an_unasked_token_gets_requests_ntlm_handshake(farm) -> None:  # type: ignore[no-untyped-def]
    server = listener(farm, fault="anonymous-first")
    try:
        facts = collect_host(_job(farm, _spec(server.port)))
        assert facts.services["session_service"][0].is_running
        # The unasked token was refused; requests-ntlm's Negotiate and Authenticate legs followed: one request more.
        assert server.http_request_count == 8, [r.action for r in server.requests]
        assert [r.action for r in server.requests if r.action] == WIRE[2:]
    finally:
        server.stop()


def test_a_wrong_password_still_says_credentials_rejected(farm, server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(HostUnavailable, match="credentials rejected for user"):
        collect_host(_job(farm, _spec(server.port), password="Not-The-Password-9"))


def test_the_ntlm_hashes_are_computed_once_per_run_and_handed_to_pywinrm(farm) -> None:  # type: ignore[no-untyped-def]
    servers = [listener(farm) for _ in range(3)]
    try:
        ntlm_secret.cache_clear()
        jobs = [_job(farm, _spec(s.port, name=f"gp-sh0{i}")) for i, s in enumerate(servers, 1)]
        results = collect_hosts(jobs)
        assert all(not isinstance(r, Exception) for r in results.values()), results
        assert ntlm_secret.cache_info().misses == 1 and ntlm_secret.cache_info().hits >= 2
        options = protocol_options(jobs[0].spec, PASSWORD)
        assert options["password"] == ntlm_secret(PASSWORD) != PASSWORD
        assert options["password"].count(":") == 1 and len(options["password"]) == 65  # "<LM hex>:<NT hex>"
    finally:
        for s in servers:
            s.stop()


def test_other_transports_get_the_password_itself() -> None:
    spec = _spec(5986, scheme="https", transport="basic")
    assert protocol_options(spec, PASSWORD)["password"] == PASSWORD


def test_the_hashed_form_is_masked_like_the_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gpverify.facts.farm import Farm  # a Farm of one host: what Redactor.for_farm reads is its passwords

    farm = Farm.__new__(Farm)
    farm.passwords, farm.sql_password = {"gp-sh01": PASSWORD}, None
    redactor = Redactor.for_farm(farm)
    text = f"password={ntlm_secret(PASSWORD)}; upper={ntlm_secret(PASSWORD)}"
    assert ntlm_secret(PASSWORD) not in redactor.text(text) and MASK in redactor.text(text)


def test_proxy_from_the_environment_honours_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "gp-sh02.contoso.local")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    near = HostSpec("gp-sh01", "session_host", "gp-sh01.contoso.local", WinRMSettings(scheme="http", port=5985))
    bypassed = HostSpec("gp-sh02", "session_host", "gp-sh02.contoso.local", WinRMSettings(scheme="http", port=5985))
    assert resolve_proxy(near) == "http://proxy.example:3128"
    assert resolve_proxy(bypassed) is None
    direct = HostSpec("gp-sh01", "session_host", "gp-sh01.contoso.local", WinRMSettings(scheme="http", proxy="none"))
    assert resolve_proxy(direct) is None


def test_proxy_none_connects_directly_despite_the_environment(
    farm,
    server: WsmanServer,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert collect_host(_job(farm, _spec(server.port, proxy="none"))).services["session_service"][0].is_running
    with pytest.raises(HostUnavailable):  # the environment's (dead) proxy is used when not told otherwise
        collect_host(_job(farm, _spec(server.port)))


def test_a_proxy_named_in_the_inventory_is_used(farm, server: WsmanServer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(HostUnavailable):
        collect_host(_job(farm, _spec(server.port, proxy=f"http://127.0.0.1:{_dead_port()}")))
    assert server.http_request_count == 0  # nothing went around the proxy


@pytest.mark.parametrize(
    "value",
    ["http://user:secret-pw@proxy:3128", "ftp://proxy", "proxy:3128", "http://proxy:3128/path", "http://proxy:99999"],
)
def test_a_bad_proxy_setting_is_one_message_that_never_echoes_a_password(value: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gpverify.config.inventory import load_inventory
    from gpverify.config.shipped import example
    from gpverify.errors import ConfigError

    text = (
        example("inventory.example.yml")
        .read_text()
        .replace("  transport: ntlm\n", f"  transport: ntlm\n  proxy: {value}\n", 1)
    )
    (tmp_path / "inventory.yml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_inventory(tmp_path / "inventory.yml")
    message = str(info.value)
    assert "winrm.proxy" in message and "secret-pw" not in message
