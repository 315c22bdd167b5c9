"""The end of a run: summary.txt and summary.html, linking each gate's report and listing every step."""

from __future__ import annotations

from gpverify.report.render import page
from gpverify.runner.plan import Plan
from gpverify.runner.state import ItemRecord, RunState


def _who(entry: ItemRecord) -> str:
    if entry.confirmed_by:
        account = f"; entered at the console of {entry.confirmed_account}" if entry.confirmed_account else ""
        return f"confirmed by {entry.confirmed_by} at {entry.confirmed_at} ({entry.confirmed_how}{account})"
    by = f"run by {entry.run_by}, " if entry.run_by else ""
    return f"{by}exit {entry.exit_code}" if entry.exit_code is not None else ""


def _rows(plan: Plan, state: RunState) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for item in plan.items():
        entry = state.item(item.id)
        what = item.step.title if item.step else f"pytest {item.phase.gate_args}"
        when = entry.finished_at or entry.started_at or ""
        rows.append((item.id, what, str(entry.status), _who(entry), when))
    return rows


def _stopped(state: RunState) -> list[str]:
    """For a run that did not complete: the checks that stopped it and the command that continues it."""
    d = state.data
    if d.get("status") == "complete":
        return []
    stopped_at = d.get("stopped_at")
    failed = state.item(stopped_at).failed_checks if stopped_at else []
    lines = [f"Stopped at {stopped_at}." if stopped_at else "Not complete."]
    lines += [f"  - {f}" for f in failed]
    lines += [f"Continue with:  {resume_command(state)}", ""]
    return lines


def resume_command(state: RunState) -> str:
    return f"gpverify upgrade --resume {state.run_id}"


def write_summary(plan: Plan, state: RunState) -> None:
    d = state.data
    head = [
        f"gpverify upgrade run {state.run_id}: {d['status']}",
        f"inventory: {d['inventory']}",
        f"plan: {d.get('plan_source')}" + (f"; lab scenario {d['lab']['scenario']}" if d.get("lab") else ""),
        f"{d.get('message') or ''}",
        "",
    ]
    lines = [
        f"{i:32} {s:8} {when:30} {what}" + (f"  [{who}]" if who else "") for i, what, s, who, when in _rows(plan, state)
    ]
    head += _stopped(state)
    reports = [f"{i}: {e.report}" for i, e in state.record.items.items() if e.report]
    (state.folder / "summary.txt").write_text(
        "\n".join(head + lines + ["", "Gate reports:"] + reports) + "\n", encoding="utf-8"
    )
    rows = [
        {"id": i, "what": what, "status": status, "who": who, "when": when, "report": state.item(i).report}
        for i, what, status, who, when in _rows(plan, state)
    ]
    html = page(
        "summary.html.j2",
        run_id=state.run_id,
        status=d["status"],
        lab=d.get("lab"),
        inventory=str(d["inventory"]),
        message=d.get("message") or "",
        stopped=[line for line in _stopped(state) if line],
        rows=rows,
    )
    (state.folder / "summary.html").write_text(html, encoding="utf-8")
