"""The demo's example refunds: what the notebooks record on the demo store, the same on every run.

The demo store runs up to today (:class:`refundkit.sandbox.SandboxConfig`), so examples cannot name fixed orders or
dates. :func:`record_examples` spreads them over a range, each on an order of its own picked by a rule that does not
depend on what the ledger already holds: a rerun picks the same orders, under the same references, and finds every
refund already recorded. None is dated in the future, and a part of the range without orders (the range may start
before the store does) is skipped. :func:`sample_moved_to_today` gives the sample CSV export with its dates moved to
the last few weeks, so that it fits the demo store whatever the day.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..timeutil import Instant, utc_now
from .model import RecordResult, RefundRefused

if TYPE_CHECKING:
    from .recording import Ledger

__all__ = [
    "GROSS_VS_NET_EXAMPLES",
    "ITEM_EXAMPLES",
    "SAMPLE_AGE",
    "TREND_EXAMPLES",
    "ExampleRefund",
    "record_examples",
    "sample_moved_to_today",
]

_DAY = timedelta(days=1)
#: Orders are looked for in this many days from each example's day.
_SLICE = timedelta(days=3)
#: An example goes on an order whose total (in its currency) is at least this many minor units.
_MIN_TOTAL = 100_00


@dataclass(frozen=True)
class ExampleRefund:
    """One example: recorded ``days_after_order`` days after its order was placed."""

    amount: str
    source: str
    reference: str
    reason: str
    days_after_order: int
    #: a refund by item: this many units of the order's first line that has them (0: an amount only); ``amount``
    #: then is "" for the price paid, or lower (a partial refund)
    units: int = 0
    shipping: bool = False


_SOURCES = ("cash", "apace", "bank-transfer", "store-credit")
_REASONS = ("damaged item", "late delivery", "wrong size", "changed mind")
#: Notebook 03's dozen, spread over the year, with a few sources and reasons.
TREND_EXAMPLES: tuple[ExampleRefund, ...] = tuple(
    ExampleRefund(
        f"{20 + 7 * (n % 5)}.00", _SOURCES[n % 4], f"DEMO-TREND-{n:02d}", _REASONS[(n * 3) % 4], 2 + 5 * (n % 6)
    )
    for n in range(12)
)
#: Refunds by item for the demo: a unit at the price paid, a unit refunded in part, a unit with the shipping.
ITEM_EXAMPLES: tuple[ExampleRefund, ...] = (
    ExampleRefund("", "cash", "DEMO-ITEM-01", "damaged item", 4, units=1),
    ExampleRefund("5.00", "store-credit", "DEMO-ITEM-02", "scratched, customer kept it", 6, units=1),
    ExampleRefund("", "apace", "DEMO-ITEM-03", "wrong size", 9, units=1, shipping=True),
)
#: Notebook 02's three.
GROSS_VS_NET_EXAMPLES: tuple[ExampleRefund, ...] = (
    ExampleRefund("25.00", "cash", "CASH-DEMO-1", "demo refund", 3),
    ExampleRefund("10.50", "apace", "APC-DEMO-2", "demo refund", 3),
    ExampleRefund("7.00", "bank-transfer", "BT-DEMO-3", "demo refund", 3),
)


def record_examples(
    ledger: Ledger, start: Instant, end: Instant, examples: Sequence[ExampleRefund]
) -> list[RecordResult]:
    """Record ``examples`` on the invoiced orders created in ``[start, end)``, spread evenly over it: each on the
    first order (by id) of its part of the range whose total is at least 100.00 and that takes it (an order that
    refuses it, say for a large VTEX refund, is passed over). Orders are taken early enough that every refunded-at
    lies before ``end``'s day. Idempotent: a rerun finds each refund already recorded. Returns what each record did
    (an example whose part of the range holds no order is left out)."""
    if not examples:
        return []
    reach = timedelta(days=max(e.days_after_order for e in examples)) + _SLICE + _DAY
    last = end - reach  # the latest day an example's orders are looked for
    if last.ns <= start.ns:
        return []
    span = last.ns - start.ns
    results = []
    for n, example in enumerate(examples):
        day = Instant(start.ns + span * n // len(examples))
        orders = ledger.client.orders.list(day, day + _SLICE, statuses=["invoiced"])
        for order in sorted(orders, key=lambda o: o.order_id):
            if order.total.minor < _MIN_TOTAL:
                continue
            try:
                items: list[str] = []
                if example.units:
                    lines = [
                        b
                        for b in ledger.order_items(order.order_id).lines
                        if b.bought >= example.units and b.paid.minor > 0 and b.unique_id
                    ]
                    if not lines:
                        continue
                    items = [f"{lines[0].unique_id}:{example.units}"]
                result = ledger.record(
                    order.order_id,
                    example.amount,
                    example.source,
                    example.reference,
                    reason=example.reason,
                    refunded_at=order.created_at + timedelta(days=example.days_after_order),
                    items=items,
                    shipping=True if example.shipping else None,
                )
            except RefundRefused:
                continue
            results.append(result)
            break
    return results


#: How long ago the sample export's latest refund is once :func:`sample_moved_to_today` moved it.
SAMPLE_AGE = timedelta(days=21)


def sample_moved_to_today(path: Path, folder: Path | None = None, today: date | None = None) -> Path:
    """A copy of the sample CSV export at ``path`` (comma-separated, a ``refunded_at`` column of days or ISO
    timestamps) with every date moved by the same number of days, so that its latest is :data:`SAMPLE_AGE` before
    ``today`` (default: today by refundkit's clock). Written under the same name in ``folder`` (default: a new
    temporary folder); the rows are otherwise as they were. The demo store runs up to today, so its orders are
    placed before these dates."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    dated = [row for row in rows if (row.get("refunded_at") or "").strip()]
    if not dated:
        raise ValueError(f"{path.name} has no refunded_at dates to move")
    latest = max(_day_of(row["refunded_at"]) for row in dated)
    shift = (today or utc_now().to_datetime().date()) - SAMPLE_AGE - latest
    for row in dated:
        row["refunded_at"] = _moved(row["refunded_at"].strip(), shift)
    out_dir = folder if folder is not None else Path(tempfile.mkdtemp(prefix="refundkit-sample-"))
    out = out_dir / path.name
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out


def _day_of(text: str) -> date:
    text = text.strip()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()


def _moved(text: str, shift: timedelta) -> str:
    if len(text) == 10:
        return (date.fromisoformat(text) + shift).isoformat()
    return (datetime.fromisoformat(text) + shift).isoformat()
