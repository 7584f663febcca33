"""collect_revenue against a small in-process sandbox: what it reads from VTEX and the ledger adds up."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

import refundkit
from refundkit.analytics import DEFINITIONS, collect_revenue, default_range, gross_vs_net_report
from refundkit.errors import InputError
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


def test_collect_reads_orders_return_invoices_and_the_ledger(rk: refundkit.Session) -> None:
    orders = rk.client.orders.list(START, END)
    invoiced = [o for o in orders if o.status == "invoiced"]
    first, second = invoiced[0], invoiced[1]
    kept = rk.ledger.record(
        first.order_id, "10.00", "cash", "CASH-T-1", refunded_at=first.created_at + timedelta(days=1)
    )
    wrong = rk.ledger.record(
        second.order_id, "3.00", "bank-transfer", "BT-T-2", refunded_at=second.created_at + timedelta(days=1)
    )
    rk.ledger.reverse(wrong.entry.entry_id, "typed on the wrong order")

    data = collect_revenue(rk, START, END)

    assert data.orders.height == len(orders)
    assert data.orders.get_column("order_id").to_list() == [o.order_id for o in orders]
    assert data.definitions == DEFINITIONS
    full = rk.client.orders.get_many([o.order_id for o in invoiced])
    expected_native = sum(o.native_refunded.minor for o in full.values() if o.currency == "BRL")
    assert expected_native > 0, "the small store should have some return invoices"
    assert data.native_refunds.filter(pl.col("currency") == "BRL").get_column("amount_minor").sum() == expected_native
    assert sorted(data.offline_refunds.get_column("signed_minor").to_list()) == [-300, 300, 1000]

    cash = data.gross_vs_net(period="month")
    cohort = data.gross_vs_net(period="month", attribution="order_date")
    currency = first.currency
    for df in (cash, cohort):
        part = df.filter(pl.col("currency") == currency)
        assert part.get_column("offline_refunds_minor").sum() == 1000  # the reversal took the 3.00 back out
        assert (
            part.get_column("net_minor").sum()
            == part.get_column("gross_minor").sum()
            - part.get_column("native_refunds_minor").sum()
            - part.get_column("offline_refunds_minor").sum()
        )
    counted = [o for o in orders if o.status not in ("canceled", "cancel", "payment-pending")]
    for cur in ("BRL", "USD"):
        want = sum(o.total.minor for o in counted if o.currency == cur)
        assert cash.filter(pl.col("currency") == cur).get_column("gross_minor").sum() == want
    assert kept.recorded_now


def test_collect_refuses_an_empty_range(rk: refundkit.Session) -> None:
    with pytest.raises(InputError, match="empty"):
        collect_revenue(rk, END, START)


def test_the_default_range_of_the_sandbox_is_its_whole_store(rk: refundkit.Session) -> None:
    start, end = default_range(rk)
    assert (start, end) == (START, END)


def test_collect_reads_only_orders_with_return_invoices_when_the_list_can_filter(rk: refundkit.Session) -> None:
    """When the order list can filter on return invoices (VTEX's f_hasInputInvoice), only those orders are read in
    full, and the result is the same as reading every invoiced order."""
    real = rk.client.orders
    invoiced = [o.order_id for o in real.list(START, END, statuses=["invoiced"])]
    with_returns = {oid for oid, o in real.get_many(invoiced).items() if o.return_invoices}
    read: list[str] = []

    class FilteringOrders:
        def list(self, start, end, *, statuses=None, progress=None, has_return_invoice=None):
            found = real.list(start, end, statuses=statuses, progress=progress)
            return found if has_return_invoice is None else [o for o in found if o.order_id in with_returns]

        def get_many(self, order_ids, *, missing="raise"):
            read.extend(order_ids)
            return real.get_many(order_ids, missing=missing)

    client = type("Client", (), {"orders": FilteringOrders()})()
    filtered = collect_revenue((client, rk.ledger), START, END)
    assert set(read) == with_returns
    assert filtered.native_refunds.equals(collect_revenue(rk, START, END).native_refunds)


def test_the_live_loader_and_the_report_over_the_store_give_the_same_figures(rk: refundkit.Session) -> None:
    """One engine: the figures read live from VTEX (collect_revenue) and those of the report over the synced store
    (gross_vs_net_report) are the same, row for row, in both views, refunds of canceled orders included."""
    invoiced = [o for o in rk.client.orders.list(START, END) if o.status == "invoiced"]
    for order, reference in ((invoiced[-1], "CASH-ONE-1"), (invoiced[-2], "CASH-ONE-2")):
        rk.ledger.record(order.order_id, "4.00", "cash", reference, refunded_at=order.created_at + timedelta(days=2))
    mistake = rk.ledger.record(
        invoiced[-3].order_id, "2.00", "cash", "CASH-ONE-3", refunded_at=invoiced[-3].created_at + timedelta(days=1)
    )
    if mistake.recorded_now:
        rk.ledger.reverse(mistake.entry.entry_id, "typed on the wrong order")
    first, last = START.to_datetime().date(), (END - timedelta(days=1)).to_datetime().date()
    data = collect_revenue(rk, START, END)
    assert data.native_refunds.height > 0 and data.offline_refunds.height > 0
    for view in ("refund_date", "order_date"):
        live = data.gross_vs_net(period="month", attribution=view)
        stored = gross_vs_net_report(rk, first, last, by="month", attribution=view, progress=False)
        assert live.equals(stored.rows), view
        assert stored.rows.height > 0
