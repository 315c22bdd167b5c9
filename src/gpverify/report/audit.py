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
BOX_W, BOX_H, GAP = 190, 60, 24  # a machine's box (name, role, outcome: a line each) and the space between boxes
DB_W, DB_H = 140, 40
MARGIN, TOP, MIN_WIDTH = 20, 86, 900
CHAR_W = 6.6  # the width of a character of 12px sans-serif, rounded up: the legend's labels never clip


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
    """Clients in a column left of the web server, Tenant Services right of it, session hosts in a row below,
    SQL Server and its databases at the bottom. Connectors are buses of straight segments in the gaps between
    boxes, so no connector crosses a box or a label, however many machines a farm has."""
    sessions, clients = farm.get("session_hosts", []), farm.get("clients", [])
    tenants = farm.get("tenant_services", [])
    sql = farm.get("sql", {})
    dbs = sql.get("databases", [])
    # The database row hangs off the centred SQL Server box: the picture is wide enough for all of it.
    width = max(
        MIN_WIDTH,
        2 * MARGIN + max(len(sessions), 5) * (BOX_W + GAP),
        2 * (BOX_W // 2 + len(dbs) * (DB_W + GAP) + MARGIN),
    )
    pic = Picture(farm.get("farm", ""), width)
    web_name = (farm.get("web_server") or ["web server"])[0]
    web = _machine(width // 2 - BOX_W // 2, TOP, web_name, "web server", outcomes.get(web_name, []))
    left = _column(pic, clients, MARGIN, "client", outcomes, web.x, web)
    right = _column(pic, tenants, width - MARGIN - BOX_W, "Tenant Services", outcomes, web.x + BOX_W, web)
    row = max(TOP + BOX_H + 2 * GAP, left + 2 * GAP, right + 2 * GAP)
    sql_name = sql.get("server", "SQL Server")
    server = _machine(web.x, row + BOX_H + 3 * GAP, sql_name, "SQL Server", outcomes.get(sql_name, []))
    start = width // 2 - (len(sessions) * (BOX_W + GAP) - GAP) // 2
    hosts = [
        _machine(start + i * (BOX_W + GAP), row, name, "session host", outcomes.get(name, []))
        for i, name in enumerate(sessions)
    ]
    pic.machines += hosts
    if hosts:
        _bus(pic, (web.x + BOX_W // 2, web.y + BOX_H), [(h.x + BOX_W // 2, h.y) for h in hosts], row - GAP)
        _bus(
            pic, (server.x + BOX_W // 2, server.y), [(h.x + BOX_W // 2, h.y + BOX_H) for h in hosts], row + BOX_H + GAP
        )
    pic.machines += [web, server]
    x = server.x + BOX_W
    for i, name in enumerate(dbs):  # a chain from the server's right edge, each database on it
        db = Database(server.x + BOX_W + GAP + i * (DB_W + GAP), server.y + (BOX_H - DB_H) // 2, name, server)
        pic.lines.append(Line(x, server.y + BOX_H // 2, db.x, server.y + BOX_H // 2))
        pic.databases.append(db)
        x = db.x + DB_W
    pic.height = _legend(pic, server.y + BOX_H + 2 * GAP)
    return pic


def _column(
    pic: Picture, names: list[str], x: int, role: str, outcomes: dict[str, list[Outcome]], edge: int, web: Machine
) -> int:
    """A column of machines joined to the web server's side at `edge` by a vertical bus; returns its bottom."""
    boxes = [
        _machine(x, TOP + i * (BOX_H + GAP // 2), name, role, outcomes.get(name, [])) for i, name in enumerate(names)
    ]
    if not boxes:
        return TOP
    pic.machines += boxes
    near = x + BOX_W if x < edge else x  # the column's side facing the web server
    bus = near + (GAP if x < edge else -GAP)
    y = web.y + BOX_H // 2
    for box in boxes:
        pic.lines.append(Line(near, box.y + BOX_H // 2, bus, box.y + BOX_H // 2))
    pic.lines.append(Line(bus, min(y, boxes[0].y + BOX_H // 2), bus, max(y, boxes[-1].y + BOX_H // 2)))
    pic.lines.append(Line(bus, y, edge, y))
    return boxes[-1].y + BOX_H


def _bus(pic: Picture, hub: tuple[int, int], ends: list[tuple[int, int]], y: int) -> None:
    """The hub down (or up) to a horizontal bus at `y`, and a drop from the bus to each end."""
    xs = [hub[0], *(x for x, _ in ends)]
    pic.lines.append(Line(hub[0], hub[1], hub[0], y))
    pic.lines.append(Line(min(xs), y, max(xs), y))
    pic.lines += [Line(x, y, x, end_y) for x, end_y in ends]


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
    waited = (
        f" Waited {plugin.waited:.1f} s for services ({plugin.round_no} round(s))."
        if plugin.round_no > 1 or plugin.waited
        else ""
    )
    return piece(
        TEMPLATE,
        "banner",
        run=f"audit run #{plugin.run_id}" if plugin.run_id else "audit run",
        status=plugin.status(),
        counts=counts_text(outcomes_of(list(plugin.results.values()))),
        waited=waited,
        broken=plugin.collection_errors,
    )


def changes_section(changes: Any, previous: Any) -> Markup:
    groups = (
        []
        if changes is None
        else [
            ("Newly failing", "newly-failing", changes.newly_failing),
            ("Fixed", "fixed", changes.fixed),
            ("Still failing", "still-failing", changes.still_failing),
            ("Newly waived", "now-waived", changes.now_waived),
        ]
    )
    return piece(TEMPLATE, "changes", changes=changes, previous=previous, groups=groups, anchor=anchor)


def baseline_section(baseline: dict[str, Any], drifts: list[Any]) -> Markup:
    return piece(TEMPLATE, "baseline", baseline=baseline, drifts=drifts)


def waiver_section(plugin: Any) -> Markup:
    used = sum(1 for r in plugin.results.values() if r.outcome is Outcome.WAIVED)
    return piece(
        TEMPLATE,
        "waivers",
        waivers=plugin.waivers,
        expired=plugin.expired_waivers(),
        unmatched=plugin.unmatched_waivers(),
        used=used,
    )
