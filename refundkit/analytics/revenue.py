"""Gross versus net revenue, per period and currency, with both VTEX-native and offline refunds.

Read :data:`DEFINITIONS` first: it is the text every notebook and chart shows. In short::

    net = gross − VTEX refunds (return invoices) − offline refunds (the refundkit ledger, net of reversals)

per (period, currency); refunds by the date the money went back (``attribution="refund_date"``, the default cash
view) or by the date their order was created (``attribution="order_date"``, the cohort view).

>>> data = collect_revenue(rk, start, end)                          # doctest: +SKIP
>>> data.gross_vs_net(period="month")                               # doctest: +SKIP
>>> data.gross_vs_net(period="month", attribution="order_date")     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import polars as pl

from ..errors import InputError
from ..ledger.model import LedgerEntry
from ..statuses import STATUSES, Place, left_out, left_out_phrase
from ..timeutil import Instant, local_day_bounds, utc_now, zone
from .frames import charged_totals, native_refunds_frame, orders_frame, refunds_frame

if TYPE_CHECKING:
    from ..ledger import Ledger
    from ..vtex import VtexClient

__all__ = [
    "ATTRIBUTIONS",
    "CANCELED_STATUSES",
    "DEFINITIONS",
    "GROSS_SCHEMA",
    "PAYMENT_PENDING_STATUSES",
    "PERIODS",
    "REVENUE_SCHEMA",
    "RevenueData",
    "collect_revenue",
    "default_range",
    "definitions_line",
    "gross_by_period",
    "gross_vs_net",
    "orders_by_status",
]

Period = Literal["day", "week", "month"]
Attribution = Literal["refund_date", "order_date"]
Reversals = Literal["with_refund", "reversal_date"]

PERIODS: tuple[str, ...] = ("day", "week", "month")
ATTRIBUTIONS: tuple[str, ...] = ("refund_date", "order_date")
_INTERVALS = {"day": "1d", "week": "1w", "month": "1mo"}

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
  refunded-at date — whatever the order's status and whenever the order was placed.
* Order date view (a cohort view): a refund counts in the period its order was created, so each period shows what
  became of the orders taken then. Only refunds of orders counted in gross are included, and recent periods keep
  changing as refunds come in.
* Reversals undo an offline refund recorded by mistake (no money moved). By default a reversal is netted on the
  date of the refund it undoes, so the mistake leaves no trace in the figures; with reversals="reversal_date" it
  counts on the day it was recorded instead (periods already reported then stay as they were).
* Periods are calendar days, ISO weeks (starting Monday) or calendar months in the report's time zone (UTC unless
  said otherwise); a period is labelled by its first day.
"""

GROSS_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Date(),
    "currency": pl.String(),
    "orders": pl.Int64(),
    "gross_minor": pl.Int64(),
}

REVENUE_SCHEMA: dict[str, pl.DataType] = {
    **GROSS_SCHEMA,
    "native_refunds_minor": pl.Int64(),
    "offline_refunds_minor": pl.Int64(),
    "net_minor": pl.Int64(),
}


# -- helpers -----------------------------------------------------------------------------------------------------
def _check(period: str, attribution: str = "refund_date", tz: str = "UTC", reversals: str = "with_refund") -> None:
    problems = []
    if period not in PERIODS:
        problems.append(f"period {period!r} is not one of {', '.join(PERIODS)}")
    if attribution not in ATTRIBUTIONS:
        problems.append(f"attribution {attribution!r} is not one of {', '.join(ATTRIBUTIONS)}")
    if reversals not in ("with_refund", "reversal_date"):
        problems.append(f"reversals {reversals!r} is not one of with_refund, reversal_date")
    try:
        zone(tz)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise InputError("; ".join(problems))


def _period_expr(column: str | pl.Expr, period: str, tz: str) -> pl.Expr:
    """The first day of the period a UTC timestamp falls in, in time zone ``tz``."""
    col = pl.col(column) if isinstance(column, str) else column
    day = col.dt.convert_time_zone(tz).dt.date()
    return day if period == "day" else day.dt.truncate(_INTERVALS[period])


def _period_of(instant: Instant, period: str, tz: str) -> date:
    day = instant.in_zone(tz).to_datetime().date()
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _in_range(column: str | pl.Expr, start: Instant | None, end: Instant | None) -> pl.Expr:
    col = pl.col(column) if isinstance(column, str) else column
    ns = col.dt.epoch("ns")
    cond = pl.lit(True)
    if start is not None:
        cond = cond & (ns >= start.ns)
    if end is not None:
        cond = cond & (ns < end.ns)
    return cond


def _counted_orders(
    orders_df: pl.DataFrame,
    *,
    include_canceled: bool,
    include_payment_pending: bool,
    start: Instant | None,
    end: Instant | None,
) -> pl.DataFrame:
    excluded = left_out(include_canceled, include_payment_pending)
    return orders_df.filter(~pl.col("status").is_in(excluded) & _in_range("created_at", start, end))


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


# -- gross ---------------------------------------------------------------------------------------------------------
def gross_by_period(
    orders_df: pl.DataFrame,
    *,
    period: Period = "day",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """Gross revenue per (period, currency): ``period, currency, orders, gross_minor``; only periods with orders.

    Orders counted are those created in ``[start, end)`` (all when not given), without the canceled and
    payment-pending ones unless included, and without those that were never a sale (see :data:`DEFINITIONS`).
    """
    _check(period, tz=tz)
    counted = _counted_orders(
        orders_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    out = (
        counted.group_by(_period_expr("created_at", period, tz).alias("period"), "currency")
        .agg(pl.len().cast(pl.Int64).alias("orders"), pl.col("total_minor").sum().cast(pl.Int64).alias("gross_minor"))
        .sort("period", "currency")
    )
    return out.select([pl.col(c).cast(t) for c, t in GROSS_SCHEMA.items()]) if out.height else _empty(GROSS_SCHEMA)


def orders_by_status(
    orders_df: pl.DataFrame, *, include_canceled: bool = False, include_payment_pending: bool = False
) -> pl.DataFrame:
    """How many orders, and for how much, per currency and status, whether gross revenue counts them, and the
    status's place in gross (:mod:`refundkit.statuses`; ``unknown`` for a status refundkit does not know, which is
    counted): ``currency, status, orders, total_minor, in_gross, place``; the most frequent statuses first."""
    excluded = left_out(include_canceled, include_payment_pending)
    places = {s: r.place.value for s, r in STATUSES.items()}
    return (
        orders_df.group_by("currency", "status")
        .agg(pl.len().cast(pl.Int64).alias("orders"), pl.col("total_minor").sum().cast(pl.Int64).alias("total_minor"))
        .with_columns(
            (~pl.col("status").is_in(excluded)).alias("in_gross"),
            pl.col("status").replace_strict(places, default=Place.UNKNOWN.value, return_dtype=pl.String).alias("place"),
        )
        .sort(["currency", "orders", "status"], descending=[False, True, False])
    )


# -- gross vs net --------------------------------------------------------------------------------------------------
def gross_vs_net(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    period: Period = "day",
    attribution: Attribution = "refund_date",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    reversals: Reversals = "with_refund",
    start: Instant | None = None,
    end: Instant | None = None,
    fill_gaps: bool = True,
) -> pl.DataFrame:
    """Gross revenue, VTEX refunds, offline refunds and net revenue per (period, currency).

    Columns: ``period`` (``pl.Date``, first day of the period in ``tz``), ``currency``, ``orders``, ``gross_minor``,
    ``native_refunds_minor``, ``offline_refunds_minor``, ``net_minor`` (all amounts ``Int64`` minor units).
    One row per (period, currency): amounts in different currencies are never added.

    Inputs are the frames of :mod:`refundkit.analytics.frames`: ``orders_df`` (:func:`orders_frame`), ``native_df``
    (:func:`native_refunds_frame`) and ``offline_df`` (:func:`refunds_frame`).

    * Gross: order totals by creation date. ``include_canceled=False`` (default) leaves out orders with status
      ``canceled`` or ``cancel`` (VTEX returned that money); ``include_payment_pending=False`` (default) leaves out
      ``payment-pending`` orders (no money came in yet; many are canceled when the payment expires).
    * ``attribution="refund_date"`` (default, cash view): a return invoice counts on its issuance date (its order's
      creation date when VTEX gives none), an offline refund on its ``refunded_at``, whatever the order's status.
    * ``attribution="order_date"`` (cohort view): refunds count on their order's creation date; only refunds of
      orders counted in gross (same status rules, same range) are included.
    * ``reversals="with_refund"`` (default): a reversal is netted on the date of the refund it undoes (when that
      refund is in ``offline_df``), so a mistaken refund leaves no trace; ``"reversal_date"``: on its own date.
    * ``start``/``end``: count only orders created, and (refund-date view) refunds dated, in ``[start, end)``.
    * ``fill_gaps=True``: every period from the first to the last (of ``[start, end)`` when given) appears for
      each currency, with zeros where nothing happened, so charts do not join distant points.
    """
    _check(period, attribution, tz, reversals)
    counted = _counted_orders(
        orders_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    gross = gross_by_period(counted, period=period, tz=tz, include_canceled=True, include_payment_pending=True)

    if reversals == "with_refund":
        offline_at = pl.coalesce(pl.col("reversed_refunded_at"), pl.col("refunded_at"))
    else:
        offline_at = pl.col("refunded_at")
    native = native_df.select(
        "order_id",
        "currency",
        pl.col("amount_minor").alias("minor"),
        pl.coalesce(pl.col("issued_at"), pl.col("order_created_at")).alias("at"),
    )
    offline = offline_df.select("order_id", "currency", pl.col("signed_minor").alias("minor"), offline_at.alias("at"))

    def per_period(refunds: pl.DataFrame, name: str) -> pl.DataFrame:
        if attribution == "refund_date":
            dated = refunds.filter(_in_range("at", start, end))
        else:
            dated = refunds.drop("at").join(
                counted.select("order_id", pl.col("created_at").alias("at")), on="order_id", how="inner"
            )
        return dated.group_by(_period_expr("at", period, tz).alias("period"), "currency").agg(
            pl.col("minor").sum().cast(pl.Int64).alias(name)
        )

    keys = ["period", "currency"]
    out = gross.join(per_period(native, "native_refunds_minor"), on=keys, how="full", coalesce=True).join(
        per_period(offline, "offline_refunds_minor"), on=keys, how="full", coalesce=True
    )
    if fill_gaps and out.height:
        out = _fill_gaps(out, period, tz, start, end)
    out = out.with_columns(
        pl.col(c).fill_null(0) for c in ("orders", "gross_minor", "native_refunds_minor", "offline_refunds_minor")
    )
    out = out.with_columns(
        (pl.col("gross_minor") - pl.col("native_refunds_minor") - pl.col("offline_refunds_minor")).alias("net_minor")
    )
    out = out.select([pl.col(c).cast(t) for c, t in REVENUE_SCHEMA.items()]).sort("currency", "period")
    return out if out.height else _empty(REVENUE_SCHEMA)


def _fill_gaps(df: pl.DataFrame, period: str, tz: str, start: Instant | None, end: Instant | None) -> pl.DataFrame:
    grid = []
    for currency in sorted(df.get_column("currency").unique().to_list()):
        periods = df.filter(pl.col("currency") == currency).get_column("period")
        first, last = periods.min(), periods.max()
        assert isinstance(first, date)  # a Date column with rows
        assert isinstance(last, date)
        lo = min(_period_of(start, period, tz), first) if start is not None else first
        hi = max(_period_of(Instant(end.ns - 1), period, tz), last) if end is not None else last
        days = pl.date_range(lo, hi, _INTERVALS[period], eager=True)
        grid.append(pl.DataFrame({"period": days, "currency": [currency] * len(days)}))
    return pl.concat(grid).join(df, on=["period", "currency"], how="left")


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
    return f"{gross}; net = gross − VTEX refunds − offline refunds; {view}; periods in {tz}."


# -- collecting the data -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RevenueData:
    """What a revenue report needs: the three frames for ``[start, end)`` and the definitions.

    ``orders``: orders created in ``[start, end)``. ``native_refunds``: return invoices of orders created in
    ``[start − lookback, end)`` (any issuance date). ``offline_refunds``: ledger entries refunded at or after
    ``start`` (any later date), plus the refunds that those entries' reversals undo.
    :meth:`gross_vs_net` clips everything to ``[start, end)``.
    """

    orders: pl.DataFrame
    native_refunds: pl.DataFrame
    offline_refunds: pl.DataFrame
    start: Instant
    end: Instant
    definitions: str = DEFINITIONS

    @property
    def currencies(self) -> list[str]:
        return sorted(
            set(self.orders.get_column("currency").to_list())
            | set(self.native_refunds.get_column("currency").to_list())
            | set(self.offline_refunds.get_column("currency").to_list())
        )

    def gross_vs_net(self, **options: Any) -> pl.DataFrame:
        """:func:`gross_vs_net` over this data, limited to ``[start, end)`` unless other bounds are given."""
        start, end = options.get("start") or self.start, options.get("end") or self.end
        # never beyond what was collected: outside [start, end) the frames are incomplete
        options["start"] = start if start.ns >= self.start.ns else self.start
        options["end"] = end if end.ns <= self.end.ns else self.end
        return gross_vs_net(self.orders, self.native_refunds, self.offline_refunds, **options)


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
    """Read what a revenue report over ``[start, end)`` needs from VTEX and the ledger.

    ``source`` is a session (:func:`refundkit.connect`) or a ``(client, ledger)`` pair.

    * Orders created in ``[start − lookback, end)`` are listed (every one, exactly once). Those created in
      ``[start, end)`` make :attr:`RevenueData.orders`; the earlier ones only matter for their return invoices
      issued in the range (a return usually follows the sale within weeks; ``lookback`` says how far back to look).
    * Return invoices are on the full order only, which is one request per order: the order list is asked for the
      orders that have one (VTEX's ``f_hasInputInvoice``), and only those are read in full.
    * Ledger entries refunded at or after ``start`` (search), plus, for reversals of earlier refunds, those refunds.
    """
    if end.ns <= start.ns:
        raise InputError(f"the report range is empty: end {end} is not after start {start}")
    client, ledger = _client_and_ledger(source)
    say = progress or (lambda _msg: None)
    earliest = start - lookback

    say(f"listing orders created from {earliest.isoformat(0)} to {end.isoformat(0)}")
    listed = client.orders.list(earliest, end)
    in_range = [o for o in listed if start.ns <= o.created_at.ns < end.ns]

    with_returns = [o.order_id for o in client.orders.list(earliest, end, has_return_invoice=True)]
    say(f"reading {len(with_returns):,} orders in full for their return invoices")
    full = client.orders.get_many(with_returns, missing="skip")

    say("reading the offline refund ledger")
    entries: list[LedgerEntry] = list(ledger.entries(start=start))
    known = {e.entry_id for e in entries}
    for order_id in sorted({e.order_id for e in entries if e.reverses and e.reverses not in known}):
        for e in ledger.entries(order_id=order_id):
            if e.entry_id not in known:
                entries.append(e)
                known.add(e.entry_id)
    entries.sort(key=lambda e: (e.refunded_at.ns, e.recorded_at.ns, e.entry_id))

    native = native_refunds_frame(full)
    # gross starts from what was charged: the listed value, plus the returns where VTEX's value already excludes them
    reading = getattr(ledger, "value_reading", None) or client.orders.value_reading
    return RevenueData(
        orders=charged_totals(orders_frame(in_range), native, reading),
        native_refunds=native,
        offline_refunds=refunds_frame(entries),
        start=start,
        end=end,
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
