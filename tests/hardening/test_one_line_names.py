"""A person's name (--confirmed-by, the name typed at a manual step or an attestation) and a discover record NAME
are one line: every control character, tab and line break is refused with one message, never folded away."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hardening_support import REPO

from gpverify.config.options import person_name
from gpverify.runner.engine import NAME_TRIES, Context, Runner
from gpverify.runner.plan import Phase, Plan, Step, attest_step
from gpverify.runner.state import RunState
from helpers.cli import run

EXAMPLE = REPO / "inventory.example.yml"

# Restated here, not imported: what no one-line text holds, by class (config/schema.py is checked against it).
CLASSES = {
    "C0": [chr(c) for c in range(0x20)],  # NUL, tab, line feed, carriage return, ESC, the separators \x1c-\x1f
    "DEL": ["\x7f"],
    "C1": [chr(c) for c in range(0x80, 0xA0)],  # NEL \x85, CSI \x9b
    "separator": ["\u2028", "\u2029"],
    "bidi": [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))],  # Trojan Source, CVE-2021-42574
}
EVERY = [pytest.param(c, id=f"{name}-U+{ord(c):04X}") for name, chars in CLASSES.items() for c in chars]
ONE_OF_EACH = [pytest.param(chars[len(chars) // 2], id=name) for name, chars in CLASSES.items()]
# Where a character sits: inside, and at either end, where folding spaces (str.split) used to take it away.
PLACES: list[Callable[[str], str]] = [lambda c: f"Ann{c}Admin", lambda c: f"{c}Ann Admin", lambda c: f"Ann Admin{c}"]


def _error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if "error:" in line]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("char", EVERY)
def test_confirmed_by_refuses_every_control_character(char: str, capsys: pytest.CaptureFixture[str]) -> None:
    for place in PLACES:
        name = place(char)
        code, text = run(["upgrade", "--inventory", str(EXAMPLE), "--dry-run", "--yes", "--confirmed-by", name], capsys)
        line = _error_line(text)
        assert code == 3 and "argument --confirmed-by: expected one line of text" in line, text
        assert repr(char) in line and "Traceback" not in text, line  # says which character, escaped
        assert char not in text.replace("\n", ""), text  # never printed raw (a line break only ends lines)


@pytest.mark.parametrize("name", ["Zoë O'Brien-Łukasz", "李小龙", "  Jane   Doe ", "José\u00a0Núñez", "J" * 200])
def test_names_people_have_are_kept(name: str) -> None:
    """Letters of any script, apostrophes and hyphens are names; runs of spaces (also no-break) collapse to one."""
    assert person_name(name) == " ".join(name.split())


@pytest.mark.parametrize(("name", "words"), [("", "blank"), ("   ", "blank"), ("J" * 201, "up to 200 characters")])
def test_a_blank_or_long_name_is_refused(name: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        person_name(name)


# --- the name typed at the terminal ----------------------------------------------------------------------------


def _manual(tmp_path: Path, answers: list[str]) -> tuple[int, RunState, list[str], str]:
    """One manual step run at a (pretend) terminal answering `answers` in turn: (exit, state, prompts, output)."""
    plan = Plan(
        phases=[
            Phase(
                phase="clients", gate=False, steps=[Step(id="cache", kind="manual", title="x", instructions=["Do it."])]
            )
        ]
    )
    state = RunState.create(tmp_path / "reports", inventory="inv.yml", plan=plan.model_dump(mode="json"))
    asked: list[str] = []
    given = iter(answers)
    out = io.StringIO()

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return next(given)

    ctx = Context(plan, state, Path("inv.yml"), Path("checks"), out=out, is_tty=lambda: True, ask=ask)
    return Runner(ctx).run(), state, asked, out.getvalue()


@pytest.mark.parametrize("char", EVERY)
def test_a_name_typed_with_a_control_character_is_asked_again(char: str, tmp_path: Path) -> None:
    for n, place in enumerate(PLACES):
        code, state, asked, out = _manual(tmp_path / str(n), ["done", place(char), "Ann  Admin"])
        assert code == 0 and state.item("cache").confirmed_by == "Ann Admin", out
        assert len(asked) == 3 and "not recorded: expected one line of text" in out and repr(char) in out, out
        assert char not in out.replace("\n", ""), out


def test_a_name_refused_every_time_leaves_the_step_waiting(tmp_path: Path) -> None:
    """A bounded prompt: NAME_TRIES refusals, then the step waits unconfirmed (exit 2), nothing recorded."""
    code, state, asked, out = _manual(tmp_path, ["done", *["Ann\x1b[2J"] * NAME_TRIES, "never asked"])
    assert code == 2 and len(asked) == 1 + NAME_TRIES, asked
    entry = state.item("cache")
    assert entry.status == "waiting" and not entry.confirmed_by, entry
    assert f"no name recorded after {NAME_TRIES} tries" in out and "not confirmed by a named person" in out, out


@pytest.mark.parametrize("ends_at", ["Type", "Your name"])
def test_the_end_of_input_at_a_prompt_is_no_confirmation(ends_at: str, tmp_path: Path) -> None:
    """Ctrl-D at 'done' or at the name: the step waits (exit 2), no traceback."""
    plan = Plan(
        phases=[
            Phase(
                phase="clients", gate=False, steps=[Step(id="cache", kind="manual", title="x", instructions=["Do it."])]
            )
        ]
    )
    state = RunState.create(tmp_path, inventory="inv.yml", plan=plan.model_dump(mode="json"))

    def ask(prompt: str) -> str:
        if prompt.startswith(ends_at):
            raise EOFError  # Ctrl-D
        return "done"

    ctx = Context(plan, state, Path("inv.yml"), Path("checks"), out=io.StringIO(), is_tty=lambda: True, ask=ask)
    assert Runner(ctx).run() == 2 and state.item("cache").status == "waiting"


def test_the_end_of_input_at_the_attestation_question_attests_nothing(tmp_path: Path) -> None:
    plan = Plan(phases=[Phase(phase="post", gate=False, steps=[attest_step()])])
    state = RunState.create(tmp_path, inventory="(lab)", plan=plan.model_dump(mode="json"))

    def ask(prompt: str) -> str:
        if prompt.startswith("Do you confirm"):
            raise EOFError
        return "Jane Doe"

    ctx = Context(plan, state, Path("inv.yml"), Path("checks"), out=io.StringIO(), is_tty=lambda: True, ask=ask)
    assert Runner(ctx)._step(next(i for i in plan.items() if i.type == "step")) == 2
    assert not (state.folder / "attestations.json").exists()


@pytest.mark.parametrize("char", ONE_OF_EACH)
def test_an_attester_typing_a_control_character_is_asked_again(char: str, tmp_path: Path) -> None:
    plan = Plan(phases=[Phase(phase="post", gate=False, steps=[attest_step()])])
    state = RunState.create(tmp_path, inventory="(lab)", plan=plan.model_dump(mode="json"))
    given = iter([f"Jane{char}Doe", "Jane Doe", "yes"])
    out = io.StringIO()
    ctx = Context(
        plan, state, Path("inv.yml"), Path("checks"), out=out, is_tty=lambda: True, ask=lambda _p: next(given)
    )
    runner = Runner(ctx)
    assert runner._step(next(i for i in plan.items() if i.type == "step")) == 0, out.getvalue()
    assert state.item("attest-session-management").get("attested")["by"] == "Jane Doe"
    assert repr(char) in out.getvalue() and char not in out.getvalue().replace("\n", "")


def test_an_attester_refused_every_time_attests_nothing(tmp_path: Path) -> None:
    plan = Plan(phases=[Phase(phase="post", gate=False, steps=[attest_step()])])
    state = RunState.create(tmp_path, inventory="(lab)", plan=plan.model_dump(mode="json"))
    given = iter([*["Jane\u202eeoD"] * NAME_TRIES, "yes"])
    out = io.StringIO()
    ctx = Context(
        plan, state, Path("inv.yml"), Path("checks"), out=out, is_tty=lambda: True, ask=lambda _p: next(given)
    )
    assert Runner(ctx)._step(next(i for i in plan.items() if i.type == "step")) == 2, out.getvalue()
    assert not (state.folder / "attestations.json").exists() and "no name given" in out.getvalue()


# --- gpverify discover --record NAME / --diff NAME -------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--record", "--diff"])
@pytest.mark.parametrize("name", ["", " ", "\t", *ONE_OF_EACH])
def test_a_blank_or_control_record_name_is_refused(flag: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty --diff was taken as no --diff at all: the comparison asked for silently did not happen."""
    code, text = run(["discover", "--inventory", str(EXAMPLE), f"{flag}={name}"], capsys)
    line = _error_line(text)
    assert code == 3 and f"argument {flag}: expected" in line and "Traceback" not in text, text
    assert "blank" in line or "one line of text" in line, line


def test_a_diff_record_must_be_a_readable_file_before_the_farm_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(["discover", "--inventory", str(EXAMPLE), "--diff", str(tmp_path / "before")], capsys)
    assert code == 3 and "to exist (" in _error_line(text) and "before.json does not" in text, text
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # opened, a FIFO would block: the type says what it is instead
    code, text = run(["discover", "--inventory", str(EXAMPLE), "--diff", str(fifo)], capsys)
    assert code == 3 and "to be a regular file (this is a named pipe)" in _error_line(text), text


# --- the one definition, for every file format ------------------------------------------------------------------


@pytest.mark.parametrize("char", [c for c in EVERY if c.values[0] not in "\t\n\r"])
def test_every_control_character_in_an_inventory_is_one_message(
    char: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text in any file (config/schema.py) refuses the same classes; tab and line breaks stay for instructions."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["farm"] = f"Contoso{char}GP"
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    code, text = run(["inventory", "check", str(path)], capsys)
    assert code == 3 and "farm: expected text without control characters" in text and repr(char) in text, text
    assert len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize("char", [*ONE_OF_EACH, pytest.param("\t", id="tab"), pytest.param("\n", id="line-feed")])
def test_a_waivers_approver_is_one_line(char: str, tmp_path: Path) -> None:
    """The approver is a person's name the sign-off record prints: one line, as --confirmed-by (the justification
    may span lines)."""
    from gpverify.audit.waivers import load_waivers
    from gpverify.errors import ConfigError

    waiver = {
        "check": "GP-POST-002",
        "justification": "rebuilt\nin the next window",
        "approver": f"Jane{char}Doe",
        "risk": "low",
        "created": "2026-11-20",
        "expires": "2026-12-20",
    }
    path = tmp_path / "waivers.yml"
    path.write_text(yaml.safe_dump({"waivers": [waiver]}), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_waivers(path)
    assert "waivers[0].approver: expected" in str(refused.value) and repr(char) in str(refused.value), refused.value
    path.write_text(yaml.safe_dump({"waivers": [{**waiver, "approver": "Jane Doe"}]}), encoding="utf-8")
    assert [w.approver for w in load_waivers(path)] == ["Jane Doe"]  # and the justification's line break stays
