"""The upgrade plan: phases of steps, each phase ending with a gate; built from the inventory or read from YAML."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from gpverify.config.inventory import HOST_NAME, Role
from gpverify.config.schema import Schema, validate
from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError

PhaseName = Literal["pre", "web", "hosts", "post", "clients"]
LabAction = Literal[
    "tenant-services",
    "web-components",
    "web-client-help",
    "trusted-app",
    "clear-browser-cache",
    "backup",
    "gp-utilities",
    "runtime-paths",
    "restart-session-central",
]
# Lab actions on the farm's SQL Server, which is no host of the inventory: a step with one of them needs no host.
SERVER_ACTIONS = ("backup", "gp-utilities")


ITEM_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# A step or gate id names its files in the run folder (<id>.attempt<n>.results.json...): short enough for any file
# system (255 bytes a name), a gate's id with its host name included.
MAX_ITEM_ID = 200
# A gate's `select`: check IDs joined by and, or, not and parentheses (pytest's -k, in the catalogue's words).
_SELECT_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_.-]+)")


class _Strict(Schema, BaseModel):  # BaseModel named for linters: Schema is one (config/schema.py)
    """The plan format's base: strict types, no unknown fields, no control characters."""


class Step(_Strict):
    """One upgrade step: manual (an operator does it and confirms), remote (over WinRM) or local."""

    id: str = Field(min_length=1, max_length=64, pattern=ITEM_ID)
    kind: Literal["manual", "remote", "local"]
    title: str = Field(min_length=1, max_length=500)
    host: str | None = Field(None, pattern=HOST_NAME)  # the machine: required for remote, shown for manual
    instructions: list[str] = []  # manual: what the operator does, in the guide's words
    command: str | None = Field(None, min_length=1, max_length=8000)  # remote/local: the program
    args: list[str] = []
    log: str | None = Field(None, min_length=1, max_length=260)  # remote: a log file on the host (MAX_PATH)
    timeout: float | None = Field(default=None, strict=True, gt=0, le=86400, allow_inf_nan=False)  # local: seconds
    action: LabAction | None = None  # manual on the lab: what the lab carries out when confirmed
    # manual: check IDs a named person attests by confirming the step (asked only when the last gate could not
    # verify them; recorded with name, time and answer, and passed to later gates as --attestations)
    attest: list[str] = []

    @model_validator(mode="after")
    def _kind_fields(self) -> Step:
        if self.kind == "remote" and not (self.host and self.command):
            raise ValueError("a remote step needs 'host' and 'command'")
        if self.kind == "local" and not self.command:
            raise ValueError("a local step needs 'command'")
        if self.kind == "manual" and not self.instructions:
            raise ValueError("a manual step needs 'instructions'")
        if self.kind == "local" and self.command and not self.args:
            try:  # the runner splits a command given without args as a shell would (runner/engine.py)
                words = shlex.split(self.command)
            except ValueError as exc:
                raise ValueError(
                    f"a command a shell can split ({exc}), or the program in 'command' and its "
                    f"arguments in 'args', got {self.command!r}"
                ) from None
            if not words:
                raise ValueError(f"a command with a program to run, got {self.command!r}")
        return self


class Phase(_Strict):
    phase: PhaseName
    host: str | None = Field(None, pattern=HOST_NAME)  # hosts phase: the one session host this phase upgrades
    steps: list[Step] = []
    gate: bool = True  # run `pytest checks/<phase>` (limited to `host`) after the steps
    select: str | None = Field(None, max_length=2000)  # -k of check IDs limiting the gate ('GP-PRE-011 or GP-PRE-012')
    name: str | None = Field(default=None, max_length=64, pattern=ITEM_ID)  # gate id when not the phase's

    @field_validator("select")
    @classmethod
    def _check_ids(cls, value: str | None) -> str | None:
        if value is not None and not _is_selection(value):
            raise ValueError(
                f"check IDs joined by and, or, not and parentheses (such as 'GP-PRE-011 or GP-PRE-012'), got {value!r}"
            )
        return value

    @property
    def gate_args(self) -> str:
        """The gate as a person would type it, e.g. `checks/hosts --host gp-sh01`."""
        return (
            f"checks/{self.phase}"
            + (f" --host {self.host}" if self.host else "")
            + (f" -k '{self.select}'" if self.select else "")
        )

    @property
    def gate_id(self) -> str:
        return f"gate-{self.name or self.phase}" + (f"-{self.host}" if self.host else "")


class Plan(_Strict):
    phases: list[Phase] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        seen: set[str] = set()
        for item in self.items():
            if item.id in seen:
                raise ValueError(f"each step id and gate once, but {item.id!r} appears twice")
            if len(item.id) > MAX_ITEM_ID:
                raise ValueError(
                    f"step and gate ids of at most {MAX_ITEM_ID} characters (they name files), but "
                    f"{item.id[:40]!r}... has {len(item.id)}"
                )
            seen.add(item.id)
        return self

    def items(self) -> list[Item]:
        """Steps and gates in the order they run."""
        out: list[Item] = []
        for phase in self.phases:
            out += [Item(s.id, "step", phase, s) for s in phase.steps]
            if phase.gate:
                out.append(Item(phase.gate_id, "gate", phase, None))
        return out


@dataclass(frozen=True)
class Item:
    id: str
    type: Literal["step", "gate"]
    phase: Phase
    step: Step | None


@dataclass(frozen=True)
class FarmShape:
    """What the built-in plan needs to know about the farm: host names by role and the target's era."""

    hosts: dict[str, Role]
    era: str  # "html" | "silverlight"
    help_installer: str = "Microsoft_DynamicsGP18_GPWebClientHelp.msi"  # the target profile's help_installer

    def named(self, role: Role) -> list[str]:
        return [n for n, r in self.hosts.items() if r == role]


def _is_selection(text: str) -> bool:
    """Whether text is check IDs joined by and/or/not with balanced parentheses, as pytest's -k reads them."""
    tokens, at = [], 0
    while at < len(text.rstrip()):
        match = _SELECT_TOKEN.match(text, at)
        if match is None:
            return False
        tokens.append(match.group(1))
        at = match.end()
    expect_operand, depth = True, 0
    for token in tokens:
        word = token.lower()
        if expect_operand:
            if token == "(":
                depth += 1
            elif word == "not":
                pass
            elif token == ")" or word in ("and", "or"):
                return False
            else:
                expect_operand = False
        elif token == ")" and depth:
            depth -= 1
        elif word in ("and", "or"):
            expect_operand = True
        else:
            return False
    return bool(tokens) and not expect_operand and depth == 0


def check_hosts(plan: Plan, shape: FarmShape, origin: str) -> None:
    """Refuse a plan naming a host the inventory does not have (one ConfigError, like the inventory's)."""
    known = {n.lower() for n in shape.hosts}
    for i, phase in enumerate(plan.phases):
        if phase.host and phase.host.lower() not in known:
            raise ConfigError(
                origin, f"phases[{i}].host", f"a host of the inventory ({', '.join(shape.hosts)}), got {phase.host!r}"
            )
        if phase.host and shape.hosts.get(phase.host) not in (None, "session_host"):
            raise ConfigError(origin, f"phases[{i}].host", f"a session host, got {phase.host!r}")
        if phase.host and phase.phase != "hosts":
            raise ConfigError(origin, f"phases[{i}].host", "no host (only a 'hosts' phase is limited to one host)")
        for j, step in enumerate(phase.steps):
            if step.host and step.host.lower() not in known:
                raise ConfigError(
                    origin,
                    f"phases[{i}].steps[{j}].host",
                    f"a host of the inventory ({', '.join(shape.hosts)}), got {step.host!r}",
                )


def parse_plan(data: Any, origin: str, shape: FarmShape) -> Plan:
    plan = validate(Plan, data, origin, "plans/example-plan.yml", what="a mapping with 'phases'")
    check_hosts(plan, shape, origin)
    return plan


def load_plan(path: str | Path, shape: FarmShape) -> Plan:
    """Read and validate a plan file against the farm; raise ConfigError naming file, field and expected."""
    return parse_plan(read_yaml(path, "plan file"), str(path), shape)


# --- the built-in plan, in the guide's order (scale-out-upgrade.md) --------------

# The installer's GP Configuration window "will default with the selections from the installation being upgraded"
# (scale-out-upgrade.md step 5), that is the previous release's runtime: nothing points it at the new one by itself.
RUNTIME_PATHS_STEP = (
    "In the GP Configuration window, point the Dynamics GP runtime folder, Dynamics.set and Dex.ini "
    "at the target release's desktop client on the session hosts: the upgrade fills in the previous "
    "release's paths, and the web client runs whatever they name "
    "(https://learn.microsoft.com/dynamics-gp/installation/sba, 'The three paths for the Dynamics GP "
    "runtime folder, the Dynamics.set and the Dex.ini must be valid'). With Tenant Services, set "
    "the tenant's DynamicsexeLocation, DynamicssetLocation and DexiniLocation in Tenant Manager."
)
WEB_SERVER_STEPS = [
    "Log in to {host}, the machine running the web site and the Session Central Service.",
    "From the Microsoft Dynamics GP installation media, double-click Setup.exe.",
    "Click Web Components, then Install, and select to upgrade your existing web client installation.",
    (
        "Keep the wizard's defaults unless you need a change; give the new web components database name "
        "(default GPCONFIGURATION): the data is migrated to it when the configuration wizard runs."
    ),
    RUNTIME_PATHS_STEP,
    (
        "When the installation is complete, run the Dynamics GP Web Components Configuration Wizard (Start menu): "
        "Welcome > Next; choose the SQL Server authentication > Next; review the actions > Next; Exit."
    ),
    "The Web Client Help installer starts: click Install, then Finish.",
]
SESSION_HOST_STEPS = [
    "Log in to {host}.",
    "If not done yet, update the Microsoft Dynamics GP desktop client on {host} and check that it works.",
    (
        "From the Microsoft Dynamics GP installation media, double-click Setup.exe; click Web Components, then "
        "Install, and select to upgrade your existing web client installation."
    ),
    (
        "Keep the wizard's defaults; when asked for the web components database, give the new database name "
        "chosen when upgrading the web server ({config_db})."
    ),
    (
        "When the installation is complete, run the Dynamics GP Web Components Configuration Wizard (Start menu): "
        "Welcome > Next; SQL Server authentication > Next; review the actions > Next; Exit."
    ),
    "Run the help installer {help}: Install, then Finish.",
]
TENANT_STEPS = [
    "Log in to {host}, the Tenant Services machine.",
    "From an elevated command prompt, run the update in AdProd\\TenantServices\\Updates on the media.",
    (
        "Run the Tenant Services Configuration Wizard, then check that the Tenant Discovery and Tenant "
        "Management services are started."
    ),
]
CLIENT_STEPS = [
    (
        "On {host}, open Internet Explorer: Tools > Internet options > Browsing history > Delete; keep "
        "'Temporary Internet files' selected, click Delete, then OK."
    ),
    "Browse to the web client site and sign in.",
]
# upgrade/system-preparation.md, Backups: "make at least one complete backup of all your databases before upgrading".
BACKUP_TITLE = "Make a complete backup of the system database, every company database and the configuration database"
BACKUP_STEPS = [
    (
        "In SQL Server Management Studio (or your backup job), make a full backup of the system database (DYNAMICS, or "
        "the name given at install), every company database and the web components configuration database "
        "({config_db})."
    ),
    (
        "Also back up your modified dictionaries, eConnect pre and post procedures and the Integration Manager "
        "database, as the upgrade guide says."
    ),
    (
        "The pre gate then checks msdb.dbo.backupset: a full backup of each database GP Utilities upgrades, finished "
        "before GP Utilities started upgrading it (DB_Upgrade start_time), and of the others, finished after this run "
        "started."
    ),
]
# The guide's first step (scale-out-upgrade.md: "upgrade for the database and the desktop client components").
UTILITIES_TITLE = "Upgrade the system and company databases with Dynamics GP Utilities"
UTILITIES_STEPS = [
    (
        "If not done yet: install the target release's Microsoft Dynamics GP desktop client on one computer "
        "(https://learn.microsoft.com/dynamics-gp/upgrade/installing-on-first-computer)."
    ),
    (
        "Start Dynamics GP Utilities there and upgrade the system database and every company database, after the "
        "backups above; wait until it reports every company upgraded "
        "(https://learn.microsoft.com/dynamics-gp/upgrade/company-data-conversion)."
    ),
    (
        "The pre gate then checks DB_Upgrade, DU000020 and DU000030 for every product and company, and that each "
        "database's backup finished before GP Utilities started."
    ),
]
RESTART_TITLE = "Restart the Session Central Service after the last session host"
RESTART_STEPS = [
    (
        "On {host}, restart the Session Central Service, so that it establishes communication with the upgraded "
        "session host machines (https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, "
        "step 18 of 'Install the host machines')."
    ),
    "Give the system a few minutes to get synchronized before the post gate reads Session Management.",
]
TRUSTED_APP_STEP = (
    "If the web client shows the sandboxed-mode icon (lower right), run DynamicsGPTrustedApp.msi "
    "from the updated web client on {host}."
)


def _msiexec(host: str, flag: str, package: str, log: str, title: str, sid: str) -> Step:
    return Step(
        id=sid,
        kind="remote",
        title=title,
        host=host,
        command="msiexec",
        args=[flag, package, "/qn", "/l*v", log],
        log=log,
    )


def _server_steps(host: str, role: str, lab: bool, config_db: str, help_msi: str) -> list[Step]:
    if not lab:
        lines = WEB_SERVER_STEPS if role == "web_server" else SESSION_HOST_STEPS
        what = "web site and Session Central Service" if role == "web_server" else "session host"
        return [
            Step(
                id=f"upgrade-{host}",
                kind="manual",
                host=host,
                title=f"Upgrade the {what} {host}",
                instructions=[s.format(host=host, config_db=config_db, help=help_msi) for s in lines],
            )
        ]
    # The lab has no wizard: the web components patch (`msiexec /update`, scale-out-upgrade.md) and the
    # help installer stand in for Setup.exe; the GP Configuration window's paths stay the operator's to set.
    steps = [
        _msiexec(
            host,
            "/update",
            r"D:\AdProd\WebComponents\Updates\WebComponents.msp",
            rf"C:\Windows\Temp\gpverify-{host}-webcomponents.log",
            f"Web Components upgrade on {host}",
            f"upgrade-{host}",
        ),
        _msiexec(
            host,
            "/i",
            f"D:\\AdProd\\WebComponents\\{help_msi}",
            rf"C:\Windows\Temp\gpverify-{host}-help.log",
            f"Web Client Help on {host}",
            f"help-{host}",
        ),
    ]
    if role == "web_server":
        steps.insert(
            1,
            Step(
                id=f"runtime-paths-{host}",
                kind="manual",
                host=host,
                action="runtime-paths",
                title=f"Point the web client's runtime at the target release on {host}",
                instructions=[RUNTIME_PATHS_STEP],
            ),
        )
    return steps


def _client_steps(host: str, era: str, lab: bool) -> list[Step]:
    if not lab:
        lines = CLIENT_STEPS + ([TRUSTED_APP_STEP] if era == "silverlight" else [])
        return [
            Step(
                id=f"client-{host}",
                kind="manual",
                host=host,
                title=f"Update the client machine {host}",
                instructions=[s.format(host=host) for s in lines],
                action="trusted-app" if era == "silverlight" else "clear-browser-cache",
            )
        ]
    steps = [
        Step(
            id=f"client-{host}",
            kind="remote",
            host=host,
            title=f"Clear the browser cache on {host}",
            command="RunDll32.exe",
            args=["InetCpl.cpl,ClearMyTracksByProcess", "8"],
        )
    ]
    if era == "silverlight":
        steps.append(
            _msiexec(
                host,
                "/i",
                r"\\gp-web01\GPWebClient\DynamicsGPTrustedApp.msi",
                rf"C:\Windows\Temp\gpverify-{host}-trustedapp.log",
                f"DynamicsGPTrustedApp.msi on {host}",
                f"trusted-app-{host}",
            )
        )
    return steps


def backup_step(config_db: str) -> Step:
    """The backups the pre gate requires; on the lab, confirming it makes the lab's SQL Server record them."""
    return Step(
        id="backup-databases",
        kind="manual",
        title=BACKUP_TITLE,
        action="backup",
        instructions=[s.format(config_db=config_db) for s in BACKUP_STEPS],
    )


def utilities_step() -> Step:
    """GP Utilities upgrades the databases, after the backups and before the pre gate's database checks."""
    return Step(
        id="gp-utilities",
        kind="manual",
        title=UTILITIES_TITLE,
        action="gp-utilities",
        instructions=list(UTILITIES_STEPS),
    )


def restart_steps(shape: FarmShape) -> list[Step]:
    """Session Central restarted on the web server once every session host is upgraded."""
    return [
        Step(
            id=f"restart-session-central-{host}",
            kind="manual",
            host=host,
            title=RESTART_TITLE,
            action="restart-session-central",
            instructions=[s.format(host=host) for s in RESTART_STEPS],
        )
        for host in shape.named("web_server")
    ]


# The Session Management checks a person can attest from the snap-in when gpverify could not read Session Central.
ATTESTED = ("GP-POST-003", "GP-POST-004", "GP-POST-005")
ATTEST_STATEMENT = (
    "the Session Management snap-in of the Web Management Console lists every session host and none is suspended"
)


def attest_step() -> Step:
    return Step(
        id="attest-session-management",
        kind="manual",
        attest=list(ATTESTED),
        title="Confirm in Session Management that every session host is listed and none is suspended",
        instructions=[
            (
                "Open the Web Management Console, Session Management: check that every session host "
                "machine is listed and that none is Suspended (resume any that is)."
            ),
            (
                "Asked only when the post gate could not verify it from Session Central or the "
                "configuration database; your name and answer are recorded in the run."
            ),
        ],
    )


# The session hosts' registration with the new configuration, gated again once Session Central is restarted.
REGISTERED = "GP-HOST-003"


# The checks of checks/pre/test_pre_tenant_services.py, gated by ID once Tenant Services are updated.
TENANT_CHECKS = ("GP-PRE-011", "GP-PRE-012")


def _tenant_step(host: str, lab: bool) -> Step:
    """Tenant Services updated on one host: by hand on a farm, the lab's installer on the lab."""
    if lab:
        return _msiexec(
            host,
            "/update",
            r"D:\AdProd\TenantServices\Updates\TenantServices.msp",
            rf"C:\Windows\Temp\gpverify-{host}-tenant.log",
            f"Tenant Services update on {host}",
            f"tenant-services-{host}",
        )
    return Step(
        id=f"tenant-services-{host}",
        kind="manual",
        host=host,
        title=f"Update Tenant Services on {host}",
        instructions=[s.format(host=host) for s in TENANT_STEPS],
        action="tenant-services",
    )


def builtin_plan(shape: FarmShape, *, lab: bool, config_db: str = "GPCONFIGURATION") -> Plan:
    """The guide's order for this farm; on the lab, remote commands stand in for the manual steps."""
    tenants = shape.named("tenant_services")
    # The guide updates Tenant Services after the preconditions and before the web components
    # (scale-out-upgrade.md), so the pre gate leaves their checks to a gate of their own that runs once they are
    # updated.
    phases: list[Phase] = [
        Phase(
            phase="pre",
            steps=[backup_step(config_db), utilities_step()],
            select=" and ".join(f"not {c}" for c in TENANT_CHECKS) if tenants else None,
        )
    ]
    tenant_steps = [_tenant_step(host, lab) for host in tenants]
    if tenants:
        phases.append(Phase(phase="pre", name="tenant-services", steps=tenant_steps, select=" or ".join(TENANT_CHECKS)))
    web_steps: list[Step] = []
    for host in shape.named("web_server"):
        web_steps += _server_steps(host, "web_server", lab, config_db, shape.help_installer)
    phases.append(Phase(phase="web", steps=web_steps))
    for host in shape.named("session_host"):
        phases.append(
            Phase(
                phase="hosts",
                host=host,
                steps=_server_steps(host, "session_host", lab, config_db, shape.help_installer),
            )
        )
    web = shape.named("web_server")
    phases.append(Phase(phase="post", steps=restart_steps(shape)))
    if web and shape.named("session_host"):
        # Session Central lists a host registered since it started only once restarted, so whether each host's
        # Session Service registered with the new configuration (GP-HOST-003) is judged again now.
        phases.append(Phase(phase="hosts", name="hosts-registered", select=REGISTERED))
    phases.append(Phase(phase="post", name="session-management", steps=[attest_step()], select=" or ".join(ATTESTED)))
    client_steps = [s for h in shape.named("client") for s in _client_steps(h, shape.era, lab)]
    phases.append(Phase(phase="clients", steps=client_steps))
    return Plan(phases=phases)
