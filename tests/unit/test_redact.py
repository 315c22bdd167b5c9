"""The redactor: secrets of any length and alphabet masked in every form, weak ones without giving them away."""

from __future__ import annotations

import base64
import json

import pytest

from gpverify.config.redact import LINE_MASK, MASK, Redactor, is_weak

PASSWORDS = [
    "x",
    "ab",
    "abc",
    "Pässwörd-ü€-2026",
    'it\'s "quoted" \\ back`tick$(x)',
    "p" * 300 + "-Z9",
    "密码Secr3t-长",
    "Tab\tand space ",
]


@pytest.mark.parametrize("secret", PASSWORDS, ids=range(len(PASSWORDS)))
def test_every_form_of_every_password_is_masked_and_counted(secret: str) -> None:
    redactor = Redactor([secret])
    forms = [
        secret,
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(secret.encode("utf-16-le")).decode(),
    ]
    for form in forms:
        text = f"connect failed for LAB\\gpadmin using <{form}> at 10:02\nnext line"
        masked = redactor.text(text)
        assert form not in masked.replace(LINE_MASK, ""), (form, masked)  # the fixed mask text may hold "x"
        assert MASK in masked or LINE_MASK in masked
    assert redactor.fired >= len(forms)  # the masking fired: the secret was there and is now gone


def test_a_weak_password_takes_its_whole_line_so_context_does_not_reveal_it() -> None:
    redactor = Redactor(["Running"])
    assert is_weak("Running") and is_weak("abc") and not is_weak("Gp-Secr3t-Canary-7781")
    out = redactor.text("GP-POST-002 gp-sh02\nthe Session Service is Stopped, expected Running\nremediation: start it")
    assert out == f"GP-POST-002 gp-sh02\n{LINE_MASK}\nremediation: start it"
    assert "Running" not in out and "expected" not in out


def test_a_strong_password_is_replaced_in_place() -> None:
    redactor = Redactor(["Gp-Secr3t-Canary-7781", None])
    assert redactor.text("pwd=Gp-Secr3t-Canary-7781;") == f"pwd={MASK};"
    assert redactor.data({"k": ["Gp-Secr3t-Canary-7781"]}) == {"k": [MASK]}
    assert redactor.longrepr(("f.py", 3, "Skipped: Gp-Secr3t-Canary-7781")) == ("f.py", 3, f"Skipped: {MASK}")


def test_no_secrets_changes_nothing() -> None:
    redactor = Redactor([None, ""])
    assert redactor.text("anything at all") == "anything at all" and redactor.fired == 0


def test_clean_text_is_remembered_and_a_secret_is_masked_every_time() -> None:
    redactor = Redactor(["Sup3r-S3cret-pw!"])
    clean = "GP-CLI-002  gp-cl0001  passed  Silverlight elevated trust is allowed"
    assert redactor.text(clean) == clean and redactor.text(clean) == clean and redactor.fired == 0
    leaked = "password=Sup3r-S3cret-pw!"
    assert redactor.text(leaked) == redactor.text(leaked) == f"password={MASK}"
    assert redactor.fired == 2  # masked (and counted) each time: never remembered as clean
