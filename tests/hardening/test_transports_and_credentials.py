"""Transport settings map to pywinrm safely, every failure becomes a sentence saying what to fix, and
passwords come from the environment, the OS keyring or a terminal prompt, never from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from hardening_support import CANARY, hardening_figures  # noqa: F401
from winrm import transport as winrm_transport
from winrm.exceptions import BasicAuthDisabledError, InvalidCredentialsError, WinRMTransportError

from gpverify.config import credentials
from gpverify.config.inventory import WINRM_DEFAULTS, HostSpec, SqlSettings, WinRMSettings, _layer
from gpverify.errors import ConfigError, HostUnavailable
from gpverify.transport.winrm import WinRMTransport, explain, protocol_options


def _spec(**winrm: Any) -> HostSpec:
    settings = _layer(WINRM_DEFAULTS, WinRMSettings(user="LAB\\gpadmin", password_env="PW", **winrm))
    return HostSpec("gp-sh01", "session_host", "gp-sh01.lab.local", settings)


def _refusal(spec: HostSpec) -> str:
    with pytest.raises(HostUnavailable) as info:
        protocol_options(spec, CANARY)
    assert info.value.target == "gp-sh01" and CANARY not in str(info.value)
    return info.value.cause


# --- transports -----------------------------------------------------------------------------------------------


def test_defaults_are_ntlm_over_https_with_validation() -> None:
    options = protocol_options(_spec(), CANARY)
    assert options["transport"] == "ntlm" and str(options["endpoint"]).startswith("https://")
    assert options["server_cert_validation"] == "validate" and options["message_encryption"] == "auto"


def test_ca_bundle_reaches_pywinrm_and_validation_can_only_be_turned_off_explicitly() -> None:
    assert protocol_options(_spec(ca_bundle="/etc/ca.pem"), CANARY)["ca_trust_path"] == "/etc/ca.pem"
    assert protocol_options(_spec(cert_validation=False), CANARY)["server_cert_validation"] == "ignore"


@pytest.mark.parametrize("transport", ["ntlm", "kerberos", "credssp"])
def test_unencrypted_http_is_refused_unless_explicitly_allowed(transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(winrm_transport, "HAVE_KERBEROS", True)
    monkeypatch.setattr(winrm_transport, "HAVE_CREDSSP", True)
    cause = _refusal(_spec(scheme="http", transport=transport, message_encryption="never"))
    assert "message_encryption: never over plain HTTP is refused" in cause and "auto" in cause
    allowed = protocol_options(
        _spec(scheme="http", transport=transport, message_encryption="never", allow_unencrypted=True), CANARY
    )
    assert allowed["message_encryption"] == "never"
    assert protocol_options(_spec(scheme="http", transport=transport), CANARY)["message_encryption"] == "auto"
    assert protocol_options(_spec(transport=transport, message_encryption="never"), CANARY)  # HTTPS: TLS protects


def test_basic_only_over_https_unless_allowed() -> None:
    assert "Basic authentication over plain HTTP is refused" in _refusal(_spec(scheme="http", transport="basic"))
    assert protocol_options(_spec(transport="basic"), CANARY)["transport"] == "basic"
    assert protocol_options(_spec(scheme="http", transport="basic", allow_basic_over_http=True), CANARY)


def test_certificate_auth_needs_https_and_both_files_and_sends_no_password(tmp_path: Path) -> None:
    assert "only over HTTPS" in _refusal(_spec(scheme="http", transport="certificate"))
    assert "cert_pem and winrm.cert_key_pem" in _refusal(_spec(transport="certificate", cert_pem="c.pem"))
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    options = protocol_options(_spec(transport="certificate", cert_pem=str(cert), cert_key_pem=str(key)), CANARY)
    assert options["cert_pem"] == str(cert) and options["cert_key_pem"] == str(key)
    assert options["password"] is None and options["username"] is None
    # Missing files: pywinrm's own check, turned into a sentence naming the settings.
    with pytest.raises(HostUnavailable, match="client certificate files unusable.*cert_pem"):
        WinRMTransport(_spec(transport="certificate", cert_pem=str(cert), cert_key_pem=str(key)), None)


@pytest.mark.parametrize(
    ("transport", "flag", "package"),
    [("kerberos", "HAVE_KERBEROS", "pykerberos"), ("credssp", "HAVE_CREDSSP", "requests-credssp")],
)
def test_kerberos_and_credssp_name_the_missing_package(
    transport: str, flag: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(winrm_transport, flag, False)
    cause = _refusal(_spec(transport=transport))
    assert package in cause and f"pywinrm[{transport}]" in cause
    monkeypatch.setattr(winrm_transport, flag, True)
    options = protocol_options(_spec(transport=transport), CANARY)
    assert options["transport"] == transport
    if transport == "kerberos":
        assert options["password"] is None  # a ticket, never the password


def test_no_password_source_is_explained() -> None:
    spec = _spec()
    with pytest.raises(HostUnavailable, match="no password for user 'LAB\\\\\\\\gpadmin'"):
        WinRMTransport(spec, None)


# --- explain: one sentence per failure, saying what to fix -----------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (requests.exceptions.SSLError("hostname 'gp-sh01.lab.local' doesn't match 'other'"), "connect by a name"),
        (requests.exceptions.SSLError("IP address mismatch, certificate is not valid for '127.0.0.1'"), "reissue"),
        (requests.exceptions.SSLError("certificate verify failed: self-signed certificate"), "winrm.ca_bundle"),
        (requests.exceptions.SSLError("certificate verify failed: unable to get local issuer certificate"), "CA"),
        (requests.exceptions.SSLError("certificate verify failed: certificate has expired"), "renew"),
        (InvalidCredentialsError("the specified credentials were rejected by the server"), "credentials rejected"),
        (BasicAuthDisabledError(), "enable it"),
        (WinRMTransportError("http", 401, ""), "credentials rejected"),
        (requests.exceptions.ConnectionError("Connection refused"), "winrm quickconfig"),
        (requests.exceptions.ConnectionError("Name or service not known"), "does not resolve"),
        (requests.exceptions.ConnectionError("Connection reset by peer"), "firewall"),
        (requests.exceptions.ReadTimeout("read timed out"), "winrm.read_timeout"),
    ],
)
def test_explain_says_what_to_fix(exc: BaseException, expected: str) -> None:
    text = explain(exc, _spec(), "opening a shell")
    assert expected in text and CANARY not in text


def test_encryption_refused_by_the_server_is_explained() -> None:
    spec = _spec(scheme="http", message_encryption="never", allow_unencrypted=True)
    text = explain(WinRMTransportError("http", 500, "<fault/>"), spec, "opening a shell")
    assert "refused an unencrypted request" in text and "message_encryption: auto" in text


def test_certificate_rejection_says_how_to_map_the_certificate(tmp_path: Path) -> None:
    spec = _spec(transport="certificate", cert_pem="c", cert_key_pem="k")
    assert "certmapping" in explain(InvalidCredentialsError("x"), spec, "opening a shell")


# --- credentials ------------------------------------------------------------------------------------------------


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPV_PW", CANARY)
    assert credentials.resolve_password(WinRMSettings(password_env="GPV_PW"), field="gp-sh01.winrm") == CANARY
    monkeypatch.delenv("GPV_PW")
    with pytest.raises(ConfigError, match="GPV_PW"):
        credentials.resolve_password(WinRMSettings(password_env="GPV_PW"), field="gp-sh01.winrm")


class _MemoryKeyring:
    """A keyring backend holding one entry, so the test never touches the real OS keyring."""

    def __init__(self) -> None:
        import keyring.backend

        class Backend(keyring.backend.KeyringBackend):
            priority = 1  # type: ignore[assignment]
            store: ClassVar[dict[tuple[str, str], str]] = {("gpverify", "LAB\\gpadmin"): CANARY}

            def get_password(self, service: str, username: str) -> str | None:
                return self.store.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.store[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                self.store.pop((service, username), None)

        self.backend = Backend()


def test_password_from_the_os_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(_MemoryKeyring().backend)
    try:
        winrm = WinRMSettings(user="LAB\\gpadmin", password_keyring="gpverify/LAB\\gpadmin")
        assert credentials.resolve_password(winrm, field="winrm") == CANARY
        sql = SqlSettings(server="sql01", authentication="sql", user="gpaudit", password_keyring="gpverify/gpaudit")
        with pytest.raises(ConfigError, match="keyring set gpverify gpaudit"):
            credentials.resolve_password(sql, field="sql")
    finally:
        keyring.set_keyring(previous)


def test_keyring_missing_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_keyring(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("keyring"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_keyring)
    with pytest.raises(ConfigError, match="pip install keyring"):
        credentials.secret_from_keyring("gpverify/x", field="winrm.password_keyring")


def test_keyring_reference_must_be_service_slash_user() -> None:
    with pytest.raises(ValueError):
        WinRMSettings(password_keyring="no-slash")


def test_prompt_only_with_a_terminal_and_once_per_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "_PROMPTED", {})
    monkeypatch.setattr(credentials, "has_tty", lambda: False)
    settings = WinRMSettings(user="LAB\\gpadmin", password_prompt=True)
    with pytest.raises(ConfigError, match="interactive terminal"):
        credentials.resolve_password(settings, field="gp-sh01.winrm")
    asked: list[str] = []
    monkeypatch.setattr(credentials, "has_tty", lambda: True)
    monkeypatch.setattr(credentials.getpass, "getpass", lambda prompt: asked.append(prompt) or CANARY)
    assert credentials.resolve_password(settings, field="gp-sh01.winrm") == CANARY
    assert credentials.resolve_password(settings, field="gp-sh02.winrm") == CANARY
    assert len(asked) == 1 and "LAB\\gpadmin" in asked[0] and CANARY not in asked[0]


def test_sql_login_accepts_any_password_source() -> None:
    assert SqlSettings(server="s", authentication="sql", user="u", password_prompt=True)
    assert SqlSettings(server="s", authentication="sql", user="u", password_keyring="svc/u")
    with pytest.raises(ValueError, match="password_env"):
        SqlSettings(server="s", authentication="sql", user="u")


def test_no_option_takes_a_password(pytester: pytest.Pytester) -> None:
    """Never from the command line: neither pytest's options (with the gpverify plugin) nor gpverify's."""
    result = pytester.runpytest_inprocess("--help")
    help_text = result.stdout.str().lower()
    assert "--inventory" in help_text  # the gpverify plugin is loaded
    assert "--password" not in help_text and "--pass " not in help_text and "--secret" not in help_text


def test_no_command_line_parser_in_the_source_declares_a_password_option() -> None:
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "gpverify"
    declared = re.compile(r"""(?:add_argument|addoption)\(\s*["'](--?[\w-]+)""")
    options = {m.group(1) for f in src.rglob("*.py") for m in declared.finditer(f.read_text(encoding="utf-8"))}
    assert options, "no options found: the scan is broken"
    # `gpverify lab --show-password` takes no value: it prints the simulated lab's own made-up password.
    takes_secret = [
        o for o in options if re.search(r"pass|secret|pwd|token|cred", o, re.IGNORECASE) and o != "--show-password"
    ]
    assert not takes_secret, takes_secret


def test_unattended_runs_never_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpverify.config import credentials
    from gpverify.errors import ConfigError

    monkeypatch.setattr(credentials, "has_tty", lambda: True)
    monkeypatch.setenv(credentials.NONINTERACTIVE_ENV, "1")
    with pytest.raises(ConfigError, match="unattended"):
        credentials.secret_from_prompt(True, user="unattended-user", field="gp-sh01.winrm.password_prompt")
