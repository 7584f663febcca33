"""Whether VTEX's order ``value`` already excludes a return invoice, found on the account and kept with its date.

VTEX's partial-invoice guide says the order's total is "updated after adding the invoice", and says no more. Two
readings are plausible, and each needs its own arithmetic so that a return is subtracted once and never missed:

* ``kept`` — ``value`` stays what was charged; the return invoices subtract from it (balances: value − returns −
  gateway refunds − offline refunds; reports: gross is the value, VTEX refunds subtract the returns);
* ``reduced`` — ``value`` already went down by the returned amount; what was charged is value + returns, and
  balances and gross start from that (gross adds the returns back, so the report's gross, VTEX refunds and net are
  the same figures under either reading).

:func:`reading_of` decides on one order with a return invoice by comparing ``value`` with what was charged: the sale
(``Output``) invoices when the order has them (a return does not change them), else the sum of ``totals``, less any
order changes. ``refundkit doctor`` runs it on real orders and saves the :class:`ValueVerdict` under the cache dir
(``verdicts/order-value-{account}.json``); the ledger, the reports and the trends read it from there.

Without a verdict refundkit reads ``kept`` (what it always did): if the account's value is in fact reduced, a return
is then subtracted twice — balances are understated, never overstated, and reports understate net. Every report
says which reading it used.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..vtex.known import VALUE_READINGS
from .verdict import verdict_path, write_verdict

if TYPE_CHECKING:
    from ..vtex.models import Order

__all__ = [
    "DEFAULT_READING",
    "ValueVerdict",
    "apply_value_verdict",
    "load_value_verdict",
    "reading_of",
    "save_value_verdict",
    "value_reading",
]

log = logging.getLogger("refundkit.ledger")

KIND: Final = "order-value"
DEFAULT_READING: Final = "kept"
_FORMAT: Final = 1


@dataclass(frozen=True)
class ValueVerdict:
    """How ``value`` reads after a return invoice on this account, as found on ``order_id`` at ``checked_at``."""

    account: str
    checked_at: datetime  # aware, UTC
    reading: str  # one of VALUE_READINGS
    order_id: str
    value_minor: int  # the order's value as VTEX sent it
    charged_minor: int  # what was charged (sale invoices, else totals, less changes)
    returned_minor: int  # its return invoices

    def describe(self) -> str:
        how = "already excludes" if self.reading == "reduced" else "does not exclude"
        return (
            f"VTEX's order value {how} the returned amount ({self.reading}; found by `refundkit doctor` on order "
            f"{self.order_id}, {self.checked_at:%Y-%m-%d %H:%M} UTC)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "account": self.account,
            "checked_at": self.checked_at.astimezone(UTC).isoformat(),
            "reading": self.reading,
            "order_id": self.order_id,
            "value_minor": self.value_minor,
            "charged_minor": self.charged_minor,
            "returned_minor": self.returned_minor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValueVerdict:
        """Raises ValueError, KeyError or TypeError when ``data`` is not a verdict this version wrote."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"unknown verdict format {data.get('format')!r}")
        if data["reading"] not in VALUE_READINGS:
            raise ValueError(f"unknown reading {data['reading']!r}")
        checked_at = datetime.fromisoformat(str(data["checked_at"]))
        if checked_at.tzinfo is None:
            raise ValueError("checked_at has no time zone")
        amounts = [data[k] for k in ("value_minor", "charged_minor", "returned_minor")]
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in amounts):
            raise TypeError("an amount is not an integer")
        return cls(
            str(data["account"]), checked_at.astimezone(UTC), str(data["reading"]), str(data["order_id"]), *amounts
        )


def reading_of(order: Order) -> tuple[str | None, int, int, str]:
    """``(reading, charged, returned, what was compared)`` on one order; ``reading`` is None when the order cannot
    tell (no return invoice, or its value matches neither reading: another change moved it)."""
    returned = order.invoice_refunded.minor
    faces = sum(inv.value.minor for inv in order.return_invoices)
    if not order.return_invoices or returned <= 0:
        return None, 0, 0, f"order {order.order_id} has no return invoice with an amount"
    packages = (order.raw.get("packageAttachment") or {}).get("packages") or []
    sales: list[int] = [
        int(p["invoiceValue"])
        for p in packages
        if isinstance(p, dict) and str(p.get("type", "")).lower() == "output" and isinstance(p.get("invoiceValue"), int)
    ]
    changes = sum(c.net_reduction.minor for c in order.changes)
    if sales:
        source, base = "its sale invoices", sum(sales)
    elif order.totals:
        source, base = "its totals", sum(m.minor for m in order.totals.values())
    else:
        return None, 0, returned, f"order {order.order_id} has neither sale invoices nor totals to compare with"
    charged = base - changes
    value = order.total.minor
    what = (
        f"order {order.order_id}: value {value}, charged {charged} ({source}"
        + (f" less changes {changes}" if changes else "")
        + f"), return invoices {returned}"
    )
    if value == charged:
        return "kept", charged, returned, what
    if value in (charged - returned, charged - faces):
        return "reduced", charged, returned, what
    return None, charged, returned, what


def load_value_verdict(cache_dir: Path | None, account: str) -> ValueVerdict | None:
    """The verdict saved for ``account``, or None (none, unreadable, or another account's)."""
    if cache_dir is None:
        return None
    path = verdict_path(cache_dir, account, KIND)
    try:
        verdict = ValueVerdict.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, NotADirectoryError):  # none saved; a cache dir that is no folder is said elsewhere
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable order value verdict %s (%s); run `refundkit doctor` again", path, exc)
        return None
    return verdict if verdict.account == account else None


def save_value_verdict(cache_dir: Path, verdict: ValueVerdict) -> None:
    write_verdict(verdict_path(cache_dir, verdict.account, KIND), verdict.as_dict())


def value_reading(cache_dir: Path | None, account: str) -> tuple[str, str]:
    """``(reading, a sentence saying where it comes from)`` for the account: its saved verdict, else the default."""
    verdict = load_value_verdict(cache_dir, account)
    if verdict is not None:
        return verdict.reading, verdict.describe()
    return DEFAULT_READING, (
        "VTEX's order value read as not excluding returns (kept: assumed, no verdict yet; run `refundkit doctor` on "
        "the account to find out — if it does exclude them, returns are subtracted twice until then)"
    )


def apply_value_verdict(client: Any, cache_dir: Path | None) -> tuple[str, str]:
    """Make ``client``'s order reads follow the account's verdict; returns :func:`value_reading`'s answer."""
    reading, why = value_reading(cache_dir, client.settings.account or "account")
    client.orders.value_reading = reading
    return reading, why
