"""Trend data read from the local order store, synced from an in-process sandbox first."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

import refundkit
from refundkit.analytics.trenddata import trend_data
from refundkit.analytics.trends import refund_rate, top_refunded_products
from refundkit.errors import InputError


def test_trend_data_syncs_the_range_and_reads_details_only_where_synced(small_session: refundkit.Session) -> None:
    recent = trend_data(small_session, date(2026, 4, 1), date(2026, 4, 30), details=True)
    with_details, orders = recent.details_coverage
    assert orders > 0 and with_details == orders  # the range's orders were read in full
    assert recent.items.height >= orders  # at least one item line an order
    detailed = recent.orders.filter(pl.col("has_details"))
    assert detailed.get_column("payment_method").null_count() == 0  # the main payment's method, from the details
    products = top_refunded_products(recent.items, *recent.frames, **recent.bounds)
    assert products.height > 0 and set(products.get_column("currency").to_list()) <= {"BRL", "USD"}

    whole = trend_data(small_session, date(2026, 2, 20), date(2026, 4, 30))
    with_details, orders = whole.details_coverage
    assert 0 < with_details < orders  # March's orders were only listed; April's details were kept
    assert whole.sync is not None and whole.sync.calls > 0
    rate = refund_rate(*whole.frames, period="month", **whole.bounds)
    assert rate.get_column("period").to_list()[0] == date(2026, 2, 1)
    assert set(rate.get_column("currency").to_list()) == set(whole.currencies)

    # without syncing, the store is read as it is: same figures, no VTEX call
    again = trend_data(small_session, date(2026, 2, 20), date(2026, 4, 30), sync=False)
    assert again.sync is None
    assert refund_rate(*again.frames, period="month", **again.bounds).equals(rate)


def test_trend_data_refuses_a_reversed_range(small_session: refundkit.Session) -> None:
    with pytest.raises(InputError, match="before the start"):
        trend_data(small_session, date(2026, 4, 2), date(2026, 4, 1))
