"""A password with backslashes and quotes stays out of output even as a repr or JSON string shows it."""

from __future__ import annotations

import json

import pytest

PASSWORD = "Lab\\Pw\"4567-canary'x"


def test_escaped_password_forms_never_reach_output(run_checks, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GPVERIFY_LAB_PASSWORD", PASSWORD)
    html = tmp_path / "r.html"
    run = run_checks("hosts", "--lab", "host-desktop-client-old", "-l", "-vv", "--tb=long", f"--html={html}")
    assert run.with_outcome("failed"), run.text  # a failure with locals shown is the dangerous case
    outputs = run.text + run.junit + html.read_text()
    for form in (PASSWORD, repr(PASSWORD)[1:-1], json.dumps(PASSWORD)[1:-1], 'Pw"4567', 'Pw\\\\"4567'):
        assert form not in outputs, f"password form {form!r} leaked"
