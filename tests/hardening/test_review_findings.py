"""Issue 23: each finding of the independent review, through the real command (`gpverify ...` in a process of its
own where a hang or an exit matters, in this process where a message does). The PostgreSQL lock is in
tests/history/test_history_locks.py (it needs that folder's PostgreSQL cluster)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardening_support import REPO, hardening_figures  # noqa: F401

from gpverify.errors import UnsafeQuery
from gpverify.transport.sqlguard import check_read_only
from helpers.cli import run

GPVERIFY = str(Path(sys.executable).parent / "gpverify")
EXAMPLE = REPO / "inventory.example.yml"
POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


def gpverify(*argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A real gpverify process; a hang is a failure of the test (TimeoutExpired), never a stuck suite."""
    return subprocess.run(
        [GPVERIFY, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def inventory(tmp_path: Path, change: dict[str, Any] | None = None, name: str = "inventory.yml", **top: Any) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["winrm"].pop("ca_bundle")  # a file of the example farm, absent here
    for key, value in (change or {}).items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value
    data.update(top)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


# --- a false pass: an extra fact replacing a shipped one ---------------------------------------------------

SHADOW = {"session_hosts": {"services": {"session_service": {"name": "GPDexterityServiceControl"}}}}


def test_an_extra_fact_cannot_replace_a_shipped_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(["inventory", "check", str(inventory(tmp_path, extra_facts=SHADOW))], capsys)
    assert code == 3
    assert (
        "extra_facts.session_hosts.services.session_service" in text and "shipped fact services.session_service" in text
    ), text
    assert len(text.strip().splitlines()) == 1
    # an extra fact of a name of its own is added, as before
    own = {"session_hosts": {"services": {"acme_session_service": {"name": "GPDexterityServiceControl"}}}}
    assert run(["inventory", "check", str(inventory(tmp_path, extra_facts=own))], capsys)[0] == 0


def test_the_false_pass_on_the_lab_is_refused_before_any_check(tmp_path: Path) -> None:
    """The review's case: the Session Service stopped, the site inventory's extra fact naming another service
    under the shipped key. GP-POST-002 passed; now nothing runs and the run says why."""
    site = tmp_path / "site.yml"
    site.write_text(yaml.safe_dump({"extra_facts": SHADOW}))
    proc = gpverify("run", "post", "--lab", "session-service-stopped", "--inventory", str(site), "-k", "GP-POST-002")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "would replace the shipped fact services.session_service" in proc.stdout + proc.stderr
    assert " passed" not in proc.stdout


# --- data loss: lab --dir ------------------------------------------------------------------------------------


def test_lab_never_empties_a_folder_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "work"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work")
    code, text = run(["lab", "--dir", str(mine), "--idle-timeout", "0.1"], capsys)
    assert code == 3 and "nothing was deleted" in text and "--dir" in text, text
    assert (mine / "thesis.docx").read_text() == "years of work"


def test_lab_reuses_its_own_folder_and_keeps_what_is_not_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    assert gpverify("lab", "--dir", str(folder), "--idle-timeout", "0.2").returncode == 0
    (folder / "notes.txt").write_text("mine")
    proc = gpverify("lab", "--dir", str(folder), "--idle-timeout", "0.2")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "inventory.yml").is_file()


# --- unbounded waits: special files --------------------------------------------------------------------------


@POSIX
@pytest.mark.parametrize("where", ["web_server.ca_bundle", "winrm.ca_bundle", "winrm.cert_pem"])
def test_a_named_pipe_as_a_pem_file_is_refused_not_opened(tmp_path: Path, fifo: Path, where: str) -> None:
    proc = gpverify("inventory", "check", str(inventory(tmp_path, {where: str(fifo)})), timeout=120)
    assert proc.returncode == 3 and "named pipe" in proc.stdout, proc.stdout + proc.stderr


@POSIX
def test_a_named_pipe_as_the_history_is_refused_not_opened(
    tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["fleet"], ["history"], ["baseline", "diff", "last", "baseline"]):
        code, text = run([*command, "--history", str(fifo), "--reports", str(tmp_path)], capsys)
        assert code == 3 and "named pipe" in text, (command, text)
    code, text = run(["inventory", "check", str(inventory(tmp_path, history=str(fifo)))], capsys)
    assert code == 3 and "history: expected the history file to be a regular file (this is a named pipe)" in text


@POSIX
def test_an_audit_whose_history_file_is_a_named_pipe_ends_with_its_reports(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    os.mkfifo(reports / "history.sqlite")
    proc = gpverify("audit", "--lab", "--reports", str(reports))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "could not record this run in the history" in proc.stderr and "named pipe" in proc.stderr
    assert list(reports.glob("audit-*-unrecorded.html")) and list(reports.glob("audit-*-unrecorded.json"))


# --- secrets -------------------------------------------------------------------------------------------------

SECRET = "Hist-Secr3t-Canary-4411"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://gpverify@127.0.0.1/history?password={SECRET}",
        f"postgresql://gpverify@127.0.0.1/history?sslpassword={SECRET}",
        f"postgresql://gpverify:{SECRET}@127.0.0.1/history",
        f"postgresql://gpverify@127.0.0.1/history#{SECRET}",
    ],
)
def test_a_password_in_any_part_of_the_history_url_is_refused_unseen(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["fleet", "--history", url],
        ["history", "--history", url],
        ["audit", "--lab", "--history", url, "--reports", str(tmp_path / "r")],
    ):
        code, text = run(argv, capsys)
        assert code == 3 and "holds a password" in text and SECRET not in text, (argv, text)
    code, text = run(["inventory", "check", str(inventory(tmp_path, history=url))], capsys)
    assert code == 3 and "history" in text and SECRET not in text, text
    assert not (tmp_path / "r").exists()


def test_query_values_of_a_history_url_are_masked_in_messages() -> None:
    from gpverify.history.target import resolve_target

    target = resolve_target(
        "postgresql://gpverify@db.example.com/history?sslmode=require&sslkey=/k/key.pem",
        setting="--history",
        reports=Path("."),
    )
    assert "require" not in target.display and "/k/key.pem" not in target.display
    assert target.display.startswith("postgresql://gpverify@db.example.com/history?")


def test_a_local_step_printing_the_history_password_stores_it_nowhere(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text(
        yaml.safe_dump(
            {
                "phases": [
                    {
                        "phase": "pre",
                        "gate": False,
                        "steps": [
                            {
                                "id": "echo-secret",
                                "kind": "local",
                                "title": "A script that prints its environment",
                                "command": "sh",
                                "args": ["-c", "env; echo history password: $GPVERIFY_HISTORY_PASSWORD"],
                            }
                        ],
                    }
                ]
            }
        )
    )
    reports = tmp_path / "reports"
    proc = gpverify(
        "upgrade",
        "--inventory",
        str(EXAMPLE),
        "--plan",
        str(plan),
        "--yes",
        "--confirmed-by",
        "tester",
        "--reports",
        str(reports),
        env={"GPVERIFY_HISTORY_PASSWORD": SECRET, "GPVERIFY_WINRM_PASSWORD": "Winrm-Secr3t-77"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = [p for p in reports.rglob("*") if p.is_file()]
    state = next(p for p in files if p.name == "state.json")
    assert "history password: [redacted]" in state.read_text()
    for secret in (SECRET, "Winrm-Secr3t-77"):
        assert not [p for p in files if secret.encode() in p.read_bytes()], secret
        assert secret not in proc.stdout + proc.stderr


# --- the SQL guard -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["srv...t", "srv.db..t", "[LNK]..[dbo].[SY01500]", "[LNK].[DYNAMICS]..[SY01500]", "srv.db.dbo.t", "....t"]
)
def test_linked_server_names_with_omitted_parts_are_refused(name: str) -> None:
    with pytest.raises(UnsafeQuery, match="four parts|first part left out"):
        check_read_only(f"SELECT * FROM {name}", source="review")
    with pytest.raises(UnsafeQuery):
        check_read_only(f"SELECT a FROM t WHERE a IN (SELECT b FROM {name})", source="review")


def test_three_part_names_with_the_default_schema_are_still_read() -> None:
    check_read_only("SELECT * FROM DYNAMICS..SY01500", source="review")
    check_read_only("SELECT * FROM DYNAMICS.dbo.SY01500", source="review")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + "(" * 3000 + "1" + ")" * 3000,
        "SELECT " + "NOT " * 3000 + "1 = 1",
        "SELECT 1 WHERE " + " AND ".join(["(1 = 1)"] * 3000),
    ],
)
def test_deep_nesting_is_a_clean_refusal(sql: str) -> None:
    try:
        check_read_only(sql, source="review")
    except UnsafeQuery as exc:
        assert "review:" in str(exc)  # a refusal, never a RecursionError


# --- values out of range, one message each ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["fleet", "--silent-after", "1e300"], "--silent-after"),
        (["fleet", "--silent-after", "nan"], "--silent-after"),
        (["history", "--last", "1_000"], "--last"),
        (["baseline", "diff", "99999999999999999999999", "last"], "a recorded audit run id"),
        (["run", "pre", "--lab", "--backups-since", "9999-12-31T23:59:59-12:00"], "exists in UTC"),
    ],
)
def test_numbers_and_dates_out_of_range_are_one_message(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] in ("history", "baseline"):
        _history(tmp_path)
        argv = [*argv, "--reports", str(tmp_path)]
    if argv[0] == "run":  # pytest reads its options in this process: a process of its own
        proc = gpverify(*argv)
        code, text = proc.returncode, proc.stdout + proc.stderr
    else:
        code, text = run(argv, capsys)
    assert code == 3 and words in text and "Traceback" not in text, text


def test_a_date_past_what_utc_holds_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, {"backups.since": "9999-12-31T23:59:59-12:00"})
    code, text = run(["inventory", "check", str(path)], capsys)
    assert code == 3 and "backups.since: expected" in text and "a date-time that exists in UTC" in text, text


def _history(folder: Path) -> None:
    from gpverify.history.store import History

    with History(folder / "history.sqlite") as history:
        run_id = history.start_run("farm", "inv.yml")
        history.finish_run(
            run_id, status="passed", exit_code=0, waited=0, rounds=1, reports={}, results=[], facts={"h": {"a": 1}}
        )


@pytest.mark.parametrize("argv", [["audit", "--lab"], ["upgrade", "--lab", "--dry-run"], ["run", "post", "--lab"]])
def test_an_unterminated_quote_in_pytest_addopts_is_one_message(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", '-k "GP-POST')
    code, text = run([*argv, *(["--reports", str(tmp_path / "r")] if argv[0] != "run" else [])], capsys)
    assert code == 3 and "PYTEST_ADDOPTS" in text and "No closing quotation" in text, text
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "--lab"],
        ["history"],
        ["fleet"],
        ["upgrade", "--lab", "--dry-run"],
        ["report"],
        ["demo"],
        ["baseline", "diff", "last", "baseline"],
    ],
)
def test_a_file_as_the_reports_folder_is_one_message(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run([*command, "--reports", "/etc/hostname"], capsys)
    assert code == 3 and "--reports: expected a folder for reports, but /etc/hostname is a regular file" in text


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux's")
def test_a_device_as_an_output_file_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _history(tmp_path)
    code, text = run(["history", "--reports", str(tmp_path), "--html", "/dev/full"], capsys)
    assert code == 3 and "--html: expected an HTML page to write" in text and "character device" in text
    code, text = run(["fleet", "--reports", str(tmp_path), "--output", "/dev/full"], capsys)
    assert code == 3 and "character device" in text
    proc = gpverify("run", "post", "--lab", "--html", "/dev/full")
    assert proc.returncode == 3 and "--html: expected a report file to write" in proc.stdout + proc.stderr


# --- the history: damaged rows, foreign files ----------------------------------------------------------------


def test_a_damaged_history_row_is_skipped_and_the_audit_writes_its_reports(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    farm = {"GPVERIFY_LAB_FARM": "review farm"}
    assert gpverify("audit", "--lab", "--reports", str(reports), env=farm).returncode == 0
    db = sqlite3.connect(reports / "history.sqlite")
    db.execute("UPDATE facts SET facts = '{not json'")
    db.execute("UPDATE runs SET started = 'yesterday'")
    db.commit()
    db.close()
    proc = gpverify("audit", "--lab", "--reports", str(reports), env=farm)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "run #1 is damaged and was skipped" in proc.stderr
    assert len(list(reports.glob("audit-*-run2.html"))) == 1 and len(list(reports.glob("audit-*-run2.json"))) == 1
    again = gpverify("history", "--reports", str(reports))
    assert again.returncode == 0 and "run #1 is damaged and was skipped" in again.stderr, again.stderr
    assert "#2" in again.stdout
    assert gpverify("fleet", "--reports", str(reports)).returncode == 0  # its row is the sound run #2


@pytest.mark.parametrize("make", ["tables", "user_version"])
def test_a_sqlite_file_gpverify_did_not_make_is_never_written(
    make: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    path = reports / "history.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER, name TEXT)" if make == "tables" else "PRAGMA user_version = 42")
    db.commit()
    db.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for command in (["fleet"], ["history"], ["baseline", "diff", "last", "baseline"]):
        code, text = run([*command, "--reports", str(reports)], capsys)
        assert code == 4 and "a SQLite database gpverify did not make" in text, (command, text)
    proc = gpverify("audit", "--lab", "--reports", str(reports))
    assert proc.returncode == 4 and "did not make" in proc.stderr, proc.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not list(reports.glob("history.sqlite.damaged-*"))  # not set aside either: it is someone's data


# --- silent acceptance at load -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"sql.lab_dir": "/srv/sqlite"}, "no sql.lab_dir in the inventory of a real farm"),
        ({"session_hosts.0.address": "::"}, "unspecified address"),
        ({"session_hosts.0.address": "ff02::1"}, "multicast address"),
        ({"session_hosts.0.address": "fe80::1%eth0"}, "without a zone ID"),
        ({"session_hosts.0.address": "255.255.255.255"}, "broadcast address"),
        ({"farm": "Contoso\x00GP"}, "control characters"),
        ({"session_hosts.0.name": "gpsh01\x00.contoso.local"}, "session_hosts[0].name: expected a host name"),
        ({"sql.config_database": "GPCONFIG\x00URATION"}, "control characters"),
        ({"history": "mysql://u@h/db"}, "an engine gpverify does not support"),
    ],
)
def test_inventories_refused_at_load(
    change: dict[str, Any], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(["inventory", "check", str(inventory(tmp_path, change))], capsys)
    assert code == 3 and words in text and len(text.strip().splitlines()) == 1, text


def test_an_ipv6_address_is_connected_to_in_brackets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(["inventory", "check", str(inventory(tmp_path, {"session_hosts.0.address": "fd00::10"}))], capsys)
    assert code == 0 and "https://[fd00::10]:5986/wsman" in text, text


def test_upgrade_checks_that_do_not_exist_are_refused_in_a_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(["upgrade", "--lab", "--checks", str(tmp_path / "missing"), "--dry-run"], capsys)
    assert code == 3 and "--checks: expected a folder of your own checks" in text and "(no such folder)" in text
    (tmp_path / "a-file").write_text("x")
    code, text = run(["upgrade", "--lab", "--checks", str(tmp_path / "a-file"), "--dry-run"], capsys)
    assert code == 3 and "(a file, not a folder)" in text, text
    code, text = run(["upgrade", "--lab", "--checks", "x" * 5000, "--dry-run"], capsys)
    assert code == 3 and "cannot be read" in text and "Traceback" not in text, text


SCENARIOS = {
    "a service field the lab has none of": "hosts:\n  gp-sh02:\n    services:\n      session_service: {colour: red}\n",
    "a service status that is no text": "hosts:\n  gp-sh02:\n    services:\n      session_service: {status: [1]}\n",
    "a certificate field of the wrong type": "hosts:\n  gp-cl001:\n    certificates:\n      trusted_publisher_store:"
    "\n        - {subject: CN=x, issuer: CN=y, not_after: soon}\n",
    "a certificate without a subject": "hosts:\n  gp-cl001:\n    certificates:\n      trusted_publisher_store:\n"
    "        - {issuer: CN=y, not_after: 10}\n",
    "the web server removed": "remove_hosts: [gp-web01]\n",
    "a certificate past what a date holds": "web_site: {cert_days_left: 100000000}\n",
    "a name field set by the file": "name: other\n",
}


@pytest.mark.parametrize("case", sorted(SCENARIOS))
def test_scenario_overlays_with_unknown_or_wrong_fields_are_one_message(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "overlay.yml"
    path.write_text("description: review\n" + SCENARIOS[case])
    for argv in (
        ["lab", "--scenario", str(path), "--dir", str(tmp_path / "lab"), "--idle-timeout", "0.1"],
        ["upgrade", "--lab", str(path), "--dry-run"],
    ):
        code, text = run(argv, capsys)
        assert code == 3 and str(path) in text and "expected" in text and "Traceback" not in text, (argv, text)


PLANS = {
    "NUL in a command": 'command: "date\\0"',
    "an unterminated quote in a command": 'command: "sh -c \'echo"',
    "NUL in an argument": 'command: echo\n        args: ["a\\0b"]',
}


@pytest.mark.parametrize("case", sorted(PLANS))
def test_a_plan_a_real_run_would_fail_on_is_refused_in_the_dry_run(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.yml"
    path.write_text(
        "phases:\n  - phase: pre\n    gate: false\n    steps:\n      - id: s1\n        kind: local\n"
        f"        title: t\n        {PLANS[case]}\n"
    )
    code, text = run(["upgrade", "--inventory", str(EXAMPLE), "--plan", str(path), "--dry-run"], capsys)
    assert code == 3 and str(path) in text and "Traceback" not in text, text


def test_a_gate_name_too_long_for_a_file_name_is_refused_in_the_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.yml"
    path.write_text(f"phases:\n  - phase: post\n    name: {'g' * 300}\n")
    code, text = run(["upgrade", "--inventory", str(EXAMPLE), "--plan", str(path), "--dry-run"], capsys)
    assert code == 3 and "phases[0].name" in text and "at most 64 characters" in text, text


# --- leftovers: a killed lab's password file -----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is POSIX")
def test_a_killed_lab_leaves_no_password_file(tmp_path: Path) -> None:
    """The review found a killed lab's NTLM password file under /tmp. The lab's NTLM acceptor now keeps the
    account's keys in memory (lab/wsman/ntlm.py, issue 25), so a lab killed with -9 leaves the password in no file
    of the temporary folder; only its own --dir holds it, in the private lab.env it hands to another shell."""
    temp, folder, password = tmp_path / "tmp", tmp_path / "lab", "Lab-Kill-Canary-9931"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "GPVERIFY_LAB_PASSWORD": password}
    proc = subprocess.Popen(
        [GPVERIFY, "lab", "--dir", str(folder), "--idle-timeout", "600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not (folder / "lab.env").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, "the lab ended before it was up"
            time.sleep(0.2)
        assert (folder / "lab.env").exists(), "the lab did not come up: the test would prove nothing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = [p for p in temp.rglob("*") if p.is_file() and password.encode() in p.read_bytes()]
    assert not left, left
    assert (folder / "lab.env").stat().st_mode & 0o077 == 0  # the one copy: readable by its owner only


# --- input surfaces that came with main: declarative check files, --confirmed-by --------------------------------

CHECK_FILE = """checks:
  - id: ACME-001
    title: The Session Service runs.
    impact: high
    role: session_host
    service: {{name: {name}}}
    remediation: "{remediation}"
"""


@pytest.mark.parametrize(
    ("name", "remediation", "field"),
    [
        ("DynamicsGPSessionService", "Start it.\\x1b[31m", "checks[0].remediation"),
        ('"Dynamics\\x00GP"', "Start it.", "checks[0].service.name"),
        ("DynamicsGPSessionService", "Start it.\\x07", "checks[0].remediation"),
    ],
)
def test_a_check_file_with_control_characters_is_one_message(
    name: str, remediation: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A declarative check file is on the one strict schema base (config/schema.py): a control character in any
    text (an escape sequence in a remediation, a NUL in a service name) is refused as the file is read."""
    folder = tmp_path / "checks"
    folder.mkdir()
    (folder / "acme.checks.yml").write_text(CHECK_FILE.format(name=name, remediation=remediation), encoding="utf-8")
    code, text = run(["checks", "--checks", str(folder)], capsys)
    assert code == 3 and field in text and "control character" in text and "Traceback" not in text, text


@pytest.mark.parametrize("name", ["", "   ", "Jane\x1b[2JDoe", "J" * 201])
def test_confirmed_by_is_a_persons_name_on_one_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--confirmed-by is written into the run record and printed in the sign-off record: no blank, no escape
    sequence, no name longer than a line."""
    code, text = run(["upgrade", "--inventory", str(EXAMPLE), "--dry-run", "--yes", "--confirmed-by", name], capsys)
    assert code == 3 and "--confirmed-by" in text and "Traceback" not in text, text


@pytest.mark.parametrize("risk", ["\u1680\x1fcritical\u2006", "low\x1c", "\x1dmedium"])
def test_a_control_character_trimmed_away_is_still_refused(risk: str, tmp_path: Path) -> None:
    """Found by make fuzz: Python's strip() also removes the separators \\x1c-\\x1f, so a waiver's risk that a
    normaliser trimmed reached the model clean. Text is checked for control characters before it is trimmed."""
    from gpverify.audit.waivers import load_waivers
    from gpverify.errors import ConfigError

    path = tmp_path / "waivers.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "check": "GP-POST-002",
                        "justification": "rebuilt",
                        "approver": "jane",
                        "risk": risk,
                        "created": "2026-11-20",
                        "expires": "2026-12-20",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_waivers(path)
    assert "risk" in str(refused.value) and "control character" in str(refused.value), refused.value
