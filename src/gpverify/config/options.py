"""Command-line values checked where they are parsed: a bad one is one argparse message, never a traceback."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def seconds(maximum: float = 86400.0, *, allow_zero: bool = True) -> Callable[[str], float]:
    """An argparse type for a duration: a finite number of seconds from 0 (or above 0) up to `maximum`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        lowest = "from 0" if allow_zero else "above 0"
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) or value > maximum:
            raise argparse.ArgumentTypeError(f"expected seconds {lowest} up to {maximum:g}, got {text!r}")
        return value

    parse.__name__ = "seconds"  # argparse names the type in its message
    return parse


def count(minimum: int = 1, maximum: int = 10000) -> Callable[[str], int]:
    """An argparse type for a whole number from `minimum` to `maximum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a number from {minimum} to {maximum}, got {text!r}")
        return value

    parse.__name__ = "count"
    return parse
