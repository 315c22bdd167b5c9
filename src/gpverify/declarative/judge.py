"""The verdicts of declarative checks: each kind asserts what its file says, in a sentence naming host and values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gpverify.declarative.schema import (
    CertificateSpec,
    DeclarativeCheck,
    FileSpec,
    ProductSpec,
    RegistrySpec,
    ServiceSpec,
    SqlSpec,
    key_of,
)
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.names import like
from gpverify.facts.view import HostView
from gpverify.facts.windows import CertificateFact

SHOWN_ROWS = 3  # rows a failed row count quotes in its message (all of them are in the evidence)


def judge_host(check: DeclarativeCheck, host: HostView) -> None:
    """Assert one host check on one host; facts it could not read raise FactsUnavailable (an error)."""
    judges: dict[str, Callable[[Any, HostView, str], None]] = {
        "service": _service,
        "product": _product,
        "registry": _registry,
        "file": _file,
        "certificate": _certificate,
    }
    judges[check.kind](check.spec, host, key_of(check))


def judge_sql(check: DeclarativeCheck, sql: GpSqlView, database: str) -> None:
    spec: SqlSpec = check.sql  # type: ignore[assignment]
    rows = sql.query(database, check.id, spec.query)
    found = f"{database}: the query returned {_count(len(rows))}"
    shown = "; ".join(", ".join(f"{k}={str(v).strip()}" for k, v in row.items()) for row in rows[:SHOWN_ROWS])
    more = f" (first {SHOWN_ROWS}: {shown})" if len(rows) > SHOWN_ROWS else f" ({shown})" if rows else ""
    if spec.rows is not None:
        assert len(rows) == spec.rows, f"{found}{more}, expected {_count(spec.rows)}"
    if spec.min_rows is not None:
        assert len(rows) >= spec.min_rows, f"{found}{more}, expected at least {_count(spec.min_rows)}"
    if spec.max_rows is not None:
        assert len(rows) <= spec.max_rows, f"{found}{more}, expected at most {_count(spec.max_rows)}"


def _count(n: int) -> str:
    return "no rows" if n == 0 else "1 row" if n == 1 else f"{n} rows"


def version_key(text: str | None) -> tuple[int, ...] | None:
    """'18.00.0028' -> (18, 0, 28, 0): numbers compared, zero padding and missing parts as 0."""
    parts = (text or "").strip().split(".")
    if not parts or not all(p.isdigit() for p in parts) or len(parts) > 4:
        return None
    return tuple(int(p) for p in parts) + (0,) * (4 - len(parts))


def _version_problem(found: str | None, min_version: str | None, version: str | None) -> str | None:
    """Why a found version does not meet the check's, or None."""
    wanted = min_version or version
    if wanted is None:
        return None
    have, want = version_key(found), version_key(wanted)
    if have is None:
        return f"has no version number ({found or 'none recorded'}), expected {_wanted(min_version, version)}"
    if (min_version and have < want) or (version and have != want):  # type: ignore[operator]
        return f"is version {found}, expected {_wanted(min_version, version)}"
    return None


def _wanted(min_version: str | None, version: str | None) -> str:
    return f"{min_version} or later" if min_version else str(version)


def _service(spec: ServiceSpec, host: HostView, key: str) -> None:
    which = " or ".join(repr(n) for n in (spec.name, spec.display) if n)
    found = host.services(key)
    if not spec.installed:
        assert not found, f"{host.name}: {_services(found)} installed, expected no service named {which}"
        return
    assert found, f"{host.name}: no service named {which} is installed"
    wrong = []
    for service in found:
        named = f"{service.display_name} ({service.name})"
        if spec.state and service.status.lower() != spec.state.lower():
            wrong.append(f"{named} is {service.status or 'in no state'}, expected {spec.state}")
        if spec.start_mode and service.start_mode.lower() != spec.start_mode.lower():
            wrong.append(f"{named} starts {service.start_mode or 'in no mode'}, expected {spec.start_mode}")
    assert not wrong, f"{host.name}: {'; '.join(wrong)}"


def _services(found: list[Any]) -> str:
    return ", ".join(f"{s.display_name} ({s.name})" for s in found) + (" is" if len(found) == 1 else " are")


def _product(spec: ProductSpec, host: HostView, key: str) -> None:
    found = host.products(key)
    listed = ", ".join(f"{p.name} {p.version}".strip() for p in found)
    if not spec.installed:
        assert not found, f"{host.name}: {listed} installed, expected nothing matching {spec.name!r}"
        return
    assert found, f"{host.name}: no Programs and Features entry matches {spec.name!r}"
    # Side by side installs list one entry per release: one at the version asked for is enough.
    problems = [_version_problem(p.version, spec.min_version, spec.version) for p in found]
    assert any(p is None for p in problems), (
        f"{host.name}: {listed} installed, expected {_wanted(spec.min_version, spec.version)}"
    )


def _registry(spec: RegistrySpec, host: HostView, key: str) -> None:
    fact = host.registry(key)
    where = f"HKLM\\{spec.path}\\{spec.name} ({spec.view}-bit view)"
    if not spec.exists:
        assert fact is None or not fact.exists, f"{host.name}: {where} is {fact.value!r}, expected no such value"
        return
    assert fact is not None and fact.key_exists, (
        f"{host.name}: the key HKLM\\{spec.path} does not exist ({spec.view}-bit view), expected {where}"
    )
    assert fact.exists, f"{host.name}: {where} does not exist"
    if spec.value is not None:
        assert _same_value(fact.value, spec.value), f"{host.name}: {where} is {fact.value!r}, expected {spec.value!r}"


def _same_value(found: Any, expected: str | int) -> bool:
    """Registry data against the file's value: numbers as numbers, text without regard to case."""
    if isinstance(found, list):  # REG_MULTI_SZ: one of its strings
        return any(_same_value(item, expected) for item in found)
    if isinstance(expected, int):
        return str(found).strip() == str(expected)
    return str(found).strip().lower() == expected.strip().lower()


def _file(spec: FileSpec, host: HostView, key: str) -> None:
    fact = host.file(key)
    path = fact.path if fact is not None else spec.path
    if not spec.exists:
        assert fact is None or not fact.exists, f"{host.name}: {path} exists, expected no such file"
        return
    assert fact is not None and fact.exists, f"{host.name}: {path} does not exist"
    problem = _version_problem(fact.version, spec.min_version, spec.version)
    assert problem is None, f"{host.name}: {path} {problem}"


def _certificate(spec: CertificateSpec, host: HostView, key: str) -> None:
    wanted = " and ".join(
        w
        for w in (
            f"subject {spec.subject!r}" if spec.subject else "",
            f"thumbprint {spec.thumbprint}" if spec.thumbprint else "",
        )
        if w
    )
    matching = [c for c in host.certificates(key) if _matches(c, spec)]
    assert matching, f"{host.name}: no certificate in {spec.store} matches {wanted}"
    # A renewed certificate sits beside the one it replaces: the newest is the one in use.
    newest = max(matching, key=lambda c: c.not_after)
    expiry = newest.not_after if newest.not_after.tzinfo else newest.not_after.replace(tzinfo=UTC)
    left = (expiry - datetime.now(UTC)).total_seconds() / 86400
    named = f"{newest.subject} ({newest.thumbprint}) in {spec.store}"
    assert left >= 0, (
        f"{host.name}: {named} expired on {expiry:%Y-%m-%d}, expected at least {spec.min_days_left} days left"
    )
    assert left >= spec.min_days_left, (
        f"{host.name}: {named} expires on {expiry:%Y-%m-%d}, in {int(left)} days, "
        f"expected at least {spec.min_days_left}"
    )
    assert newest.chain_ok or not spec.trusted, (
        f"{host.name}: {named} does not chain to a trusted root on this "
        f"host (issued by {newest.issuer}), expected a trusted certificate"
    )


def _matches(cert: CertificateFact, spec: CertificateSpec) -> bool:
    if spec.thumbprint and cert.thumbprint.replace(" ", "").upper() != spec.thumbprint.upper():
        return False
    return not spec.subject or like(cert.subject, spec.subject)
