"""The frames refund trends read, from the local order store (synced first, with its progress bar).

>>> data = trend_data(rk, date(2026, 1, 1), date(2026, 3, 31))          # doctest: +SKIP
>>> refund_rate(*data.frames, period="month", **data.bounds)            # doctest: +SKIP

The orders of the range and of the look-back before it (refunds of older orders then know their order's status,
channel and payment), their return invoices, and the ledger's entries. Items and the payment method from the order
details are there for the orders synced with ``details=True`` (``refundkit sync --details``); :attr:`TrendData.
details_coverage` says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import InputError
from ..statuses import unknown_statuses_line
from ..timeutil import Instant, local_day_bounds, zone
from .engine import DEFAULT_LOOKBACK_DAYS, read_store, status_counts, sync_for_range, value_reading_of
from .frames import charged_totals
from .sync import SyncResult, store_of
from .trends import items_of

__all__ = ["TrendData", "trend_data"]


@dataclass(frozen=True)
class TrendData:
    """``orders`` (the store's columns, from ``start − lookback`` to ``end``), ``native_refunds`` (their return
    invoices), ``offline_refunds`` (the ledger's entries), ``items`` (item lines of the orders created in
    ``[start, end)`` whose details are synced); ``start``/``end`` the range."""

    orders: pl.DataFrame
    native_refunds: pl.DataFrame
    offline_refunds: pl.DataFrame
    items: pl.DataFrame
    start: Instant
    end: Instant
    warnings: list[str] = field(default_factory=list)
    sync: SyncResult | None = None

    @property
    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``(orders, native_refunds, offline_refunds)``: the first three arguments of every trend function."""
        return self.orders, self.native_refunds, self.offline_refunds

    @property
    def bounds(self) -> dict[str, Instant]:
        """``{"start": ..., "end": ...}``: the range, as the trend functions take it."""
        return {"start": self.start, "end": self.end}

    @property
    def currencies(self) -> list[str]:
        in_range = self.orders.filter(pl.col("created_at").dt.epoch("ns").is_between(self.start.ns, self.end.ns - 1))
        return sorted(
            set(in_range.get_column("currency").to_list())
            | set(self.native_refunds.get_column("currency").to_list())
            | set(self.offline_refunds.get_column("currency").to_list())
        )

    @property
    def details_coverage(self) -> tuple[int, int]:
        """``(orders with details, orders)`` among the orders created in the range."""
        in_range = self.orders.filter(pl.col("created_at").dt.epoch("ns").is_between(self.start.ns, self.end.ns - 1))
        with_details = in_range.filter(pl.col("has_details").fill_null(False)) if "has_details" in in_range else None
        return (0 if with_details is None else with_details.height, in_range.height)


def trend_data(
    source: Any,
    first: date,
    last: date,
    *,
    tz: str = "UTC",
    details: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    sync: bool = True,
    progress: bool | None = None,
) -> TrendData:
    """The local days ``first`` to ``last`` (both included, in ``tz``) of the store of ``source`` (a session),
    synced first unless ``sync=False``; ``details=True`` also reads every order of the range in full (one call an
    order, once) for items and payment method."""
    if last < first:
        raise InputError(f"the end {last} is before the start {first}")
    try:
        zone(tz)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if lookback_days < 0:
        raise InputError("lookback_days cannot be negative")
    start, end = local_day_bounds(first, last, tz)
    earliest = start - timedelta(days=lookback_days)
    store = store_of(source)
    result = None
    warnings: list[str] = []
    if sync:
        if details:
            # details only for the range itself; the look-back needs the list fields only
            sync_for_range(source, store, start, end, details=True, refresh=False, progress=progress)
        result = sync_for_range(source, store, earliest, end, details=False, refresh=False, progress=progress)
        warnings += result.warnings

    # one consistent reading of the store (no sync writes meanwhile); after a sync, damaged files are set aside;
    # every column of the orders (channel, payment, items) and every offline refund (cohort rates count them all)
    orders, native, offline, _state, _ = store.repairing(
        lambda: read_store(store, earliest, end, columns=None, refunds_since=None), repair=sync
    )
    warnings += [n for n in store.notices if n not in warnings]
    # gross starts from what was charged: VTEX's value, plus the returns where it already excludes them
    orders = charged_totals(orders, native, value_reading_of(source, store)[0])
    in_range = orders.filter(pl.col("created_at").dt.epoch("ns").is_between(start.ns, end.ns - 1))
    unknown = unknown_statuses_line(status_counts(in_range), "created in the range")
    if unknown:
        warnings.append(unknown)
    return TrendData(
        orders=orders,
        native_refunds=native,
        offline_refunds=offline,
        items=items_of(in_range),
        start=start,
        end=end,
        warnings=warnings,
        sync=result,
    )
