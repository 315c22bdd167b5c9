"""The audit's farm picture as a browser draws it (headless Chromium): nothing clipped, no connector across a
label, every label inside its box, and a host whose checks merely reached no verdict not drawn as a problem."""

from __future__ import annotations

import json

import pytest

from gpverify.outcomes import Outcome
from gpverify.report.audit import farm_picture
from helpers.browser import CHROMIUM, NO_CHROMIUM, chromium, dump_dom

FARM = {
    "farm": "contoso production (gp18.3 to gp18.4)",
    "web_server": ["gp-web01.contoso.local"],
    "session_hosts": ["gp-sh01.contoso.local", "gp-sh02.contoso.local", "gp-sh03.contoso.local"],
    "clients": ["gp-cl01", "gp-cl02", "gp-cl03"],
    "tenant_services": ["gp-ten01.contoso.local"],
    "sql": {"server": "gp-sql01.contoso.local", "databases": ["DYNAMICS", "GPCONFIGURATION"]},
}
OUTCOMES = {
    "gp-web01.contoso.local": [Outcome.PASSED, Outcome.WARNING],
    "gp-sh01.contoso.local": [Outcome.PASSED, *[Outcome.NOT_VERIFIED] * 4],
    "gp-sh02.contoso.local": [Outcome.FAILED, Outcome.NOT_VERIFIED],
    "gp-sh03.contoso.local": [Outcome.ERROR],
    "gp-sql01.contoso.local": [Outcome.NOT_VERIFIED],
    "gp-cl01": [Outcome.SKIPPED, Outcome.SKIPPED],
}
# Run in the page once it is drawn: the boxes the browser gave each element, written into the page's title.
MEASURE = """<script>window.addEventListener('load', function () {
  function box(e) { var b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; }
  var svg = document.querySelector('#gpverify-farm-picture svg');
  var out = {svg: box(svg), texts: [], lines: [], machines: []};
  svg.querySelectorAll('text').forEach(function (t) { out.texts.push({text: t.textContent, box: box(t)}); });
  svg.querySelectorAll('line').forEach(function (l) {
    var s = svg.getBoundingClientRect();
    out.lines.push([+l.getAttribute('x1') + s.left, +l.getAttribute('y1') + s.top,
                    +l.getAttribute('x2') + s.left, +l.getAttribute('y2') + s.top]); });
  svg.querySelectorAll('g.gpv-machine').forEach(function (g) {
    out.machines.push({host: g.dataset.host, outcome: g.dataset.outcome, judged: g.dataset.judged,
                       rect: box(g.querySelector('rect')),
                       texts: Array.from(g.querySelectorAll('text')).map(box)}); });
  document.title = JSON.stringify(out);
});</script>"""


def _inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


def _crosses(line: list[float], box: list[float]) -> bool:
    """Whether a segment passes through a box (sampled: the connectors are straight and short)."""
    x1, y1, x2, y2 = line
    for i in range(1, 100):
        x, y = x1 + (x2 - x1) * i / 100, y1 + (y2 - y1) * i / 100
        if box[0] + 1 < x < box[2] - 1 and box[1] + 1 < y < box[3] - 1:
            return True
    return False


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    folder = tmp_path_factory.mktemp("picture")
    page = folder / "picture.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>-</title></head><body style='margin:0'>"
        f"{farm_picture(FARM, OUTCOMES)}{MEASURE}</body></html>",
        encoding="utf-8",
    )
    proc = dump_dom(page, folder / "profile", "--window-size=1600,1000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    title = proc.stdout.split("<title>", 1)[1].split("</title>", 1)[0]
    data: dict[str, object] = json.loads(
        title.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )
    shot = chromium(
        f"--screenshot={folder / 'picture.png'}", "--window-size=1600,900", page.as_uri(), profile=folder / "p2"
    )
    assert shot.returncode == 0 and (folder / "picture.png").stat().st_size > 10_000  # a picture, not a blank page
    return data


def test_nothing_is_clipped(drawn: dict[str, list]) -> None:  # type: ignore[type-arg]
    clipped = [t["text"] for t in drawn["texts"] if not _inside(t["box"], drawn["svg"])]
    assert not clipped, clipped  # the legend and the captions stay inside the picture


def test_labels_sit_inside_their_boxes(drawn: dict[str, list]) -> None:  # type: ignore[type-arg]
    for machine in drawn["machines"]:
        assert all(_inside(text, machine["rect"]) for text in machine["texts"]), machine


def test_no_connector_runs_through_a_label(drawn: dict[str, list]) -> None:  # type: ignore[type-arg]
    crossed = [(line, t["text"]) for line in drawn["lines"] for t in drawn["texts"] if _crosses(line, t["box"])]
    assert not crossed, crossed


def test_a_host_without_a_verdict_is_not_drawn_as_a_problem(drawn: dict[str, list]) -> None:  # type: ignore[type-arg]
    by_host = {m["host"]: m for m in drawn["machines"]}
    # Only checks that could not reach a verdict: outlined, not filled with a problem's colour.
    assert by_host["gp-sql01.contoso.local"]["judged"] == "false"
    assert by_host["gp-cl01"]["judged"] == "false"
    # Passed, with checks not verified beside it: drawn as passed.
    assert (by_host["gp-sh01.contoso.local"]["outcome"], by_host["gp-sh01.contoso.local"]["judged"]) == (
        "passed",
        "true",
    )
    assert by_host["gp-sh02.contoso.local"]["outcome"] == "failed"
    assert by_host["gp-sh03.contoso.local"]["outcome"] == "error"
