"""The runner's last resort for Session Management: a named person confirms what the snap-in shows, only when the
post gate could not verify it; name, time and answer go into the run state and the gates' --attestations file."""

from __future__ import annotations

import io
import json
from pathlib import Path

from gpverify import attestations
from gpverify.report.signoff import PlanItem, build_record
from gpverify.runner.engine import Context, Runner
from gpverify.runner.plan import Phase, Plan, attest_step
from gpverify.runner.state import RunState

PLAN = Plan(phases=[Phase(phase="post", gate=False, steps=[attest_step()])])


def _run(
    tmp_path: Path,
    answers: list[str],
    *,
    tty: bool = True,
    yes: bool = False,
    confirmed_by: str | None = None,
    results: list[dict[str, str]] | None = None,
) -> tuple[int, RunState, str]:
    state = RunState.create(tmp_path / "reports", inventory="(lab)", plan=PLAN.model_dump(mode="json"))
    plan = PLAN
    if results is not None:  # a post gate that ran the checks before the step
        plan = Plan(phases=[Phase(phase="post"), *PLAN.phases])
        (state.folder / "gate-post.results.json").write_text(json.dumps({"results": results}))
        state.mark("gate-post", "passed", results="gate-post.results.json")
    out = io.StringIO()
    asked = iter(answers)
    ctx = Context(
        plan,
        state,
        Path("inventory.yml"),
        Path("checks"),
        out=out,
        yes=yes,
        confirmed_by=confirmed_by,
        ask=lambda _prompt: next(asked),
        is_tty=lambda: tty,
    )
    runner = Runner(ctx)
    item = next(i for i in plan.items() if i.type == "step")
    return runner._step(item), state, out.getvalue()


def test_a_named_person_attests_and_it_is_recorded(tmp_path: Path) -> None:
    code, state, out = _run(tmp_path, ["Jane Doe", "yes"])
    assert code == 0, out
    record = state.item("attest-session-management")
    assert record.confirmed_by == "Jane Doe" and record.get("attested")["answer"] == "yes"
    found = attestations.for_check(state.folder / "attestations.json", "GP-POST-004")
    assert found is not None and found.by == "Jane Doe" and "none is suspended" in found.statement
    assert "gpverify could not verify GP-POST-003, GP-POST-004, GP-POST-005" in out


def test_the_sign_off_record_names_who_attested_as_it_names_a_manual_steps_confirmer(tmp_path: Path) -> None:
    code, state, out = _run(tmp_path, ["yes"], confirmed_by="Jane Doe")  # --confirmed-by: only the question asked
    assert code == 0, out
    state.set(status="complete")
    plan = [PlanItem("attest-session-management", "manual", "Confirm in Session Management", "post")]
    record = build_record(state.folder, state.data, plan)
    line = record.lines[0]
    assert (line.who, line.how) == ("Jane Doe", "typed at the terminal") and "answered 'yes'" in line.detail
    assert record.verdict.complete, record.verdict.reasons


def test_no_attestation_without_a_name_or_a_yes(tmp_path: Path) -> None:
    code, state, out = _run(tmp_path, ["Jane Doe", "no"])
    assert code == 2 and "Session Management was not confirmed" in out
    assert not (state.folder / "attestations.json").exists()
    code, state, out = _run(tmp_path, [], yes=True)
    assert code == 0 and "not attested" in out and not (state.folder / "attestations.json").exists()


def test_not_asked_when_the_post_gate_verified_it(tmp_path: Path) -> None:
    results = [
        {"check": c, "test": f"t[{c}]", "outcome": "passed"} for c in ("GP-POST-003", "GP-POST-004", "GP-POST-005")
    ]
    code, state, out = _run(tmp_path, [], results=results)
    assert code == 0 and "not needed: gpverify verified" in out
    assert not (state.folder / "attestations.json").exists()
    results[1]["outcome"] = "not verified"
    code, _, out = _run(tmp_path, ["Ann Smith", "yes"], results=results)
    assert code == 0 and "gpverify could not verify GP-POST-004" in out
