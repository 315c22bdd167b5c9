"""The lab's upgrade: install commands and confirmed manual steps change the simulated hosts as a real install would."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gpverify.lab import sessioncentral
from gpverify.lab import sql as labsql
from gpverify.lab.models import (
    LAB_CONFIG_DB_SETTING,
    PRODUCT_NAMES,
    SIGNING_CERT,
    FakeFarm,
    FakeHost,
    config_tables,
    expand,
    release_folder,
    runtime_paths,
    tenant_configuration,
)
from gpverify.lab.sql import CONFIG_SCHEMA
from gpverify.lab.wsman import CommandOutput
from gpverify.runner.scripts import LOG_TAIL_SCRIPT, TAIL_LINES

# What each action does, on which role. Names are the runner plan's `action` values.
ACTIONS: dict[str, tuple[str, ...]] = {
    "tenant-services": ("tenant_services",),
    "web-components": ("web_server", "session_host"),
    "web-client-help": ("web_server", "session_host"),
    "trusted-app": ("client",),
    "clear-browser-cache": ("client",),
    # The operator points the runtime at the target release in the installer's GP Configuration window (the
    # upgrade pre-fills the previous release's paths: scale-out-upgrade.md step 5, installation/SBA.md step 9).
    "runtime-paths": ("web_server",),
    # "Restart the Session Central Service ... to allow the Session Central Service to establish communication with
    # the session host machine" (scale-out-installation.md step 18).
    "restart-session-central": ("web_server",),
}
# Actions on the farm's SQL Server, which is no Windows host of the inventory: carried out without a host.
SERVER_ACTIONS = ("backup", "gp-utilities")
# Windows Installer exit codes (MsiExec.exe and InstMsi.exe Error Messages, Microsoft Learn).
PACKAGE_OPEN_FAILED, PATCH_TARGET_NOT_FOUND, PRODUCT_VERSION = 1619, 1642, 1638
PACKAGES = [
    ("tenantservices", "tenant-services"),
    ("webcomponents", "web-components"),
    ("gpwebclienthelp", "web-client-help"),
    ("dynamicsgptrustedapp", "trusted-app"),
]
INSTALL_ROLES_SERVICES = {
    "web_server": ("session_central", "gp_service"),
    "session_host": ("session_service", "dex_service_control"),
    "tenant_services": ("tenant_discovery", "tenant_management"),
}


@dataclass
class Outcome:
    exit_code: int
    log: list[str]


@dataclass
class LabUpgrade:
    """The upgrade emulation for one running lab; every change is journaled so a restarted lab replays it."""

    farm: FakeFarm
    sql_dir: Path | None = None
    journal_path: Path | None = None
    journal: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (host, log path) -> lines
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the actions --------------------------------------------------------------------------------

    def apply(
        self, host_name: str | None, action: str, *, via: str = "manual", record: bool = True, at: str | None = None
    ) -> Outcome:
        """Carry out one upgrade action on one host (a confirmed manual step, or an install command)."""
        if action == "backup":
            return self._backup(at, record=record)
        if action == "gp-utilities":
            return self._gp_utilities(at, record=record)
        assert host_name is not None, f"{action} needs a host"
        with self._lock:
            host = self.farm.host(host_name)
            if action not in ACTIONS:
                outcome = Outcome(PACKAGE_OPEN_FAILED, [f"The lab does not emulate the action {action!r}."])
            elif host.role not in ACTIONS[action]:
                outcome = Outcome(PATCH_TARGET_NOT_FOUND, [f"{action} does not apply to a {host.role} ({host.name})."])
            else:
                outcome = getattr(self, "_" + action.replace("-", "_"))(host)
            if record:
                self._record({"host": host.name, "action": action, "via": via, "exit_code": outcome.exit_code})
            return outcome

    def clear_faults(self, *, record: bool = True) -> list[str]:
        """What an operator does after a failed install: set disabled GP services to Automatic and start them."""
        fixed = []
        with self._lock:
            for host in self.farm.hosts.values():
                host.fault = None
                for service in host.services.values():
                    if service.start_mode == "Disabled":
                        service.start_mode, service.status = "Auto", "Running"
                        service.started = sessioncentral.now()
                        fixed.append(f"{host.name}: {service.display_name} set to Automatic and started")
            if record:
                self._record({"event": "clear-faults", "fixed": fixed})
        return fixed

    def replay(self) -> None:
        """Re-apply a journal written by an earlier lab of the same run (the lab restarts with the runner)."""
        if not (self.journal_path and self.journal_path.exists()):
            return
        self.journal = json.loads(self.journal_path.read_text(encoding="utf-8"))
        for entry in self.journal:
            if entry.get("event") == "clear-faults":
                self.clear_faults(record=False)
            elif "action" in entry:
                self.apply(entry["host"], entry["action"], record=False, at=entry.get("finished") or entry.get("at"))

    def _record(self, entry: dict[str, Any]) -> None:
        self.journal.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), **entry})
        if self.journal_path:
            tmp = self.journal_path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(self.journal, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.journal_path)

    def _install(self, host: FakeHost, products: dict[str, str], what: str) -> Outcome:
        """Stop the host's GP services, move product versions, start the services again.

        Not emulated: rollback. A service whose start mode is Disabled cannot be started, so it is left
        stopped and the install still ends with 0 (the lab's way to model a host left broken by its upgrade).
        """
        log = [f"MSI (s): Product: {what} -- Installation started on {host.name}."]
        keys = [k for k in INSTALL_ROLES_SERVICES.get(host.role, ()) if k in host.services]
        for key in keys:
            host.services[key].status = "Stopped"
            log.append(f"StopServices: Service: {host.services[key].display_name} stopped")
        for key, version in products.items():
            host.products[PRODUCT_NAMES[key]] = version
            log.append(f"Product {PRODUCT_NAMES[key]} is now version {version}")
        for key in keys:
            service = host.services[key]
            if service.start_mode == "Disabled":
                log.append(
                    f"StartServices: Service '{service.display_name}' could not be started: its start mode "
                    "is Disabled. It is left stopped."
                )
            else:
                service.status, service.started = "Running", sessioncentral.now()
                log.append(f"StartServices: Service: {service.display_name} started")
        log.append(f"MSI (s): Product: {what} -- Installation completed successfully.")
        return Outcome(0, log)

    def _web_components(self, host: FakeHost) -> Outcome:
        if PRODUCT_NAMES["web_components"] not in host.products:
            return Outcome(
                PATCH_TARGET_NOT_FOUND, [f"{PRODUCT_NAMES['web_components']} is not installed on {host.name}."]
            )
        target = self.farm.target
        host.files[expand(str(target["files.configuration_wizard"]))] = f"{target.version}.0"
        if host.role == "session_host":
            cfg = LAB_CONFIG_DB_SETTING
            host.registry[(cfg["view"], cfg["path"], cfg["name"])] = self.farm.config_database
            outcome = self._install(host, {"web_components": target.version}, PRODUCT_NAMES["web_components"])
            # Its configuration wizard registers it in the new configuration database; Session Central lists it
            # once it starts again (scale-out-installation.md step 18, lab/sessioncentral.py).
            central = sessioncentral.of(self.farm)
            if central is not None:
                central.register(host.name)
                self._write_config_database()
            return outcome
        else:
            # The configuration wizard creates the new database and migrates the data into it (scale-out-upgrade.md
            # step 5). TenantConfiguration.xml keeps the runtime paths the installer's GP Configuration window
            # pre-filled from the installation being upgraded: the operator changes them (action runtime-paths).
            self._create_config_database()
        return self._install(host, {"web_components": target.version}, PRODUCT_NAMES["web_components"])

    def _runtime_paths(self, host: FakeHost) -> Outcome:
        """The operator sets Dynamics.exe's folder, Dynamics.set and Dex.ini to the target release's in the GP
        Configuration window ('The three paths ... must be valid', installation/SBA.md), which writes them to
        TenantConfiguration.xml on the web server."""
        target = self.farm.target
        folder = release_folder(target)
        host.texts[expand(str(target["files.tenant_configuration"]))] = tenant_configuration(folder, gp=target)
        self.farm.runtime = runtime_paths(folder)
        return Outcome(
            0,
            [
                (
                    f"GP Configuration on {host.name}: runtime folder {folder}, {folder}\\Dynamics.set, "
                    f"{folder}\\Data\\Dex.ini."
                )
            ],
        )

    def _restart_session_central(self, host: FakeHost) -> Outcome:
        """Restart-Service on the web server's Session Central (installation guide, step 18)."""
        service = host.services.get("session_central")
        if service is None:
            return Outcome(PATCH_TARGET_NOT_FOUND, [f"Session Central is not installed on {host.name}."])
        if service.start_mode == "Disabled":
            return Outcome(1, [f"{service.display_name} cannot start: its start mode is Disabled."])
        service.status, service.started = "Running", sessioncentral.now()
        return Outcome(0, [f"{service.display_name} restarted on {host.name}."])

    def _web_client_help(self, host: FakeHost) -> Outcome:
        return self._install(host, {"web_client_help": self.farm.target.version}, PRODUCT_NAMES["web_client_help"])

    def _tenant_services(self, host: FakeHost) -> Outcome:
        return self._install(host, {"tenant_services": self.farm.target.version}, PRODUCT_NAMES["tenant_services"])

    def _trusted_app(self, host: FakeHost) -> Outcome:
        p = self.farm.target
        if p["era"] != "silverlight":
            return Outcome(
                PRODUCT_VERSION, [f"DynamicsGPTrustedApp.msi belongs to Silverlight-era releases, not {p.name}."]
            )
        for key in ("silverlight_trust_64", "silverlight_trust_32"):
            reg = p[f"registry.{key}"]
            host.registry[(reg["view"], reg["path"], reg["name"])] = 1
        store = p["certificates.trusted_publisher_store"]
        if not host.certificates.get(store):
            host.certificates[store] = [SIGNING_CERT]
        return Outcome(
            0,
            [
                (
                    f"DynamicsGPTrustedApp installed on {host.name}: elevated trust allowed, "
                    "signing certificate in Trusted Publishers."
                )
            ],
        )

    def _clear_browser_cache(self, host: FakeHost) -> Outcome:
        return Outcome(0, [f"Temporary Internet files deleted on {host.name}."])

    def _backup(self, at: str | None, *, record: bool) -> Outcome:
        """Full backups of every GP database finishing now (or at the journaled time, on replay), in msdb."""
        finished = datetime.fromisoformat(at) if at else datetime.now(UTC).replace(tzinfo=None)
        with self._lock:
            names = [n for n in self.farm.databases if n not in ("tempdb", "msdb")]
            history = self.farm.databases.setdefault("msdb", {}).setdefault("backupset", [])
            history += [
                {"database_name": n, "type": "D", "backup_finish_date": finished, "time_zone": 0} for n in names
            ]
            if self.sql_dir:
                labsql.build_database(self.sql_dir / "msdb.sqlite", "msdb", self.farm.databases["msdb"])
            if record:
                self._record(
                    {
                        "host": None,
                        "action": "backup",
                        "via": "manual",
                        "exit_code": 0,
                        "finished": finished.isoformat(),
                    }
                )
        return Outcome(0, [f"BACKUP DATABASE [{n}] finished at {finished:%Y-%m-%d %H:%M:%S} UTC" for n in names])

    def _create_config_database(self) -> None:
        """The web server's configuration wizard creates the new database and migrates the old one's data into it
        (scale-out-upgrade.md: 'The data will be migrated to the new database when running the configuration
        wizard'): the hosts as they last reported and the sessions, nothing made fresh. The HTML-era lab farm keeps
        its database's name, so its data is already there."""
        name = self.farm.config_database
        if name in self.farm.databases:
            return
        old = self.farm.databases.get(str(self.farm.source["sql.old_session_database"]), {})
        hosts = [h.name for h in self.farm.hosts.values() if h.role == "session_host"]
        central = sessioncentral.of(self.farm)
        if central is None:
            tables = (
                config_tables(hosts)
                if not old
                else {
                    "LabSessionHostRegistry": [dict(r) for r in old.get("LabSessionCentralHost", [])],
                    "LabWebSession": [
                        {"SessionKey": r.get("SessionKey"), "UserName": r.get("UserName")}
                        for r in old.get("LabSessionCentralSession", [])
                    ],
                }
            )
            assert set(tables) <= set(CONFIG_SCHEMA)
            self.farm.databases[name] = tables
        else:  # the old database's hosts are migrated into it as they last reported, its sessions with them
            self.farm.databases[name] = config_tables(hosts)
            central.migrate(str(self.farm.source["sql.old_session_database"]))
        self._write_config_database()

    def _write_config_database(self) -> None:
        name = self.farm.config_database
        if name in self.farm.databases:
            sessioncentral.render_tables(self.farm)
            if self.sql_dir:
                labsql.build_database(self.sql_dir / f"{name}.sqlite", "config", self.farm.databases[name])

    def _gp_utilities(self, at: str | None, *, record: bool) -> Outcome:
        """Dynamics GP Utilities: every database whose GP row is below the target, or whose upgrade did not finish
        (db_status not 0), is upgraded, its DB_Upgrade row stamped with start_time and stop_time (KB 920900),
        DU000020 updated. Databases already at the target are left alone, as Utilities reports them current."""
        started = datetime.fromisoformat(at) if at else datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        target = tuple(int(x) for x in self.farm.target.version.split("."))
        with self._lock:
            tables = self.farm.databases[self.farm.system_database]
            rows = [
                r
                for r in tables["DB_Upgrade"]
                if r["PRODID"] == 0
                and ((r["db_verMajor"], r["db_verMinor"], r["db_verBuild"]) != target or r["db_status"] != 0)
            ]
            for row in rows:
                row.update(
                    db_verMajor=target[0],
                    db_verMinor=target[1],
                    db_verBuild=target[2],
                    db_verOldMajor=target[0],
                    db_verOldMinor=target[1],
                    db_verOldBuild=target[2],
                    db_status=0,
                    start_time=started,
                    stop_time=started + timedelta(minutes=30),
                )
            for row in tables["DU000020"]:
                if row["PRODID"] == 0:
                    row.update(versionMajor=target[0], versionMinor=target[1], versionBuild=target[2])
            if self.sql_dir and rows:
                labsql.build_database(self.sql_dir / f"{self.farm.system_database}.sqlite", "system", tables)
            if record:
                self._record(
                    {
                        "host": None,
                        "action": "gp-utilities",
                        "via": "manual",
                        "exit_code": 0,
                        "finished": started.isoformat(),
                    }
                )
        upgraded = sorted({str(r["db_name"]) for r in rows})
        return Outcome(
            0,
            [
                f"Dynamics GP Utilities upgraded {', '.join(upgraded)} to {self.farm.target.version}"
                if upgraded
                else "Dynamics GP Utilities: the system and company databases are current."
            ],
        )

    # --- the commands the runner sends over WinRM ----------------------------------------------------

    def answer(self, host: FakeHost, command_line: str, script: str | None, stdin: bytes = b"") -> CommandOutput | None:
        """The lab's answer to an install command, or None when the command is not one the lab emulates."""
        if script == LOG_TAIL_SCRIPT:
            path = stdin.decode("utf-8", errors="replace").strip()
            lines = self.logs.get((host.name, path.lower()))
            if lines is None:
                return CommandOutput(stderr=f"Cannot find path '{path}'.".encode(), exit_code=1)
            return CommandOutput(stdout=("\r\n".join(lines[-TAIL_LINES:]) + "\r\n").encode())
        tokens = command_line.split()
        if not tokens:
            return None
        program = tokens[0].lower().rsplit("\\", 1)[-1]
        if program in ("rundll32", "rundll32.exe") and any("clearmytracksbyprocess" in t.lower() for t in tokens):
            return self._output(self.apply(host.name, "clear-browser-cache", via="remote"))
        if program not in ("msiexec", "msiexec.exe"):
            return None
        return self._msiexec(host, tokens[1:])

    def _msiexec(self, host: FakeHost, args: list[str]) -> CommandOutput:
        opts = {a.lower(): args[i + 1] for i, a in enumerate(args[:-1]) if a.startswith("/")}
        package = opts.get("/update") or opts.get("/p") or opts.get("/i") or ""
        name = package.replace("/", "\\").rsplit("\\", 1)[-1].lower().replace("_", "")
        action = next((act for needle, act in PACKAGES if needle in name), None)
        outcome = (
            self.apply(host.name, action, via="remote")
            if action
            else Outcome(PACKAGE_OPEN_FAILED, [f"This installation package could not be opened: {package!r}."])
        )
        log = opts.get("/l*v") or opts.get("/l*") or opts.get("/log")
        if log:
            self.logs[(host.name, log.lower())] = [*outcome.log, f"MainEngineThread is returning {outcome.exit_code}"]
        return self._output(outcome)

    @staticmethod
    def _output(outcome: Outcome) -> CommandOutput:
        # msiexec /qn writes nothing to its console; the lab echoes the log to stderr only on failure.
        err = "\r\n".join(outcome.log).encode() if outcome.exit_code else b""
        return CommandOutput(stderr=err, exit_code=outcome.exit_code)


_ATTACHED: dict[int, tuple[FakeHost, LabUpgrade]] = {}


def attach(farm: FakeFarm, sql_dir: Path | None = None, journal: Path | None = None) -> LabUpgrade:
    """Make the lab's hosts answer the upgrade's install commands; replays `journal` when it exists."""
    emulator = LabUpgrade(farm, sql_dir, journal)
    for host in farm.hosts.values():
        _ATTACHED[id(host)] = (host, emulator)
    emulator.replay()
    return emulator


def detach(farm: FakeFarm) -> None:
    for host in farm.hosts.values():
        _ATTACHED.pop(id(host), None)


def answer(host: FakeHost, command_line: str, script: str | None, stdin: bytes = b"") -> CommandOutput | None:
    """Called by LabHost for every command that is not the collector; None: not emulated."""
    entry = _ATTACHED.get(id(host))
    if entry is None or entry[0] is not host:
        return None
    return entry[1].answer(host, command_line, script, stdin)
