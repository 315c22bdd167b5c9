"""The runner under hostile conditions: endless step output, an unwritable reports folder, a kill after
"complete", and run ids that point outside the reports folder."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardening_support import REPO, hardening_figures  # noqa: F401

from gpverify.cli.main import main
from gpverify.runner.engine import LINE_CHARS
from gpverify.runner.scripts import TAIL_LINES
from gpverify.runner.state import RunState


def _plan(tmp_path: Path, code: str) -> Path:
    plan = {
        "phases": [
            {
                "phase": "pre",
                "gate": False,
                "steps": [
                    {
                        "id": "talk",
                        "kind": "local",
                        "title": "a chatty local step",
                        "command": sys.executable,
                        "args": ["-c", code],
                        "timeout": 60,
                    }
                ],
            }
        ]
    }
    (tmp_path / "plan.yml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    inventory = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))
    inventory["winrm"].pop("ca_bundle", None)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return tmp_path


def _upgrade(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpverify.cli.main", "upgrade", *args, "--reports", "reports"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _state(tmp_path: Path) -> dict[str, Any]:
    return json.loads(next((tmp_path / "reports").glob("*/state.json")).read_text(encoding="utf-8"))


def test_a_step_output_is_kept_to_a_bounded_tail(tmp_path: Path) -> None:
    code = "import sys\nfor i in range(100000): print('line', i)\nsys.stdout.write('y' * 3_000_000)"
    done = _upgrade(_plan(tmp_path, code), "--inventory", "inventory.yml", "--plan", "plan.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = _state(tmp_path)["items"]["talk"]["output_tail"].splitlines()
    assert len(kept) == TAIL_LINES and kept[-2] == "line 99999" and kept[-1] == "y" * LINE_CHARS


def test_a_kill_after_complete_still_gets_its_summary_on_resume(tmp_path: Path) -> None:
    _plan(tmp_path, "print('ok')")
    assert _upgrade(tmp_path, "--inventory", "inventory.yml", "--plan", "plan.yml").returncode == 0
    run = next((tmp_path / "reports").glob("*/state.json")).parent
    (run / "summary.txt").unlink()  # as if killed between saving "complete" and writing the summary
    (run / "summary.html").unlink()
    done = _upgrade(tmp_path, "--resume", run.name)
    assert done.returncode == 0 and "already complete" in done.stdout, done.stdout + done.stderr
    assert (run / "summary.txt").read_text(encoding="utf-8").startswith(f"gpverify upgrade run {run.name}: complete")
    assert (run / "summary.html").exists()


def test_a_full_disk_is_one_message_and_an_incomplete_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plan(tmp_path, "print('ok')")
    monkeypatch.chdir(tmp_path)
    saves = {"n": 0}
    original = RunState.save

    def save(self: RunState) -> None:
        saves["n"] += 1
        if saves["n"] > 2:  # the run folder exists and the run started; then the disk fills up
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        original(self)

    monkeypatch.setattr(RunState, "save", save)  # a full disk cannot be made here without root mounts
    code = main(["upgrade", "--inventory", "inventory.yml", "--plan", "plan.yml", "--reports", "reports"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "No space left on device" in err and "incomplete, not failed" in err and "--resume" in err
    assert "Traceback" not in err and "checks failed" not in err


def test_a_reports_folder_that_cannot_be_made_is_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan(tmp_path, "print('ok')")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").write_text("a file where the folder should be")
    with pytest.raises(SystemExit) as stopped:  # bad input, refused as the option is read (issue 23)
        main(["upgrade", "--inventory", "inventory.yml", "--plan", "plan.yml", "--reports", "reports"])
    err = capsys.readouterr().err
    assert stopped.value.code == 3 and "--reports: expected a folder for reports, but reports is a regular file" in err


@pytest.mark.parametrize("run_id", ["../outside", "/etc", "..", "a/b"])
def test_resume_accepts_only_run_folders_inside_the_reports_folder(
    run_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "state.json").write_text("{}")
    code = main(["upgrade", "--resume", run_id, "--reports", str(tmp_path / "reports")])
    assert code == 3 and "the name of a run folder inside" in capsys.readouterr().err  # bad input
