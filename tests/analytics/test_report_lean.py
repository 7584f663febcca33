"""A report summed straight from the store's files (``keep_orders=False``, what `refundkit report` does without
``--detail``) has exactly the rows, warnings, comparisons and totals of one that holds every order; and a report
opens only the month files its range can need."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report, report_detail
from refundkit.analytics.export import export_csv
from refundkit.analytics.store import StoreDamaged, orders_rows_frame
from refundkit.errors import InputError
from refundkit.ledger.valueverdict import ValueVerdict, save_value_verdict
from refundkit.timeutil import parse_instant

from .test_report_figures import TZ, _order, build_store, table

NOW = parse_instant("2026-04-10T15:00:00Z")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    st = build_store(tmp_path_factory.mktemp("lean"))
    # an order of a status refundkit does not know, for the warning that names it; one in February for comparisons
    st.upsert_orders(
        orders_rows_frame(
            [
                _order("H", "2026-03-21T12:00:00Z", "awaiting-review", "BRL", 900),
                _order("H2", "2026-03-21T13:00:00Z", "awaiting-review", "BRL", 100),
                _order("I", "2026-02-20T12:00:00Z", "awaiting-review", "USD", 300),
            ]
        )
    )
    return st


def _both(store: OrderStore, *args: Any, **options: Any) -> tuple[Any, Any]:
    full = gross_vs_net_report(store, *args, sync=False, **options)
    lean = gross_vs_net_report(store, *args, sync=False, keep_orders=False, **options)
    return full, lean


def _same(full: Any, lean: Any, what: Any) -> None:
    assert table(lean) == table(full), what
    assert lean.rows.equals(full.rows), what
    assert lean.warnings == full.warnings, what
    assert export_csv(lean, with_totals=True) == export_csv(full, with_totals=True), what
    assert full.orders is not None and lean.orders is None


@pytest.mark.parametrize(
    ("by", "tz", "attribution"),
    list(itertools.product(("day", "week", "month"), (TZ, "UTC", "Asia/Kathmandu"), ("refund-date", "order-date"))),
)
def test_rows_summed_from_the_files_are_those_of_the_orders(
    store: OrderStore, by: str, tz: str, attribution: str
) -> None:
    seen: list[str] = []
    for currency, canceled, pending in itertools.product((None, "BRL", "USD"), (False, True), (False, True)):
        options = {
            "by": by,
            "tz": tz,
            "attribution": attribution,
            "currency": currency,
            "include_canceled": canceled,
            "include_payment_pending": pending,
        }
        full, lean = _both(store, "2026-03-01", "2026-03-31", **options)
        _same(full, lean, options)
        assert full.rows.height
        seen += lean.warnings
    # the unknown status is named and counted from the sums too: two orders of it in March in BRL
    assert any(w.startswith("2 order(s) in this report have a status") for w in seen)


@pytest.mark.parametrize(
    ("by", "compare"), list(itertools.product(("day", "week", "month"), ("previous", "last-year")))
)
def test_a_comparison_sums_each_range_apart(store: OrderStore, by: str, compare: str) -> None:
    # ten days against the ten before: a week that straddles the two ranges counts each range's orders in its own
    for first, last in (("2026-03-11", "2026-03-20"), ("2026-03-01", "2026-03-31")):
        for currency in (None, "USD"):
            options = {"by": by, "tz": TZ, "compare": compare, "currency": currency}
            full, lean = _both(store, first, last, **options)
            _same(full, lean, (first, last, options))
            assert lean.compared


def test_a_named_range_without_its_orders(store: OrderStore) -> None:
    for preset in ("last-month", "this-month", "ytd"):
        full, lean = _both(store, preset=preset, compare="previous", by="week", tz=TZ, now=NOW)
        _same(full, lean, preset)
    assert lean.running  # the period under way is marked without the orders too


def test_a_report_made_without_its_orders_refuses_a_drill_down(store: OrderStore) -> None:
    full, lean = _both(store, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert report_detail(full, "2026-03-01", "BRL").orders.height
    with pytest.raises(InputError, match="without its orders"):
        report_detail(lean, "2026-03-01", "BRL")


def test_a_report_opens_only_the_months_its_range_can_need(tmp_path: Path) -> None:
    st = build_store(tmp_path / "store")
    before = table(gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ, lookback_days=60))
    st.upsert_orders(orders_rows_frame([_order("OLD", "2025-06-10T12:00:00Z", "invoiced", "BRL", 1234)]))
    june = st.path / "orders" / "month=2025-06" / "data.parquet"
    data = bytearray(june.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit in a month the report does not reach
    june.write_bytes(bytes(data))
    for keep in (True, False):
        rep = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ, lookback_days=60, keep_orders=keep)
        assert table(rep) == before
    # a range that reaches June reads it, and says it is damaged
    for keep in (True, False):
        with pytest.raises(StoreDamaged, match="month=2025-06"):
            gross_vs_net_report(st, "2025-06-01", "2026-03-31", by="month", tz=TZ, lookback_days=60, keep_orders=keep)


@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_a_lean_report_reads_the_order_value_as_the_doctor_found(tmp_path: Path, reading: str) -> None:
    st = build_store(tmp_path / "store")
    if reading == "reduced":  # VTEX's value already lowered by the return invoice: gross adds it back
        st.upsert_orders(orders_rows_frame([_order("F", "2026-03-20T12:00:00Z", "invoiced", "BRL", 4500)]))
    save_value_verdict(
        tmp_path, ValueVerdict("handmade", datetime(2026, 4, 1, tzinfo=UTC), reading, "F", 4500, 7000, 2500)
    )
    full, lean = _both(st, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert lean.parameters["value_reading"] == reading
    _same(full, lean, reading)
    assert [r for r in table(lean) if r[1] == "BRL"] == [("2026-03-01", "BRL", 3, "230.00", "25.00", "35.00", "170.00")]
