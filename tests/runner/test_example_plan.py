"""The example plan (what `gpverify init` writes as plan.yml) runs on Windows as on Linux: its local steps name only
programs gpverify provides everywhere, and they run."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gpverify import __version__
from gpverify.config.shipped import PLAN_TEMPLATE, example
from gpverify.runner.engine import PORTABLE_COMMANDS, Context, Runner
from gpverify.runner.plan import FarmShape, Phase, Plan, load_plan
from gpverify.runner.state import RunState

REPO = Path(__file__).resolve().parents[2]
SHAPE = FarmShape(
    {
        "gpweb01.contoso.local": "web_server",
        "gpsh01.contoso.local": "session_host",
        "gpsh02.contoso.local": "session_host",
        "gpten01.contoso.local": "tenant_services",
        "ws-fin-001.contoso.local": "client",
    },
    "html",
)


def test_every_local_step_of_the_example_plan_names_a_program_of_every_system() -> None:
    plan = load_plan(example(PLAN_TEMPLATE), SHAPE)
    local = [s for p in plan.phases for s in p.steps if s.kind == "local"]
    assert local, "the example shows a local step"
    assert [s.command for s in local if s.command not in PORTABLE_COMMANDS] == []
    assert example(PLAN_TEMPLATE).read_text() == (REPO / "plans" / "example-plan.yml").read_text()


def test_the_example_plans_local_steps_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as the runner runs them, with PATH emptied: nothing of the machine's own is needed."""
    example_plan = load_plan(example(PLAN_TEMPLATE), SHAPE)
    steps = [s for p in example_plan.phases for s in p.steps if s.kind == "local"]
    plan = Plan(phases=[Phase(phase="pre", gate=False, steps=steps)])
    state = RunState.create(tmp_path, inventory="inventory.yml", plan=plan.model_dump(mode="json"))
    out = io.StringIO()
    ctx = Context(plan, state, Path("inventory.yml"), Path("checks"), out=out)
    monkeypatch.setenv("PATH", "")
    assert Runner(ctx).run() == 0, out.getvalue()
    tails = {s.id: state.item(s.id).output_tail or "" for s in steps}
    assert tails["upgrade-window-start"].startswith("upgrade window starts 20")
    assert tails["gpverify-version"] == f"gpverify {__version__}"
