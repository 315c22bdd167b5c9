"""Every fault scenario on the lab, with a recognisable password: the run completes, only the faulty host or
database errors (naming it and the cause), nothing but the collector and SELECTs are sent, and no written
file (HTML, JUnit, log) nor the console holds the password in any form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hardening_support import CANARY, FIGURES, SuiteRun, hardening_figures, run_suite, search_secret  # noqa: F401

from gpverify.lab.runtime import LAB_PASSWORD_ENV, RunningLab, start_lab
from gpverify.transport import odbc
from gpverify.transport.sqlguard import check_read_only

DATABASES = (
    "DYNAMICS",
    "GPCONFIGURATION",
    "TWO",
    "CONTO",
    "tempdb",
    "DYNGPDISCOVERY",
    "GPWEBCLIENTSESSIONCENTRAL",
    "msdb",
)
# scenario -> (what the errors must name, the cause they must give)
FAULTS: dict[str, tuple[str, str]] = {
    "fault-host-unreachable": ("gp-sh02", "connection refused"),
    "fault-name-unresolvable": ("gp-sh02", "does not resolve"),
    "fault-connection-reset": ("gp-sh02", "connection was reset"),
    "fault-slow-host": ("gp-sh02", "no answer within"),
    "fault-operation-timeout": ("gp-sh02", "did not finish"),
    "fault-credentials-rejected": ("gp-sh01", "credentials rejected"),
    "fault-tls-name-mismatch": ("gp-sh02", "does not match the name"),
    "fault-tls-untrusted": ("gp-sh02", "not trusted"),
    "fault-unencrypted-refused": ("gp-sh01", "refused an unencrypted request"),
    "fault-malformed-json": ("gp-sh02", "malformed collector output"),
    "fault-truncated-output": ("gp-sh02", "malformed collector output"),
    "fault-clixml-error": ("gp-sh01", "Access denied"),
    "fault-sql-unreachable": ("DYNAMICS", "cannot reach SQL Server"),
    "fault-sql-login-failed": ("DYNAMICS", "login failed"),
    "fault-database-missing": ("DYNAMICS", "does not exist"),
    # Hostile endpoints (issue 14): each costs only its own host, and ends within the lab's deadline.
    "fault-http-200-html": ("gp-sh02", "not a WinRM listener"),
    "fault-bad-negotiate": ("gp-sh02", "not NTLM/Negotiate"),
    "fault-huge-body": ("gp-sh02", "too large for WS-Management"),
    "fault-trickle": ("gp-sh02", "deadline of 8 s"),
}
_BASELINE: dict[str, str] = {}


def _database_digests(lab: RunningLab) -> dict[str, str]:
    """SHA-256 of every file of the lab's databases: the lab's own record, independent of the guard under test."""
    import hashlib

    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((lab.workdir / "sql").glob("*"))
        if p.is_file()
    }


class _Recorder:
    """Records every SQL text and its parameters that reach a connection (in-process runs share the module)."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, str, tuple[Any, ...]]] = []
        self.databases_before: dict[str, str] = {}
        self.databases_after: dict[str, str] = {}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = odbc.SqlConnection.query

        def query(conn: odbc.SqlConnection, name: str, sql: str, params: Any = ()) -> Any:
            self.queries.append((name, sql, tuple(params)))
            return original(conn, name, sql, params)

        monkeypatch.setattr(odbc.SqlConnection, "query", query)


def _run(
    scenario: str, pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tag: str
) -> tuple[SuiteRun, RunningLab, _Recorder]:
    monkeypatch.setenv(LAB_PASSWORD_ENV, CANARY)  # before the lab starts: the lab and the suite both use it
    recorder = _Recorder()
    recorder.install(monkeypatch)
    lab = start_lab(scenario, tmp_path / f"lab-{tag}")
    recorder.databases_before = _database_digests(lab)
    try:
        run = run_suite(pytester, lab.inventory_path, pytester.path / f"out-{tag}")
    finally:
        lab.stop()
    recorder.databases_after = _database_digests(lab)
    return run, lab, recorder


def _assert_read_only(lab: RunningLab, recorder: _Recorder) -> None:
    kinds = [(name, c.kind) for name, host in lab.hosts.items() for c in host.received]
    writes = [k for k in kinds if k[1] != "collector"]
    FIGURES["writes sent during checks"] += len(writes)
    # One collector run per reachable host; a host that keeps answering w:TimedOut sees the same command again
    # at each Receive, so hosts are counted, not records.
    FIGURES["hosts collected from (collector only)"] += sum(1 for host in lab.hosts.values() if host.received)
    assert not writes, f"commands other than the collector were sent: {writes}"
    for name, sql, params in recorder.queries:
        check_read_only(sql, source=name)  # raises UnsafeQuery for anything but one read-only query
        assert all(not isinstance(p, str) or p not in sql for p in params if p)  # values bound, not spliced
    FIGURES["SQL queries observed"] += len(recorder.queries)
    # Independent of check_read_only: the lab's database files are byte for byte what they were before the run.
    changed = sorted(n for n, d in recorder.databases_after.items() if recorder.databases_before.get(n) != d)
    FIGURES["lab database files changed (independent write recorder)"] += len(changed)
    assert recorder.databases_before and not changed, changed


def _assert_no_secret(run: SuiteRun) -> None:
    files = [p for p in run.outdir.parent.rglob("*") if p.is_file()]
    hits, searched = search_secret(CANARY, files, {"console output": run.stdout})
    FIGURES["output files searched"] += searched
    FIGURES["secrets found in outputs"] += len(hits)
    assert {"junit.xml", "report.html", "pytest.log"} <= {p.name for p in run.outdir.iterdir()}
    assert not hits, hits
    # NTLM messages (base64 "TlRMTVNT" = "NTLMSS") can be cracked offline: none in the DEBUG log, report or console.
    tokens = [p.name for p in files if b"TlRMTVNT" in p.read_bytes()] + (
        ["console"] if "TlRMTVNT" in run.stdout else []
    )
    assert not tokens, tokens


def _baseline(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if not _BASELINE:
        run, lab, recorder = _run("healthy", pytester, tmp_path, monkeypatch, "healthy")
        assert run.outcomes and "INTERNALERROR" not in run.stdout, run.stdout
        _assert_read_only(lab, recorder)
        _assert_no_secret(run)
        _BASELINE.update(run.outcomes)
    return dict(_BASELINE)


def test_healthy_lab_sends_only_the_collector_and_selects(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = _baseline(pytester, tmp_path, monkeypatch)
    assert "error" not in baseline.values(), baseline


def test_redactor_keeps_skip_reports_usable(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LAB_PASSWORD_ENV, CANARY)
    lab = start_lab("healthy", tmp_path / "lab")
    try:
        run = run_suite(pytester, lab.inventory_path, pytester.path / "out")
    finally:
        lab.stop()
    # Regression (fixed in be370f6): redacting a skip's longrepr tuple into a str crashed JUnit and -v.
    assert "INTERNALERROR" not in run.stdout and run.with_outcome("skipped")


@pytest.mark.parametrize("scenario", sorted(FAULTS))
def test_fault_is_an_error_of_its_target_only_and_leaks_nothing(
    scenario: str, pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, cause = FAULTS[scenario]
    baseline = _baseline(pytester, tmp_path, monkeypatch)
    run, lab, recorder = _run(scenario, pytester, tmp_path, monkeypatch, "fault")

    # The run completed: every check of the healthy run ran and has an outcome; no internal error.
    assert set(run.outcomes) == set(baseline), run.stdout
    assert "INTERNALERROR" not in run.stdout
    # Only the target's checks changed, each to an error (not a failure) naming the target and the cause.
    changed = {t for t in baseline if run.outcomes[t] != baseline[t]}
    assert changed, f"{scenario}: no check was affected"
    for test in changed:
        message = run.messages[test]
        assert message.startswith("could not read the facts: "), (test, message)
        if target in DATABASES:
            # Known gap (plugin/fixtures, not this module): SQL is read lazily inside the check, so pytest
            # reports these as failures of the call phase, in one line, not as setup errors.
            assert run.outcomes[test] in ("error", "failed"), (test, message)
        else:
            assert run.outcomes[test] == "error", (test, message)
        names = (target,) if target not in DATABASES else DATABASES
        assert any(n in message for n in names) and cause in message, (test, message)
        assert "Traceback" not in message
    # Checks parametrized by another host, or reading only SQL, keep their healthy outcome (changed is only the
    # target's); the host's own service check is among the errors.
    assert any(target in run.messages[t] for t in changed)
    if target not in DATABASES:
        assert f"checks/post/test_services.py::test_session_service_is_running[GP-POST-002-{target}]" in changed
    # Errors only, no check failed: could not run, exit 2 (gpverify.exitcodes; the plugin sets it), not pytest's 1.
    if target not in DATABASES:
        assert run.with_outcome("failed") == sorted(t for t, o in baseline.items() if o == "failed")
    assert run.ret == (1 if run.with_outcome("failed") else 2)

    _assert_read_only(lab, recorder)
    _assert_no_secret(run)
    FIGURES["fault scenarios survived"] += 1


@pytest.mark.parametrize("scenario", sorted(FAULTS))
def test_audit_of_each_fault_exits_with_error_code_and_writes_no_secret(scenario: str, tmp_path: Path) -> None:
    """`gpverify audit` (post + client checks, unattended): its HTML, JUnit, JSON and history.sqlite too."""
    import os
    import subprocess
    import sys

    reports = tmp_path / "reports"
    env = {**os.environ, LAB_PASSWORD_ENV: CANARY}
    gpverify = Path(sys.executable).with_name("gpverify")
    done = subprocess.run(
        [str(gpverify), "audit", "--lab", scenario, "--reports", str(reports)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    target, _ = FAULTS[scenario]
    # 2 = a check could not run (host/database unreadable), 1 would be a check failure. The audit's checks
    # (post, clients) never read the system database DYNAMICS, so dropping it leaves the audit green.
    expected = 0 if scenario == "fault-database-missing" else 2
    assert done.returncode == expected, done.stdout + done.stderr
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".json", ".xml", ".sqlite"}
    hits, searched = search_secret(CANARY, files, {"stdout": done.stdout, "stderr": done.stderr})
    FIGURES["output files searched"] += searched
    FIGURES["secrets found in outputs"] += len(hits)
    assert not hits, hits
    if expected == 2:  # the JSON record names the host, or a database for the SQL faults
        record = "".join(p.read_text(errors="replace") for p in files if p.suffix == ".json")
        assert any(n in record for n in ((target,) if target not in DATABASES else DATABASES))
    FIGURES["fault scenarios survived by gpverify audit"] += 1


def test_the_secret_search_finds_every_form_it_looks_for(tmp_path: Path) -> None:
    """Positive control: zero hits above mean absent, not unsearched."""
    import base64

    planted = {
        "plain.txt": f"x{CANARY}y".encode(),
        "utf16.bin": f"x{CANARY}y".encode("utf-16-le"),
        "b64.json": b'{"a": "' + base64.b64encode(CANARY.encode()) + b'"}',
        "b64-utf16.xml": base64.b64encode(CANARY.encode("utf-16-le")),
        "basic.log": b"Authorization: Basic " + base64.b64encode(f"LAB\\gpadmin:{CANARY}".encode()),
        "b64-inside.txt": base64.b64encode(b"user=x;password=" + CANARY.encode() + b";"),
    }
    for name, data in planted.items():
        (tmp_path / name).write_bytes(data)
    hits, searched = search_secret(CANARY, sorted(tmp_path.iterdir()))
    assert searched == len(planted) and {Path(h.where).name for h in hits} == set(planted)
    assert search_secret(CANARY, [], {"console": "nothing here"}) == ([], 0)
