"""A report summed straight from the store's files (``keep_orders=False``, what `refundkit report` does without
``--detail``) has exactly the rows and warnings of one that holds every order; and a report opens only the month
files its range can need."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report, report_detail
from refundkit.analytics.store import StoreDamaged
from refundkit.errors import InputError
from tests.analytics.test_report_figures import TZ, _order, build_store, table


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    st = build_store(tmp_path_factory.mktemp("lean"))
    from refundkit.analytics.store import orders_rows_frame

    # an order of a status refundkit does not know, for the warning that names it
    st.upsert_orders(orders_rows_frame([_order("H", "2026-03-21T12:00:00Z", "awaiting-review", "BRL", 900)]))
    return st


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
        full = gross_vs_net_report(store, "2026-03-01", "2026-03-31", **options)  # type: ignore[arg-type]
        lean = gross_vs_net_report(store, "2026-03-01", "2026-03-31", keep_orders=False, **options)  # type: ignore[arg-type]
        assert table(lean) == table(full), options
        assert lean.rows.equals(full.rows), options
        assert lean.warnings == full.warnings, options
        assert full.orders is not None and lean.orders is None
        seen += lean.warnings
    assert any("awaiting-review" in w for w in seen)  # the unknown status is named from the sums too


def test_a_report_made_without_its_orders_refuses_a_drill_down(store: OrderStore) -> None:
    lean = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ, keep_orders=False)
    with pytest.raises(InputError, match="without its orders"):
        report_detail(lean, "2026-03-01", "BRL")


def test_a_report_opens_only_the_months_its_range_can_need(tmp_path: Path) -> None:
    st = build_store(tmp_path / "store")
    before = table(gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ, lookback_days=60))
    from refundkit.analytics.store import orders_rows_frame

    st.upsert_orders(orders_rows_frame([_order("OLD", "2025-06-10T12:00:00Z", "invoiced", "BRL", 1234)]))
    june = st.path / "orders" / "month=2025-06" / "data.parquet"
    data = bytearray(june.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit in a month the report does not reach
    june.write_bytes(bytes(data))
    for keep in (True, False):
        rep = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ, lookback_days=60, keep_orders=keep)
        assert table(rep) == before
    # a range that reaches June reads it, and says it is damaged
    with pytest.raises(StoreDamaged, match="month=2025-06"):
        gross_vs_net_report(st, "2025-06-01", "2026-03-31", by="month", tz=TZ, lookback_days=60)
    with pytest.raises(StoreDamaged):
        st.orders(columns=["order_id"])  # every month: June too


@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_a_lean_report_reads_the_order_value_as_the_doctor_found(tmp_path: Path, reading: str) -> None:
    from datetime import UTC, datetime

    from refundkit.analytics.store import orders_rows_frame
    from refundkit.ledger.valueverdict import ValueVerdict, save_value_verdict

    st = build_store(tmp_path / "store")
    if reading == "reduced":  # VTEX's value already lowered by the return invoice: gross adds it back
        st.upsert_orders(orders_rows_frame([_order("F", "2026-03-20T12:00:00Z", "invoiced", "BRL", 4500)]))
    save_value_verdict(
        tmp_path, ValueVerdict("handmade", datetime(2026, 4, 1, tzinfo=UTC), reading, "F", 4500, 7000, 2500)
    )
    lean = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ, keep_orders=False)
    full = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert lean.parameters["value_reading"] == reading
    assert table(lean) == table(full)
    assert [r for r in table(lean) if r[1] == "BRL"] == [("2026-03-01", "BRL", 3, "230.00", "25.00", "35.00", "170.00")]
    assert lean.orders is None
