"""Resuming after SIGKILL, --redo, --dry-run, plan files refused, manual steps without a terminal."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpverify.cli.main import main
from helpers.runner import REPO, gpverify, only_run, state, write_plan

INVENTORY = str(REPO / "inventory.example.yml")


def local_plan(tmp: Path) -> Path:
    # s2 sleeps only on its first attempt (until the test kills the run), so the resumed run is quick.
    return write_plan(
        tmp / "plan.yml",
        f"""
phases:
  - phase: pre
    gate: false
    steps:
      - {{id: s1, kind: local, title: first, command: sh, args: [-c, "echo s1 >> {tmp}/counter"]}}
      - {{id: s2, kind: local, title: slow, command: sh,
          args: [-c, "echo s2 >> {tmp}/counter; [ -e {tmp}/resumed ] || sleep 30"]}}
      - {{id: s3, kind: local, title: last, command: sh, args: [-c, "echo s3 >> {tmp}/counter"]}}
""",
    )


def test_sigkill_mid_step_resumes_without_losing_or_repeating_a_step(tmp_path: Path, reports: Path) -> None:
    plan = local_plan(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "gpverify.cli.main",
        "upgrade",
        "--inventory",
        INVENTORY,
        "--plan",
        str(plan),
        "--reports",
        str(reports),
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = list(reports.glob("*/state.json")) if reports.exists() else []
            counter = tmp_path / "counter"
            # "started" is written before the step's process runs: wait until it has echoed too (a loaded
            # machine can take longer than the poll to start sh).
            if (
                runs
                and state(runs[0].parent)["items"].get("s2", {}).get("status") == "started"
                and counter.exists()
                and "s2" in counter.read_text().split()
            ):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never started step s2")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and the step it is running, like a power cut
        proc.wait()
    run = only_run(reports)
    assert state(run)["items"]["s1"]["status"] == "done"
    (tmp_path / "resumed").touch()

    resumed = gpverify("upgrade", "--resume", state(run)["run_id"], reports=reports)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    data = state(run)
    assert data["status"] == "complete"
    assert (tmp_path / "counter").read_text().split() == ["s1", "s2", "s2", "s3"]  # only s2, in progress, re-ran
    assert {i: e["attempts"] for i, e in data["items"].items()} == {"s1": 1, "s2": 2, "s3": 1}

    again = gpverify("upgrade", "--resume", reports=reports)
    assert "already complete" in again.stdout
    redo = gpverify("upgrade", "--resume", "--redo", "s1", reports=reports)
    assert redo.returncode == 0
    assert (tmp_path / "counter").read_text().split() == ["s1", "s2", "s2", "s3", "s1"]


def test_dry_run_touches_nothing(tmp_path: Path, reports: Path) -> None:
    lab = gpverify("upgrade", "--lab", "--dry-run", reports=reports)
    assert lab.returncode == 0, lab.stderr
    assert not reports.exists()
    lines = lab.stdout.splitlines()
    order = [ln.split(":")[0].split(". ")[-1] for ln in lines if ". " in ln[:6]]
    # The backups, then GP Utilities, then the pre gate's database checks (scale-out-upgrade.md: the databases
    # first); Tenant Services are updated after the preconditions and gated on their own, before the web server,
    # whose runtime paths the operator sets after its web components; Session Central restarted after the hosts.
    assert order[:7] == [
        "backup-databases",
        "gp-utilities",
        "gate-pre",
        "tenant-services-gp-ten01",
        "gate-tenant-services",
        "upgrade-gp-web01",
        "runtime-paths-gp-web01",
    ]
    assert (
        order.index("gate-hosts-gp-sh02") < order.index("restart-session-central-gp-web01") < order.index("gate-post")
    )
    assert "GP Configuration window" in lab.stdout
    assert "pytest checks/pre -k 'not GP-PRE-011 and not GP-PRE-012'" in lab.stdout
    assert order.index("gate-hosts-gp-sh01") < order.index("upgrade-gp-sh02")
    assert "msiexec /update" in lab.stdout
    real = gpverify("upgrade", "--inventory", INVENTORY, "--dry-run", reports=reports)
    assert "manual on gpweb01.contoso.local" in real.stdout and "Setup.exe" in real.stdout
    assert "GP Configuration window" in real.stdout and "Dynamics GP Utilities" in real.stdout
    assert not reports.exists()


BAD_PLANS = {
    "unknown phase": ("phases:\n  - phase: upgrade\n", "phases[0].phase", "'pre', 'web', 'hosts', 'post' or 'clients'"),
    "unknown host": ("phases:\n  - phase: hosts\n    host: gp-sh99\n", "phases[0].host", "a host of the inventory"),
    "step host": (
        (
            "phases:\n  - phase: web\n    steps:\n      - {id: a, kind: remote, title: t, host: nope, "
            "command: msiexec}\n"
        ),
        "phases[0].steps[0].host",
        "got 'nope'",
    ),
    "bad kind": (
        "phases:\n  - phase: pre\n    steps:\n      - {id: a, kind: ssh, title: t, command: x}\n",
        "phases[0].steps[0].kind",
        "'manual', 'remote' or 'local', got 'ssh'",
    ),
    "unknown field": ("phases:\n  - phase: pre\n    colour: red\n", "phases[0].colour", "a known field"),
    "remote without host": (
        ("phases:\n  - phase: pre\n    steps:\n      - {id: a, kind: remote, title: t, command: x}\n"),
        "phases[0].steps[0]",
        "needs 'host' and 'command'",
    ),
}


@pytest.mark.parametrize("case", BAD_PLANS)
def test_bad_plan_is_refused_before_anything_runs(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, field, expected = BAD_PLANS[case]
    plan = write_plan(tmp_path / "bad.yml", text)
    reports = tmp_path / "reports"
    code = main(["upgrade", "--inventory", INVENTORY, "--plan", str(plan), "--reports", str(reports)])
    err = capsys.readouterr().err.strip()
    assert code == 3  # bad input
    assert err.startswith(f"gpverify: {plan}: {field}: expected "), err
    assert expected in err and len(err.splitlines()) == 1
    assert not reports.exists()


def test_manual_step_without_a_terminal_stops_then_yes_confirms(tmp_path: Path, reports: Path) -> None:
    plan = write_plan(
        tmp_path / "plan.yml",
        """
phases:
  - phase: web
    gate: false
    steps:
      - id: web-server
        kind: manual
        host: gpweb01.contoso.local
        title: Upgrade the web server
        instructions: [Run Setup.exe from the media and upgrade the Web Components.]
""",
    )
    first = gpverify("upgrade", "--inventory", INVENTORY, "--plan", str(plan), reports=reports)
    assert first.returncode == 2  # could not run (waiting for an operator), not bad input
    assert "Run Setup.exe from the media" in first.stdout
    assert "is manual and needs an operator's confirmation, but there is no terminal" in first.stdout
    run = only_run(reports)
    assert state(run)["items"]["web-server"]["status"] == "waiting"

    alone = gpverify("upgrade", "--resume", "--yes", reports=reports)  # --yes is not a person
    assert alone.returncode == 3 and "--confirmed-by NAME" in alone.stderr
    assert state(run)["items"]["web-server"]["status"] == "waiting"

    second = gpverify("upgrade", "--resume", "--yes", "--confirmed-by", "Jane Doe", reports=reports)
    assert second.returncode == 0, second.stdout
    entry = state(run)["items"]["web-server"]
    assert (entry["status"], entry["confirmed_by"], entry["confirmed_how"], entry["confirmed_account"]) == (
        "done",
        "Jane Doe",
        "--yes",
        getpass.getuser(),
    )
    assert (
        f"confirmed by Jane Doe at {entry['confirmed_at']} (--yes; entered at the console of {getpass.getuser()})"
        in (run / "summary.txt").read_text()
    )


def test_a_run_in_use_is_not_resumed_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl

    reports = tmp_path / "reports"
    plan = write_plan(
        tmp_path / "plan.yml",
        "phases:\n  - phase: pre\n    gate: false\n    steps:\n"
        "      - {id: a, kind: local, title: t, command: 'true'}\n",
    )
    assert main(["upgrade", "--inventory", INVENTORY, "--plan", str(plan), "--reports", str(reports)]) == 0
    run = only_run(reports)
    with open(run / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code = main(["upgrade", "--resume", "--redo", "a", "--reports", str(reports)])
    assert code == 2
    assert "no other gpverify upgrade is running" in capsys.readouterr().err
    assert state(run)["items"]["a"]["attempts"] == 1


def test_manual_step_confirmed_at_a_terminal(tmp_path: Path) -> None:
    import io

    from gpverify.runner.engine import Context, Runner
    from gpverify.runner.plan import Phase, Plan, Step
    from gpverify.runner.state import RunState

    plan = Plan(
        phases=[
            Phase(
                phase="clients",
                gate=False,
                steps=[
                    Step(
                        id="cache",
                        kind="manual",
                        host="ws1",
                        title="Clear the cache",
                        instructions=["Delete temp files."],
                    )
                ],
            )
        ]
    )
    st = RunState.create(tmp_path, inventory="inv.yml", plan=plan.model_dump(mode="json"))
    asked: list[str] = []
    out = io.StringIO()
    answers = iter(["done", "  Jane   Doe "])
    ctx = Context(
        plan,
        st,
        Path("inv.yml"),
        Path("checks"),
        out=out,
        is_tty=lambda: True,
        ask=lambda prompt: asked.append(prompt) or next(answers),
    )
    assert Runner(ctx).run() == 0
    assert "1. Delete temp files." in out.getvalue()
    assert asked == [
        "Type 'done' when cache is finished (anything else stops the run): ",
        "Your name, recorded as who did cache: ",
    ]
    entry = st.item("cache")
    assert (entry.confirmed_by, entry.confirmed_how, entry.confirmed_account) == (
        "Jane Doe",
        "typed at the terminal",
        getpass.getuser(),
    )


def test_confirmed_by_given_is_not_asked_again(tmp_path: Path) -> None:
    import io

    from gpverify.runner.engine import Context, Runner
    from gpverify.runner.plan import Phase, Plan, Step
    from gpverify.runner.state import RunState

    plan = Plan(
        phases=[
            Phase(
                phase="clients",
                gate=False,
                steps=[Step(id="cache", kind="manual", title="Clear the cache", instructions=["Delete temp files."])],
            )
        ]
    )
    st = RunState.create(tmp_path, inventory="inv.yml", plan=plan.model_dump(mode="json"))
    asked: list[str] = []
    ctx = Context(
        plan,
        st,
        Path("inv.yml"),
        Path("checks"),
        out=io.StringIO(),
        is_tty=lambda: True,
        confirmed_by="Jane Doe",
        ask=lambda prompt: asked.append(prompt) or "done",
    )
    assert Runner(ctx).run() == 0
    assert len(asked) == 1 and st.item("cache").confirmed_by == "Jane Doe"


def test_a_manual_step_needs_a_name_at_the_terminal(tmp_path: Path) -> None:
    """'done' with no name is no confirmation: the run waits (exit 2); the next step offers the last name."""
    import io

    from gpverify.runner.engine import Context, Runner
    from gpverify.runner.plan import Phase, Plan, Step
    from gpverify.runner.state import RunState

    steps = [Step(id=s, kind="manual", title=s, instructions=["Do it."]) for s in ("one", "two")]
    plan = Plan(phases=[Phase(phase="clients", gate=False, steps=steps)])
    st = RunState.create(tmp_path, inventory="inv.yml", plan=plan.model_dump(mode="json"))
    ctx = Context(
        plan,
        st,
        Path("inv.yml"),
        Path("checks"),
        out=io.StringIO(),
        is_tty=lambda: True,
        ask=lambda prompt: "done" if prompt.startswith("Type") else "",
    )
    assert Runner(ctx).run() == 2
    assert st.item("one").status == "waiting" and st.record.status == "stopped"
    asked: list[str] = []
    answers = iter(["done", "Jane Doe", "done", ""])
    ctx = Context(
        plan,
        st,
        Path("inv.yml"),
        Path("checks"),
        out=io.StringIO(),
        is_tty=lambda: True,
        ask=lambda prompt: asked.append(prompt) or next(answers),
    )
    assert Runner(ctx).run() == 0
    assert asked[-1] == "Your name, recorded as who did two [Jane Doe]: "
    assert st.item("two").confirmed_by == "Jane Doe"


def test_a_gate_that_collects_no_check_fails(tmp_path: Path, reports: Path) -> None:
    plan = write_plan(
        tmp_path / "typo.yml",
        """
phases:
  - {phase: pre, select: "no_such_check"}
""",
    )
    run = gpverify("upgrade", "--lab", "--plan", str(plan), reports=reports)
    assert run.returncode == 2, run.stdout  # could not run: nothing was checked, so no check failed
    assert "gate gate-pre could not run: no checks" in run.stdout
    assert "no checks were collected from checks/pre (select 'no_such_check')" in run.stdout + run.stderr
