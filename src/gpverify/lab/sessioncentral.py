"""The lab's Session Central on the web server, and a stand-in for GP's PowerShell module that lists what it holds.

What the lab models, from the sources (sources-20-21 Part A): Session Central answers at an address of the site's
choosing (scheme and port; http by default here, as the 2018 docs wrote it); the "GP PowerShell" component connects
with Set-GPSessionCentralAddress and lists what Session Central holds through Get- cmdlets (Get-GPScaleGroup is
documented); a session host shows in Session Management once its configuration wizard registered it and Session
Central (re)started after that ("Restart the Session Central Service ... necessary to allow the Session Central
Service to establish communication with the session host machine", scale-out-installation.md step 18); Suspend
changes one value of the host ("prevents it from accepting any new web client sessions",
managing-web-client-sessions.md). THE LAB'S OWN NAMES: the module, the host getter, the object types and their
properties are not public, so they are the lab's and match no name gpverify ships; only the properties' meanings
are GP's. The same registry renders the lab's GPCONFIGURATION rows (its own table and columns, lab/sql.py).

Which configuration database a host talks to: its Session Service registers with, and reports its status to, the
database its configuration wizard was given ("When asked for the web components database, provide the new database
name selected when upgrading the web server", scale-out-upgrade.md; "The Session Central Service will be updated
with information that is provided by the Session Service running on each session host machine",
scale-out-installation.md, Verify). The lab keeps that name in a registry value of its own (LAB_CONFIG_DB_SETTING;
GP's is not public). The web server's wizard migrates the old database's data into the new one (scale-out-upgrade.md
step 5): the hosts as they last reported, nothing made fresh; the old database stays on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from gpverify.lab.models import LAB_CONFIG_DB_SETTING

if TYPE_CHECKING:
    from gpverify.lab.models import FakeFarm, FakeHost

MODULE = "LabDynamicsGPPowerShell"
MODULE_VERSION = "18.4.0.0"
HOST_GETTER = "Get-LabSessionHostRecord"  # the lab's own: GP's session host getter is not public
HOST_TYPE = "Lab.SessionCentral.HostRecord"
SCALE_GROUP_TYPE = "Lab.SessionCentral.ScaleGroupRecord"
CONNECT = "Set-GPSessionCentralAddress"
# The module's cmdlets and their mandatory parameters: the documented ones (tenant-services-applications.md) and
# the lab's getter. The write cmdlets are there so that a collector calling one is caught (invoke refuses it).
CMDLETS: dict[str, tuple[str, ...]] = {
    CONNECT: ("Address",),
    "Get-GPScaleGroup": (),
    "Get-GPScaleGroupTenant": ("ScaleGroupName",),
    HOST_GETTER: (),
    "New-GPScaleGroup": ("ScaleGroupName",),
    "Update-GPScaleGroup": (),
    "Update-GPSessionHost": ("SessionHostId",),
    "Add-GPScaleGroupTenant": ("ScaleGroupName", "TenantName"),
    "Remove-GPScaleGroupTenant": ("TenantName",),
}
# How the lab's host objects name their properties. lab: a suspended flag; allow-flag: the inverted polarity
# (a flag that is true while the host accepts new sessions); ambiguous: two flags whose names both suggest it;
# no-name-property: the host is named only by an identifier, no property holds its machine name.
Naming = Literal["lab", "allow-flag", "ambiguous", "no-name-property"]
Fault = Literal["unreachable", "module-throws"]
LAB_DOMAIN_SUFFIX = ".lab.invalid"
REPORT_INTERVAL = timedelta(minutes=5)  # how often a lab Session Service reports its status (the lab's own)


class RefusedCmdlet(AssertionError):
    """The lab's module was asked to run a cmdlet the collector must never run (anything but Get-* and the
    connection cmdlet): a defect of the collector (or its emulation), so it is raised, never answered."""


class CmdletError(Exception):
    """What a cmdlet of the module throws (the collector records its message)."""


@dataclass
class HostRecord:
    """One machine in Session Central's registry (the lab's GPCONFIGURATION rows render the same records)."""

    name: str  # the inventory's name
    registered: datetime | None  # when its configuration wizard registered it; None: never registered
    listed_as: str = ""  # the name Session Central shows (the short name upper-cased, or an FQDN)
    suspended: bool = False
    last_status: datetime | None = None  # set: the Session Service stopped reporting at that time
    retired: bool = False  # not a machine of the inventory (an extra host still registered)


@dataclass
class WebSession:
    host: str
    user: str
    gp_user: str = ""
    company: str = ""
    key: str = "7f3c2a10"


@dataclass
class SessionCentral:
    """The web server's Session Central and its GP PowerShell module, as lab state."""

    farm: FakeFarm
    module: bool = True
    naming: Naming = "lab"
    fault: Fault | None = None
    scheme: str = "http"
    port: int = 48650
    # Each configuration (or GP 2013-era session) database's host registry: upper-cased database -> lower-cased
    # host name -> record. Session Central reads the one of database(); `records` is that one.
    registries: dict[str, dict[str, HostRecord]] = field(default_factory=dict)
    sessions: list[WebSession] = field(default_factory=list)
    event_errors: list[dict[str, Any]] = field(default_factory=list)
    address: str | None = None  # what Set-GPSessionCentralAddress set in this "PowerShell session"
    clock: datetime = field(default_factory=lambda: now())  # when the lab's farm was built

    # --- the state ---------------------------------------------------------------------------------------

    def web_server(self) -> FakeHost:
        return next(h for h in self.farm.hosts.values() if h.role == "web_server")

    def database(self) -> str:
        """The database Session Central works from: the configuration database once it exists, else (a GP
        2013-era farm before its web server's upgrade) the old session database."""
        config = self.farm.config_database
        return config if config in self.farm.databases else str(self.farm.source["sql.old_session_database"])

    @property
    def records(self) -> dict[str, HostRecord]:
        """The registry Session Central lists (lower-cased name -> record)."""
        return self.registries.setdefault(self.database().upper(), {})

    def reports_to(self, host_name: str) -> str:
        """The database the host's Session Service registers with and reports to: the one its wizard was given."""
        host = next((h for h in self.farm.hosts.values() if h.name.lower() == host_name.lower()), None)
        cfg = LAB_CONFIG_DB_SETTING
        value = host.registry.get((cfg["view"], cfg["path"], cfg["name"])) if host is not None else None
        return str(value) if value else self.database()

    def started(self) -> datetime | None:
        """When Session Central's process started; None while it is not running."""
        service = self.web_server().services.get("session_central")
        return service.started if service is not None and service.status == "Running" else None

    def register(self, host: str, when: datetime | None = None) -> None:
        """The host's configuration wizard registered it (again) in the database it was given, if that exists."""
        database = self.reports_to(host)
        if database not in self.farm.databases:
            return  # its Session Service has nowhere to register
        registry = self.registries.setdefault(database.upper(), {})
        record = registry.setdefault(host.lower(), HostRecord(host, None, host.split(".")[0].upper()))
        record.registered, record.last_status = when or now(), None

    def migrate(self, old: str) -> None:
        """The web server's configuration wizard copies the old database's hosts into the new one, as they last
        reported (scale-out-upgrade.md step 5); the old database keeps its own."""
        new = self.registries.setdefault(self.farm.config_database.upper(), {})
        for name, record in self.registries.get(old.upper(), {}).items():
            new.setdefault(name, replace(record))

    def listed(self) -> list[HostRecord]:
        """What Session Management lists: the records Session Central loaded when it last started."""
        started = self.started()
        if started is None:
            return []
        return [r for r in self.records.values() if r.registered is not None and r.registered <= started]

    def tick(self) -> datetime:
        """The last report instant: the lab's clock plus whole report intervals (GP's interval is not public; the
        lab's keeps every answer within an interval the same, so two clients reading at once read the same)."""
        return self.clock + (now() - self.clock) // REPORT_INTERVAL * REPORT_INTERVAL

    def status_time(self, record: HostRecord, database: str | None = None) -> datetime:
        """Last Status Update in a database's registry (Session Central's by default): a running Session Service
        reports every few seconds to the database it was given; a record in any other database keeps the time it
        registered there; a stopped service's, when it stopped."""
        if record.last_status is not None:
            return record.last_status
        host = next((h for h in self.farm.hosts.values() if h.name.lower() == record.name.lower()), None)
        service = host.services.get("session_service") if host else None
        if self.reports_to(record.name).upper() != (database or self.database()).upper():
            return record.registered or self.clock - timedelta(hours=3)
        if service is not None and service.status == "Running":
            # It reports as soon as it starts, then at every report interval.
            return max(self.tick(), service.started or self.clock)
        # Stopped: its last report is from just before the lab started (a scenario's stale host says otherwise).
        return self.clock - timedelta(minutes=1)

    # --- the module --------------------------------------------------------------------------------------

    def invoke(self, cmdlet: str, **parameters: Any) -> list[dict[str, Any]]:
        """Run one cmdlet of the lab's module. Anything but Get-* and the connection cmdlet is refused."""
        if cmdlet not in CMDLETS:
            raise CmdletError(f"The term '{cmdlet}' is not recognized as the name of a cmdlet")
        if not (cmdlet == CONNECT or cmdlet.startswith("Get-")):
            raise RefusedCmdlet(
                f"the collector ran {cmdlet}, which changes Session Central: only {CONNECT} and Get- cmdlets may run"
            )
        missing = [p for p in CMDLETS[cmdlet] if p not in parameters]
        if missing:
            raise CmdletError(
                f"Cannot process command because of one or more missing mandatory parameters: {' '.join(missing)}."
            )
        if cmdlet == CONNECT:
            self.address = str(parameters["Address"])
            return []
        self._reach()
        if cmdlet == "Get-GPScaleGroup":
            return [
                _object(
                    SCALE_GROUP_TYPE,
                    {"Id": 0, "Name": "Default Group", "Description": "Default scale group", "IsActive": True},
                )
            ]
        if cmdlet == HOST_GETTER:
            if self.fault == "module-throws":
                raise CmdletError("Object reference not set to an instance of an object.")
            return [self._host_object(r, n) for n, r in enumerate(self.listed(), 1)]
        return []

    def _reach(self) -> None:
        """The connection is made by the first cmdlet after the address is set, as a WCF client does."""
        address = self.address or ""
        expected = {
            f"{self.scheme}://{h}:{self.port}/SessionCentralService".lower()
            for h in ("localhost", self.web_server().name, self.web_server().name + LAB_DOMAIN_SUFFIX)
        }
        if self.fault == "unreachable" or self.started() is None or address.lower() not in expected:
            raise CmdletError(f"There was no endpoint listening at {address} that could accept the message.")

    def _host_object(self, record: HostRecord, number: int) -> dict[str, Any]:
        sessions = sum(1 for s in self.sessions if s.host.lower() == record.name.lower())
        props: dict[str, Any] = {"RecordId": f"{number:08d}-1ab0-4c3e-9d2f-{number:012d}"}
        if self.naming != "no-name-property":
            props["Machine"] = record.listed_as or record.name.upper()
        props["ScaleGroupId"] = 0
        if self.naming == "allow-flag":
            props["AcceptingNewSessions"] = not record.suspended
        else:
            props["Suspended"] = record.suspended
        if self.naming == "ambiguous":
            props["Enabled"] = True  # enabled for web client sessions at all: a second flag whose name suggests it
        props["LastContact"] = self.status_time(record)
        props["SessionsRunning"] = sessions
        props["MemoryInUse"] = 41
        return _object(HOST_TYPE, props)

    # --- what other parts of the lab read --------------------------------------------------------------

    def config_rows(self, database: str | None = None) -> list[dict[str, Any]]:
        """A database's registry as the lab's rows (its own table and columns): every registered record."""
        database = database or self.database()
        return [
            {
                "MachineName": f"{r.name.lower()}{LAB_DOMAIN_SUFFIX}",
                "IsSuspended": int(r.suspended),
                "LastStatusUtc": self.status_time(r, database).replace(tzinfo=None, microsecond=0),
            }
            for r in self.registries.get(database.upper(), {}).values()
            if r.registered is not None
        ]

    def session_rows(self, old_database: bool) -> list[dict[str, Any]]:
        if old_database:
            return [
                {"SessionKey": s.key, "UserName": s.user, "StartedUtc": now().replace(tzinfo=None, microsecond=0)}
                for s in self.sessions
            ]
        return [
            {
                "SessionKey": s.key,
                "MachineName": s.host,
                "UserName": s.user,
                "GPUserId": s.gp_user,
                "CompanyName": s.company,
                "LastHeartbeat": now().replace(tzinfo=None, microsecond=0),
            }
            for s in self.sessions
        ]

    def events(self, since: datetime) -> list[dict[str, Any]]:
        return [e for e in self.event_errors if e["time"] >= since]


def now() -> datetime:
    return datetime.now(UTC)


def _object(type_name: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_name, "properties": props}


def install(farm: FakeFarm) -> SessionCentral:
    """A farm's Session Central as the installation left it: every session host registered, Session Central started
    after them, the Session Services before it (the lab's clock: the lab started a few hours after the install).

    After a GP 2013-era upgrade the old session database keeps the hosts it had before the migration; a host whose
    wizard was given another existing database registered there too."""
    start = now()
    central = SessionCentral(farm)
    old = str(farm.source["sql.old_session_database"])
    for host in farm.hosts.values():
        for service in host.services.values():
            service.started = service.started or start - timedelta(hours=2)
        if host.role != "session_host":
            continue
        registered = HostRecord(host.name, start - timedelta(hours=3), host.name.upper())
        central.records[host.name.lower()] = registered
        if old in farm.databases and old != central.database():
            central.registries.setdefault(old.upper(), {})[host.name.lower()] = replace(registered)
        elsewhere = central.reports_to(host.name)
        if elsewhere in farm.databases and elsewhere.upper() != central.database().upper():
            central.registries.setdefault(elsewhere.upper(), {})[host.name.lower()] = replace(registered)
    web = central.web_server()
    if "session_central" in web.services:
        web.services["session_central"].started = start - timedelta(hours=1)
    web.session_central = central
    return central


def of(farm: FakeFarm) -> SessionCentral | None:
    web = next((h for h in farm.hosts.values() if h.role == "web_server"), None)
    central = getattr(web, "session_central", None) if web else None
    return central if isinstance(central, SessionCentral) else None


def render_tables(farm: FakeFarm) -> None:
    """Write each registry into its database's rows, and the sessions into the database Session Central works
    from (the configuration database, or the GP 2013-era session database before the web server's upgrade)."""
    central = of(farm)
    if central is None:
        return
    old_name = str(farm.source["sql.old_session_database"])
    for name, tables in farm.databases.items():
        if name.upper() in central.registries:
            host_table = "LabSessionCentralHost" if name == old_name else "LabSessionHostRegistry"
            tables[host_table] = central.config_rows(name)
    config = farm.databases.get(farm.config_database)
    if config is not None:
        config["LabWebSession"] = central.session_rows(old_database=False)
    else:
        old = farm.databases.get(old_name)
        if old is not None:
            old["LabSessionCentralSession"] = central.session_rows(old_database=True)


# --- the collector's Session Central and event-log sections, as collector.ps1 runs them ----------------------


def collector_answer(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    """Get-SessionCentralFacts: find the module by its connection cmdlet, list its Get- cmdlets, connect to each
    address in turn, run every getter that needs no parameter; objects and properties bounded as the script does."""
    central = getattr(host, "session_central", None)
    if not isinstance(central, SessionCentral) or not central.module:
        return {"installed": False}
    getters = sorted(c for c in CMDLETS if c.split("-", 1)[0] == "Get")[: int(q["max_getters"])]
    callable_ = [g for g in getters if not CMDLETS[g]]
    out: dict[str, Any] = {
        "installed": True,
        "module": MODULE,
        "version": MODULE_VERSION,
        "address": None,
        "attempts": [],
        "getters": [],
        "skipped": [g for g in getters if CMDLETS[g]],
        "objects": [],
    }
    for address in q["addresses"]:
        try:
            central.invoke(CONNECT, Address=address)
            first = _run_getter(central, callable_[0], q, first=True) if callable_ else None
        except CmdletError as exc:
            out["attempts"].append({"address": address, "error": str(exc)})
            continue
        out["address"] = address
        results = [r for r in [first, *(_run_getter(central, g, q) for g in callable_[1:])] if r]
        out["getters"] = [facts for facts, _ in results]
        out["objects"] = [o for _, objects in results for o in objects]
        break
    return out


def _run_getter(
    central: SessionCentral, getter: str, q: dict[str, Any], first: bool = False
) -> tuple[dict[str, Any], list[Any]]:
    """Invoke-Getter; the first getter's error is the address's (the script tries the next address)."""
    facts: dict[str, Any] = {"name": getter, "count": 0, "truncated": False, "error": None}
    try:
        found = central.invoke(getter)
    except CmdletError as exc:
        if first:
            raise
        facts["error"] = str(exc)
        return facts, []
    limit = int(q["max_objects"])
    facts["truncated"] = len(found) > limit
    objects = [_object_facts(o, getter, q) for o in found[:limit]]
    facts["count"] = len(objects)
    return facts, objects


def _object_facts(obj: dict[str, Any], getter: str, q: dict[str, Any]) -> dict[str, Any]:
    props, types = {}, {}
    for name, value in list(obj["properties"].items())[: int(q["max_properties"])]:
        props[name], types[name] = _fact_value(value, int(q["max_value_chars"]))
    return {"getter": getter, "type": obj["type"], "properties": props, "types": types}


def _fact_value(value: Any, max_chars: int) -> tuple[Any, str]:
    """ConvertTo-FactValue and the .NET type name the script records."""
    if value is None:
        return None, ""
    if isinstance(value, bool):
        return value, "System.Boolean"
    if isinstance(value, int):
        return value, "System.Int32"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(), "System.DateTime"
    return str(value)[:max_chars], "System.String"


def events_answer(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    """Get-EventFacts: the lab's web server has a "Dynamics" log written by its own source names."""
    central = getattr(host, "session_central", None)
    since = (central.tick() if isinstance(central, SessionCentral) else now()) - timedelta(hours=float(q["hours"]))
    if not isinstance(central, SessionCentral):
        return {"logs": [], "providers": [], "since": since.isoformat(), "events": []}
    events = sorted(central.events(since), key=lambda e: e["time"], reverse=True)[: int(q["max_events"])]
    return {
        "logs": ["Dynamics"],
        "providers": ["Lab.SessionCentral", "Lab.WebClient"],
        "since": since.isoformat(),
        "events": [
            {
                "log": "Dynamics",
                "source": e.get("source", "Lab.SessionCentral"),
                "id": e.get("id", 1000),
                "level": "Error",
                "time": e["time"].isoformat(),
                "message": str(e.get("message", ""))[: int(q["max_chars"])],
            }
            for e in events
        ],
    }
