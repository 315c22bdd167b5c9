"""Waivers: accepted failures with a justification, an approver, a risk and an expiry date.

File format (YAML, a list; `host` is optional and limits the waiver to the checks run on that host):

    - check: GP-POST-002
      host: gp-sh02
      justification: gp-sh02 is being rebuilt this week
      approver: jane.doe
      risk: medium            # low | medium | high | critical
      created: 2026-11-20
      expires: 2026-12-01     # the waiver stops waiving at 00:00 of this day (UTC)

    - check: GP-PRE-004       # a DU000030 warning accepted per table (company-data-conversion.md: warnings for
      tables: [LAB10200]      # temporary tables or unused modules can be ignored); it waives only when every
      ...                     # table the warning lists is among `tables`
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError

RISKS = ("low", "medium", "high", "critical")
FIELDS = {"check": "a check ID such as GP-POST-002", "host": "a host name from the inventory",
          "justification": "why the failure is accepted (text)", "approver": "who accepted it (text)",
          "risk": f"one of {', '.join(RISKS)}", "created": "a date YYYY-MM-DD", "expires": "a date YYYY-MM-DD",
          "tables": "a list of table names (DU000010 fileOSName) the waiver accepts"}
TABLE = re.compile(r"\btable (\w+) \(product")  # as TableConversion.describe() names a table
REQUIRED = ("check", "justification", "approver", "risk", "created", "expires")


@dataclass(frozen=True)
class Waiver:
    check: str
    justification: str
    approver: str
    risk: str
    created: dt.date
    expires: dt.date
    host: str | None = None
    index: int = 0  # position in the file, for messages
    tables: tuple[str, ...] = ()  # when set, it waives only a message whose every "table X" is among these

    def covers(self, message: str) -> bool:
        listed = {t.upper() for t in TABLE.findall(message)}
        return not self.tables or (bool(listed) and listed <= {t.upper() for t in self.tables})

    def matches(self, check_id: str, host: str | None) -> bool:
        if self.check.upper() != check_id.upper():
            return False
        return self.host is None or (host is not None and self.host.lower() == host.lower())

    def expired(self, today: dt.date) -> bool:
        return today >= self.expires

    def label(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"{self.check}{where}"

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "host": self.host, "justification": self.justification, "approver": self.approver,
                "risk": self.risk, "created": self.created.isoformat(), "expires": self.expires.isoformat(),
                **({"tables": list(self.tables)} if self.tables else {})}


WaiverStatus = Literal["waived", "expired"]


def _date(origin: str, where: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(origin, where, f"a date YYYY-MM-DD, got {value!r}")


def _text(origin: str, where: str, value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise ConfigError(origin, where, f"{FIELDS[where.rsplit('.', 1)[-1]]}, got {value!r}")
    return str(value).strip()


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read and validate the whole file; the first problem raises one ConfigError (file, field, expected)."""
    origin = str(path)
    data = read_yaml(path, "waiver file")
    if data is None:
        return []
    if isinstance(data, dict) and set(data) == {"waivers"}:
        data = data["waivers"]
    if not isinstance(data, list):
        raise ConfigError(origin, "(top level)", "a list of waivers, each a mapping with " + ", ".join(REQUIRED))
    waivers = []
    for i, entry in enumerate(data):
        where = f"waivers[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(origin, where, "a mapping with " + ", ".join(REQUIRED))
        unknown = sorted(set(map(str, entry)) - set(FIELDS))
        if unknown:
            raise ConfigError(origin, f"{where}.{unknown[0]}", f"one of the fields {', '.join(FIELDS)} (unknown field)")
        for name in REQUIRED:
            if entry.get(name) in (None, ""):
                raise ConfigError(origin, f"{where}.{name}", f"{FIELDS[name]} (required)")
        risk = _text(origin, f"{where}.risk", entry["risk"]).lower()
        if risk not in RISKS:
            raise ConfigError(origin, f"{where}.risk", f"one of {', '.join(RISKS)}, got {entry['risk']!r}")
        created = _date(origin, f"{where}.created", entry["created"])
        expires = _date(origin, f"{where}.expires", entry["expires"])
        if expires <= created:
            raise ConfigError(origin, f"{where}.expires", f"a date after created ({created.isoformat()})")
        host = entry.get("host")
        tables = entry.get("tables") or []
        if not isinstance(tables, list) or not all(isinstance(t, str) and t.strip() for t in tables):
            raise ConfigError(origin, f"{where}.tables", FIELDS["tables"])
        waivers.append(Waiver(
            check=_text(origin, f"{where}.check", entry["check"]).upper(),
            justification=_text(origin, f"{where}.justification", entry["justification"]),
            approver=_text(origin, f"{where}.approver", entry["approver"]),
            risk=risk, created=created, expires=expires,
            host=_text(origin, f"{where}.host", host) if host not in (None, "") else None, index=i,
            tables=tuple(t.strip() for t in tables),
        ))
    return waivers


def find_waiver(waivers: list[Waiver], check_id: str, host: str | None,
                today: dt.date, message: str = "") -> tuple[Waiver, WaiverStatus] | None:
    """The waiver for this check, host (and tables): a valid one first, else an expired one (reported as expired)."""
    matching = [w for w in waivers if w.matches(check_id, host) and w.covers(message)]
    valid = [w for w in matching if not w.expired(today)]
    if valid:
        return valid[0], "waived"
    if matching:
        return max(matching, key=lambda w: w.expires), "expired"
    return None
