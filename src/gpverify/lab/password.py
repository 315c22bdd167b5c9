"""The lab's WinRM password: one per start, held in the environment the checks read it from."""

from __future__ import annotations

import os
import secrets

LAB_PASSWORD_ENV = "GPVERIFY_LAB_PASSWORD"


def lab_password() -> str:
    """The lab's WinRM password: taken from the environment or made up, and exported for the checks."""
    password = os.environ.get(LAB_PASSWORD_ENV) or f"lab-{secrets.token_urlsafe(12)}"
    os.environ[LAB_PASSWORD_ENV] = password
    return password
