"""Keep secrets out of every output: one redactor applied wherever text leaves the process."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
from typing import TYPE_CHECKING, Any

from gpverify.config.paths import HISTORY_PASSWORD_ENV

if TYPE_CHECKING:
    from gpverify.facts.farm import Farm

MASK = "[redacted]"
# A line that held a weak secret is withheld whole: masking only the word would show where it stood, and the
# sentence around it ("expected [redacted]") would give it away.
LINE_MASK = "[a line was withheld: it contained text equal to a password]"
# Shorter secrets, or secrets that are one plain word, also occur in ordinary text (a password "Running" in
# "expected Running"): those are weak.
STRONG_LENGTH = 8


# Secrets gpverify takes from its own environment variables rather than from an inventory: the history's password
# (gpverify.history.target) and the notification URLs, which hold tokens (gpverify.audit.notify). A run masks them
# wherever its output is kept, as it masks the inventory's passwords: a local step of an upgrade plan may print them.
NOTIFY_URLS_ENV = "GPVERIFY_NOTIFY_URLS"
SECRET_ENVS = (HISTORY_PASSWORD_ENV, NOTIFY_URLS_ENV)


def environment_secrets() -> list[str]:
    """The values of SECRET_ENVS that are set, each URL of a URL list on its own too."""
    found: list[str] = []
    for name in SECRET_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            found += [value, *value.replace(",", " ").split()]
    return found


def is_weak(secret: str) -> bool:
    """True for a secret that ordinary output may contain by chance: short, or one word of letters."""
    return len(secret) < STRONG_LENGTH or secret.isalpha()


def _forms(secret: str) -> set[str]:
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms.add(base64.b64encode(secret.encode()).decode())
    forms.add(base64.b64encode(secret.encode("utf-16-le")).decode())
    return {f for f in forms if f}


CLEAN_TEXT_CHARS, CLEAN_TEXTS = 512, 8192  # what Redactor remembers as clean: at most about 4 MB


class Redactor:
    """Replaces each known secret, in every form it may be written, with a fixed mask (length not kept).

    Secrets of any length are masked. A strong secret is replaced where it occurs; a weak one (is_weak) takes
    its whole line with it. `fired` counts replacements, so a test can tell "masked" from "never there".
    """

    def __init__(self, secrets: list[str | None] | None = None) -> None:
        strong: set[str] = set()
        weak: set[str] = set()
        for secret in filter(None, secrets or []):
            (weak if is_weak(secret) else strong).update(_forms(secret))
        weak -= strong
        self._forms = sorted(strong, key=len, reverse=True)
        self._weak = re.compile("|".join(map(re.escape, sorted(weak, key=len, reverse=True)))) if weak else None
        self.fired = 0
        # Short text found clean once is clean again: a check's title, section and remediation are masked in
        # each of its reports, for every host (tens of thousands of strings at fleet scale, make bench).
        self._clean: set[str] = set()

    @classmethod
    def for_farm(cls, farm: Farm) -> Redactor:
        from gpverify.transport.ntlm import ntlm_secret  # the hashed form NTLM hosts get is as secret

        passwords = [p for p in farm.passwords.values() if p]
        return cls([*passwords, *map(ntlm_secret, passwords), farm.sql_password, *environment_secrets()])

    @classmethod
    def for_environment(cls) -> Redactor:
        """The secrets of gpverify's own environment variables, where no farm is open (fleet, history...)."""
        return cls(list[str | None](environment_secrets()))

    def text(self, text: str) -> str:
        if text in self._clean:
            return text
        masked = self._masked(text)
        if masked == text and len(text) <= CLEAN_TEXT_CHARS and len(self._clean) < CLEAN_TEXTS:
            self._clean.add(text)
        return masked

    def _masked(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                self.fired += text.count(form)
                text = text.replace(form, MASK)
        if self._weak is not None and self._weak.search(text):
            lines = text.split("\n")
            for i, line in enumerate(lines):
                if self._weak.search(line):
                    self.fired += 1
                    lines[i] = LINE_MASK
            text = "\n".join(lines)
        return text

    def data(self, value: Any) -> Any:
        """Plain data with every secret masked: strings, and the strings inside mappings, sequences and dataclasses
        (a custom check's evidence may hold one: it becomes the mapping of its fields, as JSON and xdist need)."""
        if isinstance(value, str):
            return self.text(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.data(dataclasses.asdict(value))
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def longrepr(self, longrepr: Any) -> Any:
        if (not self._forms and self._weak is None) or longrepr is None:
            return longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
            return (longrepr[0], longrepr[1], self.text(str(longrepr[2])))
        return self.text(str(longrepr))
