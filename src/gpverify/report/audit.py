"""HTML pieces of the audit report (inline SVG, so the report stays one self-contained file)."""

from __future__ import annotations

import re
from typing import Any

from gpverify.outcomes import NOT_CHECKED_COLOUR, Outcome
from gpverify.results import outcomes_of

# The summary (where pytest-html puts our prefix) comes after the Environment table; the picture should open
# the report, so this moves it right under the title.
MOVE_TO_TOP = ("<script>(function(){var p=document.getElementById('gpverify-farm-picture'),"
               "h=document.querySelector('h1');if(p&&h){h.after(p);}})();</script>")


def esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def host_anchor(host: str) -> str:
    return "gpv-host-" + re.sub(r"[^A-Za-z0-9_-]", "-", host)


def _colour(outcome: Outcome | None) -> str:
    return outcome.colour if outcome else NOT_CHECKED_COLOUR


def _label(outcome: Outcome | None) -> str:
    return outcome.label if outcome else "not checked"


def _machine(x: int, y: int, name: str, role: str, outcome: Outcome | None, w: int = 150, h: int = 46) -> str:
    colour = _colour(outcome)
    return (f'<a href="#{host_anchor(name)}" class="gpv-machine-link">'
            f'<g class="gpv-machine" data-host="{esc(name)}" data-outcome="{esc(outcome or "none")}">'
            f"<title>{esc(name)} ({esc(role)}): {esc(_label(outcome))}</title>"
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{colour}" stroke="#263238"/>'
            f'<text x="{x + w // 2}" y="{y + 19}" text-anchor="middle" fill="#fff" font-size="13" '
            f'font-weight="bold">{esc(name)}</text>'
            f'<text x="{x + w // 2}" y="{y + 36}" text-anchor="middle" fill="#fff" font-size="11">'
            f"{esc(role)}: {esc(_label(outcome))}</text></g></a>")


def _line(x1: int, y1: int, x2: int, y2: int) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#90a4ae" stroke-width="2"/>'


def farm_picture(farm: dict[str, Any], worst: dict[str, Outcome]) -> str:
    """Web server, session hosts, SQL Server and its databases, Tenant Services and clients, by worst outcome."""
    if not farm:
        return '<div id="gpverify-farm-picture"><p>No farm picture: the farm could not be opened.</p></div>'
    w, box = 150, 46
    sessions = farm.get("session_hosts", [])
    clients = farm.get("clients", [])
    width = max(900, 40 + (len(sessions) + 1) * (w + 20), 40 + (len(clients) + 3) * (w + 20))
    parts: list[str] = []
    web = (farm.get("web_server") or ["web server"])[0]
    web_x, web_y = width // 2 - w // 2, 60
    # clients on the left of the top row, Tenant Services on the right
    for i, name in enumerate(clients):
        y = 60 if i % 2 == 0 else 60 + box + 14
        cx = 20 + (i // 2) * (w + 20)
        parts.append(_line(cx + w // 2, y + box // 2, web_x, web_y + box // 2))
        parts.append(_machine(cx, y, name, "client", worst.get(name)))
    for name in farm.get("tenant_services", []):
        tx = width - w - 20
        parts.append(_line(web_x + w, web_y + box // 2, tx, web_y + box // 2))
        parts.append(_machine(tx, web_y, name, "Tenant Services", worst.get(name)))
    # session hosts in the middle row
    sy = 200
    start = width // 2 - (len(sessions) * (w + 20) - 20) // 2
    sql = farm.get("sql", {})
    sql_name = sql.get("server", "SQL Server")
    sql_x, sql_y = width // 2 - w // 2, 320
    for i, name in enumerate(sessions):
        x = start + i * (w + 20)
        parts.append(_line(web_x + w // 2, web_y + box, x + w // 2, sy))
        parts.append(_line(x + w // 2, sy + box, sql_x + w // 2, sql_y))
        parts.append(_machine(x, sy, name, "session host", worst.get(name)))
    parts.append(_machine(web_x, web_y, web, "web server", worst.get(web)))
    parts.append(_machine(sql_x, sql_y, sql_name, "SQL Server", worst.get(sql_name)))
    dbs = sql.get("databases", [])
    db_colour = _colour(worst.get(sql_name))
    for i, db in enumerate(dbs):
        dx = sql_x + w + 30 + i * 150
        parts.append(_line(sql_x + w, sql_y + box // 2, dx, sql_y + box // 2))
        parts.append(f'<a href="#{host_anchor(sql_name)}"><g class="gpv-database" data-database="{esc(db)}">'
                     f"<title>database {esc(db)} on {esc(sql_name)}</title>"
                     f'<ellipse cx="{dx + 65}" cy="{sql_y + 8}" rx="65" ry="8" fill="{db_colour}" stroke="#263238"/>'
                     f'<rect x="{dx}" y="{sql_y + 8}" width="130" height="30" fill="{db_colour}" stroke="#263238"/>'
                     f'<text x="{dx + 65}" y="{sql_y + 30}" text-anchor="middle" fill="#fff" font-size="12">'
                     f"{esc(db)}</text></g></a>")
    legend = "".join(
        f'<rect x="{20 + i * 120}" y="400" width="14" height="14" fill="{c}"/>'
        f'<text x="{40 + i * 120}" y="412" font-size="12">{esc(_label(k))}</text>'
        for i, (k, c) in enumerate([(o, o.colour) for o in Outcome.worst_first()] + [(None, NOT_CHECKED_COLOUR)]))
    title = (f'<text x="20" y="28" font-size="16" font-weight="bold">{esc(farm.get("farm", ""))}</text>'
             f'<text x="20" y="46" font-size="12">each machine is coloured by its worst check outcome; '
             f"click one to jump to its rows</text>")
    return (f'<div id="gpverify-farm-picture"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="farm picture" width="{width}" height="425" viewBox="0 0 {width} 425">'
            f"{title}{''.join(parts)}{legend}</svg></div>{MOVE_TO_TOP}")


def waiver_cell(waiver: dict[str, Any] | None) -> str:
    if not waiver:
        return ""
    host = f" on {esc(waiver['host'])}" if waiver.get("host") else ""
    if waiver.get("status") == "expired":
        return (f'<span class="gpv-waiver-expired" style="color:#c62828">EXPIRED {esc(waiver["expires"])} '
                f"(no longer waives): {esc(waiver['check'])}{host} approved by {esc(waiver['approver'])}, "
                f"risk {esc(waiver['risk'])}: {esc(waiver['justification'])}</span>")
    return (f'<span class="gpv-waiver" style="color:#6a1b9a">WAIVED{host} by {esc(waiver["approver"])} '
            f"(risk {esc(waiver['risk'])}, created {esc(waiver['created'])}, expires {esc(waiver['expires'])}): "
            f"{esc(waiver['justification'])}</span>")


def audit_banner(plugin: Any) -> str:
    counts = outcomes_of(list(plugin.results.values()))
    text = ", ".join(f"{n} {o.label}" for o, n in counts.items())
    waited = (f" Waited {plugin.waited:.1f} s for services ({plugin.round_no} round(s))."
              if plugin.round_no > 1 or plugin.waited else "")
    run = f"audit run #{plugin.run_id}" if plugin.run_id else "audit run"
    broken = "".join(f'<br><span class="gpv-collection-error" style="color:#ef6c00">could not load checks: {esc(e)}'
                     f"</span>" for e in plugin.collection_errors)
    return (f'<p id="gpverify-audit-status"><b>{esc(run)}: {esc(plugin.status().upper())}</b> '
            f"({esc(text)}).{esc(waited)}{broken}</p>")


def _rows(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "<p>none</p>"
    items = "".join(
        f'<li><a href="#{host_anchor(e["host"])}">{esc(e["check"])}</a> {esc(e["test"])}'
        f" ({esc(e['before'] or 'new')} &rarr; {esc(e['after'])})"
        f"{': ' + esc(e['message'].splitlines()[0]) if e.get('message') else ''}</li>"
        if e.get("host") else
        f"<li>{esc(e['check'])} {esc(e['test'])} ({esc(e['before'] or 'new')} &rarr; {esc(e['after'])})</li>"
        for e in entries)
    return f"<ul>{items}</ul>"


def drift_table(drifts: list[Any], table_id: str) -> str:
    if not drifts:
        return "<p>no fact changed</p>"
    rows = "".join(f"<tr><td>{esc(d.host)}</td><td>{esc(d.fact)}</td><td>{esc(d.kind)}</td>"
                   f"<td>{esc(d.before)}</td><td>{esc(d.after)}</td></tr>" for d in drifts)
    return (f'<table id="{table_id}" border="1" style="border-collapse:collapse"><tr><th>Host</th><th>Fact</th>'
            f"<th>Change</th><th>Before</th><th>After</th></tr>{rows}</table>")


def changes_section(changes: Any, previous: Any) -> str:
    head = '<section id="gpverify-changes"><h2>Changed since the last run</h2>'
    if changes is None or changes.previous_run is None:
        return head + "<p>This is the first recorded audit: nothing to compare with yet.</p></section>"
    parts = [head, (f"<p>Compared with audit run #{esc(changes.previous_run)} "
                    f"({esc(previous.finished if previous else '')}).</p>")]
    for title, key, entries in (("Newly failing", "newly-failing", changes.newly_failing),
                                ("Fixed", "fixed", changes.fixed),
                                ("Still failing", "still-failing", changes.still_failing),
                                ("Newly waived", "now-waived", changes.now_waived)):
        parts.append(f'<div id="gpverify-{key}"><h3>{title} ({len(entries)})</h3>{_rows(entries)}</div>')
    parts.append(f'<div id="gpverify-fact-drift"><h3>Fact drift ({len(changes.drift)})</h3>'
                 f"{drift_table(changes.drift, 'gpverify-drift-table')}</div></section>")
    return "".join(parts)


def baseline_section(baseline: dict[str, Any], drifts: list[Any]) -> str:
    return (f'<section id="gpverify-baseline"><h2>Drift from the baseline</h2><p>Baseline '
            f"&quot;{esc(baseline['name'])}&quot; captured {esc(baseline['captured'])} "
            f"from {esc(baseline['source'])}.</p>{drift_table(drifts, 'gpverify-baseline-table')}</section>")


def waiver_section(plugin: Any) -> str:
    if not plugin.waivers:
        return ""
    items = []
    for w in plugin.expired_waivers():
        items.append(f"<li class=\"gpv-waiver-expired\">EXPIRED: waiver for {esc(w.label())} (approver "
                     f"{esc(w.approver)}) expired on {esc(w.expires.isoformat())}; it no longer waives.</li>")
    for w in plugin.unmatched_waivers():
        items.append(f"<li class=\"gpv-waiver-unmatched\">UNMATCHED: waiver #{w.index + 1} for {esc(w.label())} "
                     f"matches no check in this run.</li>")
    used = sum(1 for r in plugin.results.values() if r.outcome is Outcome.WAIVED)
    return (f'<section id="gpverify-waivers"><h2>Waivers</h2><p>{len(plugin.waivers)} waiver(s) loaded, '
            f"{used} failing check(s) waived.</p><ul>{''.join(items)}</ul></section>")


# --- history ----------------------------------------------------------------------------------------------

def history_rows(runs: list[Any]) -> list[tuple[str, str, list[Outcome | None]]]:
    keys = sorted({k for run in runs for k in run.results})
    return [(c, t, [run.results[(c, t)].outcome if (c, t) in run.results else None for run in runs])
            for c, t in keys]


def history_svg(runs: list[Any]) -> str:
    """The outcome of each check (rows) in each run (columns), one coloured cell each."""
    rows = history_rows(runs)
    cell, label_w, top = 22, 520, 70
    width = label_w + cell * max(len(runs), 1) + 20
    height = top + cell * len(rows) + 40
    parts = [(f'<text x="10" y="20" font-size="15" font-weight="bold">Outcome of each check over the last '
              f"{len(runs)} audit run(s)</text>")]
    for j, run in enumerate(runs):
        x = label_w + j * cell + cell // 2
        parts.append(f'<text x="{x}" y="{top - 8}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-60 {x} {top - 8})">#{run.id}</text>')
    for i, (check, test, outcomes) in enumerate(rows):
        y = top + i * cell
        parts.append(f'<text x="10" y="{y + 15}" font-size="11">{esc(check)} {esc(test.split("::")[-1])}</text>')
        for j, outcome in enumerate(outcomes):
            run = runs[j]
            parts.append(f'<rect class="gpv-history-cell" data-outcome="{esc(outcome or "none")}" '
                         f'x="{label_w + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                         f'fill="{outcome.colour if outcome else "#eeeeee"}"><title>run #{run.id} {esc(run.started)}: '
                         f"{esc(check)} {esc(test)}: {esc(outcome.label if outcome else 'not run')}</title></rect>")
    return (f'<svg class="gpverify-history" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')
