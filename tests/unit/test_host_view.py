"""HostView: facts by profile key, recorded as evidence; what the collector could not read is an error."""

from __future__ import annotations

import pytest

from gpverify.errors import HostUnavailable
from gpverify.facts.view import HostView
from gpverify.facts.windows import parse_collector_output

DOCUMENT = b"""{"collector": 1, "computer": "GP-SH01",
 "services": {"session_service": {"name": "GPWebClientSessionServices",
                                  "display_name": "Microsoft Dynamics GP Session Service",
                                  "status": "Running", "start_mode": "Auto", "account": "LAB\\\\svc"}},
 "registry": {},
 "errors": [{"section": "registry", "key": "odbc_dsn", "message": "Requested registry access is not allowed."}]}"""


def test_one_element_arrays_and_evidence() -> None:
    evidence: dict[str, object] = {}
    view = HostView("gp-sh01", parse_collector_output("gp-sh01", DOCUMENT), evidence)
    service = view.service("session_service")
    assert service is not None and service.is_running
    assert evidence["gp-sh01: services.session_service"][0]["account"] == "LAB\\svc"  # type: ignore[index]


def test_what_the_collector_could_not_read_is_an_error_not_a_missing_value() -> None:
    view = HostView("gp-sh01", parse_collector_output("gp-sh01", DOCUMENT), {})
    with pytest.raises(HostUnavailable, match="could not read registry 'odbc_dsn': Requested registry access"):
        view.registry("odbc_dsn")


@pytest.mark.parametrize("stdout", [b"", b"WARNING: x\r\n{}", b'{"services": {"a": [{"name": 1}]}}'])
def test_unreadable_output_names_the_host(stdout: bytes) -> None:
    with pytest.raises(HostUnavailable, match="^gp-sh01: "):
        parse_collector_output("gp-sh01", stdout)
