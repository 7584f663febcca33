"""Frames and gross-vs-net on hand-built orders and refunds, with exact integer expectations."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from refundkit.analytics import (
    NATIVE_REFUNDS_SCHEMA,
    ORDERS_SCHEMA,
    REFUNDS_SCHEMA,
    REVENUE_SCHEMA,
    RevenueData,
    definitions_line,
    gross_by_period,
    native_refunds_frame,
    orders_by_status,
    orders_frame,
    refunds_frame,
    revenue_figures,
    with_major,
)
from refundkit.errors import InputError
from refundkit.ledger import LedgerEntry
from refundkit.money import Money
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.models import Order, OrderSummary, ReturnInvoice


def at(text: str) -> Instant:
    return parse_instant(text)


def summary(
    order_id: str, created: str, total: int, *, currency: str = "BRL", status: str = "invoiced"
) -> OrderSummary:
    return OrderSummary(
        order_id=order_id,
        created_at=at(created),
        status=status,
        currency=currency,
        total=Money(total, currency),
        sales_channel="1",
        payment_names="Pix",
    )


def full(s: OrderSummary, *invoices: tuple[str, int, str | None]) -> Order:
    return Order(
        order_id=s.order_id,
        sequence="1",
        status=s.status,
        currency=s.currency,
        created_at=s.created_at,
        total=s.total,
        totals={},
        items=(),
        payments=(),
        return_invoices=tuple(
            ReturnInvoice(n, Money(v, s.currency), None if d is None else at(d)) for n, v, d in invoices
        ),
        sales_channel="1",
    )


def refund(entry_id: str, order_id: str, amount: int, when: str, *, currency: str = "BRL") -> LedgerEntry:
    return LedgerEntry(
        entry_id=entry_id,
        order_id=order_id,
        kind="refund",
        amount=Money(amount, currency),
        refunded_at=at(when),
        source="cash",
        external_ref=f"REF-{entry_id}",
        reason="",
        note="",
        recorded_by="tester",
        recorded_at=at(when),
    )


def reversal(entry_id: str, of: LedgerEntry, when: str) -> LedgerEntry:
    return LedgerEntry(
        entry_id=entry_id,
        order_id=of.order_id,
        kind="reversal",
        amount=of.amount,
        refunded_at=at(when),
        source=of.source,
        external_ref=of.external_ref,
        reason="mistake",
        note="",
        recorded_by="tester",
        recorded_at=at(when),
        reverses=of.entry_id,
    )


def gross_vs_net(orders: pl.DataFrame, native: pl.DataFrame, offline: pl.DataFrame, **options) -> pl.DataFrame:
    """The engine's rows: gross versus net per (period, currency)."""
    return revenue_figures(orders, native, offline, **options).rows


def rows(df: pl.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in df.iter_rows(named=True)]


NO_REFUNDS = native_refunds_frame({})
NO_OFFLINE = refunds_frame([])
MONEY = ("gross_minor", "native_refunds_minor", "offline_refunds_minor", "net_minor")


# -- frames --------------------------------------------------------------------------------------------------------
def test_orders_frame_keeps_every_nanosecond_and_minor_units() -> None:
    s = summary("1-01", "2026-03-01T12:34:56.1234567-03:00", 12345)
    df = orders_frame([s])
    assert df.schema == pl.Schema(ORDERS_SCHEMA)
    assert df.get_column("created_at").dt.epoch("ns").to_list() == [s.created_at.ns]
    assert df.row(0, named=True)["total_minor"] == 12345
    assert df.get_column("created_at").dt.nanosecond().to_list() == [123456700]


def test_every_frame_has_its_schema_when_empty() -> None:
    assert orders_frame([]).schema == pl.Schema(ORDERS_SCHEMA)
    assert refunds_frame([]).schema == pl.Schema(REFUNDS_SCHEMA)
    assert native_refunds_frame({}).schema == pl.Schema(NATIVE_REFUNDS_SCHEMA)
    assert orders_frame([]).height == 0


def test_refunds_frame_signs_reversals_and_knows_the_reversed_refunds_date() -> None:
    r = refund("rf-1", "1-01", 500, "2026-03-02T10:00:00Z")
    v = reversal("rv-1", r, "2026-04-10T09:00:00Z")
    df = refunds_frame([r, v])
    assert df.schema == pl.Schema(REFUNDS_SCHEMA)
    assert rows(df, "entry_id", "kind", "amount_minor", "signed_minor", "reverses") == [
        ("rf-1", "refund", 500, 500, None),
        ("rv-1", "reversal", 500, -500, "rf-1"),
    ]
    reversed_at = df.get_column("reversed_refunded_at").dt.epoch("ns").to_list()
    assert reversed_at == [None, r.refunded_at.ns]


def test_native_refunds_frame_has_one_row_per_return_invoice() -> None:
    s = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    df = native_refunds_frame(
        {
            s.order_id: full(s, ("R1", 1500, "2026-03-05T00:00:00Z"), ("R2", 700, None)),
            "2-01": full(summary("2-01", "2026-03-01T11:00:00Z", 900)),
        }
    )
    assert rows(df, "order_id", "invoice_number", "amount_minor", "currency") == [
        ("1-01", "R1", 1500, "BRL"),
        ("1-01", "R2", 700, "BRL"),
    ]
    assert df.get_column("issued_at").null_count() == 1


def test_with_major_is_exact_text_per_currency() -> None:
    df = pl.DataFrame({"currency": ["BRL", "JPY", "KWD", "BRL"], "gross_minor": [12345, 1500, 1234, -5]})
    assert with_major(df).get_column("gross").to_list() == ["123.45", "1500", "1.234", "-0.05"]


# -- gross ---------------------------------------------------------------------------------------------------------
def test_canceled_and_payment_pending_orders_are_left_out_of_gross_unless_asked() -> None:
    orders = orders_frame(
        [
            summary("1-01", "2026-03-01T10:00:00Z", 10000),
            summary("2-01", "2026-03-01T11:00:00Z", 2000, status="canceled"),
            summary("3-01", "2026-03-01T12:00:00Z", 300, status="payment-pending"),
            summary("4-01", "2026-03-01T13:00:00Z", 40, status="cancel"),
        ]
    )

    def gross(**kw) -> list[tuple]:
        return rows(gross_vs_net(orders, NO_REFUNDS, NO_OFFLINE, **kw), "orders", "gross_minor")

    assert gross() == [(1, 10000)]
    assert gross(include_canceled=True) == [(3, 12040)]
    assert gross(include_payment_pending=True) == [(2, 10300)]
    assert gross(include_canceled=True, include_payment_pending=True) == [(4, 12340)]


def test_gross_by_period_sums_only_within_a_currency() -> None:
    orders = orders_frame(
        [
            summary("1-01", "2026-03-01T10:00:00Z", 10000),
            summary("2-01", "2026-03-01T11:00:00Z", 2500),
            summary("3-01", "2026-03-01T12:00:00Z", 777, currency="USD"),
        ]
    )
    assert rows(gross_by_period(orders), "period", "currency", "orders", "gross_minor") == [
        (date(2026, 3, 1), "BRL", 2, 12500),
        (date(2026, 3, 1), "USD", 1, 777),
    ]


def test_orders_by_status_says_which_statuses_gross_counts() -> None:
    orders = orders_frame(
        [
            summary("1-01", "2026-03-01T10:00:00Z", 100),
            summary("2-01", "2026-03-01T11:00:00Z", 20),
            summary("3-01", "2026-03-01T12:00:00Z", 3, status="canceled"),
            summary("4-01", "2026-03-01T13:00:00Z", 7, currency="USD", status="payment-pending"),
        ]
    )
    assert rows(orders_by_status(orders), "currency", "status", "orders", "total_minor", "in_gross", "place") == [
        ("BRL", "invoiced", 2, 120, True, "counted"),
        ("BRL", "canceled", 1, 3, False, "canceled"),
        ("USD", "payment-pending", 1, 7, False, "payment-pending"),
    ]


# -- refunds -------------------------------------------------------------------------------------------------------
def test_net_is_gross_minus_native_minus_offline() -> None:
    s = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    out = gross_vs_net(
        orders_frame([s]),
        native_refunds_frame([full(s, ("R1", 1500, "2026-03-01T18:00:00Z"))]),
        refunds_frame([refund("rf-1", "1-01", 250, "2026-03-01T20:00:00Z")]),
    )
    assert out.schema == pl.Schema(REVENUE_SCHEMA)
    assert rows(out, "period", "currency", "orders", *MONEY) == [(date(2026, 3, 1), "BRL", 1, 10000, 1500, 250, 8250)]


def test_a_refund_in_another_currency_is_never_added() -> None:
    brl = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    usd = summary("2-01", "2026-03-01T11:00:00Z", 4000, currency="USD")
    out = gross_vs_net(
        orders_frame([brl, usd]),
        native_refunds_frame([full(usd, ("R1", 100, "2026-03-01T12:00:00Z"))]),
        refunds_frame(
            [
                refund("rf-1", "2-01", 900, "2026-03-01T13:00:00Z", currency="USD"),
                refund("rf-2", "9-01", 55, "2026-03-01T14:00:00Z", currency="EUR"),
            ]
        ),
    )
    assert rows(out, "currency", "orders", *MONEY) == [
        ("BRL", 1, 10000, 0, 0, 10000),
        ("EUR", 0, 0, 0, 55, -55),
        ("USD", 1, 4000, 100, 900, 3000),
    ]


def test_a_reversal_takes_its_refund_back_out_of_offline_refunds() -> None:
    s = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    kept = refund("rf-1", "1-01", 300, "2026-03-02T10:00:00Z")
    wrong = refund("rf-2", "1-01", 2000, "2026-03-02T11:00:00Z")
    undo = reversal("rv-2", wrong, "2026-03-20T09:00:00Z")
    offline = refunds_frame([kept, wrong, undo])

    month = gross_vs_net(orders_frame([s]), NO_REFUNDS, offline, period="month")
    assert rows(month, "offline_refunds_minor", "net_minor") == [(300, 9700)]

    # by default the reversal is netted on the mistaken refund's own day: no trace of the mistake
    daily = gross_vs_net(orders_frame([s]), NO_REFUNDS, offline, fill=False)
    assert rows(daily, "period", "offline_refunds_minor") == [(date(2026, 3, 1), 0), (date(2026, 3, 2), 300)]
    # or on the day it was recorded, leaving the days already reported as they were
    daily = gross_vs_net(orders_frame([s]), NO_REFUNDS, offline, reversals="reversal_date", fill=False)
    assert rows(daily, "period", "offline_refunds_minor") == [
        (date(2026, 3, 1), 0),
        (date(2026, 3, 2), 2300),
        (date(2026, 3, 20), -2000),
    ]


def test_refund_date_and_order_date_attribution_put_a_refund_in_different_periods() -> None:
    s = summary("1-01", "2026-01-20T10:00:00Z", 10000)
    native = native_refunds_frame([full(s, ("R1", 1000, "2026-02-03T00:00:00Z"))])
    offline = refunds_frame([refund("rf-1", "1-01", 400, "2026-03-15T10:00:00Z")])
    orders = orders_frame([s])

    cash = gross_vs_net(orders, native, offline, period="month")
    assert rows(cash, "period", "gross_minor", "native_refunds_minor", "offline_refunds_minor", "net_minor") == [
        (date(2026, 1, 1), 10000, 0, 0, 10000),
        (date(2026, 2, 1), 0, 1000, 0, -1000),
        (date(2026, 3, 1), 0, 0, 400, -400),
    ]
    cohort = gross_vs_net(orders, native, offline, period="month", attribution="order_date")
    assert rows(cohort, "period", "gross_minor", "native_refunds_minor", "offline_refunds_minor", "net_minor") == [
        (date(2026, 1, 1), 10000, 1000, 400, 8600)
    ]
    # the totals agree; only the periods differ
    for column in MONEY:
        assert cash.get_column(column).sum() == cohort.get_column(column).sum()


def test_both_views_leave_out_refunds_of_orders_not_counted_in_gross() -> None:
    """One status rule for orders and their refunds: a refund of an order gross leaves out (canceled) is left out
    of both views and named in the warnings; a refund of an order outside the data counts by its own date."""
    kept = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    canceled = summary("2-01", "2026-03-01T11:00:00Z", 5000, status="canceled")
    offline = refunds_frame(
        [refund("rf-1", "2-01", 700, "2026-03-02T10:00:00Z"), refund("rf-2", "3-01", 80, "2026-03-02T10:00:00Z")]
    )  # order outside the data
    cohort = gross_vs_net(orders_frame([kept, canceled]), NO_REFUNDS, offline, period="month", attribution="order_date")
    assert rows(cohort, "gross_minor", "offline_refunds_minor", "net_minor") == [(10000, 0, 10000)]
    cash = revenue_figures(orders_frame([kept, canceled]), NO_REFUNDS, offline, period="month")
    assert rows(cash.rows, "gross_minor", "offline_refunds_minor", "net_minor") == [(10000, 80, 9920)]
    assert rows(cash.left_out, "refund_id", "amount_minor") == [("rf-1", 700)]
    assert any("left out of both views: 1 for BRL 7.00" in w for w in cash.warnings), cash.warnings
    with_canceled = gross_vs_net(
        orders_frame([kept, canceled]), NO_REFUNDS, offline, period="month", include_canceled=True
    )
    assert rows(with_canceled, "gross_minor", "offline_refunds_minor", "net_minor") == [(15000, 780, 14220)]


def test_a_return_invoice_without_issuance_date_counts_on_its_orders_date() -> None:
    s = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    out = gross_vs_net(orders_frame([s]), native_refunds_frame([full(s, ("R1", 1000, None))]), NO_OFFLINE)
    assert rows(out, "period", "native_refunds_minor") == [(date(2026, 3, 1), 1000)]


# -- periods, zones, ranges ------------------------------------------------------------------------------------------
def test_periods_start_on_the_first_day_in_the_reports_time_zone() -> None:
    # 02:30 UTC on Monday 2026-03-02 is still Sunday 2026-03-01 in São Paulo (UTC−3)
    orders = orders_frame([summary("1-01", "2026-03-02T02:30:00Z", 100), summary("2-01", "2026-03-31T12:00:00Z", 20)])
    by = {
        p: rows(gross_vs_net(orders, NO_REFUNDS, NO_OFFLINE, period=p, fill=False), "period", "gross_minor")
        for p in ("day", "week", "month")
    }
    assert by["day"] == [(date(2026, 3, 2), 100), (date(2026, 3, 31), 20)]
    assert by["week"] == [(date(2026, 3, 2), 100), (date(2026, 3, 30), 20)]
    assert by["month"] == [(date(2026, 3, 1), 120)]
    sp = gross_vs_net(orders, NO_REFUNDS, NO_OFFLINE, period="week", tz="America/Sao_Paulo", fill=False)
    assert rows(sp, "period", "gross_minor") == [(date(2026, 2, 23), 100), (date(2026, 3, 30), 20)]


def test_gaps_are_filled_with_zeros_per_currency() -> None:
    orders = orders_frame([summary("1-01", "2026-03-01T10:00:00Z", 100), summary("2-01", "2026-03-04T10:00:00Z", 40)])
    out = gross_vs_net(orders, NO_REFUNDS, NO_OFFLINE)
    assert rows(out, "period", "orders", "gross_minor", "net_minor") == [
        (date(2026, 3, 1), 1, 100, 100),
        (date(2026, 3, 2), 0, 0, 0),
        (date(2026, 3, 3), 0, 0, 0),
        (date(2026, 3, 4), 1, 40, 40),
    ]


def test_start_and_end_bound_orders_and_refund_dates_half_open() -> None:
    s1 = summary("1-01", "2026-03-01T00:00:00Z", 100)
    s2 = summary("2-01", "2026-03-03T00:00:00Z", 20)  # exactly at end: left out
    offline = refunds_frame(
        [refund("rf-1", "1-01", 5, "2026-03-02T23:59:59.9999999Z"), refund("rf-2", "1-01", 7, "2026-03-03T00:00:00Z")]
    )
    start, end = at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z")
    out = gross_vs_net(orders_frame([s1, s2]), NO_REFUNDS, offline, start=start, end=end)
    assert rows(out, "period", "gross_minor", "offline_refunds_minor") == [
        (date(2026, 3, 1), 100, 0),
        (date(2026, 3, 2), 0, 5),
    ]
    # the cohort view keeps every later refund of the orders in range
    cohort = gross_vs_net(orders_frame([s1, s2]), NO_REFUNDS, offline, start=start, end=end, attribution="order_date")
    assert rows(cohort, "period", "gross_minor", "offline_refunds_minor") == [
        (date(2026, 3, 1), 100, 12),
        (date(2026, 3, 2), 0, 0),
    ]


def test_revenue_data_never_reports_beyond_what_was_collected() -> None:
    s1 = summary("1-01", "2026-03-01T10:00:00Z", 100)
    data = RevenueData(
        orders_frame([s1]),
        NO_REFUNDS,
        refunds_frame([refund("rf-1", "1-01", 5, "2026-04-02T10:00:00Z")]),
        start=at("2026-03-01T00:00:00Z"),
        end=at("2026-04-01T00:00:00Z"),
    )
    out = data.gross_vs_net(period="month", end=at("2026-05-01T00:00:00Z"))
    assert rows(out, "period", "gross_minor", "offline_refunds_minor") == [(date(2026, 3, 1), 100, 0)]
    assert data.currencies == ["BRL"]


def test_empty_inputs_give_an_empty_frame_with_the_schema() -> None:
    out = gross_vs_net(orders_frame([]), NO_REFUNDS, NO_OFFLINE, period="week", attribution="order_date")
    assert out.height == 0 and out.schema == pl.Schema(REVENUE_SCHEMA)
    assert gross_by_period(orders_frame([])).height == 0
    only_canceled = orders_frame([summary("1-01", "2026-03-01T10:00:00Z", 100, status="canceled")])
    assert gross_vs_net(only_canceled, NO_REFUNDS, NO_OFFLINE).height == 0


def test_wrong_options_say_what_to_use() -> None:
    with pytest.raises(InputError) as err:
        gross_vs_net(
            orders_frame([]),
            NO_REFUNDS,
            NO_OFFLINE,
            period="year",
            attribution="ship_date",  # type: ignore[arg-type]  # an unknown attribution on purpose
            tz="Mars/Olympus",
        )
    text = str(err.value)
    assert "day, week, month" in text and "refund_date, order_date" in text and "IANA" in text


def test_the_definitions_line_states_the_view() -> None:
    assert "cash view" in definitions_line("refund_date")
    assert "cohort view" in definitions_line("order_date")
    assert "canceled" not in definitions_line(include_canceled=True, include_payment_pending=True)


def test_amounts_stay_integers_over_many_orders() -> None:
    base = at("2026-03-01T00:00:00Z")
    orders = [
        OrderSummary(f"{n}-01", base + timedelta(minutes=n), "invoiced", "BRL", Money(1, "BRL"), "1", "Pix")
        for n in range(1000)
    ]
    out = gross_vs_net(orders_frame(orders), NO_REFUNDS, NO_OFFLINE, period="month")
    assert rows(out, "orders", "gross_minor") == [(1000, 1000)]
    assert out.schema["gross_minor"] == pl.Int64
