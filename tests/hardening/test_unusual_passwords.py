"""Passwords of unusual shape (non-ASCII, quote-heavy, very short, very long) never reach an output, and the
redactor is seen to fire; the lab hands its password over shell-quoted, removes lab.env on SIGTERM and writes no
password file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hardening_support import FIGURES, REPO, hardening_figures, run_suite, search_secret  # noqa: F401

from gpverify.config.redact import LINE_MASK, MASK
from gpverify.lab.runtime import LAB_PASSWORD_ENV, start_lab

PASSWORDS = {
    "non-ascii": "Pässwörd-€-ẞ-密码",
    "quote-heavy": "q'\"'`$(id);\\\"--'",
    "very-short": "ẞ7",
    "very-long": "L0ng-" + "x7Y" * 200,
}
ENV = "GPVERIFY_ODD_PASSWORD"
PLAN = {
    "phases": [
        {
            "phase": "pre",
            "gate": False,
            "steps": [
                {
                    "id": "show",
                    "kind": "local",
                    "title": "a local step that prints the password",
                    "command": "printenv",
                    "args": [ENV],
                }
            ],
        }
    ]
}


@pytest.mark.parametrize("shape", sorted(PASSWORDS))
def test_local_step_output_is_masked_without_a_remote_step(shape: str, tmp_path: Path) -> None:
    secret = PASSWORDS[shape]
    inventory = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))
    inventory["winrm"].update(password_env=ENV)
    inventory["winrm"].pop("ca_bundle", None)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "plan.yml").write_text(yaml.safe_dump(PLAN), encoding="utf-8")
    reports = tmp_path / "reports"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpverify.cli.main",
            "upgrade",
            "--inventory",
            "inventory.yml",
            "--plan",
            "plan.yml",
            "--reports",
            str(reports),
        ],
        cwd=tmp_path,
        env={**os.environ, ENV: secret},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = [p for p in reports.rglob("*") if p.is_file()]
    hits, searched = search_secret(secret, files, {"stdout": done.stdout, "stderr": done.stderr})
    FIGURES["output files searched"] += searched
    FIGURES["secrets found in outputs"] += len(hits)
    FIGURES["passwords of unusual shape tried"] += 1
    assert not hits, hits
    state = json.loads(next(reports.glob("*/state.json")).read_text(encoding="utf-8"))
    kept = state["items"]["show"]["output_tail"]
    assert kept in (MASK, LINE_MASK), kept  # the redactor fired: the step did print the password
    FIGURES["redactor masks observed"] += 1


def test_a_full_run_with_an_odd_lab_password_leaks_nothing(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = PASSWORDS["quote-heavy"] + PASSWORDS["non-ascii"] + "x" * 40
    monkeypatch.setenv(LAB_PASSWORD_ENV, secret)
    lab = start_lab("session-service-stopped", tmp_path / "lab")
    try:
        run = run_suite(pytester, lab.inventory_path, pytester.path / "out")
    finally:
        lab.stop()
    assert run.with_outcome("failed") and not run.with_outcome("error"), run.stdout  # NTLM worked with it
    files = [p for p in run.outdir.rglob("*") if p.is_file()]
    hits, searched = search_secret(secret, files, {"console output": run.stdout})
    FIGURES["output files searched"] += searched
    FIGURES["secrets found in outputs"] += len(hits)
    FIGURES["passwords of unusual shape tried"] += 1
    assert not hits, hits


def test_lab_env_is_shell_quoted_and_goes_on_sigterm_and_no_password_file_is_written(tmp_path: Path) -> None:
    secret = PASSWORDS["quote-heavy"]
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, LAB_PASSWORD_ENV: secret, "TMPDIR": str(private_tmp)}
    workdir = tmp_path / "lab"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpverify.cli.main", "lab", "--dir", str(workdir), "--idle-timeout", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        env_file = workdir / "lab.env"
        for _ in range(300):
            if env_file.exists() and env_file.stat().st_size:
                break
            time.sleep(0.1)
        sourced = subprocess.run(
            ["bash", "-c", f'. "{env_file}"; printf %s "${LAB_PASSWORD_ENV}"'],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": os.environ["PATH"]},
        )
        assert sourced.stdout == secret
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        # The lab's NTLM acceptor keeps the account's keys in memory (lab/wsman/ntlm.py): no password file at all.
        assert not list(private_tmp.iterdir())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not env_file.exists()
    assert not list(private_tmp.iterdir())
