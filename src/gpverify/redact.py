"""Keep secrets out of every output: one redactor applied wherever text leaves the process."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpverify.farm import Farm

MASK = "[redacted]"


class Redactor:
    """Replaces each known secret, and its base64 and UTF-16 forms, with a fixed mask (length not kept)."""

    def __init__(self, secrets: list[str | None] | None = None) -> None:
        forms: set[str] = set()
        for secret in filter(None, secrets or []):
            forms.add(secret)
            forms.add(repr(secret)[1:-1])  # as a repr shows it (doubled backslashes, escaped quotes)
            forms.add(json.dumps(secret)[1:-1])  # as JSON text shows it
            forms.add(base64.b64encode(secret.encode()).decode())
            forms.add(base64.b64encode(secret.encode("utf-16-le")).decode())
        self._forms = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)

    @classmethod
    def for_farm(cls, farm: Farm) -> Redactor:
        return cls([*farm.passwords.values(), farm.sql_password])

    def text(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def longrepr(self, longrepr: Any) -> Any:
        if not self._forms or longrepr is None:
            return longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
            return (longrepr[0], longrepr[1], self.text(str(longrepr[2])))
        return self.text(str(longrepr))
