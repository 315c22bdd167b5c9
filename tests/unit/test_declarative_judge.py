"""The verdicts of declarative checks on a host's collected facts: each kind passes, and fails with a sentence that
names the host, what was found and what was expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpverify.declarative.judge import judge_host, version_key
from gpverify.declarative.schema import DeclarativeCheck, key_of
from gpverify.errors import HostUnavailable
from gpverify.facts.view import HostView
from gpverify.facts.windows import HostFacts

BASE = {"id": "ACME-100", "title": "t", "impact": "high", "remediation": "r", "role": "session_host"}


def _judge(kind: str, spec: dict[str, Any], section: str, fact: Any) -> str | None:
    """The failure message, or None when the check passes."""
    check = DeclarativeCheck.model_validate({**BASE, kind: spec})
    facts = HostFacts.model_validate({section: {key_of(check): fact}})
    evidence: dict[str, Any] = {}
    try:
        judge_host(check, HostView("gp-sh01", facts, evidence))
    except AssertionError as exc:
        assert evidence, "the facts judged are kept as evidence"
        return str(exc)
    return None


def _service(
    status: str = "Running", start_mode: str = "Auto", name: str = "GPDexterityServiceControl"
) -> dict[str, str]:
    return {
        "name": name,
        "display_name": "Microsoft Dynamics GP Dex Service Control",
        "status": status,
        "start_mode": start_mode,
    }


@pytest.mark.parametrize(
    ("spec", "found", "message"),
    [
        ({"name": "GPDexterityServiceControl", "state": "Running", "start_mode": "Auto"}, [_service()], None),
        (
            {"display": "*Dex*", "start_mode": "Auto"},
            [_service(start_mode="Manual")],
            (
                "gp-sh01: Microsoft Dynamics GP Dex Service Control (GPDexterityServiceControl) starts Manual, "
                "expected Auto"
            ),
        ),
        (
            {"name": "GPDexterityServiceControl", "state": "Running"},
            [_service(status="Stopped")],
            "is Stopped, expected Running",
        ),
        (
            {"name": "GPDS-*", "state": "Running"},
            [_service(name="GPDS-A-18"), _service(name="GPDS-B-18", status="Stopped")],
            "(GPDS-B-18) is Stopped, expected Running",
        ),
        (
            {"name": "GPDexterityServiceControl"},
            [],
            "gp-sh01: no service named 'GPDexterityServiceControl' is installed",
        ),
        ({"name": "GPDS-DEFAULT-14", "installed": False}, [], None),
        (
            {"name": "GPDS-DEFAULT-14", "installed": False},
            [_service(name="GPDS-DEFAULT-14")],
            "(GPDS-DEFAULT-14) is installed, expected no service named 'GPDS-DEFAULT-14'",
        ),
    ],
)
def test_service(spec: dict[str, Any], found: list[dict[str, str]], message: str | None) -> None:
    result = _judge("service", spec, "services", found)
    assert result == message if message is None else message in str(result)


@pytest.mark.parametrize(
    ("spec", "found", "message"),
    [
        (
            {"name": "*Web Components*", "min_version": "18.4"},
            [{"name": "GP Web Components", "version": "18.4.1361"}],
            None,
        ),
        (
            {"name": "*Web Components*", "min_version": "18.4.1400"},
            [{"name": "GP Web Components", "version": "18.4.1361"}],
            "gp-sh01: GP Web Components 18.4.1361 installed, expected 18.4.1400 or later",
        ),
        # GP pads its versions (14.00.0725): numbers are compared, not text.
        ({"name": "*GP*", "min_version": "14.0.725"}, [{"name": "GP 2015", "version": "14.00.0725"}], None),
        ({"name": "*GP*", "version": "18.4.1361"}, [{"name": "GP", "version": "18.04.1361"}], None),
        # Side by side: one entry at the version asked for is enough.
        (
            {"name": "*GP*", "min_version": "18.4"},
            [{"name": "GP 18.3", "version": "18.3.1200"}, {"name": "GP 18.4", "version": "18.4.1361"}],
            None,
        ),
        ({"name": "*GP*", "min_version": "18"}, [{"name": "GP", "version": ""}], "GP installed, expected 18 or later"),
        ({"name": "*Acme*"}, [], "gp-sh01: no Programs and Features entry matches '*Acme*'"),
        (
            {"name": "*Silverlight*", "installed": False},
            [{"name": "Microsoft Silverlight", "version": "5.1"}],
            "Microsoft Silverlight 5.1 installed, expected nothing matching '*Silverlight*'",
        ),
    ],
)
def test_product(spec: dict[str, Any], found: list[dict[str, str]], message: str | None) -> None:
    result = _judge("product", spec, "products", found)
    assert result == message if message is None else message in str(result)


DSN = {"path": r"SOFTWARE\ODBC\ODBC.INI\Dynamics GP", "name": "Driver", "view": "32"}


@pytest.mark.parametrize(
    ("spec", "found", "message"),
    [
        (DSN, {"key_exists": True, "exists": True, "value": "SQL Server"}, None),
        ({**DSN, "value": "sql server"}, {"key_exists": True, "exists": True, "value": "SQL Server"}, None),
        (
            {**DSN, "value": "ODBC Driver 17"},
            {"key_exists": True, "exists": True, "value": "SQL Server"},
            (
                r"gp-sh01: HKLM\SOFTWARE\ODBC\ODBC.INI\Dynamics GP\Driver (32-bit view) is 'SQL Server', "
                "expected 'ODBC Driver 17'"
            ),
        ),
        ({**DSN, "value": 1}, {"key_exists": True, "exists": True, "value": 1}, None),
        ({**DSN, "value": 1}, {"key_exists": True, "exists": True, "value": 0}, "is 0, expected 1"),
        ({**DSN, "value": "b"}, {"key_exists": True, "exists": True, "value": ["a", "b"]}, None),  # REG_MULTI_SZ
        (
            DSN,
            {"key_exists": False, "exists": False},
            r"the key HKLM\SOFTWARE\ODBC\ODBC.INI\Dynamics GP does not exist",
        ),
        (DSN, {"key_exists": True, "exists": False}, r"Dynamics GP\Driver (32-bit view) does not exist"),
        ({**DSN, "exists": False}, {"key_exists": True, "exists": False}, None),
        (
            {**DSN, "exists": False},
            {"key_exists": True, "exists": True, "value": "x"},
            "is 'x', expected no such value",
        ),
    ],
)
def test_registry(spec: dict[str, Any], found: dict[str, Any], message: str | None) -> None:
    result = _judge("registry", spec, "registry", found)
    assert result == message if message is None else message in str(result)


EXE = r"C:\Program Files (x86)\Microsoft Dynamics\GP\Dynamics.exe"


@pytest.mark.parametrize(
    ("spec", "found", "message"),
    [
        ({"path": EXE}, {"path": EXE, "exists": True}, None),
        ({"path": EXE}, {"path": EXE, "exists": False}, f"gp-sh01: {EXE} does not exist"),
        ({"path": EXE, "min_version": "18.4.1361"}, {"path": EXE, "exists": True, "version": "18.4.1361.0"}, None),
        (
            {"path": EXE, "min_version": "18.4.1361"},
            {"path": EXE, "exists": True, "version": "18.3.1200.0"},
            f"{EXE} is version 18.3.1200.0, expected 18.4.1361 or later",
        ),
        ({"path": EXE, "version": "18.4.1361.0"}, {"path": EXE, "exists": True}, "has no version number"),
        ({"path": EXE, "exists": False}, {"path": EXE, "exists": True}, f"{EXE} exists, expected no such file"),
    ],
)
def test_file(spec: dict[str, Any], found: dict[str, Any], message: str | None) -> None:
    result = _judge("file", spec, "files", found)
    assert result == message if message is None else message in str(result)


def _cert(
    days: float, subject: str = "CN=gp.contoso.com", thumbprint: str = "AB" * 20, chain_ok: bool = True
) -> dict[str, Any]:
    return {
        "subject": subject,
        "issuer": "CN=Contoso CA",
        "thumbprint": thumbprint,
        "chain_ok": chain_ok,
        "not_after": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
    }


STORE = {"store": "LocalMachine\\My", "subject": "CN=gp.contoso.com*"}


@pytest.mark.parametrize(
    ("spec", "found", "message"),
    [
        (STORE, [_cert(90)], None),
        (STORE, [_cert(10)], "in 9 days, expected at least 30"),
        (STORE, [_cert(-3)], "expired on"),
        # A renewed certificate beside the old one: the newest is the one judged.
        (STORE, [_cert(-3), _cert(200, thumbprint="CD" * 20)], None),
        ({**STORE, "min_days_left": 0}, [_cert(1)], None),
        (STORE, [_cert(90, subject="CN=other")], "gp-sh01: no certificate in LocalMachine\\My matches subject"),
        (STORE, [], "no certificate in LocalMachine\\My matches"),
        (
            {"store": "LocalMachine\\My", "thumbprint": "cd" * 20},
            [_cert(90), _cert(5, thumbprint="CD" * 20)],
            "in 4 days, expected at least 30",
        ),
        ({**STORE, "trusted": True}, [_cert(90, chain_ok=False)], "does not chain to a trusted root"),
        (STORE, [_cert(90, chain_ok=False)], None),
    ],
)
def test_certificate(spec: dict[str, Any], found: list[dict[str, Any]], message: str | None) -> None:
    result = _judge("certificate", spec, "certificates", found)
    assert result == message if message is None else message in str(result)


def test_a_fact_the_collector_could_not_read_is_an_error_not_a_failure() -> None:
    check = DeclarativeCheck.model_validate({**BASE, "file": {"path": EXE}})
    facts = HostFacts.model_validate(
        {"files": {}, "errors": [{"section": "files", "key": key_of(check), "message": "Access is denied"}]}
    )
    with pytest.raises(HostUnavailable, match="could not read files 'check:ACME-100': Access is denied"):
        judge_host(check, HostView("gp-sh01", facts, {}))


@pytest.mark.parametrize(
    ("text", "key"),
    [("18.00.0028", (18, 0, 28, 0)), ("18.4", (18, 4, 0, 0)), ("", None), ("18.4.x", None), ("1.2.3.4.5", None)],
)
def test_versions_compare_as_numbers(text: str, key: tuple[int, ...] | None) -> None:
    assert version_key(text) == key
