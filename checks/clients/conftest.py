"""Client machine fixtures: the Silverlight trust checks apply only to Silverlight-era targets."""

from __future__ import annotations

import pytest

from gpverify.session import get_farm

HTML_ERA_REASON = ("{release} has the HTML web client (GP 2016 and later): it runs in any browser without "
                   "Silverlight, so client machines need no Silverlight elevated trust or signing certificate")


@pytest.fixture(autouse=True)
def silverlight_era_only(request: pytest.FixtureRequest) -> None:
    """Skip before any client is contacted when the target release's web client is HTML (profile era)."""
    profile = get_farm(request.config).profile
    if profile.era == "html":
        pytest.skip(HTML_ERA_REASON.format(release=profile.get("release", profile.name)))
