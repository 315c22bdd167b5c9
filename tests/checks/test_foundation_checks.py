"""The first checks end to end on the lab: pass when healthy, fail or error naming the culprit."""

from __future__ import annotations

from collections.abc import Callable

from helpers.checks import CheckRun

Run = Callable[..., CheckRun]


def test_healthy_lab_passes_post_checks(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "healthy")
    assert run.ret == 0, run.text
    assert run.with_outcome("passed"), run.text


def test_before_upgrade_lab_passes_pre_checks(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "before-upgrade")
    assert run.ret == 0, run.text


def test_signed_in_user_fails_signed_out_check_naming_the_user(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "user-signed-in")
    assert run.outcomes["test_all_users_signed_out"] == "failed"
    message = run.messages["test_all_users_signed_out"]
    assert "LESSONUSER1" in message and "CLOSE-NOV" in message and "DEX_LOCK" in message


def test_stopped_session_service_fails_only_that_host(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "session-service-stopped")
    assert run.with_outcome("failed") == ["test_session_service_is_running[gp-sh02]"]
    assert "gp-sh02" in run.messages["test_session_service_is_running[gp-sh02]"]
    assert "Stopped" in run.messages["test_session_service_is_running[gp-sh02]"]


def test_unreachable_host_gives_errors_for_that_host_only(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "host-unreachable")
    assert run.with_outcome("error") == [
        "test_runtime_paths_name_the_target_release[gp-sh02]",
        "test_session_service_is_running[gp-sh02]",
    ]
    assert not run.with_outcome("failed")
    message = run.messages["test_session_service_is_running[gp-sh02]"]
    assert "gp-sh02" in message and "connection refused" in message
    assert "Traceback" not in message


def test_rejected_password_is_a_clear_per_host_error(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "bad-password")
    assert run.with_outcome("error") == [
        "test_runtime_paths_name_the_target_release[gp-sh01]",
        "test_session_service_is_running[gp-sh01]",
    ]
    assert "credentials rejected" in run.messages["test_session_service_is_running[gp-sh01]"]


def test_host_slower_than_the_timeout_is_a_per_host_error(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "slow-host")
    assert run.with_outcome("error") == [
        "test_runtime_paths_name_the_target_release[gp-sh02]",
        "test_session_service_is_running[gp-sh02]",
    ]
    assert "no answer within" in run.messages["test_session_service_is_running[gp-sh02]"]


def test_check_ids_reach_junit(run_checks: Run) -> None:
    run = run_checks("post", "--lab")
    assert 'name="check_id" value="GP-POST-002"' in run.junit


def test_report_is_one_file_that_says_it_checked_a_lab(run_checks: Run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "reports" / "post.html"
    run_checks("post", "--lab", f"--html={html}")
    text = html.read_text()
    assert "SIMULATED LAB" in text and "GP-POST-001" in text
    assert [p.name for p in html.parent.iterdir()] == ["post.html"], "self-contained: no assets folder"
