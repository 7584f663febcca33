"""The analytics engine: the one place that decides which orders count, how refunds are dated and attributed, and
how periods and time zones cut them. Reports, trends, charts, the desk, the notebooks and the exports all read
their figures from here.

>>> fig = revenue_figures(orders, native, offline, period="month", start=lo, end=hi)   # doctest: +SKIP
>>> fig.rows                  # one row per (period, currency): gross, each refund column, net (minor units)
>>> fig.refunds               # the refund lines behind them, one per refund (refund_lines)

* **Which orders count** (:func:`in_gross`): the one table of :mod:`refundkit.statuses`; canceled and
  payment-pending orders are left out unless included, orders that were never a sale always; a refund of an order
  gross leaves out is left out of every view too (and listed), a refund of an order not loaded counts.
* **Refunds**: one line per refund of each source of the registry (:mod:`refundkit.analytics.sources`), built by
  :func:`refund_lines` only. A return invoice is dated by its issuance (its order's creation when VTEX gives none),
  an offline refund by its refunded-at date; a reversal is netted on the date of the refund it undoes (or, with
  ``reversals="reversal_date"``, on its own date).
* **Attribution**: ``"refund_date"`` (cash view) places a refund in the period of its date, ``"order_date"``
  (cohort view) in its order's.
* **Periods** (:func:`period_expr`): calendar days, ISO weeks (Monday) or months in the time zone asked, labelled
  by their first day; ranges are half-open ``[start, end)``.
* **Ranges** (:func:`preset_days`, :func:`comparison_days`): a named range (``last-month``…) as local days from the
  clock, and the range a report is compared with; :func:`running_expr` marks the period still under way.
* **Loading**: :func:`read_store` is the one reading of the local order store (orders, return invoices, offline
  refunds); :func:`ledger_entries` the one reading of the ledger for a range; :func:`sync_for_range` syncs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from ..errors import InputError
from ..ledger.valueverdict import value_reading
from ..money import format_money
from ..statuses import STATUSES, Place, left_out, left_out_phrase, unknown_counts, unknown_statuses_line
from ..timeutil import Instant, zone
from .frames import UTC_NS, charged_totals
from .sources import REFUND_COLUMNS, SOURCES
from .split import (
    ORDER_INPUTS,
    SPLIT_COLUMNS,
    SUMMED_ORDER_COLUMNS,
    offline_parts,
    refund_part_sums,
    split_lines,
    unknown_totals_line,
)
from .store import OrderStore, StoreState, with_ids
from .summaries import COUNT, GRAIN_NS, ORDER_SOURCES, ORDER_SUMS, order_sums
from .sync import SyncResult, sync_orders

if TYPE_CHECKING:
    from ..ledger.model import LedgerEntry

__all__ = [
    "ATTRIBUTIONS",
    "COMPARISONS",
    "DEFAULT_LOOKBACK_DAYS",
    "GROSS_SCHEMA",
    "PERIODS",
    "PRESETS",
    "REFUND_LINES_SCHEMA",
    "REPORT_ORDER_COLUMNS",
    "REVENUE_SCHEMA",
    "REVERSALS",
    "Figures",
    "check_options",
    "comparison_days",
    "counted_orders",
    "fill_gaps",
    "gross_by_period",
    "in_gross",
    "in_range",
    "ledger_entries",
    "net_expr",
    "net_of_reversals",
    "order_totals",
    "orders_by_status",
    "period_expr",
    "period_labels",
    "period_of_day",
    "preset_days",
    "read_store",
    "refund_lines",
    "refund_sums",
    "revenue_figures",
    "running_expr",
    "status_counts",
    "sync_for_range",
    "today_in",
    "value_reading_of",
]

Period = Literal["day", "week", "month"]

PERIODS: tuple[str, ...] = ("day", "week", "month")
ATTRIBUTIONS: tuple[str, ...] = ("refund_date", "order_date")
REVERSALS: tuple[str, ...] = ("with_refund", "reversal_date")
#: The named ranges of a report, in local days of its time zone, from the clock (:func:`preset_days`).
PRESETS: tuple[str, ...] = ("this-month", "last-month", "last-quarter", "ytd", "last-12-months")
#: What a report can be compared with (:func:`comparison_days`).
COMPARISONS: tuple[str, ...] = ("previous", "last-year")
_INTERVALS = {"day": "1d", "week": "1w", "month": "1mo"}
#: How far back a report looks for orders whose refunds fall in its range (refund-date view), by default.
DEFAULT_LOOKBACK_DAYS = 180

GROSS_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Date(),
    "currency": pl.String(),
    "orders": pl.Int64(),
    "gross_minor": pl.Int64(),
}
#: One row per (period, currency): gross, one column per refund column of the registry, net (all minor units), then
#: gross and refunds split by component (:mod:`refundkit.analytics.split`: the parts sum to gross, and to the refunds).
REVENUE_SCHEMA: dict[str, pl.DataType] = {
    **GROSS_SCHEMA,
    **{c.name: pl.Int64() for c in REFUND_COLUMNS},
    "net_minor": pl.Int64(),
    **{c: pl.Int64() for c in SPLIT_COLUMNS},
}

#: One line per refund of every source (:func:`refund_lines`).
REFUND_LINES_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # "return_invoice" (anything VTEX refunded) | "refund" | "reversal" (the ledger's)
    "refund_id": pl.String(),  # invoice number, or ledger entry id
    "order_id": pl.String(),
    "order_created_at": UTC_NS,  # null when the order is not loaded
    "order_status": pl.String(),  # null when the order is not loaded
    "currency": pl.String(),
    "amount_minor": pl.Int64(),  # what it adds to its column: a reversal is negative
    "refunded_at": UTC_NS,  # issuance date (a return invoice without one: its order's creation), refunded-at
    "attributed_at": UTC_NS,  # the date that places it in a period in this view
    "source": pl.String(),  # "vtex" for what VTEX refunded; the ledger's source otherwise
    "reference": pl.String(),  # the invoice number, or the external reference
    "reason": pl.String(),
    "reverses": pl.String(),
    "column": pl.String(),  # the refund column it adds to, without "_minor" (sources.RefundColumn.stem)
    "refund_source": pl.String(),  # its key in the registry of refund sources
    "undated": pl.Boolean(),  # no date of its own (a return invoice without issuance date)
    "cash_at": UTC_NS,  # the date it counts on in the refund-date view (a reversal: per the reversals option)
    "sales_channel": pl.String(),  # its order's, when the orders frame has it
    "payment_method": pl.String(),  # its order's (details' payment method, else the list's names), when known
    "part_items_minor": pl.Int64(),  # what of amount_minor was for items, when the refund says (else null)
    "part_shipping_minor": pl.Int64(),  # what of it was for shipping, when the refund says (else null)
}

#: The order columns the report reads from the store: those of gross, those its split reads, and the ids of the
#: totals refundkit does not know (named in a warning).
REPORT_ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "created_at",
    "status",
    "currency",
    "total_minor",
    *ORDER_INPUTS,
    "other_totals_ids",
)


# -- options, periods, ranges ------------------------------------------------------------------------------------
def check_options(
    period: str = "day", attribution: str = "refund_date", tz: str = "UTC", reversals: str = "with_refund"
) -> None:
    """Raise :class:`InputError` naming every option that is not one refundkit knows."""
    problems = []
    if period not in PERIODS:
        problems.append(f"period {period!r} is not one of {', '.join(PERIODS)}")
    if attribution not in ATTRIBUTIONS:
        problems.append(f"attribution {attribution!r} is not one of {', '.join(ATTRIBUTIONS)}")
    if reversals not in REVERSALS:
        problems.append(f"reversals {reversals!r} is not one of {', '.join(REVERSALS)}")
    try:
        zone(tz)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise InputError("; ".join(problems))


def period_expr(column: str | pl.Expr, period: str, tz: str) -> pl.Expr:
    """The first day of the period a UTC timestamp falls in, in time zone ``tz``."""
    col = pl.col(column) if isinstance(column, str) else column
    day = col.dt.convert_time_zone(tz).dt.date()
    return day if period == "day" else day.dt.truncate(_INTERVALS[period])


def _period_of(instant: Instant, period: str, tz: str) -> date:
    return period_of_day(instant.in_zone(tz).to_datetime().date(), period)


def period_of_day(day: date, period: str) -> date:
    """The label (first day) of the period (``day``, ``week``, ``month``) that holds the local day ``day``."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_period(label: date, period: str) -> date:
    if period == "month":
        return _add_months(label, 1)
    return label + timedelta(days=7 if period == "week" else 1)


def period_labels(first: date, last: date, period: str) -> list[date]:
    """The labels (first days) of the periods that the local days ``first`` to ``last`` touch, in order."""
    label = period_of_day(first, period)
    out = []
    while label <= last:
        out.append(label)
        label = _next_period(label, period)
    return out


def today_in(tz: str, now: Instant) -> date:
    """The local day of ``now`` in ``tz``."""
    return now.in_zone(tz).to_datetime().date()


def running_expr(period: str, tz: str, now: Instant, column: str = "period") -> pl.Expr:
    """True on a period label whose period is still under way at ``now`` (its first local day is today or before,
    its last one today or after)."""
    label = _period_of(now, period, tz)
    return pl.col(column) == pl.lit(label, dtype=pl.Date)


def _add_months(day: date, months: int, *, keep_month_end: bool = False) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb); with
    ``keep_month_end``, a month's last day stays one (28 Feb 2025 - 12 = 29 Feb 2024)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _month_end(date(year, month + 1, 1)).day
    at_end = keep_month_end and day == _month_end(day)
    return date(year, month + 1, last if at_end else min(day.day, last))


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def preset_days(name: str, today: date) -> tuple[date, date]:
    """The local days (first, last; both included) of the named range :data:`PRESETS` on ``today``:
    ``this-month`` (month to date), ``last-month``, ``last-quarter`` (the last whole calendar quarter), ``ytd`` (year
    to date), ``last-12-months`` (the eleven whole months before this one, and this one to date)."""
    if name == "this-month":
        return today.replace(day=1), today
    if name == "last-month":
        first = _add_months(today.replace(day=1), -1)
        return first, _month_end(first)
    if name == "last-quarter":
        this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        first = _add_months(this_quarter, -3)
        return first, this_quarter - timedelta(days=1)
    if name == "ytd":
        return date(today.year, 1, 1), today
    if name == "last-12-months":
        return _add_months(today.replace(day=1), -11), today
    raise InputError(f"range {name!r} is not one of {', '.join(PRESETS)}")


def comparison_days(first: date, last: date, compare: str) -> tuple[date, date]:
    """The range a report of the local days ``first`` to ``last`` is compared with (:data:`COMPARISONS`).

    ``previous``: the range of the same length just before; a range starting on a month's first day is shifted by
    whole calendar months (October against September, 1–3 December against 1–3 November), any other by its number of
    days. ``last-year``: the same days a year earlier (29 February: the 28th; a month's last day stays one)."""
    if compare == "last-year":
        return _add_months(first, -12), _add_months(last, -12, keep_month_end=True)
    if compare != "previous":
        raise InputError(f"compare {compare!r} is not one of {', '.join(COMPARISONS)}")
    if first.day == 1:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        return _add_months(first, -months), _add_months(last, -months, keep_month_end=True)
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def _at(instant: Instant) -> pl.Expr:
    """An instant as a literal of the frames' timestamp type."""
    return pl.lit(instant.ns, dtype=pl.Int64).cast(UTC_NS)


def in_range(column: str | pl.Expr, start: Instant | None, end: Instant | None) -> pl.Expr:
    """``start <= column < end`` (either bound may be ``None``: unbounded); null is never in range."""
    col = pl.col(column) if isinstance(column, str) else column
    if start is None and end is None:
        return col.is_not_null()
    lower = None if start is None else col >= _at(start)
    upper = None if end is None else col < _at(end)
    if lower is None:
        assert upper is not None
        return upper
    return lower if upper is None else lower & upper


def fill_gaps(df: pl.DataFrame, period: str, tz: str, start: Instant | None, end: Instant | None) -> pl.DataFrame:
    """Every period from the first to the last (of ``[start, end)`` when given) for each currency of ``df``, its
    other columns null where ``df`` has no row."""
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


def _cast(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


# -- which orders count ------------------------------------------------------------------------------------------
def in_gross(
    column: str = "status", *, include_canceled: bool = False, include_payment_pending: bool = False
) -> pl.Expr:
    """The one status rule, on a status column: true where gross counts the order (:mod:`refundkit.statuses`).
    A null status (a refund's order that is not loaded) counts: it is never silently dropped."""
    col = pl.col(column)
    return col.is_null() | ~col.is_in(left_out(include_canceled, include_payment_pending))


def counted_orders(
    orders: pl.DataFrame,
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """The orders gross counts: created in ``[start, end)`` with a status the rule counts."""
    rule = in_gross(include_canceled=include_canceled, include_payment_pending=include_payment_pending)
    return orders.filter(rule & in_range("created_at", start, end))


def status_counts(orders: pl.DataFrame) -> dict[str, int]:
    """The orders of each status refundkit does not know (see :mod:`refundkit.statuses`); ``orders`` has one row
    per order, or is :func:`order_totals` (a number of orders per row)."""
    n = pl.col("orders").sum() if "orders" in orders.columns else pl.len()
    counts = orders.group_by("status").agg(n.alias("n"))
    return unknown_counts(dict(zip(counts["status"].to_list(), counts["n"].to_list(), strict=True)))


def order_totals(orders: pl.LazyFrame, period: str, tz: str) -> pl.LazyFrame:
    """Orders and their totals per (period, currency, status) (``period, currency, status, orders, gross_minor``
    and each sum of :data:`~refundkit.analytics.summaries.ORDER_SUMS`: gross and its split), from one row per order
    (``created_at, status, currency, total_minor``, the split's :data:`~refundkit.analytics.split.ORDER_INPUTS` when
    known; its ``period`` when it has one) or from rows that stand for ``orders`` orders each and carry the sums
    already (a month summary's, :meth:`~refundkit.analytics.store.OrderStore.order_rows`): what gross is summed from,
    whether the orders are held (:func:`revenue_figures`) or read in one pass (:func:`read_store`'s ``totals``)."""
    names = orders.collect_schema().names()
    if "period" not in names:
        orders = orders.with_columns(period_expr("created_at", period, tz).alias("period"))
    if COUNT in names:  # rows that stand for several orders each, summed already
        count = pl.col(COUNT).sum()
    else:
        count = pl.len()
        orders = orders.with_columns(order_sums(names))
    return orders.group_by("period", "currency", "status").agg(
        count.cast(pl.Int64).alias("orders"),
        *(pl.col(c).sum().cast(pl.Int64) for c in ORDER_SUMS),
    )


def _days_start_on_quarter_hours(start: Instant, end: Instant, tz: str) -> bool:
    """Whether every local day of ``[start, end)`` in ``tz`` starts on a UTC quarter-hour: then so does every period
    (day, week, month, quarter, year), no quarter-hour of a month summary straddles two periods, and the summaries
    place each order exactly (an offset of other than whole quarter-hours, far in the past, makes it false)."""
    z = zone(tz)
    day, last = start.in_zone(tz).to_datetime().date(), end.in_zone(tz).to_datetime().date()
    while day <= last:
        offset = datetime.combine(day, time(0), tzinfo=z).utcoffset()
        if offset is None or offset.total_seconds() % (GRAIN_NS // 10**9):
            return False
        day += timedelta(days=1)
    return True


def gross_by_period(
    orders: pl.DataFrame,
    *,
    period: Period = "day",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """Gross revenue per (period, currency): ``period, currency, orders, gross_minor`` (:data:`GROSS_SCHEMA`); only
    periods with orders. Orders counted: :func:`counted_orders`."""
    check_options(period, tz=tz)
    counted = counted_orders(
        orders,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    return _cast(_gross(order_totals(counted.lazy(), period, tz).collect()), GROSS_SCHEMA).sort("period", "currency")


def _gross(totals: pl.DataFrame) -> pl.DataFrame:
    """Gross per (period, currency) from :func:`order_totals`, its split included."""
    return totals.group_by("period", "currency").agg(
        pl.col(c).sum().cast(pl.Int64) for c in ("orders", "gross_minor", *SUMMED_ORDER_COLUMNS)
    )


def orders_by_status(
    orders: pl.DataFrame, *, include_canceled: bool = False, include_payment_pending: bool = False
) -> pl.DataFrame:
    """How many orders, and for how much, per currency and status, whether gross revenue counts them, and the
    status's place in gross (:mod:`refundkit.statuses`; ``unknown`` for a status refundkit does not know, which is
    counted): ``currency, status, orders, total_minor, in_gross, place``; the most frequent statuses first."""
    places = {s: r.place.value for s, r in STATUSES.items()}
    return (
        orders.group_by("currency", "status")
        .agg(pl.len().cast(pl.Int64).alias("orders"), pl.col("total_minor").sum().cast(pl.Int64).alias("total_minor"))
        .with_columns(
            in_gross(include_canceled=include_canceled, include_payment_pending=include_payment_pending).alias(
                "in_gross"
            ),
            pl.col("status").replace_strict(places, default=Place.UNKNOWN.value, return_dtype=pl.String).alias("place"),
        )
        .sort(["currency", "orders", "status"], descending=[False, True, False])
    )


# -- the one builder of refund lines -------------------------------------------------------------------------------
def refund_lines(
    orders: pl.DataFrame,
    native: pl.DataFrame,
    offline: pl.DataFrame,
    *,
    reversals: str = "with_refund",
) -> pl.DataFrame:
    """One line per refund of every source of the registry (:data:`REFUND_LINES_SCHEMA`), with what its order
    says (creation, status, channel, payment) when ``orders`` holds it. ``native``: the refunds VTEX made
    (:data:`~refundkit.analytics.frames.NATIVE_REFUNDS_SCHEMA`); ``offline``: the ledger's entries
    (:data:`~refundkit.analytics.frames.REFUNDS_SCHEMA`). ``attributed_at`` is ``cash_at`` (the refund-date view);
    :func:`revenue_figures` sets it per view."""
    return _refund_lines(orders, native, offline, reversals=reversals).collect()


def _refund_lines(
    orders: pl.DataFrame, native: pl.DataFrame, offline: pl.DataFrame, *, reversals: str = "with_refund"
) -> pl.LazyFrame:
    """:func:`refund_lines` as one plan (collected by the caller, with what it derives from the lines)."""
    check_options(reversals=reversals)
    order_lf = orders.lazy()
    # only the orders that have refunds: a semi join against the (small) set of their ids is cheap on a big store,
    # and pointless when the orders are no more than the refunds (such as those read by id, see read_store)
    if orders.height > native.height + offline.height:
        ids = pl.concat([native.lazy().select("order_id"), offline.lazy().select("order_id")]).unique()
        order_lf = order_lf.join(ids, on="order_id", how="semi")
    known = [pl.col(c).cast(pl.String) for c in ("payment_method", "payment_names") if c in orders.columns]
    payment = pl.coalesce(*known) if known else pl.lit(None, dtype=pl.String)
    channel = pl.col("sales_channel") if "sales_channel" in orders.columns else pl.lit(None, dtype=pl.String)
    info = order_lf.select(
        "order_id",
        pl.col("created_at").alias("_order_created_at"),
        pl.col("status").alias("order_status"),
        channel.cast(pl.String).alias("sales_channel"),
        payment.cast(pl.String).alias("payment_method"),
    ).unique("order_id", keep="first")  # an order held twice takes its first row; the lines keep their order
    parts = []
    for src in SOURCES:
        frame = native if src.frame == "native" else offline
        rows = frame.lazy()
        if src.rows is not None:
            rows = rows.filter(src.rows())
        column = pl.lit(src.column.removesuffix("_minor")).alias("column")
        if src.frame == "native":
            part = rows.select(
                pl.lit("return_invoice").alias("kind"),
                pl.col("invoice_number").alias("refund_id"),
                "order_id",
                pl.col("order_created_at").cast(UTC_NS),  # the invoice's own: its order is known
                "currency",
                pl.col("amount_minor"),
                pl.coalesce("issued_at", "order_created_at").cast(UTC_NS).alias("refunded_at"),
                pl.lit("vtex").alias("source"),
                pl.col("invoice_number").alias("reference"),
                pl.lit("").alias("reason"),
                pl.lit(None, dtype=pl.String).alias("reverses"),
                column,
                pl.col("issued_at").is_null().alias("undated"),
                _column_or_null(frame, "part_items_minor"),
                pl.lit(None, dtype=pl.Int64).alias("part_shipping_minor"),
            )
            part = part.with_columns(pl.col("refunded_at").alias("cash_at"))
        elif src.frame == "ledger":
            cash = pl.col("refunded_at")
            if reversals == "with_refund":
                cash = pl.coalesce("reversed_refunded_at", "refunded_at")
            part = rows.select(
                "kind",
                pl.col("entry_id").alias("refund_id"),
                "order_id",
                pl.lit(None, dtype=UTC_NS).alias("order_created_at"),  # its order's, when the orders hold it
                "currency",
                pl.col("signed_minor").alias("amount_minor"),
                pl.col("refunded_at").cast(UTC_NS),
                "source",
                pl.col("external_ref").alias("reference"),
                "reason",
                "reverses",
                column,
                pl.lit(False).alias("undated"),
                cash.cast(UTC_NS).alias("cash_at"),
                *offline_parts(frame.columns),  # what the entry was for, by its lines
            )
        else:
            raise ValueError(f"refund source {src.key}: unknown frame {src.frame!r}")
        parts.append(part.with_columns(pl.lit(src.key).alias("refund_source")))
    # every line takes what its order says in one join (one table of the orders, not one per source)
    lines = pl.concat(parts, how="diagonal_relaxed").join(info, on="order_id", how="left", maintain_order="left")
    return lines.with_columns(
        pl.coalesce("order_created_at", "_order_created_at").alias("order_created_at"),
        pl.col("cash_at").alias("attributed_at"),
    ).select([pl.col(c).cast(t) for c, t in REFUND_LINES_SCHEMA.items()])


def _column_or_null(frame: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` of ``frame``, or null where a frame made before it existed lacks it."""
    return pl.col(column) if column in frame.columns else pl.lit(None, dtype=pl.Int64).alias(column)


def net_of_reversals(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines without each reversed refund and its reversal (they cancel out, on the refund's date: the
    default ``reversals``); a reversal whose refund is not among the lines stays, a negative refund on its date."""
    reversed_ids = lines.filter(pl.col("kind") == "reversal").get_column("reverses").drop_nulls()
    present_ids = lines.filter(pl.col("kind") == "refund").get_column("refund_id")
    return lines.filter(
        ~((pl.col("kind") == "refund") & pl.col("refund_id").is_in(reversed_ids.implode()))
        & ~((pl.col("kind") == "reversal") & pl.col("reverses").is_in(present_ids.implode()))
    )


def refund_sums(amount: str = "amount_minor") -> list[pl.Expr]:
    """One aggregation per refund column of the registry: the sum of ``amount`` over the lines of that column."""
    return [
        pl.col(amount).filter(pl.col("column") == c.stem).sum().cast(pl.Int64).alias(c.name) for c in REFUND_COLUMNS
    ]


def net_expr(gross: str = "gross_minor") -> pl.Expr:
    """Net revenue: gross changed by each refund column times its sign (:mod:`refundkit.analytics.sources`)."""
    out = pl.col(gross)
    for c in REFUND_COLUMNS:
        out = out + c.sign * pl.col(c.name)
    return out


# -- gross versus net ----------------------------------------------------------------------------------------------
@dataclass
class Figures:
    """What :func:`revenue_figures` found: ``rows`` (:data:`REVENUE_SCHEMA`), ``orders`` (the orders counted in
    gross, with their ``period``; ``None`` when the figures were summed from ``totals``), ``refunds`` (the refund
    lines counted, with their ``period``, in no particular order), ``left_out`` (the refund lines of orders gross
    leaves out, in the range) and ``warnings``."""

    rows: pl.DataFrame
    orders: pl.DataFrame | None
    refunds: pl.DataFrame
    left_out: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


def revenue_figures(
    orders: pl.DataFrame,
    native: pl.DataFrame,
    offline: pl.DataFrame,
    *,
    period: str = "day",
    attribution: str = "refund_date",
    tz: str = "UTC",
    start: Instant | None = None,
    end: Instant | None = None,
    currency: str | None = None,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    reversals: str = "with_refund",
    value_reading: str = "kept",
    fill: bool = True,
    totals: pl.DataFrame | None = None,
    unknown_totals: pl.DataFrame | None = None,
) -> Figures:
    """Gross revenue, each refund column and net revenue per (period, currency), and what is behind them.

    Inputs: ``orders`` (at least ``order_id, created_at, status, currency, total_minor``: every order created in
    ``[start, end)`` and every order the refunds name that is known), ``native``
    (:data:`~refundkit.analytics.frames.NATIVE_REFUNDS_SCHEMA`), ``offline``
    (:data:`~refundkit.analytics.frames.REFUNDS_SCHEMA`). ``start``/``end``: the range (``None``: unbounded).
    ``value_reading``: how ``total_minor`` reads after a return invoice
    (:func:`~refundkit.analytics.frames.charged_totals`). ``fill``: every period of the range appears for each
    currency, zeros where nothing happened. The rules are the module's.

    ``totals``: :func:`order_totals` of every order created in ``[start, end)`` (read from the store in one pass,
    :func:`read_store`), with ``value_reading`` ``kept``; ``orders`` then need only hold the orders the refunds
    name, gross is summed from the totals (the same figures), and :attr:`Figures.orders` is ``None``. Then
    ``unknown_totals`` gives the orders of the range that carry order totals refundkit does not know (read apart,
    :meth:`~refundkit.analytics.store.OrderStore.scan_unknown_totals`), for the warning that names them.
    """
    check_options(period, attribution, tz, reversals)
    cur = currency.upper() if currency else None
    warnings: list[str] = []
    orders = charged_totals(orders, native, value_reading)
    counts = in_gross(
        "order_status", include_canceled=include_canceled, include_payment_pending=include_payment_pending
    )
    if totals is not None and value_reading != "kept":
        raise ValueError("order totals read from the store are as VTEX gives them: value_reading must be kept")
    counted = None
    if totals is None:
        rule = {"include_canceled": include_canceled, "include_payment_pending": include_payment_pending}
        counted = counted_orders(orders, start=start, end=end, **rule)
        counted = counted.with_columns(period_expr("created_at", period, tz).alias("period"))
        totals = order_totals(counted.lazy(), period, tz).collect()
    else:
        totals = totals.filter(
            in_gross(include_canceled=include_canceled, include_payment_pending=include_payment_pending)
        )
    if cur:
        totals = totals.filter(pl.col("currency") == cur)
        counted = None if counted is None else counted.filter(pl.col("currency") == cur)
    # the lines are built once; what the figures take from them is then derived in one pass
    lines = _refund_lines(orders, native, offline, reversals=reversals).collect(engine="in-memory").lazy()
    if attribution == "order_date":
        # the refunds of the counted orders: known, not left out (below) and created in the range
        lines = lines.with_columns(pl.col("order_created_at").alias("attributed_at"))
    in_view = in_range("attributed_at", start, end)
    if cur:
        in_view = in_view & (pl.col("currency") == cur)
    dated_lf = lines.filter(counts & in_view).with_columns(period_expr("attributed_at", period, tz).alias("period"))
    left_lf = lines.filter(~counts & in_view)
    not_loaded_n, left, left_sums, dated, sums = pl.collect_all(
        [
            lines.filter(pl.col("order_status").is_null()).select(pl.len()),
            left_lf,
            left_lf.group_by("currency").agg(pl.len().alias("n"), pl.col("amount_minor").sum().alias("minor")),
            dated_lf,  # in no particular order: a drill-down sorts the few it shows
            dated_lf.group_by("period", "currency").agg(*refund_sums(), *refund_part_sums()),
        ],
        engine="in-memory",  # frames in memory, of a few rows per refund: streaming them costs more than it saves
    )
    if n := not_loaded_n.item():
        warnings.append(
            f"{n:,} offline refunds are on orders the store does not hold (older than what "
            "VTEX serves?): counted by their refund date only, their order's status unchecked"
        )
    unknown = unknown_statuses_line(status_counts(totals), "in this report")
    if unknown:
        warnings.append(unknown)
    if left.height:
        parts = [
            f"{r['n']:,} for {format_money(r['minor'], r['currency'])}"
            for r in left_sums.sort("currency").iter_rows(named=True)
        ]
        warnings.append(
            f"refunds of orders gross leaves out ({left_out_phrase(include_canceled, include_payment_pending)}) are "
            "left out of both views: " + "; ".join(parts)
        )
    rows = _aggregate(totals, sums, period=period, tz=tz, start=start, end=end, fill=fill)
    odd = counted if counted is not None else unknown_totals
    if odd is not None and counted is None:
        odd = odd.filter(in_gross(include_canceled=include_canceled, include_payment_pending=include_payment_pending))
        odd = odd if cur is None else odd.filter(pl.col("currency") == cur)
    warnings += [w for w in (split_lines(rows), None if odd is None else unknown_totals_line(odd)) if w]
    return Figures(rows, counted, dated, left, warnings)


def _aggregate(
    totals: pl.DataFrame,
    sums: pl.DataFrame,
    *,
    period: str,
    tz: str,
    start: Instant | None,
    end: Instant | None,
    fill: bool,
) -> pl.DataFrame:
    """Gross (from ``totals``, :func:`order_totals`) beside the refund sums (per period and currency), and net."""
    keys = ["period", "currency"]
    out = _gross(totals).join(sums, on=keys, how="full", coalesce=True)
    if not out.height:
        return pl.DataFrame(schema=REVENUE_SCHEMA)
    if fill:
        out = fill_gaps(out, period, tz, start, end)
    amounts = ["orders", "gross_minor", *(c.name for c in REFUND_COLUMNS), *SPLIT_COLUMNS]
    out = out.with_columns(pl.col(c).fill_null(0) for c in amounts).with_columns(net_expr().alias("net_minor"))
    return _cast(out, REVENUE_SCHEMA).sort("period", "currency")


# -- loading -------------------------------------------------------------------------------------------------------
def ledger_entries(ledger: Any, since: Instant) -> list[LedgerEntry]:
    """The ledger's entries refunded at or after ``since`` plus, for reversals of earlier refunds, those refunds
    (so a reversal can be netted on its refund's date)."""
    entries = list(ledger.entries(start=since))
    known = {e.entry_id for e in entries}
    for order_id in sorted({e.order_id for e in entries if e.reverses and e.reverses not in known}):
        for e in ledger.entries(order_id=order_id):
            if e.entry_id not in known:
                entries.append(e)
                known.add(e.entry_id)
    return entries


def read_store(
    st: OrderStore,
    earliest: Instant,
    hi: Instant,
    *,
    columns: Sequence[str] | None = REPORT_ORDER_COLUMNS,
    refunds_since: Instant | None = None,
    totals: Sequence[tuple[Instant, Instant]] = (),
    period: str = "day",
    tz: str = "UTC",
    also: Sequence[pl.LazyFrame] = (),
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, StoreState, list[pl.DataFrame]]:
    """The one reading of the store for figures: orders created in ``[earliest, hi)`` and the older ones that
    offline refunds name (``columns`` of them; ``None``: all), their return invoices, the offline refunds (dated
    since ``refunds_since``, a reversal: or the refund it undoes; ``None``: all), the state, and what was summed in
    the same pass: one :func:`order_totals` (by ``period`` in ``tz``) per range of ``totals``, then ``also`` (lazy
    frames over the store's orders, collected with the rest). Call it inside ``st.repairing()`` for one consistent
    reading.

    With ``totals`` (ranges within ``[earliest, hi)``), the orders are only those the refunds name, and the totals
    are summed from the files in the same pass: no order is held that no refund names (see
    :func:`revenue_figures`)."""
    offline_lf = st.scan_offline_refunds()
    if refunds_since is not None:
        offline_lf = offline_lf.filter(
            (pl.col("refunded_at") >= _at(refunds_since)) | (pl.col("reversed_refunded_at") >= _at(refunds_since))
        )
    # only the month files the window can need
    returns_lf = st.scan("return_invoices", start=earliest, end=hi)
    if totals and columns is not None:  # gross is summed from the files: the orders held only name their refunds'
        columns = [c for c in columns if c not in ("currency", "other_totals_ids", *ORDER_SOURCES)]
    window = st.scan("orders", list(columns) if columns is not None else None, start=earliest, end=hi)
    tables = ("orders", "return_invoices", "offline_refunds")
    if not totals:
        orders, returns, offline, *sums = st.collect_all([window, returns_lf, offline_lf, *also], *tables)
        # the offline refunds' orders the window does not hold (older). Joins build on the small side.
        missing = offline.select("order_id").join(orders, on="order_id", how="anti").unique()["order_id"].to_list()
    else:
        # the refunds first (small), then in one pass: the orders they name, and the sums of every order
        returns, offline = st.collect_all([returns_lf, offline_lf], *tables[1:])
        named = pl.concat([returns.get_column("order_id"), offline.get_column("order_id")])
        # whole months from their summaries (where their quarter-hours fall within periods), edges from the orders
        sums_lf = [
            order_totals(st.order_rows(a, b, summaries=_days_start_on_quarter_hours(a, b, tz)), period, tz)
            for a, b in totals
        ]
        held = with_ids(window, named)
        # the offline refunds' orders the window does not hold (older), found in the same pass
        missing_lf = offline.lazy().select("order_id").join(held, on="order_id", how="anti").unique()
        orders, missing_df, *sums = st.collect_all([held, missing_lf, *sums_lf, *also], *tables)
        missing = missing_df["order_id"].to_list()
    if missing:  # read by id
        older = st.orders(order_ids=missing, columns=orders.columns)
        orders = pl.concat([orders, older.select(orders.columns)])
        older_returns = st.scan("return_invoices").filter(pl.col("order_id").is_in(missing))
        returns = pl.concat([returns, st.collect(older_returns, "return_invoices")])
    return orders, returns, offline, st.state(), sums


def value_reading_of(source: Any, st: OrderStore) -> tuple[str, str]:
    """How VTEX's order value reads after a return invoice on the store's account, and where that comes from: the
    verdict `refundkit doctor` saved under the cache dir of ``source``'s settings (or the store's own), else kept."""
    settings = getattr(getattr(source, "client", source), "settings", None)
    cache_dir = Path(settings.cache_dir) if settings is not None else st.path.parent.parent
    return value_reading(cache_dir, st.account)


def sync_for_range(
    source: Any, st: OrderStore, earliest: Instant, hi: Instant, *, details: bool, refresh: bool, progress: bool | None
) -> SyncResult:
    """Read the ledger's offline refunds since ``earliest`` into the store, then sync the orders they and the
    range need."""
    ledger = getattr(source, "ledger", None)
    client = getattr(source, "client", source)
    if ledger is None:
        from ..ledger import Ledger  # noqa: PLC0415  (only a client without a session needs it: loads when used)

        ledger = Ledger(client)

    # the ledger is read while the orders are checked: both are a few calls that wait on VTEX
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(ledger_entries, ledger, earliest)
        result = sync_orders(
            source,
            earliest,
            hi,
            details=details,
            refresh=refresh,
            store=st,
            progress=progress,
            also_orders=lambda: {e.order_id for e in reading.result()},
        )
        entries = reading.result()
    st.replace_offline_refunds(entries, since=earliest)
    return result
