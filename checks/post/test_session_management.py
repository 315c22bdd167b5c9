"""Verifying the services: every session host is listed in Session Management and allows new sessions.

The Session Management snap-in of the Web Management Console shows what Session Central knows
(managing-web-client-sessions.md). These checks read Session Central itself through GP's PowerShell module on the
web server when it is installed, else the configuration database behind it through the table and columns the
inventory names (fixtures/post.py says the order); what neither can tell is "not verified" (or "attested" by a
named person during the upgrade). This is also where the guide's "the data will be migrated to the new database"
is judged: by the time the hosts are upgraded they have registered (scale-out-installation.md, "Verify").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pytest

from gpverify.catalogue import check
from gpverify.facts.farm import Farm
from gpverify.facts.names import short_name
from gpverify.facts.sessioncentral import ListedHost, SessionManagement
from gpverify.verdicts import warn

Unverifiable = Callable[[str], NoReturn]

SECTION = "Verifying the services"
LISTED = (
    "In the Session Management snap-in for the Web Management Console, all of the session host machines "
    "should be listed."
)


def _notes(view: SessionManagement) -> str:
    return f" ({view.source}; {'; '.join(view.notes)})" if view.notes else f" ({view.source})"


@check(
    "GP-POST-003",
    title=LISTED,
    section=SECTION,
    impact="critical",
    remediation=(
        "Run the Web Components Configuration Wizard on this session host (pointing it at the new "
        "configuration database) and start its Session Service, so that it registers with Session Central; "
        "if no host is listed, the web server's configuration wizard did not migrate the data "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."
    ),
)
def test_session_host_is_listed(session_host_name: str, session_management: SessionManagement) -> None:
    view = session_management
    assert view.entry(session_host_name), (
        f"{session_host_name}: not listed in Session Management; expected it "
        f"there, found: {view.listed_names()}{_notes(view)}"
    )


@check(
    "GP-POST-004",
    title="Be sure that each machine is set to allow new web client sessions.",
    section=SECTION,
    impact="high",
    remediation="In the Session Management snap-in of the Web Management Console, select the session host and "
    "resume it (clear Suspended) so that it accepts new web client sessions.",
)
def test_session_host_allows_new_sessions(
    session_host_name: str, session_management: SessionManagement, unverifiable: Unverifiable
) -> None:
    view = session_management
    entry = view.entry(session_host_name)
    assert entry, (
        f"{session_host_name}: not listed in Session Management, so it cannot accept new web client "
        f"sessions (found: {view.listed_names()})"
    )
    if view.suspended is None or entry.suspended is None:
        unverifiable(
            f"{session_host_name}: listed in Session Management, but "
            + view.problems.get("suspended", f"{entry.name} has no {view.suspended.name if view.suspended else 'flag'}")
        )
    assert view.suspended is not None
    flag = view.suspended
    value = f" = {entry.values[flag.name]}" if flag.name in entry.values else ""
    assert not entry.suspended, (
        f"{session_host_name}: Session Management shows {entry.name} as Suspended "
        f"({flag.name}{value}, {flag.how}); expected "
        f"it to allow new web client sessions{_notes(view)}"
    )


@check(
    "GP-POST-005",
    title=LISTED + " (No machine is listed that is not a session host of this installation.)",
    section=SECTION,
    impact="medium",
    remediation=(
        "The snap-in has no remove: suspend the machine in Session Management (no new sessions go to it), "
        "or stop or uninstall its Session Service; or add it to the inventory's session_hosts if it is part "
        "of the farm and must be upgraded and checked too "
        "(https://learn.microsoft.com/dynamics-gp/web-components/managing-web-client-sessions)."
    ),
)
def test_no_unknown_session_host_is_listed(
    farm_session_hosts: list[str], session_management: SessionManagement, unverifiable: Unverifiable
) -> None:
    known = {short_name(n) for n in farm_session_hosts}
    extra: list[ListedHost] = [h for h in session_management.hosts if h.short_name not in known]
    unknown = [h.name for h in extra if h.suspended is None]
    if unknown:
        unverifiable(
            f"Session Management lists {', '.join(unknown)}, which the inventory does not have as a session "
            "host, and whether it is suspended cannot be told: "
            + session_management.problems.get("suspended", "its flag is missing")
        )
    taking = [h.name for h in extra if not h.suspended]
    assert not taking, (
        f"Session Management lists {', '.join(taking)}, which the inventory does not have as a "
        f"session host (inventory: {', '.join(farm_session_hosts)}), and it is not suspended: web "
        "client sessions can be routed to a machine nobody upgraded"
    )
    if extra:
        warn(
            f"Session Management still lists {', '.join(h.name for h in extra)} (suspended, so it takes no new "
            "sessions); stop or uninstall its Session Service when it is retired"
        )


@check(
    "GP-POST-013",
    title=LISTED + " (each has reported its status to Session Central recently: Last Status Update).",
    section=SECTION,
    impact="high",
    remediation=(
        "On the session host listed, restart its Session Service (GPWebClientSessionServices) and check "
        "that it reaches the web server; then restart the Session Central Service after the last host and "
        "click Refresh in Session Management "
        "(https://learn.microsoft.com/dynamics-gp/web-components/managing-web-client-sessions)."
    ),
)
def test_session_host_status_is_recent(
    session_host_name: str, session_management: SessionManagement, farm: Farm, unverifiable: Unverifiable
) -> None:
    view = session_management
    entry = view.entry(session_host_name)
    if entry is None:
        pytest.skip(
            f"{session_host_name} is not listed in Session Management, so it has no status (GP-POST-003 reports it)"
        )
    if view.status is None:
        unverifiable(
            f"{session_host_name}: the property behind Last Status Update cannot be told: "
            + view.problems.get("status", "unknown")
        )
    limit = timedelta(minutes=farm.inventory.session_status_max_age_minutes)
    assert entry.last_status is not None, f"{session_host_name}: Session Management shows no last status update"
    last = entry.last_status.astimezone(UTC).replace(tzinfo=None) if entry.last_status.tzinfo else entry.last_status
    age = datetime.now(UTC).replace(tzinfo=None) - last
    assert age <= limit, (
        f"{session_host_name}: last status update {last:%Y-%m-%d %H:%M} UTC, "
        f"{age.total_seconds() / 60:.0f} minutes ago, expected within "
        f"{farm.inventory.session_status_max_age_minutes} minutes (session_status_max_age_minutes; "
        f"{view.status.describe() if view.status else ''}){_notes(view)}"
    )
