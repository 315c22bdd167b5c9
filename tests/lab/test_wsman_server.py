"""Real pywinrm 0.5.0 against the lab WS-Man server over loopback HTTP/HTTPS."""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import winrm
import xmltodict
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from gpverify.lab.wsman import (
    AuthConfig,
    CommandOutput,
    OperationTimedOut,
    WsmanServer,
    issue,
    make_ca,
    make_self_signed,
    server_context,
)

USER, PASSWORD = "LAB\\gpadmin", "Passw0rd!"
Answer = CommandOutput | Callable[[str, bytes], CommandOutput]


@dataclass
class ScriptedHandler:
    """Answers command lines from a table (exact match) and records every call."""

    table: dict[str, Answer] = field(default_factory=dict)
    calls: list[tuple[str, bytes]] = field(default_factory=list)

    def run(self, command_line: str, stdin: bytes) -> CommandOutput:
        self.calls.append((command_line, stdin))
        answer = self.table.get(command_line, CommandOutput(stdout=b"ok\r\n"))
        return answer(command_line, stdin) if callable(answer) else answer


ServerFactory = Callable[..., WsmanServer]


@pytest.fixture
def handler() -> ScriptedHandler:
    return ScriptedHandler()


@pytest.fixture(params=[False, True], ids=["threads", "loop"])
def make_server(handler: ScriptedHandler, request: pytest.FixtureRequest) -> Iterator[ServerFactory]:
    """Start 127.0.0.1 servers on demand; every one is stopped at teardown. Each test runs twice: connections
    served by a thread each, and by the loop thread (lab/wsman/loop.py; HTTPS listeners keep their threads)."""
    started: list[WsmanServer] = []

    def factory(scheme: str = "basic", **kwargs: Any) -> WsmanServer:
        kwargs.setdefault("serve_in_loop", request.param)
        auth = kwargs.pop("auth", None) or AuthConfig(scheme=scheme)  # type: ignore[arg-type]
        server = WsmanServer(
            kwargs.pop("handler", handler), auth, idle_timeout=kwargs.pop("idle_timeout", 30), **kwargs
        )
        started.append(server)
        server.start()
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, Path]:
    cert, key = make_self_signed(["localhost", "127.0.0.1"])
    path = tmp_path_factory.mktemp("tls") / "listener.pem"
    path.write_bytes(cert)
    return cert, key, path


def protocol(server: WsmanServer, transport: str, **kwargs: Any) -> Protocol:
    kwargs.setdefault("username", USER)
    kwargs.setdefault("password", PASSWORD)
    # None: ignore REQUESTS_CA_BUNDLE in the environment (pywinrm's "legacy_requests" default warns about it).
    kwargs.setdefault("ca_trust_path", None)
    return Protocol(server.url, transport=transport, **kwargs)  # type: ignore[arg-type]


def run(p: Protocol, command: str, args: tuple[str, ...] = ()) -> tuple[bytes, bytes, int]:
    shell = p.open_shell()
    try:
        cmd = p.run_command(shell, command, args)
        out = p.get_command_output(shell, cmd)
        p.cleanup_command(shell, cmd)
        return out
    finally:
        p.close_shell(shell)


# ---------------------------------------------------------------- auth and transport


def test_basic_over_http_runs_a_command(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    handler.table["hostname"] = CommandOutput(stdout=b"GP-WEB01\r\n")
    server = make_server("basic")

    assert run(protocol(server, "basic"), "hostname") == (b"GP-WEB01\r\n", b"", 0)

    assert server.actions() == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert {(r.auth, r.encrypted, r.http_status) for r in server.requests} == {("basic", False, 200)}
    assert handler.calls == [("hostname", b"")]


def test_ntlm_over_http_encrypts_every_soap_body(make_server: ServerFactory) -> None:
    server = make_server("ntlm")

    assert run(protocol(server, "ntlm"), "whoami", ("/all",)) == (b"ok\r\n", b"", 0)

    legs = [(r.action, r.auth, r.http_status) for r in server.requests[:3]]
    assert legs == [("", "none", 401), ("", "none", 401), ("", "ntlm", 200)]  # 2 legs, then blank setup POST
    soap = [r for r in server.requests if r.action]
    assert [r.action for r in soap] == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert all(r.encrypted and r.auth == "ntlm" for r in soap)
    assert soap[1].command_line == "whoami /all"


def test_ntlm_accepts_a_bare_user_name(make_server: ServerFactory) -> None:
    server = make_server("ntlm")
    assert run(protocol(server, "ntlm", username="gpadmin"), "ver")[2] == 0


@pytest.mark.parametrize("scheme", ["basic", "ntlm"])
def test_wrong_password_is_invalid_credentials(make_server: ServerFactory, scheme: str) -> None:
    server = make_server(scheme)
    with pytest.raises(InvalidCredentialsError):
        protocol(server, scheme, password="nope").open_shell()
    assert server.open_shells == []


def test_ntlm_listeners_keep_their_own_passwords(make_server: ServerFactory) -> None:
    """Listeners of one process with one account and different passwords: each checks only its own."""
    good = make_server(auth=AuthConfig(scheme="ntlm", password="pw-good"))
    rotated = make_server(auth=AuthConfig(scheme="ntlm", password="pw-rotated"))

    assert run(protocol(good, "ntlm", password="pw-good"), "ver")[2] == 0
    assert run(protocol(rotated, "ntlm", password="pw-rotated"), "ver")[2] == 0
    with pytest.raises(InvalidCredentialsError):
        protocol(rotated, "ntlm", password="pw-good").open_shell()


def test_listener_accepting_basic_and_ntlm(make_server: ServerFactory) -> None:
    server = make_server(auth=AuthConfig(scheme="ntlm", also_accept=("basic",)))
    assert run(protocol(server, "basic"), "ver")[2] == 0
    assert run(protocol(server, "ntlm"), "ver")[2] == 0
    assert {r.auth for r in server.requests if r.action} == {"basic", "ntlm"}


def test_basic_only_listener_rejects_ntlm_client(make_server: ServerFactory) -> None:
    server = make_server("basic")
    with pytest.raises(InvalidCredentialsError):
        protocol(server, "ntlm").open_shell()


def test_unencrypted_ntlm_is_refused_with_500(make_server: ServerFactory) -> None:
    server = make_server("ntlm")
    with pytest.raises(WinRMTransportError) as exc:
        protocol(server, "ntlm", message_encryption="never").open_shell()
    assert exc.value.code == 500
    last = server.requests[-1]
    assert (last.action, last.auth, last.encrypted, last.http_status) == ("Create", "ntlm", False, 500)
    assert server.open_shells == []


def test_https_validates_against_self_signed_cert(
    make_server: ServerFactory, self_signed: tuple[bytes, bytes, Path]
) -> None:
    cert, key, path = self_signed
    server = make_server("basic", tls=server_context(cert, key))
    assert server.url.startswith("https://127.0.0.1:")
    assert run(protocol(server, "ssl", ca_trust_path=str(path)), "ver")[2] == 0


def test_https_with_validation_ignored(make_server: ServerFactory, self_signed: tuple[bytes, bytes, Path]) -> None:
    cert, key, _ = self_signed
    server = make_server("basic", tls=server_context(cert, key))
    assert run(protocol(server, "ssl", server_cert_validation="ignore"), "ver")[2] == 0


def test_https_name_mismatch_is_ssl_error(make_server: ServerFactory, tmp_path: Path) -> None:
    cert, key = make_self_signed(["gp-web01.lab.local"])
    (tmp_path / "ca.pem").write_bytes(cert)
    server = make_server("basic", tls=server_context(cert, key))
    with pytest.raises(requests.exceptions.SSLError, match=r"mismatch|match"):
        protocol(server, "ssl", ca_trust_path=str(tmp_path / "ca.pem")).open_shell()
    assert server.requests == []


def test_https_ca_issued_and_expired_leaf(make_server: ServerFactory, tmp_path: Path) -> None:
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    good = make_server("basic", tls=server_context(*issue(ca, ["localhost", "127.0.0.1"])))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    expired = make_server("basic", tls=server_context(*issue(ca, ["127.0.0.1"], not_after=past)))

    assert run(protocol(good, "ssl", ca_trust_path=str(tmp_path / "ca.pem")), "ver")[2] == 0
    with pytest.raises(requests.exceptions.SSLError, match="expired"):
        protocol(expired, "ssl", ca_trust_path=str(tmp_path / "ca.pem")).open_shell()


@pytest.mark.parametrize(("send_cbt", "accepted"), [(True, True), (False, False)])
def test_ntlm_over_https_enforces_channel_binding(
    make_server: ServerFactory, self_signed: tuple[bytes, bytes, Path], send_cbt: bool, accepted: bool
) -> None:
    cert, key, path = self_signed
    server = make_server("ntlm", tls=server_context(cert, key))
    p = protocol(server, "ntlm", ca_trust_path=str(path), send_cbt=send_cbt)
    if accepted:
        assert run(p, "ver")[2] == 0
        assert not any(r.encrypted for r in server.requests)  # message_encryption="auto" is off over https
    else:
        with pytest.raises(InvalidCredentialsError):
            p.open_shell()


# ---------------------------------------------------------------- WinRS behaviour


def test_one_create_and_one_delete_per_shell(make_server: ServerFactory) -> None:
    server = make_server("ntlm")
    p = protocol(server, "ntlm")
    shell = p.open_shell()
    for command in ("a", "b", "c"):
        cmd = p.run_command(shell, command)
        p.get_command_output(shell, cmd)
        p.cleanup_command(shell, cmd)
    p.close_shell(shell)

    actions = server.actions()
    assert (actions.count("Create"), actions.count("Command"), actions.count("Delete")) == (1, 3, 1)
    assert {r.shell_id for r in server.requests if r.action not in ("", "Create")} == {shell}
    assert server.open_shells == []


def test_running_chunks_then_done(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    handler.table["type big.log"] = CommandOutput(stdout=b"0123456789", stderr=b"warn", exit_code=2, running_chunks=3)
    server = make_server("basic")
    p = protocol(server, "basic")
    shell = p.open_shell()
    cmd = p.run_command(shell, "type big.log")

    raws = [p.get_command_output_raw(shell, cmd) for _ in range(4)]

    assert [r[3] for r in raws] == [False, False, False, True]
    assert b"".join(r[0] for r in raws) == b"0123456789"
    assert (raws[-1][1], raws[-1][2]) == (b"warn", 2)
    assert len(handler.calls) == 1
    p.close_shell(shell)


def test_timed_out_receive_surfaces_in_raw_output(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    attempts: list[int] = []

    def slow(command_line: str, stdin: bytes) -> CommandOutput:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationTimedOut()
        return CommandOutput(stdout=b"done")

    handler.table["slow"] = slow
    server = make_server("ntlm")
    p = protocol(server, "ntlm")
    shell = p.open_shell()
    cmd = p.run_command(shell, "slow")

    with pytest.raises(WinRMOperationTimeoutError):
        p.get_command_output_raw(shell, cmd)
    assert p.get_command_output(shell, cmd) == (b"done", b"", 0)
    assert [r.fault for r in server.requests if r.action == "Receive"] == ["w:TimedOut", None]
    p.close_shell(shell)


def test_stdin_send_reaches_handler_as_bytes(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    payload = b"\x00\xffcaf\xc3\xa9\r\n$x = 1"
    handler.table["powershell -Command -"] = lambda line, stdin: CommandOutput(stdout=stdin[::-1])
    server = make_server("ntlm")
    p = protocol(server, "ntlm")
    shell = p.open_shell()
    cmd = p.run_command(shell, "powershell", ["-Command", "-"])
    p.send_command_input(shell, cmd, payload[:5])
    p.send_command_input(shell, cmd, payload[5:], end=True)

    assert p.get_command_output(shell, cmd) == (payload[::-1], b"", 0)
    assert handler.calls == [("powershell -Command -", payload)]
    assert b"".join(r.stdin or b"" for r in server.requests if r.action == "Send") == payload
    p.close_shell(shell)


def test_unknown_shell_is_a_soap_fault(make_server: ServerFactory) -> None:
    server = make_server("basic")
    p = protocol(server, "basic")
    with pytest.raises(WSManFaultError) as exc:
        p.run_command("0B2B6D9E-0000-4000-8000-000000000000", "ver")
    assert (exc.value.code, exc.value.fault_code, exc.value.fault_subcode) == (
        500,
        "s:Sender",
        "w:InvalidSelectors",
    )
    assert exc.value.wsman_fault_code == 2150858843
    assert "shell was not found" in exc.value.reason


def test_faults_echo_relates_to_and_unknown_actions_are_named(make_server: ServerFactory) -> None:
    server = make_server("basic")
    p = protocol(server, "basic")
    header = p.build_wsman_header(
        action="http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
        resource_uri="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
        message_id="0f0e0d0c-0000-4000-8000-000000000001",
    )
    header.setdefault("env:Body", {})
    with pytest.raises(WSManFaultError) as exc:
        p.send_message(xmltodict.unparse({"env:Envelope": header}))
    assert exc.value.fault_subcode == "a:ActionNotSupported"
    assert "Enumerate action is not emulated" in exc.value.reason
    relates = xmltodict.parse(exc.value.response)["s:Envelope"]["s:Header"]["a:RelatesTo"]
    assert relates == "uuid:0f0e0d0c-0000-4000-8000-000000000001"


def test_clixml_stderr_passes_through(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    clixml = (
        b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        b'<S S="Error">Get-Service : Cannot find any service_x000D__x000A_</S>'
        b"<S S=\"Error\">with service name 'MSSQL$GP'._x000D__x000A_</S></Objs>"
    )
    scripts: list[str] = []

    def ps(line: str, stdin: bytes) -> CommandOutput:
        scripts.append(base64.b64decode(line.split()[-1]).decode("utf-16-le"))
        return CommandOutput(stderr=clixml, exit_code=1)

    script = "Get-Service -Name 'MSSQL$GP'"
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    handler.table[f"powershell -encodedcommand {encoded}"] = ps
    server = make_server("basic")

    raw = run(protocol(server, "basic"), f"powershell -encodedcommand {encoded}")
    session = winrm.Session(server.url, auth=(USER, PASSWORD), transport="basic", ca_trust_path=None)
    result = session.run_ps(script)

    assert raw == (b"", clixml, 1)
    assert scripts == [script, script]
    assert result.status_code == 1
    assert result.std_err == b"Get-Service : Cannot find any service\nwith service name 'MSSQL$GP'."


def test_command_line_limits(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    server = make_server("basic")
    p = protocol(server, "basic")

    assert run(p, "echo " + "x" * 9000) == (b"", b"The command line is too long.\r\n", 1)
    assert handler.calls == []
    shell = p.open_shell()
    with pytest.raises(WSManFaultError) as exc:
        p.run_command(shell, "echo " + "x" * 33000)
    assert exc.value.wsman_fault_code == 2147942606
    assert exc.value.reason == "The filename or extension is too long."
    p.close_shell(shell)


def test_handler_exceptions_become_faults_and_are_kept(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    def broken(line: str, stdin: bytes) -> CommandOutput:
        raise KeyError("no such fixture")

    handler.table["broken"] = broken
    server = make_server("basic")
    with pytest.raises(WSManFaultError) as exc:
        run(protocol(server, "basic"), "broken")
    assert exc.value.fault_subcode == "w:InternalError"
    with pytest.raises(KeyError):
        server.check()


# ---------------------------------------------------------------- lifecycle and fault knobs


def test_server_stops_itself_when_idle(make_server: ServerFactory) -> None:
    server = make_server("basic", idle_timeout=0.2)
    deadline = time.monotonic() + 5
    while server.is_running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_running and server.stopped_by_idle
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol(server, "basic").open_shell()


@pytest.mark.parametrize("tls", [False, True])
def test_idle_keep_alive_connection_is_closed(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch, tls: bool
) -> None:
    """A connection that sends nothing is closed after CONNECTION_TIMEOUT, over HTTP (a kernel limit on a
    blocking socket) and HTTPS (a Python timeout), and the listener keeps serving."""
    import socket
    import ssl

    from gpverify.lab.wsman import server as server_module

    monkeypatch.setattr(server_module, "CONNECTION_TIMEOUT", 1)
    context = server_context(*make_self_signed(["127.0.0.1"])) if tls else None
    server = make_server("basic", tls=context)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE  # the test's own self-signed certificate
    conn = client.wrap_socket(raw) if tls else raw
    with conn:
        started = time.monotonic()
        assert conn.recv(1) == b""  # the server's close, not the client's 10 s timeout
        assert 0.5 < time.monotonic() - started < 8
    assert protocol(server, "basic", server_cert_validation="ignore").open_shell()


def test_bad_request_head_and_stop_close_connections(make_server: ServerFactory) -> None:
    """A request line that is not HTTP gets a 400 and the connection closes; stop() closes an open keep-alive
    connection (both threaded and loop-served)."""
    import socket

    server = make_server("basic")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as bad:
        bad.sendall(b"NOT HTTP\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := bad.recv(65536):
            answer += chunk
        assert b"400" in answer  # a status line, or http.server's HTTP/0.9 page for a request line it cannot read
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        idle.sendall(b"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert b" 404 " in idle.recv(65536).split(b"\r\n", 1)[0]  # answered, and the connection stays open
        server.stop()
        assert idle.recv(1) == b""


def test_expect_continue_is_answered_once(make_server: ServerFactory) -> None:
    """A request with "Expect: 100-continue" gets one 100 Continue, then its answer once its body, sent in pieces,
    has all arrived."""
    import socket

    server = make_server("basic")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
        for piece in (b"abc", b"def"):
            conn.sendall(piece)
            time.sleep(0.05)
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 404 ") and b"100 Continue" not in answer


def test_refused_and_reset_connections(make_server: ServerFactory) -> None:
    server = make_server("basic")
    p = protocol(server, "basic")
    shell = p.open_shell()
    cmd = p.run_command(shell, "ver")

    server.reset_during_receive = True
    with pytest.raises(requests.exceptions.ConnectionError):
        p.get_command_output(shell, cmd)
    assert server.requests[-1].http_status == 0

    server.reset_during_receive, server.refuse_connections = False, True
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol(server, "basic").open_shell()


def test_only_post_wsman_is_served(make_server: ServerFactory) -> None:
    server = make_server("basic")
    base = server.url.removesuffix("/wsman")
    assert requests.get(server.url, timeout=5).status_code == 404
    assert requests.post(base + "/other", auth=(USER, PASSWORD), timeout=5).status_code == 404


def test_start_failure_is_reraised_and_cleaned_up(make_server: ServerFactory, handler: ScriptedHandler) -> None:
    taken = make_server("basic")
    clash = WsmanServer(handler, AuthConfig(scheme="basic"), port=taken.port)
    with pytest.raises(OSError):
        clash.start()
    assert not clash.is_running
    clash.stop()  # idempotent


def test_guids_are_upper_case_version_4() -> None:
    """ShellId, CommandId and MessageID are upper-case RFC 4122 version-4 GUIDs, as Windows hands them out."""
    import uuid

    from gpverify.lab.wsman.serialize import new_guid

    guids = {new_guid() for _ in range(2000)}
    assert len(guids) == 2000
    for guid in guids:
        parsed = uuid.UUID(guid)
        assert (parsed.version, parsed.variant, str(parsed).upper()) == (4, uuid.RFC_4122, guid)
