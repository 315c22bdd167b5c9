"""The lab in a process of its own (gpverify.lab.process): what `gpverify audit --lab` starts before its imports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gpverify.errors import ConfigError
from gpverify.lab import process
from gpverify.lab.extension import EXTENSION
from gpverify.lab.password import LAB_PASSWORD_ENV
from gpverify.lab.process import lab_process
from gpverify.lab.runtime import RunningLab, temporary_lab

CANARY = "Canary-lab-pw-7f3e"  # must appear in no argv, environment or file of the lab's process
HANG_GUARD = 60.0  # seconds: only ends a test that would otherwise hang, never a speed bound


def winrm_ports(inventory: Path) -> list[int]:
    inv = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    hosts = [*inv["session_hosts"], *inv["clients"], inv["web_server"]]
    return [h["winrm"]["port"] for h in hosts if "winrm" in h]


def listens(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def gone(pid: int) -> bool:
    """The process has ended (and been reaped, or is a zombie of a parent that never waits)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_the_child_serves_the_scenario_its_inventory_names_and_holds_the_password_nowhere_but_the_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LAB_PASSWORD_ENV, CANARY)
    with temporary_lab("healthy") as inline:
        expected = yaml.safe_load(inline.inventory_path.read_text(encoding="utf-8"))
    with lab_process("healthy", prefix="gpverify-test-lab-") as lab:
        inventory = lab.inventory_path
        found = yaml.safe_load(inventory.read_text(encoding="utf-8"))
        ports = winrm_ports(inventory)
        assert ports and all(listens(p) for p in ports)
        # The same farm as a lab started in this process (its ports and folder apart).
        assert [h["name"] for h in found["session_hosts"]] == [h["name"] for h in expected["session_hosts"]]
        assert found["winrm"]["password_env"] == LAB_PASSWORD_ENV
        assert os.environ[LAB_PASSWORD_ENV] == CANARY  # what the checks of this process read
        if sys.platform.startswith("linux"):
            proc = Path(f"/proc/{lab.pid}")
            assert CANARY.encode() not in (proc / "cmdline").read_bytes()
            assert CANARY.encode() not in (proc / "environ").read_bytes()
        assert not [f for f in lab.workdir.rglob("*") if f.is_file() and CANARY.encode() in f.read_bytes()]
        workdir, pid = lab.workdir, lab.pid
    assert not workdir.exists()
    assert gone(pid)
    assert not any(listens(p) for p in ports)


def test_a_scenario_the_lab_cannot_load_is_the_same_bad_input_as_in_this_process() -> None:
    with pytest.raises(ConfigError) as inline, temporary_lab("no-such-scenario"):
        pass
    with pytest.raises(ConfigError) as child, lab_process("no-such-scenario") as lab:
        lab.inventory_path  # noqa: B018 - the wait for the child is the test
    assert str(child.value) == str(inline.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_child_stops_and_cleans_up_when_its_parent_goes_away_without_a_word(tmp_path: Path) -> None:
    # A parent that dies (os._exit: no context exit, as under kill -9) leaves the pipe to close by itself.
    code = (
        "import json, os\nfrom gpverify.lab.process import lab_process\nfrom test_lab_process import winrm_ports\n"
        "cm = lab_process('healthy')\nlab = cm.__enter__()\n"
        "print(json.dumps([lab.pid, str(lab.workdir), winrm_ports(lab.inventory_path)]), flush=True)\nos._exit(0)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    pid, workdir, ports = json.loads(proc.stdout)
    assert ports  # it served: the parent read its inventory
    deadline = time.monotonic() + HANG_GUARD  # the orphan is not ours to wait for: look until it has ended
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)
    assert not Path(workdir).exists()
    assert not any(listens(p) for p in ports)


def test_the_extension_starts_a_child_only_where_a_second_core_can_run_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process.PROCESS_ENV, "1")
    monkeypatch.setattr(process, "usable_cores", lambda: 1)
    assert not process.can_run_apart() and not process.start_apart()
    with EXTENSION.lab_process("healthy", prefix="gpverify-test-lab-") as lab:
        assert isinstance(lab, RunningLab) and lab.inventory_path.is_file()  # this process's own lab
    monkeypatch.setattr(process, "usable_cores", lambda: 2)
    assert process.can_run_apart() and process.start_apart()
    with EXTENSION.lab_process("healthy", prefix="gpverify-test-lab-") as lab:
        assert isinstance(lab, process.LabProcess) and lab.inventory_path.is_file()


@pytest.mark.parametrize(
    ("setting", "runnable", "apart"),
    [
        ("", 1, True),  # only this process runs: the other core is free
        ("", 2, False),  # another task runs: a second process would take this one's share
        ("", None, True),  # the system does not say (no /proc/loadavg): the cores are there
        ("1", 5, True),
        ("0", 1, False),
    ],
)
def test_unset_the_lab_runs_apart_when_a_core_is_free_now(
    monkeypatch: pytest.MonkeyPatch, setting: str, runnable: int | None, apart: bool
) -> None:
    monkeypatch.setenv(process.PROCESS_ENV, setting)
    monkeypatch.setattr(process, "usable_cores", lambda: 2)
    monkeypatch.setattr(process, "runnable_now", lambda: runnable)
    assert process.start_apart() is apart


def test_a_setting_it_does_not_know_is_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process.PROCESS_ENV, "yes")
    with pytest.raises(ConfigError, match=r"GPVERIFY_LAB_PROCESS: \(environment variable\): expected 1, 0 or unset"):
        process.start_apart()


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="Linux's")
def test_this_process_is_among_the_runnable_tasks() -> None:
    running = process.runnable_now()
    assert running is not None and running >= 1
