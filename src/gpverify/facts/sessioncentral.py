"""Session Central's list of session hosts, as the Session Management snap-in shows it, judged from objects whose
property names are not public (GP's PowerShell module on the web server), never asserting.

A host is listed when some property of an object equals its name (short name or FQDN, any case). Whether it allows
new sessions, when it last reported and how many sessions run are read from a property only when its meaning is
known: named by the operator (overrides session_central.*, written by `gpverify discover --diff`), or, when exactly
one property's name says it (the snap-in's own words: session_central_words.* in the profile), inferred and said so
in every message. Anything else is a reason the caller turns into "not verified", with the one thing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gpverify.config.profiles import Profile
from gpverify.facts.names import short_name, truthy
from gpverify.facts.windows import GetterFact, SessionCentralFact, SessionCentralObject

DIFFERENTIAL = (
    "let the data name it: `gpverify discover --inventory FILE --record before`, suspend one host in "
    "Session Management, then `gpverify discover --inventory FILE --record after --diff before` and paste "
    "the overrides it prints"
)
HOST_WORDS = ("host", "machine", "server")  # a getter whose name says it lists session hosts


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _words(profile: Profile, key: str) -> list[str]:
    return [_squash(w) for w in str(profile[f"session_central_words.{key}"]).split(",") if w.strip()]


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Reading:
    """Which property (or column) a judgement reads, and how its meaning is known."""

    name: str
    how: str  # "named in the inventory's overrides", "inferred from its name", ...
    suspended_when: Any = True  # for the allow-new-sessions flag: the value meaning Suspended

    @property
    def inferred(self) -> bool:
        return self.how.startswith("inferred")

    def describe(self) -> str:
        return f"{self.name} ({self.how})"


@dataclass(frozen=True)
class ListedHost:
    """One session host Session Management lists, with what is known of it (None: unknown)."""

    name: str
    values: dict[str, Any]
    suspended: bool | None = None
    last_status: datetime | None = None
    sessions: int | None = None

    @property
    def short_name(self) -> str:
        return short_name(self.name)


@dataclass
class SessionManagement:
    """Session Management's host list from one source, with what could and could not be judged and why."""

    source: str
    hosts: list[ListedHost]
    suspended: Reading | None = None
    status: Reading | None = None
    sessions: Reading | None = None
    problems: dict[str, str] = field(default_factory=dict)  # "suspended" | "status" | "sessions" -> why unknown
    notes: list[str] = field(default_factory=list)  # corroboration, said with every verdict
    # When Session Central's process started, for its own list (it lists a host registered since only once
    # restarted: scale-out-installation.md step 18); None for the configuration database's rows.
    central_started: datetime | None = None

    def entry(self, name: str) -> ListedHost | None:
        return next((h for h in self.hosts if h.short_name == short_name(name)), None)

    def listed_names(self) -> str:
        return ", ".join(h.name for h in self.hosts) or "none"

    def basis(self, what: str) -> str:
        """How a judgement was reached, for the message: the source and the property read."""
        reading = getattr(self, what)
        return f"{self.source}; {reading.describe()}" if reading else self.source


class Unusable(Exception):
    """The module's answer cannot say which hosts are listed: the sentence names the web server and what to do."""


# --- finding the session host objects ------------------------------------------------------------------------


def _matches(obj: SessionCentralObject, prop: str, hosts: set[str]) -> bool:
    value = obj.properties.get(prop)
    return isinstance(value, str) and short_name(value) in hosts and bool(value.strip())


def _groups(objects: list[SessionCentralObject]) -> dict[tuple[str, str], list[SessionCentralObject]]:
    groups: dict[tuple[str, str], list[SessionCentralObject]] = {}
    for obj in objects:
        groups.setdefault((obj.getter, obj.type), []).append(obj)
    return groups


def _name_property(objects: list[SessionCentralObject], hosts: set[str], named: str | None) -> tuple[str, int]:
    """The property holding the machine name, and how many inventory hosts it names in these objects."""
    props = [named] if named else list(dict.fromkeys(p for o in objects for p in o.properties))
    best = ("", 0)
    for prop in props:
        found = len({short_name(str(o.properties[prop])) for o in objects if _matches(o, prop, hosts)})
        if found > best[1]:
            best = (prop, found)
    return best


def host_objects(
    fact: SessionCentralFact, hosts: list[str], named: str | None, where: str
) -> tuple[str, str, list[SessionCentralObject]]:
    """(getter, name property, objects) of the session hosts Session Central lists; Unusable when none can be told."""
    wanted = {short_name(h) for h in hosts}
    best: tuple[int, str, str, list[SessionCentralObject]] = (0, "", "", [])
    for (getter, _type), objects in _groups(fact.objects).items():
        prop, found = _name_property(objects, wanted, named)
        if found > best[0]:
            best = (found, getter, prop, objects)
    if best[0]:
        return best[1], best[2], best[3]
    listing = [g for g in fact.getters if any(w in g.name.lower() for w in HOST_WORDS) and not g.error]
    empty = [g for g in listing if g.count == 0]
    if listing and len(empty) == len(listing):
        return empty[0].name, "", []  # a getter that lists session hosts answered with none: none is listed
    raise Unusable(_why_no_host_objects(fact, listing, hosts, named, where))


def _why_no_host_objects(
    fact: SessionCentralFact, listing: list[GetterFact], hosts: list[str], named: str | None, where: str
) -> str:
    """Why no objects could be told to be the session hosts, and what the operator sets."""
    shown = [o for g in listing for o in _groups(fact.objects).get((g.name, _type_of(fact, g.name)), [])]
    if shown:
        props = ", ".join(dict.fromkeys(p for o in shown for p in o.properties))
        what = f"named {named}" if named else "equal to a session host's name"
        return (
            f"{where}: Session Central's {shown[0].getter} returned {len(shown)} object(s) of type "
            f"{shown[0].type}, none with a property {what} (inventory: {', '.join(hosts)}; properties: "
            f"{props}): set under `overrides:` session_central.host_name_property: <the property holding "
            "the machine name> (gpverify discover lists them)"
        )
    getters = ", ".join(g.name for g in fact.getters) or "none"
    return (
        f"{where}: no getter of the GP PowerShell module {fact.module} lists the session hosts (it ran "
        f"{getters}; skipped, needing parameters: {', '.join(fact.skipped) or 'none'})"
    )


def _type_of(fact: SessionCentralFact, getter: str) -> str:
    return next((o.type for o in fact.objects if o.getter == getter), "")


# --- reading what each property means ------------------------------------------------------------------------


def _flag_value(value: Any) -> bool:
    return truthy(value) in ("true", "false")


def flag_reading(objects: list[SessionCentralObject], profile: Profile, exclude: str) -> Reading | str:
    """The property saying whether a host takes new sessions, or why none can be used."""
    named = profile.get("session_central.suspended_property")
    if named:
        when = profile.get("session_central.suspended_when")
        return Reading(str(named), "named in the inventory's overrides", True if when is None else when)
    candidates = _flag_candidates(objects, profile, exclude)
    if len(candidates) == 1:
        return candidates[0]
    found = (
        f"{len(candidates)} properties could mean it: " + ", ".join(c.describe() for c in candidates)
        if candidates
        else "no property's name says it (properties: "
        + ", ".join(dict.fromkeys(p for o in objects for p in o.properties))
        + ")"
    )
    return (
        f"whether a host allows new web client sessions cannot be told: {found}; name it under `overrides:` "
        f"session_central.suspended_property and session_central.suspended_when, or {DIFFERENTIAL}"
    )


def _flag_candidates(objects: list[SessionCentralObject], profile: Profile, exclude: str) -> list[Reading]:
    """Properties whose values are all true/false and whose name says Suspended or allows new sessions."""
    candidates: list[Reading] = []
    suspended, allowed = _words(profile, "suspended"), _words(profile, "allowed")
    for prop in dict.fromkeys(p for o in objects for p in o.properties):
        values = [o.properties.get(prop) for o in objects]
        if prop == exclude or not values or not all(_flag_value(v) for v in values if v is not None):
            continue
        squashed = _squash(prop)
        if any(w in squashed for w in suspended):
            candidates.append(Reading(prop, "inferred from its name: true means Suspended", True))
        elif any(w in squashed for w in allowed):
            candidates.append(Reading(prop, "inferred from its name: true means it allows new sessions", False))
    return candidates


def _typed_reading(
    objects: list[SessionCentralObject], profile: Profile, what: str, words: str, fits: Any
) -> Reading | str:
    named = profile.get(f"session_central.{what}_property")
    if named:
        return Reading(str(named), "named in the inventory's overrides")
    wanted = _words(profile, words)
    props = [
        p
        for p in dict.fromkeys(p for o in objects for p in o.properties)
        if any(w in _squash(p) for w in wanted) and all(fits(o, p) for o in objects)
    ]
    if len(props) == 1:
        return Reading(props[0], "inferred from its name")
    found = ", ".join(props) if props else "none"
    return f"candidates {found}; name it under `overrides:` session_central.{what}_property"


def _is_time(obj: SessionCentralObject, prop: str) -> bool:
    return obj.types.get(prop) == "System.DateTime" or _time(obj.properties.get(prop)) is not None


def _is_count(obj: SessionCentralObject, prop: str) -> bool:
    value = obj.properties.get(prop)
    return isinstance(value, int) and not isinstance(value, bool)


def _suspended(value: Any, reading: Reading) -> bool:
    return truthy(value) == truthy(reading.suspended_when)


def from_module(fact: SessionCentralFact, profile: Profile, hosts: list[str], where: str) -> SessionManagement:
    """Session Management's list from the objects Session Central returned; Unusable when it cannot be read."""
    named = profile.get("session_central.host_name_property")
    getter, prop, objects = host_objects(fact, hosts, named, where)
    source = f"Session Central on {where} through GP PowerShell ({getter}" + (f", name in {prop})" if prop else ")")
    view = SessionManagement(source, [])
    readings = {
        "suspended": flag_reading(objects, profile, prop),
        "status": _typed_reading(objects, profile, "status_time", "status_time", _is_time),
        "sessions": _typed_reading(objects, profile, "sessions", "sessions", _is_count),
    }
    for what, reading in readings.items():
        if isinstance(reading, Reading):
            setattr(view, what, reading)
        else:
            view.problems[what] = reading
    view.hosts = [_listed(o, prop, view) for o in objects if prop]
    return view


def _listed(obj: SessionCentralObject, prop: str, view: SessionManagement) -> ListedHost:
    values = obj.properties
    flag, status, sessions = view.suspended, view.status, view.sessions
    count = values.get(sessions.name) if sessions else None
    return ListedHost(
        str(values.get(prop, "")).strip(),
        dict(values),
        suspended=_suspended(values.get(flag.name), flag) if flag and flag.name in values else None,
        last_status=_time(values.get(status.name)) if status else None,
        sessions=int(count) if isinstance(count, int) else None,
    )


def module_problem(fact: SessionCentralFact | None, error: str | None, where: str) -> str | None:
    """Why the module's answer cannot be used at all (not installed, threw, no address answered), else None."""
    if error:
        return (
            f"{where}: the GP PowerShell module failed: {error}: run Get-Command -Module <module> on {where} in the "
            "GP PowerShell prompt to see why"
        )
    if fact is None or not fact.installed:
        return (
            f"{where}: the GP PowerShell component (the module with Set-GPSessionCentralAddress) is not installed: "
            "install it on the web server from the GP media (Additional components: GP PowerShell), or set "
            "session_central.module_path under `overrides:` if it is installed outside PowerShell's module path"
        )
    if fact.address is None:
        tried = "; ".join(f"{a.address}: {a.error}" for a in fact.attempts) or "no address to try"
        return (
            f"{where}: Session Central did not answer ({tried}): check that the Session Central Service runs, "
            "then set session_central.scheme and session_central.port (or session_central.address) under "
            "`overrides:` to the address the Session Management snap-in connects to"
        )
    failed = [g for g in fact.getters if g.error]
    if failed and all(any(w in g.name.lower() for w in HOST_WORDS) for g in failed):
        return (
            f"{where}: the GP PowerShell module {fact.module} threw: "
            + "; ".join(f"{g.name}: {g.error}" for g in failed)
            + f": run {failed[0].name} on {where} in the GP PowerShell "
            "prompt to see why"
        )
    return None


# --- corroboration, read-only: said with every verdict -------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def when_text(value: datetime | None) -> str:
    """A time as the messages write it (UTC), or "unknown"."""
    return _when(_utc(value) if value else None)


def corroborate(web: str, web_facts: Any, hosts: dict[str, Any]) -> list[str]:
    """Each host's Session Service, Session Central started after them (installation guide step 18: it is restarted
    so that it talks to the hosts), and errors in the web server's Dynamics event log since Session Central started
    (troubleshooting.md). `hosts` maps each session host collected to its HostFacts (others are left out)."""
    notes: list[str] = []
    started: dict[str, datetime | None] = {}
    stopped = []
    for name, facts in hosts.items():
        service = next(iter(facts.services.get("session_service", [])), None)
        if service is None or not service.is_running:
            stopped.append(name)
        else:
            started[name] = service.started
    if hosts:
        notes.append(
            "Session Service running on "
            + (", ".join(sorted(started)) or "no host")
            + (f"; NOT running on {', '.join(sorted(stopped))}" if stopped else "")
        )
    central = next(iter(web_facts.services.get("session_central", [])), None) if web_facts else None
    central_start = central.started if central is not None and central.is_running else None
    if central_start and started:
        late = {n: t for n, t in started.items() if t and t > central_start}
        if late:
            notes.append(
                f"Session Central on {web} started {_when(central_start)}, BEFORE the Session Service of "
                + ", ".join(f"{n} ({_when(t)})" for n, t in sorted(late.items()))
                + ": restart Session Central so that it talks to them "
                "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, step 18)"
            )
        else:
            notes.append(f"Session Central on {web} started {_when(central_start)}, after every Session Service")
    notes += _event_notes(web, web_facts, central_start)
    return notes


def _event_notes(web: str, web_facts: Any, since: datetime | None) -> list[str]:
    log = web_facts.events.get("dynamics") if web_facts else None
    if log is None:
        return []
    if not (log.logs or log.providers):
        return [f"no Dynamics event log or source on {web}"]
    errors = [e for e in log.events if since is None or e.time >= since]
    where = ", ".join(log.logs) or ", ".join(log.providers)
    window = f"since Session Central started ({_when(since)})" if since else "in the last two weeks"
    if not errors:
        return [f"no error in the Dynamics event log on {web} ({where}) {window}"]
    newest = errors[0]
    return [
        (
            f"{len(errors)} error(s) in the Dynamics event log on {web} {window}, newest {_when(newest.time)} "
            f"{newest.source} {newest.id}: {newest.message[:200]}"
        )
    ]


def summary(view: SessionManagement, address: str | None = None) -> dict[str, Any]:
    """What the checks judged, for the evidence: the source, how each property's meaning is known, every host."""
    return {
        "source": view.source,
        "address": address,
        "readings": {
            k: (getattr(view, k).describe() if getattr(view, k) else view.problems.get(k, "unknown"))
            for k in ("suspended", "status", "sessions")
        },
        "hosts": [
            {"name": h.name, "suspended": h.suspended, "last_status": _when(h.last_status), "sessions": h.sessions}
            for h in view.hosts
        ],
        "corroboration": view.notes,
    }


def basis_text(view: SessionManagement) -> str:
    """One line saying what a verdict read: the source and each property with how its meaning is known."""
    parts = [view.source]
    for what, label in (
        ("suspended", "allows new sessions"),
        ("status", "Last Status Update"),
        ("sessions", "sessions running"),
    ):
        reading = getattr(view, what)
        if reading is not None:
            parts.append(f"{label} from {reading.describe()}")
    return "; ".join(parts)


# --- one host's registration with the new configuration (GP-HOST-003) ----------------------------------------

# Why a host registered with the upgraded Session Central talks to the new configuration: where a host keeps the
# database's name is not public, but "The Session Central Service will be updated with information that is provided
# by the Session Service running on each session host machine" (scale-out-installation.md, Verify).
REGISTERS = (
    "inferred: where a host keeps the configuration database's name is not public, but a host registers "
    "through its Session Service, https://learn.microsoft.com/dynamics-gp/web-components/scale-out-"
    "installation, 'Verify the web client installation'"
)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Registration:
    """What one source of the new configuration shows of a session host, against when its Session Service started.

    state: "reporting" (its last status is after its Session Service started: that process reports there),
    "stale" (only from before: a copy the web server's wizard migrated, or a host that stopped reporting),
    "listed" (listed, its status cannot be read) or "absent"."""

    source: str
    state: str
    entry: ListedHost | None = None
    why: str = ""
    listed: str = ""  # every host the source lists, for "absent"

    def describe(self, since: datetime) -> str:
        if self.state == "absent":
            return f"{self.source} does not list it (it lists: {self.listed})"
        if self.state == "listed":
            return f"{self.source} lists it, but its last status cannot be read ({self.why})"
        assert self.entry is not None and self.entry.last_status is not None
        when = "after" if self.state == "reporting" else "before"
        return (
            f"{self.source} last heard from it at {_when(_utc(self.entry.last_status))}, {when} its Session "
            f"Service started ({_when(_utc(since))})"
        )


def registration(view: SessionManagement, host: str, since: datetime) -> Registration:
    """How a source of the new configuration shows the host, against its Session Service's start."""
    entry = view.entry(host)
    if entry is None:
        return Registration(view.source, "absent", listed=view.listed_names())
    if view.status is None or entry.last_status is None:
        return Registration(view.source, "listed", entry, view.problems.get("status", "no Last Status Update"))
    state = "reporting" if _utc(entry.last_status) >= _utc(since) else "stale"
    return Registration(view.source, state, entry)


def not_loaded(view: SessionManagement, since: datetime) -> bool:
    """Session Central started before the host's Session Service: it has not loaded a registration made since."""
    return view.central_started is not None and _utc(view.central_started) < _utc(since)
