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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from gpverify.config.inventory import HOST_NAME
from gpverify.config.schema import Schema, one_line, trimmed, validate
from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError

RISKS = ("low", "medium", "high", "critical")
FIELDS = {
    "check": "a check ID such as GP-POST-002",
    "host": "a host name from the inventory",
    "justification": "why the failure is accepted (text)",
    "approver": "who accepted it (text)",
    "risk": f"one of {', '.join(RISKS)}",
    "created": "a date YYYY-MM-DD",
    "expires": "a date YYYY-MM-DD",
    "tables": "a list of table names (DU000010 fileOSName) the waiver accepts",
}
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
        return {
            "check": self.check,
            "host": self.host,
            "justification": self.justification,
            "approver": self.approver,
            "risk": self.risk,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat(),
            **({"tables": list(self.tables)} if self.tables else {}),
        }


WaiverStatus = Literal["waived", "expired"]


def _name(value: Any) -> Any:
    """A number where a name is meant is its text (`approver: 1234`)."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _text(value: Any) -> Any:
    """Free text as written, trimmed (a justification of only spaces is none)."""
    value = _name(value)
    return trimmed(value) if isinstance(value, str) else value


Name = Annotated[str, BeforeValidator(_name, json_schema_input_type=str | int | float)]
Text = Annotated[str, BeforeValidator(_text, json_schema_input_type=str | int | float)]


def _date(value: Any) -> Any:
    """A date as YAML gives it (a date, or a date-time: its day) or as ISO text; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(trimmed(value))
        except ValueError:
            pass
    raise ValueError(f"a date YYYY-MM-DD, got {value!r}")


RISK_PATTERN = r"^\s*(?i:low|medium|high|critical)\s*$"


def _risk(value: Any) -> Any:
    if isinstance(value, str) and trimmed(value).lower() in RISKS:
        return trimmed(value).lower()
    raise ValueError(f"one of {', '.join(RISKS)}, got {value!r}")


Date = Annotated[dt.date, BeforeValidator(_date, json_schema_input_type=str)]


class WaiverEntry(Schema, BaseModel):  # BaseModel named for linters: Schema is one (config/schema.py)
    """One waiver as the file holds it (the module docstring shows the format)."""

    # Built when a waiver file is first read: every audit imports this module, few are given --waivers.
    model_config = ConfigDict(defer_build=True)

    check: Annotated[Name, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    justification: Annotated[Text, Field(min_length=1, max_length=4000)]
    approver: Annotated[Text, Field(min_length=1, max_length=256), AfterValidator(one_line)]  # a name, one line
    # Any case, as people write it (Medium, HIGH); said so in the schema the generator reads.
    risk: Annotated[str, BeforeValidator(_risk), WithJsonSchema({"type": "string", "pattern": RISK_PATTERN})]
    created: Date
    expires: Date
    host: Annotated[Name, Field(min_length=1, max_length=253, pattern=HOST_NAME)] | None = None
    tables: list[Annotated[Name, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_$#@]*$")]] = []

    @model_validator(mode="after")
    def _expires_after_created(self) -> WaiverEntry:
        if self.expires <= self.created:
            raise ValueError(
                f"an expiry date after created ({self.created.isoformat()}), got {self.expires.isoformat()}"
            )
        return self


class WaiverFile(Schema, BaseModel):
    """The waiver file: a list of waivers (or a mapping with only `waivers:`, as `gpverify init` writes it)."""

    model_config = ConfigDict(defer_build=True)

    waivers: list[WaiverEntry] | None = []


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read and validate the whole file; the first problem raises one ConfigError (file, field, expected)."""
    origin = str(path)
    data = read_yaml(path, "waiver file")
    if data is None:
        return []
    if isinstance(data, list):
        data = {"waivers": data}
    if not isinstance(data, dict) or set(data) != {"waivers"}:
        raise ConfigError(origin, "(top level)", "a list of waivers, each a mapping with " + ", ".join(REQUIRED))
    entries = (
        validate(WaiverFile, data, origin, "the waiver format in `gpverify init`'s waivers.yml", known=FIELDS).waivers
        or []
    )
    return [
        Waiver(
            check=e.check.upper(),
            justification=e.justification,
            approver=e.approver,
            risk=e.risk,
            created=e.created,
            expires=e.expires,
            host=e.host,
            index=i,
            tables=tuple(e.tables),
        )
        for i, e in enumerate(entries)
    ]


def find_waiver(
    waivers: list[Waiver], check_id: str, host: str | None, today: dt.date, message: str = ""
) -> tuple[Waiver, WaiverStatus] | None:
    """The waiver for this check, host (and tables): a valid one first, else an expired one (reported as expired)."""
    matching = [w for w in waivers if w.matches(check_id, host) and w.covers(message)]
    valid = [w for w in matching if not w.expired(today)]
    if valid:
        return valid[0], "waived"
    if matching:
        return max(matching, key=lambda w: w.expires), "expired"
    return None
