"""Facts are read only from the hosts the selected checks need: no contact for listing or skipped eras."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gpverify.lab.runtime import RunningLab, start_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RunningLab]:
    running = start_lab("healthy", tmp_path / "lab")
    yield running
    running.stop()


def _contacted(lab: RunningLab) -> set[str]:
    return {name for name, server in lab.servers.items() if server.http_request_count}


def test_html_era_client_checks_contact_no_client(run_checks, lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    run = run_checks("clients", "--inventory", str(lab.inventory_path))
    # The Silverlight trust checks skip; the sign-in page (GP-CLI-003) is probed over HTTPS, as a browser would.
    assert run.ret == 0 and run.outcomes == {
        "test_sign_in_page_answers": "passed",
        **{t: "skipped" for t in run.outcomes if t != "test_sign_in_page_answers"},
    }, run.text
    assert _contacted(lab) == set()


def test_selected_checks_contact_only_their_hosts(run_checks, lab: RunningLab) -> None:  # type: ignore[no-untyped-def]
    run = run_checks("post", "--inventory", str(lab.inventory_path), "-k", "session_central or listed")
    assert run.ret == 0, run.text
    # Session Management is read from Session Central on the web server; the session hosts are not contacted for it
    # (its corroboration uses their facts only when another selected check collects them).
    assert _contacted(lab) == {"gp-web01"}, "Session Management checks read the web server, not the session hosts"
    assert [c.kind for c in lab.commands("gp-web01")] == ["collector"]
