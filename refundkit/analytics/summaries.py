"""Month summaries: each month's orders counted and summed per UTC quarter-hour, currency and status, kept beside
the month's file, so that a report over whole months reads a few thousand rows instead of every order.

A quarter-hour is the grain that keeps the figures exact in every time zone: every zone's offset today is a whole
number of quarter-hours (+05:30, +05:45, -03:30 included), so a local midnight, and with it the start of every day,
week, month, quarter and year, falls on a UTC quarter-hour, and no quarter-hour straddles two periods. Where one
does (an offset of another size, far in the past), the report notices it and sums the raw rows instead.

The summary is ``month=YYYY-MM/.data.parquet.summary`` (hidden, and not ``*.parquet``, so that DuckDB, Spark or any
Parquet reader of the folders passes over it). It records, in its Parquet metadata, the identity of the file it
summarises (inode, size, modification time in nanoseconds), the columns it sums and how many of the month's orders
carry order totals refundkit does not know (so that a report looks for them only in months that have some): a
summary whose month file has
been written since (a crash between writing the month and its summary, a copy of the store) or that lacks a column
the figures now sum is passed over, and the month read raw. Only :meth:`refundkit.analytics.store.OrderStore
.write_month` writes them, under the store's write lock, after the month file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from .frames import UTC_NS
from .split import ORDER_INPUTS, SUMMED_ORDER_COLUMNS, order_parts

__all__ = [
    "GRAIN_NS",
    "ORDER_SOURCES",
    "ORDER_SUMS",
    "SUMMARY_KEYS",
    "fingerprint",
    "odd_totals",
    "order_sums",
    "summarise",
    "summary_data",
    "summary_meta",
    "summary_path",
    "valid_summary",
]

#: What each order adds to its period's figures, summed per period: gross (its ``total_minor``) and the gross split's
#: columns (:func:`~refundkit.analytics.split.order_parts`). Month summaries sum every one of them; a new money figure
#: is one entry here (and in :func:`order_sums`).
ORDER_SUMS: tuple[str, ...] = ("gross_minor", *SUMMED_ORDER_COLUMNS)
#: The order columns they are computed from.
ORDER_SOURCES: tuple[str, ...] = ("total_minor", *ORDER_INPUTS)


def order_sums(columns: Any) -> list[pl.Expr]:
    """Per order (a frame with ``columns``): each of :data:`ORDER_SUMS`, the one derivation that raw rows and month
    summaries share."""
    return [pl.col("total_minor").cast(pl.Int64).alias("gross_minor"), *order_parts(list(columns))]


#: A summary row's keys: the quarter-hour (its first instant, in ``created_at``), currency and status.
SUMMARY_KEYS: tuple[str, ...] = ("created_at", "currency", "status")
#: The grain: a quarter of an hour, in nanoseconds.
GRAIN_NS = 15 * 60 * 10**9
#: The column a summary row gives the number of orders in (a raw row is one order).
COUNT = "orders"
_META_KEY = "refundkit.summary"
_VERSION = 3  # 3: with the number of orders carrying totals refundkit does not know


def summary_path(month_file: Path) -> Path:
    """Where the summary of a month file is kept: a hidden file beside it, which Parquet readers pass over."""
    return month_file.with_name(f".{month_file.name}.summary")


def summarise(orders: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Orders (``created_at, currency, status`` and the columns of :data:`ORDER_SOURCES`) as summary rows: per UTC
    quarter-hour, currency and status, the number of orders and the sum of each of :data:`ORDER_SUMS`."""
    quarter = (pl.col("created_at").cast(pl.Int64) // GRAIN_NS * GRAIN_NS).cast(UTC_NS).alias("created_at")
    lf = orders.lazy()
    return (
        lf.with_columns(order_sums(lf.collect_schema().names()))
        .group_by(quarter, "currency", "status")
        .agg(pl.len().cast(pl.Int64).alias(COUNT), *(pl.col(c).sum().cast(pl.Int64) for c in ORDER_SUMS))
        .sort(SUMMARY_KEYS, nulls_last=True)
        .collect()
    )


def fingerprint(month_file: Path) -> list[int]:
    """The identity of one version of a month file: inode, size and modification time (ns). Every write of a month
    is a new file moved over the old one, so each write changes it."""
    st = os.stat(month_file)
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def odd_totals(orders: pl.DataFrame) -> int:
    """How many of ``orders`` carry order totals refundkit does not know (``other_totals_ids`` not empty)."""
    if "other_totals_ids" not in orders.columns:
        return 0
    return int(orders.select((pl.col("other_totals_ids").list.len().fill_null(0) > 0).sum()).item())


def summary_meta(month_file: Path, orders: pl.DataFrame) -> dict[str, str]:
    """The Parquet metadata of the summary of ``month_file`` (whose rows are ``orders``) as it is now on disk."""
    data = {
        "version": _VERSION,
        "of": fingerprint(month_file),
        "sums": sorted(ORDER_SUMS),
        "odd_totals": odd_totals(orders),
    }
    return {_META_KEY: json.dumps(data)}


def summary_data(month_file: Path) -> dict[str, Any] | None:
    """What the summary of ``month_file`` records (``odd_totals``: how many of its orders carry totals refundkit
    does not know), when it summarises that file as it is now and sums every column of :data:`ORDER_SUMS`; ``None``
    otherwise (none, another version's, unreadable): then the month is read raw."""
    path = summary_path(month_file)
    try:
        meta: dict[str, Any] = pl.read_parquet_metadata(path)
        data = json.loads(meta[_META_KEY])
        now = fingerprint(month_file)
    except (OSError, KeyError, ValueError, TypeError, pl.exceptions.PolarsError):
        return None
    if not isinstance(data, dict) or data.get("version") != _VERSION or data.get("of") != now:
        return None
    if not set(ORDER_SUMS) <= set(data.get("sums") or ()) or not isinstance(data.get("odd_totals"), int):
        return None
    return data


def valid_summary(month_file: Path) -> Path | None:
    """The summary of ``month_file`` when :func:`summary_data` finds it valid; ``None`` otherwise."""
    return summary_path(month_file) if summary_data(month_file) is not None else None
