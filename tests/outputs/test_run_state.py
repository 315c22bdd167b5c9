"""The runner's state is a typed record with literal statuses, read tolerantly, with a readable status line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from gpverify.errors import ConfigError
from gpverify.runner.state import RunState


def test_a_record_from_another_version_loads_keeping_what_it_does_not_know(tmp_path: Path) -> None:
    folder = tmp_path / "20261129-101500-abcd"
    folder.mkdir()
    (folder / "state.json").write_text(
        json.dumps(
            {
                "run_id": folder.name,
                "status": "stopped",
                "stopped_at": "gate-post",
                "message": "gate gate-post failed",
                "future_field": {"kept": True},
                "items": {
                    "web-server": {"status": "done", "attempts": 1, "confirmed_by": "jane"},
                    "gate-post": {
                        "status": "failed",
                        "attempts": 2,
                        "failed_checks": ["GP-POST-002 gp-sh02 (failed): x"],
                        "newer_detail": 3,
                    },
                },
            }
        )
    )
    state = RunState.load(tmp_path, None)
    assert state.item("gate-post").attempts == 2 and state.item("web-server").done
    assert (
        state.status_line()
        == "run 20261129-101500-abcd: stopped at gate-post (1 of 2 item(s) done): gate gate-post failed"
    )
    state.mark("gate-post", "started")
    saved = json.loads((folder / "state.json").read_text())
    assert saved["future_field"] == {"kept": True} and saved["items"]["gate-post"]["newer_detail"] == 3
    assert saved["items"]["gate-post"]["attempts"] == 3


def test_statuses_are_literal(tmp_path: Path) -> None:
    state = RunState.create(tmp_path, inventory="inv.yml")
    with pytest.raises(ValidationError):
        state.mark("x", "finished")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        state.set(status="halfway")


def test_a_damaged_record_is_one_message_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "run1"
    folder.mkdir()
    (folder / "state.json").write_text('{"run_id": "run1", "status": "sleeping"}')
    with pytest.raises(ConfigError, match=r"run1/state.json"):
        RunState.load(tmp_path, "run1")


def test_local_step_output_is_masked_in_the_run_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gpverify.cli.main import main

    secret = "Local-Step-S3cret-Passw0rd"
    monkeypatch.setenv("GPVERIFY_WINRM_PASSWORD", secret)
    plan = tmp_path / "plan.yml"
    plan.write_text(
        "phases:\n  - phase: web\n    gate: false\n    steps:\n"
        "      - {id: echo, kind: local, title: a script that prints its password, command: sh,\n"
        "         args: [-c, 'echo connecting with $GPVERIFY_WINRM_PASSWORD']}\n"
    )
    reports = tmp_path / "reports"
    inventory = Path(__file__).resolve().parents[2] / "inventory.example.yml"
    assert main(["upgrade", "--inventory", str(inventory), "--plan", str(plan), "--reports", str(reports)]) == 0
    written = "".join(p.read_text() for p in reports.rglob("*") if p.is_file()) + capsys.readouterr().out
    assert secret not in written
    assert "connecting with [redacted]" in written
