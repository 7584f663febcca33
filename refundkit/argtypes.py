"""argparse types shared by every command-line entry point (``refundkit`` and ``python -m refundkit.sandbox``):
each refuses a bad value with a message that says what to type."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import date
from typing import TypeVar

__all__ = ["day", "day_text", "nonneg_float", "number", "positive_int", "probability"]

N = TypeVar("N", int, float)


def number(kind: Callable[[str], N], low: float = 0, high: float | None = None) -> Callable[[str], N]:
    """An argparse type: a number of ``kind`` within [low, high], with a message that says what to type."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if math.isnan(value) or value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bound}")
        return value

    return parse


positive_int = number(int)
probability = number(float, 0, 1)
nonneg_float = number(float)


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def day_text(text: str) -> str:
    """A YYYY-MM-DD date, kept as the text (as :class:`~refundkit.sandbox.SandboxConfig` takes it)."""
    return day(text).isoformat()
