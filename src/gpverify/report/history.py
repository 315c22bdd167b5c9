"""HTML pages of the history (Jinja2, autoescaped, self-contained): the fleet and the per-farm history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup

from gpverify.outcomes import Outcome
from gpverify.report.audit import history_svg, host_anchor
from gpverify.report.render import page


def fleet_html(rows: list[Any], *, history: str, now: dt.datetime, silent_after: dt.timedelta) -> str:
    return page("fleet.html.j2",
        rows=rows, history=history, generated=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        silent_after_seconds=int(silent_after.total_seconds()), silent_after_hours=silent_after.total_seconds() / 3600,
        colours={o.value: o.colour for o in Outcome})


def history_html(by_farm: dict[str, list[Any]], report_links: dict[int, str | None]) -> str:
    """Each farm's runs: the outcome grid, then the runs, each linked to its report where it can be read."""
    farms = [{"name": farm, "anchor": host_anchor(farm).replace("gpv-host-", "gpv-farm-"), "runs": runs,
              "svg": Markup(history_svg(runs))} for farm, runs in by_farm.items()]  # history_svg escapes what it draws
    return page("history.html.j2", farms=farms, links=report_links,
                colours={o.value: o.colour for o in Outcome}, labels={o.value: o.label for o in Outcome})
