"""The audit's sections of gpverify's report: farm picture (inline SVG), status, changes, drift and waivers.

The geometry of the picture is worked out here; every element is written by report/templates/audit.html.j2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from gpverify.outcomes import NOT_CHECKED_COLOUR, Outcome, worst
from gpverify.report.checks import anchor
from gpverify.report.render import piece
from gpverify.results import counts_text, outcomes_of

TEMPLATE = "audit.html.j2"
BOX_W, BOX_H, GAP = 170, 48, 24  # a machine's box and the space between boxes
DB_W, DB_H = 140, 40
MARGIN, TOP = 20, 70
CHAR_W = 7.2  # the width of a character of the legend's 12px sans-serif, rounded up (labels never clip)


@dataclass(frozen=True)
class Machine:
    """One box: a host drawn by the outcome of its checks."""

    x: int
    y: int
    name: str
    role: str
    outcome: Outcome | None  # what the box's colour says: the worst verdict, else the outcome shown unfilled
    judged: bool  # a verdict was reached (a filled box); False: nothing judged it (an outline, not a problem)
    note: str  # "passed; 3 not verified"
    anchor: str
    w: int = BOX_W
    h: int = BOX_H

    @property
    def colour(self) -> str:
        return self.outcome.colour if self.outcome else NOT_CHECKED_COLOUR


@dataclass(frozen=True)
class Database:
    x: int
    y: int
    name: str
    server: Machine


@dataclass(frozen=True)
class Line:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class Key:
    x: int
    y: int
    colour: str
    label: str
    filled: bool


@dataclass
class Picture:
    farm: str
    width: int
    height: int = 0
    machines: list[Machine] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)  # drawn first, under the boxes: never across a label
    legend: list[Key] = field(default_factory=list)


def look(outcomes: list[Outcome]) -> tuple[Outcome | None, bool, str]:
    """(outcome shown, judged, note) of a host: its worst verdict; checks that reached none (not verified,
    attested, does not apply) are no problem of the host, so they colour it only when nothing else did."""
    judged = [o for o in outcomes if o.verified or o.fails]
    verdict = worst(judged)
    others = Counter(o for o in outcomes if o not in judged)
    rest = counts_text({o: others[o] for o in Outcome.worst_first() if others[o]}) if others else ""
    if verdict is not None:
        return verdict, True, f"{verdict.label}; {rest}" if rest else verdict.label
    shown = worst(outcomes)
    return shown, False, rest or "not checked"


def _machine(x: int, y: int, name: str, role: str, outcomes: list[Outcome]) -> Machine:
    outcome, judged, note = look(outcomes)
    return Machine(x, y, name, role, outcome, judged, note, anchor(name))


def layout(farm: dict[str, Any], outcomes: dict[str, list[Outcome]]) -> Picture:
    """Clients on the left of the web server, Tenant Services on its right, session hosts below it, SQL Server
    and its databases at the bottom; every connector from edge to edge of the boxes it joins."""
    sessions, clients = farm.get("session_hosts", []), farm.get("clients", [])
    tenants = farm.get("tenant_services", [])
    sql = farm.get("sql", {})
    dbs = sql.get("databases", [])
    columns = max(len(sessions), 3 + (len(clients) + 1) // 2, 2 + len(dbs))
    width = 2 * MARGIN + columns * (BOX_W + GAP)
    pic = Picture(farm.get("farm", ""), width)
    centre = width // 2 - BOX_W // 2
    web = _machine(centre, TOP, (farm.get("web_server") or ["web server"])[0], "web server",
                   outcomes.get((farm.get("web_server") or [""])[0], []))
    for i, name in enumerate(clients):
        box = _machine(MARGIN + (i // 2) * (BOX_W + GAP), TOP + (i % 2) * (BOX_H + GAP // 2), name, "client",
                       outcomes.get(name, []))
        pic.machines.append(box)
        pic.lines.append(Line(box.x + BOX_W, box.y + BOX_H // 2, web.x, web.y + BOX_H // 2))
    for i, name in enumerate(tenants):
        box = _machine(width - MARGIN - BOX_W, TOP + i * (BOX_H + GAP // 2), name, "Tenant Services",
                       outcomes.get(name, []))
        pic.machines.append(box)
        pic.lines.append(Line(web.x + BOX_W, web.y + BOX_H // 2, box.x, box.y + BOX_H // 2))
    row = TOP + 2 * BOX_H + 3 * GAP
    bottom = row + BOX_H + 2 * GAP
    start = width // 2 - (len(sessions) * (BOX_W + GAP) - GAP) // 2
    server = _machine(centre, bottom, sql.get("server", "SQL Server"), "SQL Server", outcomes.get(sql.get("server", ""), []))
    for i, name in enumerate(sessions):
        box = _machine(start + i * (BOX_W + GAP), row, name, "session host", outcomes.get(name, []))
        pic.machines.append(box)
        pic.lines.append(Line(web.x + BOX_W // 2, web.y + BOX_H, box.x + BOX_W // 2, box.y))
        pic.lines.append(Line(box.x + BOX_W // 2, box.y + BOX_H, server.x + BOX_W // 2, server.y))
    pic.machines += [web, server]
    x = server.x + BOX_W
    for i, name in enumerate(dbs):  # a bus from the server's right edge, each database on it
        db = Database(server.x + BOX_W + GAP + i * (DB_W + GAP), server.y + (BOX_H - DB_H) // 2, name, server)
        pic.lines.append(Line(x, server.y + BOX_H // 2, db.x, server.y + BOX_H // 2))
        pic.databases.append(db)
        x = db.x + DB_W
    pic.height = _legend(pic, bottom + BOX_H + 2 * GAP)
    return pic


def _legend(pic: Picture, y: int) -> int:
    """The legend's keys, wrapped onto as many rows as the picture's width needs; returns the picture's height."""
    keys = [(o.colour, o.label, o.verified or o.fails) for o in Outcome.worst_first()]
    keys.append((NOT_CHECKED_COLOUR, "not checked", False))
    x = MARGIN
    for colour, label, filled in keys:
        width = 22 + int(len(label) * CHAR_W) + GAP
        if x + width > pic.width - MARGIN:
            x, y = MARGIN, y + 22
        pic.legend.append(Key(x, y, colour, label, filled))
        x += width
    return y + 2 * GAP


def farm_picture(farm: dict[str, Any], outcomes: dict[str, list[Outcome]]) -> Markup:
    """Web server, session hosts, SQL Server and its databases, Tenant Services and clients, each by its checks."""
    return piece(TEMPLATE, "farm_picture", picture=layout(farm, outcomes) if farm else None)


def waiver_cell(waiver: dict[str, Any] | None) -> Markup:
    return piece(TEMPLATE, "waiver_cell", waiver=waiver)


def audit_banner(plugin: Any) -> Markup:
    waited = (f" Waited {plugin.waited:.1f} s for services ({plugin.round_no} round(s))."
              if plugin.round_no > 1 or plugin.waited else "")
    return piece(TEMPLATE, "banner", run=f"audit run #{plugin.run_id}" if plugin.run_id else "audit run",
                 status=plugin.status(), counts=counts_text(outcomes_of(list(plugin.results.values()))),
                 waited=waited, broken=plugin.collection_errors)


def changes_section(changes: Any, previous: Any) -> Markup:
    groups = [] if changes is None else [
        ("Newly failing", "newly-failing", changes.newly_failing), ("Fixed", "fixed", changes.fixed),
        ("Still failing", "still-failing", changes.still_failing), ("Newly waived", "now-waived", changes.now_waived)]
    return piece(TEMPLATE, "changes", changes=changes, previous=previous, groups=groups, anchor=anchor)


def baseline_section(baseline: dict[str, Any], drifts: list[Any]) -> Markup:
    return piece(TEMPLATE, "baseline", baseline=baseline, drifts=drifts)


def waiver_section(plugin: Any) -> Markup:
    used = sum(1 for r in plugin.results.values() if r.outcome is Outcome.WAIVED)
    return piece(TEMPLATE, "waivers", waivers=plugin.waivers, expired=plugin.expired_waivers(),
                 unmatched=plugin.unmatched_waivers(), used=used)
