"""The difference between the cash and the cohort view of one range, measured and explained in figures."""

from __future__ import annotations

import polars as pl

from refundkit.analytics.views import explain_views_difference, views_difference


def refunds(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"kind": "refund", "order_id": o, "refund_id": r, "currency": c, "amount_minor": a} for o, r, c, a in rows],
        schema={
            "kind": pl.String(),
            "order_id": pl.String(),
            "refund_id": pl.String(),
            "currency": pl.String(),
            "amount_minor": pl.Int64(),
        },
    )


def test_the_two_views_differ_by_refunds_of_earlier_orders_and_refunds_after_the_range() -> None:
    # in both: r1 (order A in range, refunded in range); cash only: r2 on order P placed before the range;
    # cohort only: r3 on order B placed in the range, refunded after it; USD is the same in both
    cash = refunds(("A", "r1", "BRL", 1000), ("P", "r2", "BRL", 250), ("U", "u1", "USD", 70))
    cohort = refunds(("A", "r1", "BRL", 1000), ("B", "r3", "BRL", 4000), ("U", "u1", "USD", 70))
    diff = views_difference(cash, cohort)
    assert diff.row(0, named=True) == {
        "currency": "BRL",
        "cash_view_minor": 1250,
        "cohort_view_minor": 5000,
        "difference_minor": -3750,
        "only_cash_refunds": 1,
        "only_cash_minor": 250,
        "only_cohort_refunds": 1,
        "only_cohort_minor": 4000,
    }
    brl, usd = explain_views_difference(diff)
    assert "refunds come to BRL 12.50 by refund date (cash view) and BRL 50.00 by order date" in brl
    assert "BRL 2.50 (1 refund) went back during the range on orders placed before it" in brl
    assert "BRL 40.00 (1 refund) belong to orders placed in the range but are dated outside it" in brl
    assert "BRL 12.50 − BRL 2.50 + BRL 40.00 = BRL 50.00." in brl
    assert usd == "USD: both views count the same refunds over this range, USD 0.70 in all."
