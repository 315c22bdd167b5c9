"""The audit's pytest plugin: waivers applied to reports, one result row per test, the farm picture and the
"Changed since the last run" section in the HTML, waiver properties in JUnit.

It is a plugin object, handed to pytest.main(plugins=[AuditPlugin(...)]) by gpverify.audit.runner.

Waived failures in JUnit: the report outcome is rewritten to *skipped* with the reason "waived: ..." (so CI
tools do not count it as a failure), and the testcase carries waiver_* properties; the JSON keeps the original
failure message. An expired waiver does not waive: the test stays failed and gets waiver_status=expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import pytest

from gpverify.audit.drift import Changes, compare, fact_drift, snapshot
from gpverify.audit.waivers import Waiver, find_waiver
from gpverify.catalogue import info_of
from gpverify.outcomes import Outcome
from gpverify.report import audit as render
from gpverify.results import REPORT_ATTR, CheckResult, host_of
from gpverify.session import farm_of, roles

WAIT_MARKER = "audit_wait"
# Checks the audit re-runs under --wait besides those marked audit_wait: any check whose guide section is
# about services, and every check that could not read its host (reachability).
WAIT_SECTIONS = ("service",)


class AuditPlugin:
    def __init__(
        self,
        *,
        waivers: list[Waiver],
        today: dt.date | None = None,
        previous: Any = None,
        baseline: dict[str, Any] | None = None,
        run_id: int | None = None,
        round_no: int = 1,
        waited: float = 0.0,
    ) -> None:
        self.waivers = waivers
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.previous = previous  # store.RunRecord of the last finished run, or None
        self.baseline = baseline
        self.run_id = run_id
        self.round_no = round_no
        self.waited = waited
        self.results: dict[str, CheckResult] = {}  # nodeid -> its record
        self.waitable: set[str] = set()  # nodeids --wait re-runs while they fail
        self.collected_tests: list[tuple[str, str | None]] = []  # (check id, host) of every collected check
        self.facts: dict[str, Any] = {}
        self.changes: Changes | None = None
        self.baseline_drift: list[Any] | None = None
        self.farm_info: dict[str, Any] = {}
        self._anchored: set[str] = set()
        self._final = False
        self.config: pytest.Config | None = None
        self.collection_errors: list[str] = []  # check files that could not even be imported

    # --- setup -------------------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config
        config.addinivalue_line("markers", f"{WAIT_MARKER}: the audit's --wait re-runs this check while it fails")

    def _farm(self) -> Any:
        return farm_of(self.config) if self.config else None

    def host_of(self, item: pytest.Item) -> str | None:
        farm = self._farm()
        if farm is None or self.config is None:
            return None
        return host_of(item, roles(self.config), farm.inventory.sql.server, {})

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected_tests = [(info.id, self.host_of(i)) for i in items if (info := info_of(i))]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Collect every host once, in parallel, so the snapshot (drift) covers the whole farm.
        farm = self._farm()
        if farm is not None and session.items and not session.config.option.collectonly:
            farm.collect(sorted(farm.specs))

    # --- results and waivers -----------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: the gpverify plugin has made the record
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        record = CheckResult.of(report)
        info = info_of(item)
        if record is None or info is None:  # not a check (a check whose clean-up broke has its record: error)
            return report
        if record.outcome in (Outcome.FAILED, Outcome.WARNING):
            found = find_waiver(self.waivers, record.check, record.host, self.today, record.message)
            if found:
                waiver, status = found
                record = record.waived(
                    {**waiver.as_dict(), "status": status}, Outcome.WAIVED if status == "waived" else record.outcome
                )
                props = [
                    ("waiver_status", status),
                    *((f"waiver_{k}", str(v)) for k, v in waiver.as_dict().items() if v is not None),
                ]
                item.user_properties.extend(props)
                if status == "waived":
                    report.outcome = "skipped"
                    path, lineno, _ = item.location
                    report.longrepr = (str(path), (lineno or 0) + 1, _waiver_reason(waiver, record.message))
                setattr(report, REPORT_ATTR, record)
        if record.host:
            item.user_properties.append(("audit_host", record.host))
        if self._waitable(item, info, record.outcome):
            self.waitable.add(item.nodeid)
        earlier = self.results.get(item.nodeid)
        self.results[item.nodeid] = record if earlier is None else earlier.at_worst(record)
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {str(report.longrepr).strip().splitlines()[-1]}")

    def _waitable(self, item: pytest.Item, info: Any, outcome: Outcome) -> bool:
        if item.get_closest_marker(WAIT_MARKER):
            return True
        if outcome is Outcome.ERROR:
            return True  # facts could not be read: the host may still be rebooting
        return any(word in f"{info.section} {info.title}".lower() for word in WAIT_SECTIONS)

    # --- end of session: snapshot, comparison, report sections --------------------------------------------

    def finalize(self) -> None:
        if self._final:
            return
        self._final = True
        farm = self._farm()
        if farm is not None:
            self.facts = snapshot(farm.collected())
            inv = farm.inventory
            self.farm_info = {
                "farm": inv.farm,
                "profile": farm.profile.name,
                "web_server": [s.name for s in farm.hosts("web_server")],
                "session_hosts": [s.name for s in farm.hosts("session_host")],
                "tenant_services": [s.name for s in farm.hosts("tenant_services")],
                "clients": [s.name for s in farm.hosts("client")],
                "sql": {"server": inv.sql.server, "databases": [inv.sql.system_database, inv.sql.config_database]},
            }
        prev = self.previous
        self.changes = compare(
            prev.results if prev else None,
            self.result_list(),
            prev.facts if prev else None,
            self.facts,
            prev.id if prev else None,
        )
        if self.baseline is not None:
            self.baseline_drift = fact_drift(self.baseline["facts"], self.facts)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.finalize()

    def pytest_gpverify_junit_properties(self, config: pytest.Config) -> list[tuple[str, str]]:
        """The run's waivers, wait and run number on the JUnit test suite."""
        props = [("waiver_unmatched", f"{w.label()} (waiver #{w.index + 1})") for w in self.unmatched_waivers()]
        props += [("waiver_expired", f"{w.label()} expired {w.expires.isoformat()}") for w in self.expired_waivers()]
        props.append(("audit_waited_seconds", f"{self.waited:.1f}"))
        if self.run_id is not None:
            props.append(("audit_run", str(self.run_id)))
        return props

    def result_list(self) -> list[CheckResult]:
        return list(self.results.values())

    def pending(self) -> list[CheckResult]:
        """Failing results --wait re-checks: services and hosts that may still be starting."""
        return [r for node, r in self.results.items() if r.failing and node in self.waitable]

    def unmatched_waivers(self) -> list[Waiver]:
        return [w for w in self.waivers if not any(w.matches(c, h) for c, h in self.collected_tests)]

    def expired_waivers(self) -> list[Waiver]:
        return [w for w in self.waivers if w.expired(self.today)]

    def status(self) -> str:
        outcomes = {r.outcome for r in self.results.values()} | ({Outcome.ERROR} if self.collection_errors else set())
        return next((o.value for o in (Outcome.FAILED, Outcome.ERROR) if o in outcomes), Outcome.PASSED.value)

    def outcomes_by_host(self) -> dict[str, list[Outcome]]:
        by_host: dict[str, list[Outcome]] = {}
        for r in self.results.values():
            if r.host:
                by_host.setdefault(r.host, []).append(r.outcome)
        return by_host

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        for w in self.expired_waivers():
            tr.write_line(
                f"gpverify audit: waiver for {w.label()} EXPIRED on {w.expires.isoformat()}; it no longer waives"
            )
        for line in self.collection_errors:
            tr.write_line(f"gpverify audit: checks that could not be loaded: {line}")
        for w in self.unmatched_waivers():
            tr.write_line(f"gpverify audit: waiver #{w.index + 1} for {w.label()} matches no check in this run")
        waived = [r for r in self.results.values() if r.outcome is Outcome.WAIVED]
        if waived:
            tr.write_line(f"gpverify audit: {len(waived)} failing check(s) waived")

    # --- gpverify's report (--gpverify-html) -------------------------------------------------------------

    def pytest_gpverify_report_sections(self, config: pytest.Config) -> list[str]:
        self.finalize()
        sections: list[str] = [
            render.farm_picture(self.farm_info, self.outcomes_by_host()),
            render.audit_banner(self),
            render.changes_section(self.changes, self.previous),
        ]
        if self.baseline is not None:
            sections.append(render.baseline_section(self.baseline, self.baseline_drift or []))
        sections.append(render.waiver_section(self))
        return sections

    def pytest_gpverify_waiver_cell(self, waiver: dict[str, Any] | None) -> str:
        return render.waiver_cell(waiver)


def _waiver_reason(waiver: Waiver, message: str) -> str:
    return (
        f"waived: {waiver.label()} by {waiver.approver} (risk {waiver.risk}, until {waiver.expires.isoformat()}): "
        f"{waiver.justification} | failure: {message.splitlines()[0] if message else ''}"
    )


__all__ = ["WAIT_MARKER", "AuditPlugin"]
