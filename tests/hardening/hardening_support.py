"""Shared by the hardening tests: the canary password, secret search, a full-output suite run, the figures."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
# Recognisable, and long enough that no report can contain it by chance.
CANARY = "Gp-Secr3t-Canary-7781"
LAB_ACCOUNT = "LAB\\gpadmin"

# The README's reliability figures; each test adds what it measured, the terminal summary prints them.
FIGURES: dict[str, int] = {
    "fault scenarios survived": 0,
    "fault scenarios survived by gpverify audit": 0,
    "fuzz cases run": 0,
    "secrets found in outputs": 0,
    "writes sent during checks": 0,
    "output files searched": 0,
    "hosts collected from (collector only)": 0,
    "SQL queries observed": 0,
    # issue 14
    "hostile endpoint faults survived": 0,
    "hostile inputs tried": 0,
    "hostile input tracebacks": 0,
    "hostile input hangs": 0,
    "hostile inputs silently accepted": 0,
    "lab database files changed (independent write recorder)": 0,
    "passwords of unusual shape tried": 0,
    "redactor masks observed": 0,
}


class _FiguresReporter:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("gpverify hardening figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")


_REPORTER = _FiguresReporter()


@pytest.fixture(autouse=True, scope="module")
def hardening_figures(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """Registers the figures summary once per session (import this fixture into each hardening module)."""
    manager = request.config.pluginmanager
    if not manager.is_registered(_REPORTER):
        manager.register(_REPORTER, "gpverify-hardening-figures")
    yield FIGURES


def secret_forms(secret: str, user: str = LAB_ACCOUNT) -> dict[str, bytes]:
    """Every way the password could be written: plain (UTF-8, UTF-16-LE), base64 of both, Basic header, URL."""
    forms = {
        "plain utf-8": secret.encode(),
        "plain utf-16-le": secret.encode("utf-16-le"),
        "base64 utf-8": base64.b64encode(secret.encode()),
        "base64 utf-16-le": base64.b64encode(secret.encode("utf-16-le")),
        "base64url utf-8": base64.urlsafe_b64encode(secret.encode()).rstrip(b"="),
        "basic header": base64.b64encode(f"{user}:{secret}".encode()),
        "url-encoded": urllib.parse.quote(secret, safe="").encode(),
    }
    # What NTLM hosts are handed instead of the password (transport/ntlm.py): as good as the password to an
    # attacker (pass-the-hash), so searched for as well, and its NT half alone.
    from gpverify.transport.ntlm import ntlm_secret

    hashed = ntlm_secret(secret)
    forms["ntlm hashes"], forms["nt hash"] = hashed.encode(), hashed.split(":")[1].encode()
    # base64 of the secret inside a longer string starts at one of three alignments: search those cores too.
    for shift in (1, 2):
        core = base64.b64encode(b"\0" * shift + secret.encode())[4:-4]
        if len(core) >= 4:  # a very short secret has no aligned core (an empty one would match everything)
            forms[f"base64 utf-8 (offset {shift})"] = core
    return forms


@dataclass
class Hit:
    where: str
    form: str


def search_secret(secret: str, files: Iterable[Path], texts: dict[str, str] | None = None) -> tuple[list[Hit], int]:
    """(hits, files searched): every form of the secret in every file's bytes and in the given texts."""
    forms = secret_forms(secret)
    hits: list[Hit] = []
    searched = 0
    for path in files:
        if not path.is_file():
            continue
        searched += 1
        data = path.read_bytes()
        hits += [Hit(str(path), name) for name, form in forms.items() if form in data]
    for where, text in (texts or {}).items():
        data = text.encode("utf-8", errors="replace")
        hits += [Hit(where, name) for name, form in forms.items() if form in data]
    return hits, searched


@dataclass
class SuiteRun:
    """One in-process pytest run of the checks, every output written into `outdir`."""

    result: pytest.RunResult
    outdir: Path
    outcomes: dict[str, str] = field(default_factory=dict)  # full node id -> passed|failed|skipped|error
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def ret(self) -> int:
        return int(self.result.ret)

    @property
    def stdout(self) -> str:
        return "\n".join(self.result.outlines + self.result.errlines)

    def with_outcome(self, outcome: str) -> list[str]:
        return sorted(t for t, o in self.outcomes.items() if o == outcome)


def run_suite(pytester: pytest.Pytester, inventory: Path, outdir: Path, *extra: str) -> SuiteRun:
    """All checks against an inventory, writing HTML, JUnit and a DEBUG log, with locals in tracebacks."""
    outdir.mkdir(parents=True, exist_ok=True)
    result = pytester.runpytest_inprocess(
        str(CHECKS),
        "-p",
        "no:cacheprovider",
        f"--inventory={inventory}",
        f"--junitxml={outdir / 'junit.xml'}",
        f"--html={outdir / 'report.html'}",
        "--self-contained-html",
        f"--log-file={outdir / 'pytest.log'}",
        "--log-file-level=DEBUG",
        "--log-level=DEBUG",
        "-rA",
        "-v",
        "-l",
        "--tb=long",
        "-W",
        "ignore::DeprecationWarning",
        *extra,
    )
    run = SuiteRun(result, outdir)
    for rep in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        if rep.when == "call" or not rep.passed:
            run.outcomes[rep.nodeid] = "error" if rep.when != "call" and rep.failed else rep.outcome
            run.messages[rep.nodeid] = str(rep.longrepr or "")
    return run
