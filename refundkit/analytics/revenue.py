"""Gross versus net revenue, per period and currency, with both VTEX-native and offline refunds.

Read :data:`DEFINITIONS` first: it is the text every notebook and chart shows. In short::

    net = gross − VTEX refunds (return invoices) − offline refunds (the refundkit ledger, net of reversals)

per (period, currency); refunds by the date the money went back (``attribution="refund_date"``, the default cash
view) or by the date their order was created (``attribution="order_date"``, the cohort view).

The figures come from the one engine, :mod:`refundkit.analytics.engine`; this module holds their definitions in
words and the live loader, which reads VTEX and the ledger directly (the report reads the local store instead):

>>> data = collect_revenue(rk, start, end)                          # doctest: +SKIP
>>> data.gross_vs_net(period="month")                               # doctest: +SKIP
>>> data.gross_vs_net(period="month", attribution="order_date")     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from ..errors import InputError
from ..statuses import STATUSES, Place, left_out_phrase
from ..timeutil import Instant, local_day_bounds, utc_now
from .engine import ATTRIBUTIONS, PERIODS, Figures, ledger_entries, revenue_figures
from .frames import native_refunds_frame, orders_frame, refunds_frame
from .sources import REFUND_COLUMNS
from .split import with_totals

if TYPE_CHECKING:
    from ..ledger import Ledger
    from ..ledger.model import LedgerEntry
    from ..vtex import VtexClient

__all__ = [
    "ATTRIBUTIONS",
    "CANCELED_STATUSES",
    "DEFINITIONS",
    "PAYMENT_PENDING_STATUSES",
    "PERIODS",
    "RevenueData",
    "collect_revenue",
    "default_range",
    "definitions_line",
]

#: Left out of gross unless ``include_canceled=True``: VTEX returned (or is returning) the payment. From the one
#: status table, :mod:`refundkit.statuses`.
CANCELED_STATUSES: tuple[str, ...] = tuple(s for s, r in STATUSES.items() if r.place is Place.CANCELED)
#: Left out of gross unless ``include_payment_pending=True``: no money was received yet (:mod:`refundkit.statuses`).
PAYMENT_PENDING_STATUSES: tuple[str, ...] = tuple(s for s, r in STATUSES.items() if r.place is Place.PAYMENT_PENDING)

DEFINITIONS = """\
How refundkit counts revenue

* Currencies are never added together: every row, total and chart is one currency. Amounts are the order's
  currency, kept as integers of minor units (cents); major units appear only as display text.
* Gross revenue: the sum of order totals (VTEX's order value: items − discounts + shipping + tax) of the orders
  created in the period, by creation date.
  - Canceled orders (status canceled or cancel) are left out by default: VTEX returned that payment.
  - Orders whose payment is still pending (payment-pending, and the steps before the payment is approved, such as
    order-created, approve-payment or waiting-for-order-authorization) are left out by default: no money came in
    yet, and VTEX cancels many of them when the payment expires.
  Both are report options (include_canceled, include_payment_pending).
  - Orders that were never a sale (order-create-error, order-creation-error, replaced by another order) are always
    left out.
  Every other status counts, including orders whose cancellation was only requested, or was denied
  (invoice-after-cancellation-deny). A status refundkit does not know counts too, and is named with its count in
  the warnings. The README's status table gives every status its place (refundkit.statuses).
* VTEX refunds: the return invoices (packages of type Input) VTEX issued on the orders, by their value.
* Offline refunds: the refunds recorded in the refundkit ledger (cash, bank transfer, a refund service, store
  credit...), which VTEX does not know about, net of reversals.
* Net revenue = gross − VTEX refunds − offline refunds.
* Refund date view (the default, a cash view): a refund counts in the period the money went back — a return
  invoice on its issuance date (on its order's creation date if VTEX gives none), an offline refund on its
  refunded-at date — whenever the order was placed.
* In both views, refunds of orders that gross leaves out (canceled, payment pending, never a sale) are left out
  too, and named in the warnings; a refund whose order is not known counts.
* Order date view (a cohort view): a refund counts in the period its order was created, so each period shows what
  became of the orders taken then. Only refunds of orders counted in gross are included, and recent periods keep
  changing as refunds come in.
* Reversals undo an offline refund recorded by mistake (no money moved). By default a reversal is netted on the
  date of the refund it undoes, so the mistake leaves no trace in the figures; with reversals="reversal_date" it
  counts on the day it was recorded instead (periods already reported then stay as they were).
* Periods are calendar days, ISO weeks (starting Monday) or calendar months in the report's time zone (UTC unless
  said otherwise); a period is labelled by its first day.
"""


def definitions_line(
    attribution: str = "refund_date",
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    tz: str = "UTC",
) -> str:
    """One line saying what a gross-vs-net figure shows, for chart subtitles."""
    left_out = left_out_phrase(include_canceled, include_payment_pending)
    gross = f"Gross = order totals by order date ({left_out} orders left out)"
    view = (
        "refunds on the date the money went back (cash view)"
        if attribution == "refund_date"
        else "refunds on their order's date (cohort view)"
    )
    net = " − ".join(["net = gross", *(c.label for c in REFUND_COLUMNS)])
    return f"{gross}; {net}; {view}; periods in {tz}."


# -- collecting the data without the store ---------------------------------------------------------------------
@dataclass(frozen=True)
class RevenueData:
    """The engine's three input frames for ``[start, end)``, read live from VTEX and the ledger
    (:func:`collect_revenue`), and the definitions.

    ``orders``: orders created in ``[start − lookback, end)`` (gross counts those of ``[start, end)``; the earlier
    ones tell the status of the orders whose refunds fall in the range). ``native_refunds``: the return invoices of
    those orders (any issuance date). ``offline_refunds``: ledger entries refunded at or after ``start`` (any later
    date), plus the refunds that those entries' reversals undo. ``value_reading``: how VTEX's order value reads
    after a return invoice on this account. :meth:`figures` clips everything to ``[start, end)``.
    """

    orders: pl.DataFrame
    native_refunds: pl.DataFrame
    offline_refunds: pl.DataFrame
    start: Instant
    end: Instant
    value_reading: str = "kept"
    definitions: str = DEFINITIONS

    @property
    def currencies(self) -> list[str]:
        in_range = self.orders.filter(pl.col("created_at").dt.epoch("ns").is_between(self.start.ns, self.end.ns - 1))
        return sorted(
            set(in_range.get_column("currency").to_list())
            | set(self.native_refunds.get_column("currency").to_list())
            | set(self.offline_refunds.get_column("currency").to_list())
        )

    def figures(self, **options: Any) -> Figures:
        """:func:`~refundkit.analytics.engine.revenue_figures` over this data, limited to ``[start, end)`` unless
        narrower bounds are given."""
        start, end = options.get("start") or self.start, options.get("end") or self.end
        # never beyond what was collected: outside [start, end) the frames are incomplete
        options["start"] = start if start.ns >= self.start.ns else self.start
        options["end"] = end if end.ns <= self.end.ns else self.end
        options.setdefault("value_reading", self.value_reading)
        return revenue_figures(self.orders, self.native_refunds, self.offline_refunds, **options)

    def gross_vs_net(self, **options: Any) -> pl.DataFrame:
        """The rows of :meth:`figures` (:data:`~refundkit.analytics.engine.REVENUE_SCHEMA`)."""
        return self.figures(**options).rows


def _client_and_ledger(source: Any) -> tuple[VtexClient, Ledger]:
    if isinstance(source, tuple) and len(source) == 2:
        return source[0], source[1]
    client, ledger = getattr(source, "client", None), getattr(source, "ledger", None)
    if client is None or ledger is None:
        raise InputError("collect_revenue needs a session (refundkit.connect()) or a (client, ledger) pair")
    return client, ledger


def collect_revenue(
    source: Any,
    start: Instant,
    end: Instant,
    *,
    lookback: timedelta = timedelta(days=90),
    progress: Callable[[str], None] | None = None,
) -> RevenueData:
    """Read what a revenue report over ``[start, end)`` needs from VTEX and the ledger, without the local store.

    ``source`` is a session (:func:`refundkit.connect`) or a ``(client, ledger)`` pair.

    * Orders created in ``[start − lookback, end)`` are listed (every one, exactly once). Those created in
      ``[start, end)`` count in gross; the earlier ones only matter for their return invoices issued in the range
      (a return usually follows the sale within weeks; ``lookback`` says how far back to look).
    * Return invoices are on the full order only, which is one request per order: the order list is asked for the
      orders that have one (VTEX's ``f_hasInputInvoice``), and only those are read in full.
    * Ledger entries refunded at or after ``start``, plus, for reversals of earlier refunds, those refunds
      (:func:`~refundkit.analytics.engine.ledger_entries`).
    """
    if end.ns <= start.ns:
        raise InputError(f"the report range is empty: end {end} is not after start {start}")
    client, ledger = _client_and_ledger(source)
    say = progress or (lambda _msg: None)
    earliest = start - lookback

    say(f"listing orders created from {earliest.isoformat(0)} to {end.isoformat(0)}")
    listed = client.orders.list(earliest, end)

    with_returns = [o.order_id for o in client.orders.list(earliest, end, has_return_invoice=True)]
    say(f"reading {len(with_returns):,} orders in full for their return invoices")
    full = client.orders.get_many(with_returns, missing="skip")

    say("reading the offline refund ledger")
    entries: list[LedgerEntry] = ledger_entries(ledger, start)
    entries.sort(key=lambda e: (e.refunded_at.ns, e.recorded_at.ns, e.entry_id))

    # gross starts from what was charged: the engine adds the returns back where VTEX's value already excludes them
    reading = getattr(ledger, "value_reading", None) or client.orders.value_reading
    return RevenueData(
        orders=with_totals(orders_frame(listed), full),  # as the store keeps them: details of the orders read
        native_refunds=native_refunds_frame(full),
        offline_refunds=refunds_frame(entries),
        start=start,
        end=end,
        value_reading=reading,
    )


class HasStorePeriod(Protocol):
    """A session (:class:`refundkit.Session`) that may know the whole period of its store."""

    @property
    def store_period(self) -> tuple[date, date] | None: ...


def default_range(
    session: HasStorePeriod | None = None, *, days: int = 400, tz: str = "UTC"
) -> tuple[Instant, Instant]:
    """The range a report shows by default: the store's whole period when ``session`` knows it (the embedded
    sandbox's synthetic store, in UTC), otherwise the last ``days`` days up to today (in ``tz``), as
    ``[start, end)``."""
    period = session.store_period if session is not None else None
    if period is not None:
        return local_day_bounds(period[0], period[1], "UTC")
    today = utc_now().in_zone(tz).to_datetime().date()
    return local_day_bounds(today - timedelta(days=days), today, tz)
