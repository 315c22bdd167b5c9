"""ACME's own check, beside gpverify's: the Session Service comes back by itself after a night-time reboot."""

# A site's check is a pytest test marked with gpverify.check; the fixtures (here `session_host`, one test per
# session host of the inventory) come from gpverify's pytest plugin, so this folder needs no conftest.py.

from __future__ import annotations

from gpverify import HostView, check


@check(
    "ACME-001",
    title="The Session Service on each session host starts automatically.",
    section="ACME operations handbook, 4.2 (patch-night reboots)",
    impact="high",
    remediation="Set the Microsoft Dynamics GP Session Service's startup type to Automatic (services.msc) on "
    "this session host.",
    phase="post",
)
def test_session_service_starts_automatically(session_host: HostView) -> None:
    service = session_host.service("session_service")  # a fact gpverify's collector already reads
    assert service is not None, f"{session_host.name}: the Session Service is not installed"
    assert service.start_mode.lower() == "auto", (
        f"{session_host.name}: {service.display_name} starts {service.start_mode}, expected Auto"
    )
