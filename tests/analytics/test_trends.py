"""Refund trends on a small hand-built store, every figure computed by hand.

The store (BRL unless said; the range is March and April 2026, UTC):

====  ================  ======  ========  =======  ======  ==========================================
order created           total   status    channel  paid    refunds
====  ================  ======  ========  =======  ======  ==========================================
A     03-02 10:00       100.00  invoiced  1        Pix     VTEX R1 25.00 issued 03-04 10:00 (2 days)
B     03-05 12:00       200.00  invoiced  1        Visa    cash 30.00 on 03-15 12:00 (10 days); apace 10.00
                                                           on 03-06, reversed on 04-10 (nets out)
C     03-20 09:00        50.00  invoiced  3        Pix     apace 50.00 on 04-19 09:00 (30 days), no reason
D     03-21 09:00        80.00  canceled  1        Visa    VTEX R2 80.00 on 03-25: left out (gross leaves D out)
F     03-25 15:00       150.00  invoiced  1        Pix     none
E     04-03 00:00       400.00  invoiced  1        Boleto  VTEX R3 10.00 without issuance date
U     03-10 15:00   USD  30.00  invoiced  2        Visa    bank-transfer 6.00 on 03-11 15:00 (1 day)
P     02-20 (not loaded)                                   cash 15.00 on 03-03, "Late delivery"
====  ================  ======  ========  =======  ======  ==========================================
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from refundkit.analytics.frames import native_refunds_frame, orders_frame, refunds_frame
from refundkit.analytics.trends import (
    NATIVE_SOURCE,
    NOT_LOADED,
    NOT_SYNCED,
    REFUND_EVENTS_SCHEMA,
    items_frame,
    items_of,
    left_out_refunds,
    native_vs_offline,
    refund_breakdown,
    refund_events,
    refund_rate,
    time_to_refund,
    time_to_refund_distribution,
    time_to_refund_summary,
    top_refunded_products,
)
from refundkit.errors import InputError
from refundkit.ledger import LedgerEntry
from refundkit.money import Money
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.models import Order, OrderItem, OrderSummary, ReturnInvoice

START, END = parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")


def at(text: str) -> Instant:
    return parse_instant(text)


def summary(
    order_id: str, created: str, total: int, channel: str, paid: str, *, status: str = "invoiced", currency: str = "BRL"
) -> OrderSummary:
    return OrderSummary(order_id, at(created), status, currency, Money(total, currency), channel, paid)


def full(s: OrderSummary, invoices: tuple[tuple[str, int, str | None], ...] = (), skus: tuple[str, ...] = ()) -> Order:
    names = {"sku1": "Mug", "sku2": "Tee", "sku3": "Cap"}
    return Order(
        order_id=s.order_id,
        sequence="1",
        status=s.status,
        currency=s.currency,
        created_at=s.created_at,
        total=s.total,
        totals={},
        items=tuple(OrderItem(k, names[k], 1, Money(1000, s.currency)) for k in skus),
        payments=(),
        return_invoices=tuple(
            ReturnInvoice(n, Money(v, s.currency), None if d is None else at(d)) for n, v, d in invoices
        ),
        sales_channel=s.sales_channel,
    )


def entry(
    entry_id: str,
    order_id: str,
    amount: int,
    when: str,
    source: str,
    *,
    reason: str = "",
    currency: str = "BRL",
    reverses: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        entry_id=entry_id,
        order_id=order_id,
        kind="reversal" if reverses else "refund",
        amount=Money(amount, currency),
        refunded_at=at(when),
        source=source,
        external_ref=f"REF-{entry_id}",
        reason=reason,
        note="",
        recorded_by="tester",
        recorded_at=at(when),
        reverses=reverses,
    )


A = summary("A", "2026-03-02T10:00:00Z", 10000, "1", "Pix")
B = summary("B", "2026-03-05T12:00:00Z", 20000, "1", "Visa")
C = summary("C", "2026-03-20T09:00:00Z", 5000, "3", "Pix")
D = summary("D", "2026-03-21T09:00:00Z", 8000, "1", "Visa", status="canceled")
F = summary("F", "2026-03-25T15:00:00Z", 15000, "1", "Pix")
E = summary("E", "2026-04-03T00:00:00Z", 40000, "1", "Boleto")
U = summary("U", "2026-03-10T15:00:00Z", 3000, "2", "Visa", currency="USD")
ORDERS = orders_frame([A, B, C, D, F, E, U])
FULL = [
    full(A, (("R1", 2500, "2026-03-04T10:00:00Z"),), ("sku1", "sku2")),
    full(B, skus=("sku1",)),
    full(C, skus=("sku3",)),
    full(D, (("R2", 8000, "2026-03-25T00:00:00Z"),)),
    full(F, skus=("sku1", "sku2")),
    full(E, (("R3", 1000, None),)),
]
NATIVE = native_refunds_frame(FULL)
_B2 = entry("rf-b2", "B", 1000, "2026-03-06T00:00:00Z", "apace", reason="damaged  item ")
OFFLINE = refunds_frame(
    [
        entry("rf-p", "P", 1500, "2026-03-03T00:00:00Z", "cash", reason="Late delivery"),
        _B2,
        entry("rf-u", "U", 600, "2026-03-11T15:00:00Z", "bank-transfer", reason="wrong size", currency="USD"),
        entry("rf-b", "B", 3000, "2026-03-15T12:00:00Z", "cash", reason="Damaged item"),
        entry("rv-b2", "B", 1000, "2026-04-10T00:00:00Z", "apace", reason="typo", reverses="rf-b2"),
        entry("rf-c", "C", 5000, "2026-04-19T09:00:00Z", "apace", reason=""),
    ]
)
FRAMES = (ORDERS, NATIVE, OFFLINE)
RANGE = {"start": START, "end": END}


def rows(df: pl.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in df.iter_rows(named=True)]


# -- the refunds frame ---------------------------------------------------------------------------------------------
def test_refund_events_net_out_reversed_refunds_and_know_each_refunds_order() -> None:
    events = refund_events(*FRAMES)
    assert events.schema == pl.Schema(REFUND_EVENTS_SCHEMA)
    assert rows(events, "refund_id", "kind", "amount_minor", "order_status", "sales_channel", "payment_method") == [
        ("rf-p", "offline", 1500, None, None, None),
        ("R1", "native", 2500, "invoiced", "1", "Pix"),
        ("rf-u", "offline", 600, "invoiced", "2", "Visa"),
        ("rf-b", "offline", 3000, "invoiced", "1", "Visa"),
        ("R2", "native", 8000, "canceled", "1", "Visa"),
        ("R3", "native", 1000, "invoiced", "1", "Boleto"),  # dated on its order's day: no issuance date
        ("rf-c", "offline", 5000, "invoiced", "3", "Pix"),
    ]
    assert "rf-b2" not in events.get_column("refund_id").to_list()


def test_a_reversal_whose_refund_is_not_in_the_frame_counts_as_a_negative_refund() -> None:
    offline = refunds_frame([entry("rv-x", "A", 700, "2026-03-20T00:00:00Z", "cash", reason="typo", reverses="rf-old")])
    events = refund_events(ORDERS, native_refunds_frame([]), offline)
    assert rows(events, "refund_id", "amount_minor") == [("rv-x", -700)]
    assert rows(refund_breakdown(ORDERS, native_refunds_frame([]), offline, "source"), "source", "refunds") == [
        ("cash", -1)
    ]


def test_refunds_of_orders_gross_leaves_out_are_listed_as_left_out() -> None:
    assert rows(left_out_refunds(*FRAMES), "refund_id", "order_id", "amount_minor") == [("R2", "D", 8000)]
    assert left_out_refunds(*FRAMES, include_canceled=True).height == 0


# -- refund rate ---------------------------------------------------------------------------------------------------
def test_refund_rate_per_month_is_refunded_value_over_gross_and_refunded_orders_over_orders() -> None:
    rate = refund_rate(*FRAMES, period="month", **RANGE)
    assert rows(
        rate,
        "period",
        "currency",
        "orders",
        "refunded_orders",
        "gross_minor",
        "native_refunds_minor",
        "offline_refunds_minor",
        "refunded_minor",
    ) == [
        # A, B, C, F (D is canceled): A 25.00 VTEX, B 30.00 (the 10.00 was reversed), C 50.00
        (date(2026, 3, 1), "BRL", 4, 3, 50000, 2500, 8000, 10500),
        (date(2026, 4, 1), "BRL", 1, 1, 40000, 1000, 0, 1000),
        (date(2026, 3, 1), "USD", 1, 1, 3000, 0, 600, 600),
        (date(2026, 4, 1), "USD", 0, 0, 0, 0, 0, 0),
    ]
    assert rows(rate, "value_rate", "order_rate") == [
        (pytest.approx(10500 / 50000), 0.75),
        (pytest.approx(1000 / 40000), 1.0),
        (pytest.approx(0.2), 1.0),
        (None, None),  # no orders: no rate, rather than a made-up 0 %
    ]


def test_refund_rate_can_count_canceled_orders_when_asked() -> None:
    rate = refund_rate(*FRAMES, period="month", include_canceled=True, **RANGE).filter(pl.col("currency") == "BRL")
    assert rows(rate, "orders", "refunded_orders", "gross_minor", "refunded_minor")[0] == (5, 4, 58000, 18500)


# -- breakdowns ----------------------------------------------------------------------------------------------------
def test_breakdown_by_source_puts_vtex_return_invoices_beside_offline_sources() -> None:
    df = refund_breakdown(*FRAMES, "source", **RANGE)
    assert rows(
        df, "currency", "source", "refunds", "native_refunds_minor", "offline_refunds_minor", "refunded_minor"
    ) == [
        ("BRL", "apace", 1, 0, 5000, 5000),
        ("BRL", "cash", 2, 0, 4500, 4500),
        ("BRL", NATIVE_SOURCE, 2, 3500, 0, 3500),
        ("USD", "bank-transfer", 1, 0, 600, 600),
    ]
    assert df.get_column("share").to_list() == pytest.approx([5000 / 13000, 4500 / 13000, 3500 / 13000, 1.0])


def test_breakdown_by_reason_groups_spelling_variants_and_names_missing_reasons() -> None:
    df = refund_breakdown(*FRAMES, "reason", **RANGE).filter(pl.col("currency") == "BRL")
    assert rows(df, "reason", "refunds", "refunded_minor") == [
        ("(no reason given)", 1, 5000),
        ("(VTEX return invoice: no reason recorded)", 2, 3500),
        ("damaged item", 1, 3000),
        ("late delivery", 1, 1500),
    ]


def test_breakdown_by_channel_and_payment_method_says_when_the_order_is_unknown() -> None:
    channel = refund_breakdown(*FRAMES, "sales_channel", **RANGE).filter(pl.col("currency") == "BRL")
    assert rows(channel, "sales_channel", "refunds", "refunded_minor") == [
        ("1", 3, 6500),
        ("3", 1, 5000),
        (NOT_LOADED, 1, 1500),
    ]
    payment = refund_breakdown(*FRAMES, "payment_method", **RANGE).filter(pl.col("currency") == "BRL")
    assert rows(payment, "payment_method", "refunds", "refunded_minor") == [
        ("Pix", 2, 7500),
        ("Visa", 1, 3000),
        (NOT_LOADED, 1, 1500),
        ("Boleto", 1, 1000),
    ]


def test_breakdown_by_payment_method_without_payment_data_says_so_instead_of_guessing() -> None:
    orders = ORDERS.drop("payment_names")
    payment = refund_breakdown(orders, NATIVE, OFFLINE, "payment_method", **RANGE).filter(pl.col("currency") == "BRL")
    assert rows(payment, "payment_method", "refunded_minor") == [(NOT_SYNCED, 11500), (NOT_LOADED, 1500)]
    with pytest.raises(InputError, match="breakdown 'country' is not one of source, reason"):
        refund_breakdown(*FRAMES, "country")  # type: ignore[arg-type]  # a wrong value on purpose


def test_breakdowns_only_count_refunds_dated_in_the_range() -> None:
    april = refund_breakdown(*FRAMES, "source", start=parse_instant("2026-04-01T00:00:00Z"), end=END)
    assert rows(april, "currency", "source", "refunded_minor") == [("BRL", "apace", 5000), ("BRL", NATIVE_SOURCE, 1000)]


# -- time to refund ------------------------------------------------------------------------------------------------
def test_time_to_refund_measures_from_order_to_refund_in_days() -> None:
    measured = time_to_refund(*FRAMES, **RANGE)
    assert rows(measured, "refund_id", "days") == [("R1", 2.0), ("rf-u", 1.0), ("rf-b", 10.0), ("rf-c", 30.0)]


def test_time_to_refund_summary_gives_median_and_p90_and_counts_what_it_could_not_measure() -> None:
    df = time_to_refund_summary(*FRAMES, **RANGE)
    assert rows(df, "currency", "kind", "refunds", "median_days", "p90_days", "undated") == [
        # BRL all: 2, 10, 30 days → median 10; p90 at rank 1.8 → 10 + 0.8 x 20 = 26
        ("BRL", "all", 3, 10.0, pytest.approx(26.0), 2),
        ("BRL", "native", 1, 2.0, 2.0, 1),  # R3 has no issuance date
        ("BRL", "offline", 2, 20.0, pytest.approx(28.0), 1),  # rf-p's order is not loaded
        ("USD", "all", 1, 1.0, 1.0, 0),
        ("USD", "offline", 1, 1.0, 1.0, 0),
    ]


def test_time_to_refund_distribution_has_every_bucket_in_order() -> None:
    df = time_to_refund_distribution(time_to_refund(*FRAMES, **RANGE))
    brl = df.filter(pl.col("currency") == "BRL")
    assert brl.height == 9
    assert [r for r in rows(brl, "bucket", "refunds", "refunded_minor") if r[1]] == [
        ("1–2 days", 1, 2500),
        ("7–13 days", 1, 3000),
        ("30–59 days", 1, 5000),
    ]
    assert brl.get_column("bucket").to_list()[:2] == ["before the order (check the dates)", "same day (< 1 day)"]
    assert rows(df.filter((pl.col("currency") == "USD") & (pl.col("refunds") > 0)), "bucket", "share") == [
        ("1–2 days", 1.0)
    ]


# -- native versus offline -----------------------------------------------------------------------------------------
def test_native_versus_offline_share_per_month_by_refund_date() -> None:
    df = native_vs_offline(*FRAMES, period="month", **RANGE)
    assert rows(
        df,
        "period",
        "currency",
        "native_refunds",
        "offline_refunds",
        "native_refunds_minor",
        "offline_refunds_minor",
        "refunded_minor",
    ) == [
        (date(2026, 3, 1), "BRL", 1, 2, 2500, 4500, 7000),
        (date(2026, 4, 1), "BRL", 1, 1, 1000, 5000, 6000),
        (date(2026, 3, 1), "USD", 0, 1, 0, 600, 600),
        (date(2026, 4, 1), "USD", 0, 0, 0, 0, 0),
    ]
    assert df.get_column("offline_share").to_list() == [
        pytest.approx(4500 / 7000),
        pytest.approx(5000 / 6000),
        1.0,
        None,
    ]


# -- products ------------------------------------------------------------------------------------------------------
def test_top_refunded_products_count_orders_with_the_product_that_were_refunded() -> None:
    items = items_frame(FULL)
    df = top_refunded_products(items, *FRAMES, **RANGE)
    assert rows(df, "currency", "sku", "name", "orders", "refunded_orders", "refunded_minor") == [
        ("BRL", "sku1", "Mug", 3, 2, 5500),  # A (25.00) and B (30.00) of A, B, F
        ("BRL", "sku3", "Cap", 1, 1, 5000),
        ("BRL", "sku2", "Tee", 2, 1, 2500),
    ]
    assert df.get_column("order_rate").to_list() == pytest.approx([2 / 3, 1.0, 0.5])
    assert top_refunded_products(items, *FRAMES, limit=1, **RANGE).get_column("sku").to_list() == ["sku1"]


def test_top_refunded_products_without_synced_details_says_what_to_run() -> None:
    with pytest.raises(InputError, match="sync with --details"):
        top_refunded_products(items_frame([]), *FRAMES, **RANGE)


def test_items_of_reads_the_item_lines_an_orders_frame_carries() -> None:
    item = pl.Struct({"sku": pl.String(), "name": pl.String(), "quantity": pl.Int64(), "unit_price_minor": pl.Int64()})
    stored = pl.DataFrame(
        {
            "order_id": ["A", "B", "E"],
            "currency": ["BRL", "BRL", "BRL"],
            "items": [
                [{"sku": "sku1", "name": "Mug", "quantity": 2, "unit_price_minor": 1000}],
                [{"sku": "sku3", "name": "Cap", "quantity": 1, "unit_price_minor": 500}],
                None,  # synced without details
            ],
        },
        schema={"order_id": pl.String(), "currency": pl.String(), "items": pl.List(item)},
    )
    assert rows(items_of(stored), "order_id", "sku", "quantity", "unit_price_minor") == [
        ("A", "sku1", 2, 1000),
        ("B", "sku3", 1, 500),
    ]
    assert items_of(ORDERS).height == 0


def test_payment_method_from_details_wins_over_the_order_lists_names() -> None:
    orders = ORDERS.with_columns(
        pl.when(pl.col("order_id") == "A").then(pl.lit("Pix (details)")).otherwise(None).alias("payment_method")
    )
    events = refund_events(orders, NATIVE, OFFLINE)
    assert dict(rows(events, "refund_id", "payment_method"))["R1"] == "Pix (details)"
    assert dict(rows(events, "refund_id", "payment_method"))["rf-b"] == "Visa"
