"""Pieces of the audit without a lab: fact flattening and drift, outcome comparison, the farm picture."""

from __future__ import annotations

from gpverify.audit.drift import compare, fact_drift, flatten
from gpverify.outcomes import Outcome
from gpverify.report.audit import farm_picture
from gpverify.report.checks import anchor
from gpverify.results import CheckResult

BEFORE = {
    "gp-sh01": {
        "services": {"session_service": [{"name": "GPWebClientSessionServices", "account": "LAB\\a"}]},
        "products": {"web_components": [{"name": "Web Components", "version": "18.4.1"}]},
        "certificates": {"tp": [{"subject": "CN=Microsoft", "thumbprint": "AA"}]},
    }
}


def test_flatten_names_list_items_by_their_identity() -> None:
    flat = flatten(BEFORE["gp-sh01"])
    assert flat["services.session_service[GPWebClientSessionServices].account"] == "LAB\\a"
    assert flat["certificates.tp[CN=Microsoft].thumbprint"] == "AA"


def test_drift_of_account_version_thumbprint_and_hosts() -> None:
    after = {
        "gp-sh01": {
            "services": {"session_service": [{"name": "GPWebClientSessionServices", "account": "LAB\\b"}]},
            "products": {"web_components": [{"name": "Web Components", "version": "18.4.2"}]},
            "certificates": {"tp": [{"subject": "CN=Microsoft", "thumbprint": "BB"}]},
        },
        "gp-sh03": {},
    }
    drift = {(d.host, d.fact, d.kind) for d in fact_drift(BEFORE, after)}
    assert drift == {
        ("gp-sh01", "services.session_service[GPWebClientSessionServices].account", "changed"),
        ("gp-sh01", "products.web_components[Web Components].version", "changed"),
        ("gp-sh01", "certificates.tp[CN=Microsoft].thumbprint", "changed"),
        ("gp-sh03", "(host)", "appeared"),
    }
    assert fact_drift(BEFORE, BEFORE) == []


def test_compare_sorts_outcomes() -> None:
    def record(check: str, test: str, outcome: str) -> CheckResult:
        return CheckResult(check=check, test=test, host=None, outcome=Outcome(outcome))

    prev = {
        ("A", "t1"): record("A", "t1", "passed"),
        ("B", "t2"): record("B", "t2", "failed"),
        ("C", "t3"): record("C", "t3", "error"),
        ("D", "t4"): record("D", "t4", "failed"),
    }
    now = [
        record("A", "t1", "failed"),
        record("B", "t2", "passed"),
        record("C", "t3", "failed"),
        record("D", "t4", "waived"),
        record("E", "t5", "error"),
    ]
    changes = compare(prev, now, {}, {}, 7)
    assert [e["check"] for e in changes.newly_failing] == ["A", "E"]
    assert [e["check"] for e in changes.fixed] == ["B"]
    assert [e["check"] for e in changes.still_failing] == ["C"]
    assert [e["check"] for e in changes.now_waived] == ["D"]
    assert compare(None, now, None, {}, None).newly_failing == []


def test_farm_picture_colours_each_machine_by_its_worst_outcome_and_links_it() -> None:
    farm = {
        "farm": "f",
        "web_server": ["web"],
        "session_hosts": ["sh1", "sh2"],
        "clients": ["c1"],
        "tenant_services": ["ten"],
        "sql": {"server": "sql", "databases": ["DYNAMICS", "GPCONFIGURATION"]},
    }
    svg = farm_picture(
        farm,
        {
            "sh1": [Outcome.FAILED, Outcome.NOT_VERIFIED],
            "web": [Outcome.PASSED],
            "sql": [Outcome.ERROR],
            "sh2": [Outcome.PASSED, Outcome.NOT_VERIFIED],
            "c1": [Outcome.NOT_VERIFIED],
        },
    )
    for host, outcome in (
        ("sh1", "failed"),
        ("sh2", "passed"),
        ("web", "passed"),
        ("sql", "error"),
        ("ten", "none"),
        ("c1", "not verified"),
    ):
        assert f'data-host="{host}" data-outcome="{outcome}"' in svg
        assert f'href="#{anchor(host)}"' in svg
    # A host whose checks merely reached no verdict is outlined, never drawn as a problem.
    assert 'data-host="c1" data-outcome="not verified" data-judged="false"' in svg
    assert "<title>sh2 (session host): passed; 1 not verified</title>" in svg
    assert 'data-database="GPCONFIGURATION"' in svg and svg.count("<svg") == 1
