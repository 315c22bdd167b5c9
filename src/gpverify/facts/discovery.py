"""Let the farm's data name what no source publishes: the configuration database's session host table and columns,
and the property of Session Central's objects holding each host's name, found by the inventory's host names; the
flag Suspend changes, found by the difference between two records (one host suspended in between).

Reads only: INFORMATION_SCHEMA.COLUMNS, then SELECT TOP n of the text columns of each table (through the read-only
guard), and the objects the collector's Session Central section returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpverify.errors import ConfigError, FactsUnavailable
from gpverify.facts import configdb
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.names import short_name, truthy
from gpverify.facts.sessioncentral import host_objects
from gpverify.facts.windows import SessionCentralFact

RECORD_FORMAT = 1
TOP_ROWS = 500  # rows read per table: far more than a farm's session hosts
TEXT_TYPES = ("char", "varchar", "nchar", "nvarchar", "text", "ntext", "sysname")
TIME_TYPES = ("datetime", "datetime2", "smalldatetime", "datetimeoffset")


@dataclass
class Found:
    """One source's session host rows keyed by inventory host: where they are and every value of each."""

    source: str  # "config_db" | "module"
    where: str  # table (schema.table) or getter
    name_key: str  # the column or property holding the machine name
    rows: dict[str, dict[str, Any]]  # short host name -> column/property -> value
    time_keys: list[str] = field(default_factory=list)  # date-time columns/properties


def _kind(data_type: str) -> str:
    return data_type.lower().split("(")[0].strip()


def config_tables(sql: GpSqlView, hosts: list[str]) -> Found | None:
    """The configuration database's table and column holding every inventory session host's name, by value."""
    database = sql.config_database
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in configdb.columns(sql, database):
        tables.setdefault((schema, table), []).append((column, _kind(kind)))
    wanted = {short_name(h) for h in hosts}
    best = _most_hosts_named(sql, database, tables, wanted)
    if best is None or best[0] < len(wanted):
        return None
    (schema, table), name = best[1], best[2]
    cols = tables[(schema, table)]
    rows = sql.select_columns(database, table, {c: c for c, _ in cols}, top=TOP_ROWS, schema=schema)
    keyed = {short_name(str(r[name])): {k: _plain(v) for k, v in r.items()} for r in rows if r[name] is not None}
    return Found("config_db", f"{schema}.{table}", name, keyed, [c for c, k in cols if k in TIME_TYPES])


def _most_hosts_named(
    sql: GpSqlView, database: str, tables: dict[tuple[str, str], list[tuple[str, str]]], wanted: set[str]
) -> tuple[int, tuple[str, str], str] | None:
    """(how many, (schema, table), column): the text column whose values name the most of the wanted hosts."""
    best: tuple[int, tuple[str, str], str] | None = None
    for (schema, table), cols in sorted(tables.items()):
        text = {c: c for c, k in cols if k in TEXT_TYPES}
        rows = sql.select_columns(database, table, text, top=TOP_ROWS, schema=schema) if text else []
        for column in text:
            named = {short_name(str(r[column])) for r in rows if r[column] is not None} & wanted
            if named and (best is None or len(named) > best[0]):
                best = (len(named), (schema, table), column)
    return best


def host_columns(sql: GpSqlView, database: str, hosts: list[str]) -> dict[str, str]:
    """Where a database holds each of these hosts' machine names (short name -> schema.table.column, the first
    text column in table order that names it), found by value in one read of each table."""
    wanted = {short_name(h) for h in hosts}
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, kind in configdb.columns(sql, database):
        if _kind(kind) in TEXT_TYPES:
            tables.setdefault((schema, table), []).append(column)
    found: dict[str, str] = {}
    for (schema, table), text in sorted(tables.items()):
        rows = sql.select_columns(database, table, {c: c for c in text}, top=TOP_ROWS, schema=schema)
        for column in text:
            for name in {short_name(str(r[column])) for r in rows if r[column] is not None} & wanted:
                found.setdefault(name, f"{schema}.{table}.{column}")
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return str(value)


def module_objects(fact: SessionCentralFact | None, hosts: list[str], where: str) -> Found | None:
    """Session Central's host objects and the property naming each host (by value), or None."""
    if fact is None or not fact.installed or fact.address is None:
        return None
    getter, prop, objects = host_objects(fact, hosts, None, where)
    if not prop:
        return None
    rows = {short_name(str(o.properties[prop])): dict(o.properties) for o in objects}
    times = list(dict.fromkeys(p for o in objects for p, t in o.types.items() if t == "System.DateTime"))
    return Found("module", getter, prop, rows, times)


# --- records and their difference -----------------------------------------------------------------------------


@dataclass
class Record:
    farm: str
    profile: str
    release: str  # the web server's Web Components version
    recorded: str
    hosts: list[str]
    found: list[Found]

    def as_dict(self) -> dict[str, Any]:
        return {
            "gpverify_discover": RECORD_FORMAT,
            "farm": self.farm,
            "profile": self.profile,
            "release": self.release,
            "recorded": self.recorded,
            "hosts": self.hosts,
            "found": [f.__dict__ for f in self.found],
        }


def record_path(name: str) -> Path:
    """`--record before` -> before.json (a name with a suffix is a path as given)."""
    path = Path(name)
    return path if path.suffix else path.with_suffix(".json")


def save(record: Record, name: str) -> Path:
    path = record_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)  # --record's type checked it can be made (config.paths)
    path.write_text(json.dumps(record.as_dict(), indent=1, default=str), encoding="utf-8")
    return path


def load(name: str) -> Record:
    """A record written by `--record`; ConfigError naming the file when it is not one."""
    path = record_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("gpverify_discover") != RECORD_FORMAT:
            raise KeyError("gpverify_discover")
        found = [Found(**f) for f in data["found"]]
        return Record(
            str(data["farm"]),
            str(data["profile"]),
            str(data["release"]),
            str(data["recorded"]),
            list(data["hosts"]),
            found,
        )
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            "--diff",
            "a file written by `gpverify discover --record NAME` (not found: "
            "record it first, before suspending a host)",
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(str(path), "--diff", "a file written by `gpverify discover --record NAME`") from None


def same_farm(before: Record, after: Record, origin: str) -> None:
    """The two records must come from the same farm and release, or their difference means nothing."""
    for what, old, new in (
        ("farm", before.farm, after.farm),
        ("profile", before.profile, after.profile),
        ("Web Components release", before.release, after.release),
    ):
        if old != new:
            raise ConfigError(
                origin,
                "--diff",
                f"a record of the same farm and release ({what} {new!r}), but it was "
                f"recorded on {what} {old!r}: record `--record before` again on this farm, suspend one "
                "host, then `--record after --diff before`",
            )


@dataclass
class Difference:
    """What changed between the records in one source: the flag Suspend changed, or why none can be named."""

    source: str
    where: str
    name_key: str
    flag: str | None = None
    host: str | None = None
    before: Any = None
    after: Any = None
    problem: str | None = None


def difference(before: Found, after: Found) -> Difference:
    """The one column/property whose value changed on exactly one host (the one suspended), with its values."""
    diff = Difference(after.source, after.where, after.name_key)
    if (before.where, before.name_key) != (after.where, after.name_key):
        diff.problem = f"the records read different places ({before.where} then {after.where})"
        return diff
    changed: dict[str, list[str]] = {}
    for host, row in after.rows.items():
        old = before.rows.get(host)
        if old is None:
            continue
        for key, value in row.items():
            if key not in after.time_keys and key != after.name_key and truthy(old.get(key)) != truthy(value):
                changed.setdefault(key, []).append(host)
    single = {k: hosts[0] for k, hosts in changed.items() if len(hosts) == 1}
    if len(single) == 1:
        key, host = next(iter(single.items()))
        diff.flag, diff.host, diff.before, diff.after = key, host, before.rows[host][key], after.rows[host][key]
    elif not single:
        diff.problem = (
            "no value changed on exactly one host between the records: suspend one host in Session "
            "Management (Suspend in the ribbon) between `--record before` and `--record after`"
        )
    else:
        diff.problem = f"several values changed on one host: {', '.join(sorted(single))}; suspend only one host"
    return diff


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def unusable(exc: FactsUnavailable | Exception) -> str:
    return str(exc)
