"""Likely duplicates: a refund that may be one already recorded under another reference.

The same refund typed twice with the same reference is caught by its identity (order + source + reference) and
recorded once. A person who believes a refund failed may record it again with a *new* reference, though (a second
receipt number, a generated one): that is a different identity, so exactly-once cannot catch it. The ledger calls a
refund a **likely duplicate** when the order already has a refund, not reversed, of the same amount under another
reference, refunded within ``window_days`` of it (7 by default; ``REFUNDKIT_DUPLICATE_DAYS`` changes it). The forms
and the CLI show the matches and ask for a second, explicit confirmation before recording.

Pure functions over the order's ledger (no I/O), plus :func:`find_likely_duplicates` which reads it through the
ledger's public API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..errors import ConfigError
from ..money import Money
from ..timeutil import Instant, parse_instant
from .model import LedgerEntry, Quote, refund_id
from .recording import Ledger

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "DuplicateCheck",
    "duplicate_window_days",
    "duplicates_of",
    "find_likely_duplicates",
    "likely_duplicates",
]

DEFAULT_WINDOW_DAYS = 7


def duplicate_window_days(env: dict[str, str] | None = None) -> int:
    """The window from ``REFUNDKIT_DUPLICATE_DAYS`` (whole days, 0 turns the warning off), else 7."""
    text = (os.environ if env is None else env).get("REFUNDKIT_DUPLICATE_DAYS", "").strip()
    if not text:
        return DEFAULT_WINDOW_DAYS
    try:
        days = int(text)
    except ValueError:
        raise ConfigError(f"REFUNDKIT_DUPLICATE_DAYS {text!r} is not a whole number of days (such as 7)") from None
    if not 0 <= days <= 3660:
        raise ConfigError(f"REFUNDKIT_DUPLICATE_DAYS {days} is out of range: use 0 to 3660 days")
    return days


def likely_duplicates(
    entries: Iterable[LedgerEntry],
    *,
    order_id: str,
    amount: Money,
    source: str,
    external_ref: str,
    refunded_at: Instant,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[LedgerEntry]:
    """Refunds in ``entries`` that the proposed one likely duplicates (oldest first).

    A match is a refund entry of the same order and the same amount (same currency), with another identity (another
    source or reference), not reversed, whose refunded-at lies within ``window_days`` of ``refunded_at``. The
    proposed refund itself (same identity) is never a match: recording it again is already harmless.
    """
    if window_days <= 0:
        return []
    entries = list(entries)
    own = refund_id(order_id, source, external_ref)
    reversed_ids = {e.reverses for e in entries if e.kind == "reversal"}
    window = timedelta(days=window_days)
    found = [
        e
        for e in entries
        if e.kind == "refund"
        and e.entry_id != own
        and e.entry_id not in reversed_ids
        and e.order_id.strip().lower() == order_id.strip().lower()
        and e.amount == amount
        and abs(e.refunded_at - refunded_at) <= window
    ]
    return sorted(found, key=lambda e: (e.refunded_at.ns, e.entry_id))


@dataclass(frozen=True)
class DuplicateCheck:
    """What :func:`find_likely_duplicates` found for a proposed refund."""

    matches: tuple[LedgerEntry, ...]
    window_days: int

    @property
    def found(self) -> bool:
        return bool(self.matches)

    def describe(self, tz: str = "UTC") -> list[str]:
        """One sentence per match, for a person (money as money, dates in ``tz``)."""
        return [
            f"{e.amount} via {e.source}, reference {e.external_ref}, refunded on "
            f"{e.refunded_at.in_zone(tz).to_datetime():%Y-%m-%d %H:%M} ({tz}), recorded by {e.recorded_by}"
            for e in self.matches
        ]


def _instant(value: str | Instant | date | None) -> Instant | None:
    if value is None or isinstance(value, Instant):
        return value
    if isinstance(value, date):  # a day only: the ledger reads it in the store's zone; the window is days wide
        value = value.isoformat()
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T12:00:00Z"  # noon: within hours of the instant the ledger gives a day in any store's zone
    try:
        return parse_instant(text)
    except ValueError:
        return None


def find_likely_duplicates(
    ledger: Ledger,
    order_id: str,
    amount: Any,
    source: str,
    external_ref: str,
    *,
    refunded_at: str | Instant | date | None = None,
    window_days: int | None = None,
) -> DuplicateCheck:
    """Read the order's ledger and return the likely duplicates of the proposed refund.

    Nothing is found (and nothing raised) when the proposal itself is not valid: the ledger's validation reports
    that when recording.
    """
    days = duplicate_window_days() if window_days is None else window_days
    if _instant(refunded_at) is None and refunded_at is not None and str(refunded_at).strip():
        return DuplicateCheck((), days)  # not a date: the ledger refuses the refund and says why
    quote = ledger.quote(order_id, amount, source, external_ref or "quote", refunded_at=refunded_at)
    return duplicates_of(
        quote, source=source, external_ref=external_ref, refunded_at=refunded_at, now=ledger.clock(), window_days=days
    )


def duplicates_of(
    quote: Quote,
    *,
    source: str,
    external_ref: str,
    refunded_at: str | Instant | date | None,
    now: Instant,
    window_days: int | None = None,
) -> DuplicateCheck:
    """The likely duplicates of the refund ``quote`` proposes (none when it proposes none), among the order's entries
    the quote read. ``refunded_at`` as the person gave it: a day means that day, nothing means ``now``."""
    days = duplicate_window_days() if window_days is None else window_days
    when = _instant(refunded_at)
    if quote.proposed is None or days <= 0 or (when is None and refunded_at is not None and str(refunded_at).strip()):
        return DuplicateCheck((), days)
    matches = likely_duplicates(
        quote.entries,
        order_id=quote.order_id,
        amount=quote.proposed,
        source=source,
        external_ref=external_ref,
        refunded_at=when or now,
        window_days=days,
    )
    return DuplicateCheck(tuple(matches), days)
