"""Refund trends: refund rate over time, breakdowns, time from order to refund, top refunded products, and the
share of VTEX-native versus offline refunds — per currency, never adding two.

Inputs are the frames of :mod:`refundkit.analytics.frames` (``orders_df``, ``native_df``, ``offline_df``) and, for
products, an items frame (:func:`items_frame`, or the order store's items when details are synced). Amounts are
summed as integers of minor units; a rate is a ratio of two integer sums (``refunded_minor / gross_minor``), kept
next to both, so a reader can always check it.

Shared rules (they match :data:`refundkit.analytics.DEFINITIONS`):

* A **refund** is a VTEX return invoice (``kind="native"``) or an offline refund of the refundkit ledger
  (``kind="offline"``). A reversal undoes its refund: both disappear (netted on the refund's date, as revenue
  reports do by default); a reversal whose refund is not in the frame counts as a negative refund on its own date.
* Refunds of orders that gross leaves out (canceled, payment-pending, unless included; never a sale; see
  :mod:`refundkit.statuses`) are left out here too;
  :func:`left_out_refunds` lists them. Refunds of orders that are not in ``orders_df`` (created before it starts)
  are kept: their status is unknown.
* Rates are **cohort** figures: of the orders created in a period, how much of their value, and how many of them,
  were refunded so far (whenever the refund happened). Recent periods keep rising as refunds come in.
* Breakdowns, time to refund and the native/offline share count refunds **dated** in the range (a return invoice
  on its issuance date, or its order's date when VTEX gives none; an offline refund on its refunded-at date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import polars as pl

from ..errors import InputError
from ..timeutil import Instant
from ..vtex.models import Order
from .engine import (
    check_options,
    counted_orders,
    in_gross,
    in_range,
    net_of_reversals,
    period_expr,
    refund_lines,
    refund_sums,
)
from .engine import (
    fill_gaps as fill_periods,
)
from .frames import UTC_NS
from .sources import REFUND_COLUMNS, SOURCES

__all__ = [
    "BREAKDOWNS",
    "ITEMS_SCHEMA",
    "NATIVE_SOURCE",
    "NATIVE_VS_OFFLINE_SCHEMA",
    "NOT_LOADED",
    "NOT_SYNCED",
    "REFUND_EVENTS_SCHEMA",
    "REFUND_RATE_SCHEMA",
    "TIME_BUCKETS",
    "TOP_PRODUCTS_SCHEMA",
    "items_frame",
    "items_of",
    "left_out_refunds",
    "native_vs_offline",
    "refund_breakdown",
    "refund_events",
    "refund_rate",
    "time_to_refund",
    "time_to_refund_distribution",
    "time_to_refund_summary",
    "top_refunded_products",
]

Period = Literal["day", "week", "month"]
Breakdown = Literal["source", "reason", "sales_channel", "payment_method"]
BREAKDOWNS: tuple[str, ...] = ("source", "reason", "sales_channel", "payment_method")

#: The source a VTEX return invoice is shown under (offline refunds carry their own: cash, apace, ...).
NATIVE_SOURCE = next(s.label for s in SOURCES if s.key == "return_invoice")
#: The label of refunds whose order is not in the orders frame (created before it starts).
NOT_LOADED = "(order not loaded)"
#: The label of refunds whose payment method is not known because order details were not synced.
NOT_SYNCED = "(unknown: payment method not synced; run refundkit sync --details)"
_NO_REASON = "(no reason given)"
_NATIVE_REASON = "(VTEX return invoice: no reason recorded)"

REFUND_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "refund_id": pl.String(),  # ledger entry id (rf-…, or rv-… for a reversal left alone) or invoice number
    "order_id": pl.String(),
    "kind": pl.String(),  # "native" | "offline"
    "currency": pl.String(),
    "amount_minor": pl.Int64(),  # positive; negative for a reversal whose refund is not in the frame
    "refunded_at": UTC_NS,  # a return invoice without an issuance date: null
    "dated_at": UTC_NS,  # the date the refund counts on: refunded_at, or its order's date when that is null
    "order_created_at": UTC_NS,  # null when the order is unknown
    "order_status": pl.String(),  # null when the order is not in orders_df
    "source": pl.String(),
    "reason": pl.String(),
    "sales_channel": pl.String(),
    "payment_method": pl.String(),
    "column": pl.String(),  # the refund column it adds to (sources.RefundColumn.stem)
}

ITEMS_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "sku": pl.String(),
    "name": pl.String(),
    "quantity": pl.Int64(),
    "unit_price_minor": pl.Int64(),
    "currency": pl.String(),
}

#: Buckets of the time from order to refund: (label, lower bound in days inclusive, upper bound exclusive).
TIME_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("before the order (check the dates)", float("-inf"), 0),
    ("same day (< 1 day)", 0, 1),
    ("1–2 days", 1, 3),
    ("3–6 days", 3, 7),
    ("7–13 days", 7, 14),
    ("14–29 days", 14, 30),
    ("30–59 days", 30, 60),
    ("60–89 days", 60, 90),
    ("90 days or more", 90, float("inf")),
)
_NS_PER_DAY = 86_400 * 10**9


def _cast(df: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


# -- the one frame of refunds everything below reads ---------------------------------------------------------------
def refund_events(orders_df: pl.DataFrame, native_df: pl.DataFrame, offline_df: pl.DataFrame) -> pl.DataFrame:
    """One row per refund, native and offline together, with what the breakdowns need from its order
    (:data:`REFUND_EVENTS_SCHEMA`): the engine's refund lines (:func:`~refundkit.analytics.engine.refund_lines`)
    net of reversals, as the module docstring says.

    ``payment_method`` comes from the orders frame's ``payment_method`` column (the order store with details) or,
    failing that, its ``payment_names`` (the names the order list gives); when neither is known it is null.
    """
    lines = net_of_reversals(refund_lines(orders_df, native_df, offline_df))
    kinds = {s.key: s.kind for s in SOURCES}
    # what VTEX refunded shows under its source's label; the ledger's refunds under where the money went back
    labels = {s.key: s.label for s in SOURCES if s.frame == "native"}
    native = pl.col("kind") == "return_invoice"
    reason = pl.col("reason").str.strip_chars().fill_null("")
    events = lines.with_columns(
        pl.col("refund_source").replace_strict(kinds, return_dtype=pl.String).alias("kind"),
        pl.when(pl.col("undated")).then(None).otherwise(pl.col("refunded_at")).alias("refunded_at"),
        pl.col("refunded_at").alias("dated_at"),
        pl.when(native)
        .then(pl.col("refund_source").replace_strict(labels, default=None, return_dtype=pl.String))
        .otherwise(pl.col("source"))
        .alias("source"),
        pl.when(native)
        .then(pl.lit(_NATIVE_REASON))
        .when(reason == "")
        .then(pl.lit(_NO_REASON))
        .otherwise(reason.str.replace_all(r"\s+", " ").str.to_lowercase())
        .alias("reason"),
    )
    return _cast(events, REFUND_EVENTS_SCHEMA).sort("dated_at", "refund_id", nulls_last=True)


def _counted_events(events: pl.DataFrame, include_canceled: bool, include_payment_pending: bool) -> pl.DataFrame:
    return events.filter(
        in_gross("order_status", include_canceled=include_canceled, include_payment_pending=include_payment_pending)
    )


def left_out_refunds(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
) -> pl.DataFrame:
    """The refunds every trend leaves out because gross leaves their order out (a canceled order with a return
    invoice, say): the rows of :func:`refund_events` whose ``order_status`` is excluded."""
    events = refund_events(orders_df, native_df, offline_df)
    return events.filter(
        ~in_gross("order_status", include_canceled=include_canceled, include_payment_pending=include_payment_pending)
    )


# -- refund rate ---------------------------------------------------------------------------------------------------
#: One column per refund column of the registry (:mod:`refundkit.analytics.sources`), in minor units.
_REFUND_AMOUNTS: dict[str, pl.DataType] = {c.name: pl.Int64() for c in REFUND_COLUMNS}
_REFUND_NAMES = [c.name for c in REFUND_COLUMNS]
#: Every refund column, summed: what was refunded in all.
_REFUNDED = pl.sum_horizontal(*_REFUND_NAMES).cast(pl.Int64).alias("refunded_minor")

REFUND_RATE_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Date(),
    "currency": pl.String(),
    "orders": pl.Int64(),
    "refunded_orders": pl.Int64(),
    "gross_minor": pl.Int64(),
    **_REFUND_AMOUNTS,
    "refunded_minor": pl.Int64(),
    "value_rate": pl.Float64(),  # refunded_minor / gross_minor (null when gross is 0)
    "order_rate": pl.Float64(),  # refunded_orders / orders (null when there are no orders)
}


def refund_rate(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    period: Period = "month",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
    fill_gaps: bool = True,
) -> pl.DataFrame:
    """Refund rate per (period of order creation, currency), :data:`REFUND_RATE_SCHEMA`:

    * ``value_rate = refunded_minor / gross_minor``: the share of the period's gross that was refunded (VTEX and
      offline, net of reversals), whenever the refund happened;
    * ``order_rate = refunded_orders / orders``: the share of the period's orders with any refund left.

    Orders counted are those gross counts (created in ``[start, end)``, without canceled and payment-pending ones
    unless included, and never those that were never a sale); only their refunds count.
    """
    check_options(period, tz=tz)
    counted = counted_orders(
        orders_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    ).with_columns(period_expr("created_at", period, tz).alias("period"))
    events = refund_events(orders_df, native_df, offline_df)
    per_order = events.group_by("order_id").agg(refund_sums()).with_columns(_REFUNDED)
    joined = counted.join(per_order, on="order_id", how="left").with_columns(
        pl.col(*_REFUND_NAMES, "refunded_minor").fill_null(0)
    )
    out = joined.group_by("period", "currency").agg(
        pl.len().cast(pl.Int64).alias("orders"),
        (pl.col("refunded_minor") > 0).sum().cast(pl.Int64).alias("refunded_orders"),
        pl.col("total_minor").sum().cast(pl.Int64).alias("gross_minor"),
        *(pl.col(c).sum().cast(pl.Int64) for c in _REFUND_NAMES),
        pl.col("refunded_minor").sum().cast(pl.Int64),
    )
    if fill_gaps and out.height:
        out = fill_periods(out, period, tz, start, end)
    counts = ("orders", "refunded_orders", "gross_minor", *_REFUND_NAMES)
    out = out.with_columns(pl.col(*counts, "refunded_minor").fill_null(0)).with_columns(
        _ratio("refunded_minor", "gross_minor").alias("value_rate"),
        _ratio("refunded_orders", "orders").alias("order_rate"),
    )
    return _cast(out, REFUND_RATE_SCHEMA).sort("currency", "period")


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """``numerator / denominator`` of two integer columns, null where the denominator is 0."""
    return pl.when(pl.col(denominator) != 0).then(pl.col(numerator) / pl.col(denominator)).otherwise(None)


# -- breakdowns ----------------------------------------------------------------------------------------------------
def _dated_events(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    include_canceled: bool,
    include_payment_pending: bool,
    start: Instant | None,
    end: Instant | None,
) -> pl.DataFrame:
    events = _counted_events(refund_events(orders_df, native_df, offline_df), include_canceled, include_payment_pending)
    return events.filter(in_range("dated_at", start, end))


def refund_breakdown(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    by: Breakdown,
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """Refunds dated in ``[start, end)`` per currency and ``by`` (``source``, ``reason``, ``sales_channel`` or
    ``payment_method``): ``currency, <by>, refunds``, one amount per refund column of the registry
    (:data:`~refundkit.analytics.sources.REFUND_COLUMNS`), ``refunded_minor, share`` where ``share`` is the row's
    part of the currency's refunded value. Largest first within a currency.

    * ``source``: where the money went back (cash, apace, ...); VTEX return invoices show as :data:`NATIVE_SOURCE`,
      other refunds VTEX made under their source's label (:mod:`refundkit.analytics.sources`).
    * ``reason``: as typed, compared ignoring case and spacing; none typed shows as ``(no reason given)``.
    * ``sales_channel`` and ``payment_method`` are the order's; a refund of an order not in ``orders_df`` shows as
      :data:`NOT_LOADED`, and without payment data (no ``payment_method`` nor ``payment_names`` column, or empty
      values) as :data:`NOT_SYNCED` — never guessed.
    * ``refunds`` counts refunds (a reversal left alone counts −1).
    """
    if by not in BREAKDOWNS:
        raise InputError(f"breakdown {by!r} is not one of {', '.join(BREAKDOWNS)}")
    events = _dated_events(
        orders_df,
        native_df,
        offline_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    if by in ("sales_channel", "payment_method"):
        missing = NOT_SYNCED if by == "payment_method" else NOT_LOADED
        key = (
            pl.when(pl.col("order_status").is_null())
            .then(pl.lit(NOT_LOADED))
            .when(pl.col(by).is_null() | (pl.col(by).str.strip_chars() == ""))
            .then(pl.lit(missing))
            .otherwise(pl.col(by))
        )
    else:
        key = pl.col(by).fill_null(_NO_REASON if by == "reason" else "(unknown)")
    out = (
        events.with_columns(key.alias(by))
        .group_by("currency", by)
        .agg(
            pl.col("amount_minor").sign().sum().cast(pl.Int64).alias("refunds"),
            *refund_sums(),
            pl.col("amount_minor").sum().cast(pl.Int64).alias("refunded_minor"),
        )
        .with_columns(pl.col("refunded_minor").sum().over("currency").alias("_total"))
        .with_columns(_ratio("refunded_minor", "_total").alias("share"))
        .drop("_total")
        .sort(["currency", "refunded_minor", by], descending=[False, True, False])
    )
    schema = {
        "currency": pl.String(),
        by: pl.String(),
        "refunds": pl.Int64(),
        **_REFUND_AMOUNTS,
        "refunded_minor": pl.Int64(),
        "share": pl.Float64(),
    }
    return _cast(out, schema)


# -- time from order to refund -------------------------------------------------------------------------------------
def time_to_refund(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """One row per refund dated in ``[start, end)`` whose two dates are known: ``refund_id, order_id, kind,
    currency, amount_minor, order_created_at, refunded_at, days`` (``days`` = exact time between the order and
    the refund, in days). Left out: reversals left alone, return invoices without an issuance date, and refunds
    of orders whose creation date is unknown (:func:`time_to_refund_summary` counts them)."""
    events = _dated_events(
        orders_df,
        native_df,
        offline_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    return (
        events.filter(
            (pl.col("amount_minor") > 0)
            & pl.col("refunded_at").is_not_null()
            & pl.col("order_created_at").is_not_null()
        )
        .with_columns(
            (
                (pl.col("refunded_at").dt.epoch("ns") - pl.col("order_created_at").dt.epoch("ns")).cast(pl.Float64)
                / _NS_PER_DAY
            ).alias("days")
        )
        .select("refund_id", "order_id", "kind", "currency", "amount_minor", "order_created_at", "refunded_at", "days")
    )


def time_to_refund_summary(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """Per currency and kind (``native``, ``offline`` and ``all``): ``currency, kind, refunds, median_days,
    p90_days, undated`` — ``refunds`` measured, ``undated`` the refunds in the range that could not be measured
    (no issuance date, or the order's creation date unknown). Quantiles interpolate linearly between refunds."""
    measured = time_to_refund(
        orders_df,
        native_df,
        offline_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    events = _dated_events(
        orders_df,
        native_df,
        offline_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    ).filter(pl.col("amount_minor") > 0)
    both = pl.concat([measured.with_columns(pl.lit("all").alias("kind")), measured])
    all_events = pl.concat([events.with_columns(pl.lit("all").alias("kind")), events])
    stats = both.group_by("currency", "kind").agg(
        pl.len().cast(pl.Int64).alias("refunds"),
        pl.col("days").median().alias("median_days"),
        pl.col("days").quantile(0.9, "linear").alias("p90_days"),
    )
    totals = all_events.group_by("currency", "kind").agg(pl.len().cast(pl.Int64).alias("_in_range"))
    order = pl.col("kind").replace_strict({"all": 0, "native": 1, "offline": 2}, default=3)
    out = (
        totals.join(stats, on=["currency", "kind"], how="left")
        .with_columns(pl.col("refunds").fill_null(0))
        .with_columns((pl.col("_in_range") - pl.col("refunds")).alias("undated"))
        .sort(pl.col("currency"), order)
    )
    schema = {
        "currency": pl.String(),
        "kind": pl.String(),
        "refunds": pl.Int64(),
        "median_days": pl.Float64(),
        "p90_days": pl.Float64(),
        "undated": pl.Int64(),
    }
    return _cast(out, schema)


def time_to_refund_distribution(measured: pl.DataFrame) -> pl.DataFrame:
    """How many refunds (and how much) fall in each of :data:`TIME_BUCKETS`, per currency, from
    :func:`time_to_refund`: ``currency, bucket, refunds, refunded_minor, share`` (of the currency's refunds); every
    bucket appears, in order, with zeros where none fall."""
    labels = [b[0] for b in TIME_BUCKETS]
    bucket = pl.lit(labels[-1])
    for label, _lo, hi in reversed(TIME_BUCKETS[:-1]):
        bucket = pl.when(pl.col("days") < hi).then(pl.lit(label)).otherwise(bucket)
    counted = (
        measured.with_columns(bucket.alias("bucket"))
        .group_by("currency", "bucket")
        .agg(
            pl.len().cast(pl.Int64).alias("refunds"),
            pl.col("amount_minor").sum().cast(pl.Int64).alias("refunded_minor"),
        )
    )
    currencies = sorted(measured.get_column("currency").unique().to_list())
    grid = pl.DataFrame(
        {"currency": [c for c in currencies for _ in labels], "bucket": [b for _ in currencies for b in labels]},
        schema={"currency": pl.String(), "bucket": pl.String()},
    ).with_columns(pl.int_range(pl.len()).alias("_order"))
    out = (
        grid.join(counted, on=["currency", "bucket"], how="left")
        .with_columns(pl.col("refunds", "refunded_minor").fill_null(0))
        .with_columns(pl.col("refunds").sum().over("currency").alias("_total"))
        .with_columns(_ratio("refunds", "_total").alias("share"))
        .sort("_order")
    )
    schema = {
        "currency": pl.String(),
        "bucket": pl.String(),
        "refunds": pl.Int64(),
        "refunded_minor": pl.Int64(),
        "share": pl.Float64(),
    }
    return _cast(out, schema)


# -- native versus offline -----------------------------------------------------------------------------------------
NATIVE_VS_OFFLINE_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Date(),
    "currency": pl.String(),
    **{c.stem: pl.Int64() for c in REFUND_COLUMNS},  # how many refunds of each refund column
    **_REFUND_AMOUNTS,
    "refunded_minor": pl.Int64(),
    "offline_share": pl.Float64(),  # offline refund columns / refunded_minor (null when nothing was refunded)
}


def native_vs_offline(
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    period: Period = "month",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
    fill_gaps: bool = True,
) -> pl.DataFrame:
    """Per (period of the refund's date, currency): how many refunds and how much VTEX made (return invoices)
    and how much was refunded outside VTEX, and ``offline_share`` — the part of the refunded value VTEX's own
    reports do not show (:data:`NATIVE_VS_OFFLINE_SCHEMA`)."""
    check_options(period, tz=tz)
    events = _dated_events(
        orders_df,
        native_df,
        offline_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    )
    out = events.group_by(period_expr("dated_at", period, tz).alias("period"), "currency").agg(
        *(
            pl.col("amount_minor").filter(pl.col("column") == c.stem).sign().sum().cast(pl.Int64).alias(c.stem)
            for c in REFUND_COLUMNS
        ),
        *refund_sums(),
    )
    if fill_gaps and out.height:
        out = fill_periods(out, period, tz, start, end)
    cols = [c.stem for c in REFUND_COLUMNS] + _REFUND_NAMES
    offline = pl.sum_horizontal(*(c.name for c in REFUND_COLUMNS if c.kind == "offline")).alias("_offline")
    out = (
        out.with_columns(pl.col(*cols).fill_null(0))
        .with_columns(_REFUNDED, offline)
        .with_columns(_ratio("_offline", "refunded_minor").alias("offline_share"))
    )
    return _cast(out, NATIVE_VS_OFFLINE_SCHEMA).sort("currency", "period")


# -- products ------------------------------------------------------------------------------------------------------
def items_of(orders_df: pl.DataFrame) -> pl.DataFrame:
    """The item lines of an orders frame that carries them (the order store's ``items`` column, filled for
    orders synced with details), as :data:`ITEMS_SCHEMA`; no rows when the frame has none."""
    if "items" not in orders_df.columns:
        return pl.DataFrame(schema=ITEMS_SCHEMA)
    lines = (
        orders_df.select("order_id", "currency", "items")
        .filter(pl.col("items").is_not_null())
        .explode("items")
        .filter(pl.col("items").is_not_null())
        .unnest("items")
    )
    return _cast(lines, ITEMS_SCHEMA)


def items_frame(orders: Mapping[str, Order] | Iterable[Order]) -> pl.DataFrame:
    """One row per item line of full orders (:data:`ITEMS_SCHEMA`): ``order_id, sku, name, quantity,
    unit_price_minor, currency``."""
    values = orders.values() if isinstance(orders, Mapping) else orders
    rows = [(o, item) for o in values for item in o.items]
    return pl.DataFrame(
        {
            "order_id": [o.order_id for o, _ in rows],
            "sku": [i.sku for _, i in rows],
            "name": [i.name for _, i in rows],
            "quantity": [i.quantity for _, i in rows],
            "unit_price_minor": [i.unit_price.minor for _, i in rows],
            "currency": [i.unit_price.currency for _, i in rows],
        },
        schema=ITEMS_SCHEMA,
    )


TOP_PRODUCTS_SCHEMA: dict[str, pl.DataType] = {
    "currency": pl.String(),
    "sku": pl.String(),
    "name": pl.String(),
    "orders": pl.Int64(),  # counted orders with this product (and details synced)
    "refunded_orders": pl.Int64(),  # of those, the ones with any refund left
    "order_rate": pl.Float64(),  # refunded_orders / orders
    "refunded_minor": pl.Int64(),  # the refunds of those orders, whole (a refund is not tied to items)
}


def top_refunded_products(
    items_df: pl.DataFrame,
    orders_df: pl.DataFrame,
    native_df: pl.DataFrame,
    offline_df: pl.DataFrame,
    *,
    limit: int = 10,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    start: Instant | None = None,
    end: Instant | None = None,
) -> pl.DataFrame:
    """The products most often on refunded orders, per currency (:data:`TOP_PRODUCTS_SCHEMA`), among orders
    created in ``[start, end)`` that gross counts and whose details (items) are synced; at most ``limit`` per
    currency, the most refunded orders first.

    A refund names an order, not items, so an order's refunds count in full for every product on it:
    ``refunded_minor`` of two products may include the same refund, and is never added across products.

    Pass a range whose orders were all synced with details: a sync also reads in full the orders that have a return
    invoice, and a sample mixing those in overstates every product's refunded share.
    """
    counted = counted_orders(
        orders_df,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        start=start,
        end=end,
    ).select("order_id", "currency")
    with_items = counted.join(items_df.select("order_id").unique(), on="order_id", how="semi")
    if with_items.height == 0:
        raise InputError(
            "no order in this range has its items synced: top refunded products need order details "
            "(run refundkit sync with --details for this range)"
        )
    refunded = (
        refund_events(orders_df, native_df, offline_df)
        .group_by("order_id")
        .agg(pl.col("amount_minor").sum().alias("refunded_minor"))
    )
    lines = (
        items_df.select("order_id", "sku", "name")
        .join(with_items, on="order_id", how="inner")
        .unique(["order_id", "sku"], keep="first")
        .join(refunded, on="order_id", how="left")
        .with_columns(pl.col("refunded_minor").fill_null(0))
    )
    out = (
        lines.group_by("currency", "sku")
        .agg(
            pl.col("name").first(),
            pl.len().cast(pl.Int64).alias("orders"),
            (pl.col("refunded_minor") > 0).sum().cast(pl.Int64).alias("refunded_orders"),
            pl.col("refunded_minor").filter(pl.col("refunded_minor") > 0).sum().cast(pl.Int64).alias("refunded_minor"),
        )
        .with_columns(_ratio("refunded_orders", "orders").alias("order_rate"))
        .filter(pl.col("refunded_orders") > 0)
        .sort(["currency", "refunded_orders", "refunded_minor", "sku"], descending=[False, True, True, False])
        .group_by("currency", maintain_order=True)
        .head(limit)
    )
    return _cast(out, TOP_PRODUCTS_SCHEMA)
