"""gpverify's own HTML report of a run (--gpverify-html): written once the session ends, from the result records."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpverify import session as gpsession


class HtmlReport:
    """Registered when --gpverify-html is given; other plugins add sections and a waiver column (gpverify.hookspecs)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.path = Path(config.getoption("gpverify_html"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from gpverify.report import checks as checkreport
        from gpverify.report.render import write_atomically

        config = self.config
        farm = gpsession.farm_of(config)
        reach = []
        if farm is not None:
            reach = checkreport.connectivity(farm.collected(), gpsession.roles(config))
        sections = [s for group in config.hook.pytest_gpverify_report_sections(config=config) for s in group or []]
        has_waivers = bool(config.pluginmanager.hook.pytest_gpverify_waiver_cell.get_hookimpls())
        page = checkreport.render(
            gpsession.results_of(config),  # one row per test, at its worst (session.record)
            title=checkreport.title(farm is not None and farm.is_lab),
            farm=farm.inventory.farm if farm else None,
            profile=farm.profile.name if farm else None,
            lab=farm.inventory.lab if farm else None,
            reach=reach,
            sections=sections,
            waiver_cell=(lambda w: config.hook.pytest_gpverify_waiver_cell(waiver=w) or "") if has_waivers else None,
        )
        write_atomically(self.path, page, gpsession.redactor(config))
