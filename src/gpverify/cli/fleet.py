"""gpverify fleet: every farm of a shared history on one page (HTML, or JSON for other tools)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from gpverify.cli.commands import HELP
from gpverify.config.options import folder, history_setting, hours, out_file
from gpverify.exitcodes import TABLE, ExitCode
from gpverify.history.target import HistoryUnavailable


def cmd_fleet(ns: argparse.Namespace) -> int:
    from gpverify.history.fleet import fleet_rows
    from gpverify.history.store import History
    from gpverify.history.target import resolve_target

    now = dt.datetime.now(dt.UTC)
    silent_after = dt.timedelta(hours=ns.silent_after)
    output = Path(ns.output) if ns.output else (None if ns.format == "json" else Path(ns.reports) / "fleet.html")
    try:
        target = resolve_target(ns.history, setting="--history", reports=Path(ns.reports))
        if target.sqlite_path is not None and not target.sqlite_path.exists():
            print(
                f"gpverify fleet: {target.sqlite_path}: no audit history yet (run gpverify audit first)",
                file=sys.stderr,
            )
            return ExitCode.BAD_INPUT
        with History(target, warn=lambda m: print(f"gpverify fleet: {m}", file=sys.stderr)) as history:
            rows = fleet_rows(history, now=now, silent_after=silent_after, page_dir=output.parent if output else None)
    except HistoryUnavailable as exc:
        print(f"gpverify fleet: {exc}", file=sys.stderr)
        return ExitCode.NOT_RECORDED
    _write(ns, rows, target.display, now, silent_after, output)
    return ExitCode.PASSED


def _write(
    ns: argparse.Namespace,
    rows: list[Any],
    history: str,
    now: dt.datetime,
    silent_after: dt.timedelta,
    output: Path | None,
) -> None:
    """The JSON or the page, printed or written (with one line per farm)."""
    from gpverify.report.history import fleet_html

    if ns.format == "json":
        text = json.dumps(
            {
                "generated": now.isoformat().replace("+00:00", "Z"),
                "history": history,
                "silent_after_hours": ns.silent_after,
                "farms": [r.as_dict() for r in rows],
            },
            indent=2,
        )
    else:
        text = fleet_html(rows, history=history, now=now, silent_after=silent_after)
    if output is None:
        print(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    for r in rows:
        print(
            f"{r.farm:40} {r.age:>14} {'SILENT' if r.silent else '':6} {r.status:13} "
            f"failed {r.counts.get('failed', 0)}, newly failing {r.newly_failing}"
        )
    print(f"fleet: {len(rows)} farm(s), {sum(r.silent for r in rows)} silent; written to {output}")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add fleet."""
    fleet = sub.add_parser(
        "fleet", help=HELP["fleet"], epilog=TABLE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    fleet.add_argument(
        "--history",
        type=history_setting,
        metavar="URL",
        help="postgresql://USER@HOST[:PORT]/DATABASE (password from GPVERIFY_HISTORY_PASSWORD or "
        "the keyring) or a SQLite file; default REPORTS/history.sqlite",
    )
    fleet.add_argument(
        "--reports", type=folder(), default="reports", help="folder of the default history and page (default reports)"
    )
    fleet.add_argument(
        "--format",
        choices=["html", "json"],
        default="html",
        help="html: write a page (default REPORTS/fleet.html); json: print (or write --output)",
    )
    fleet.add_argument("--output", type=out_file(), metavar="FILE", help="where to write the page or the JSON")
    fleet.add_argument(
        "--silent-after",
        type=hours(),
        default=36.0,
        metavar="HOURS",
        help="flag a farm whose last audit is older than this (default 36)",
    )
    fleet.set_defaults(func=cmd_fleet)
