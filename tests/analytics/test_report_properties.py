"""Properties of the report on random stores (hypothesis): net = gross − native − offline on every row; days sum to
their weeks and months; over the whole history both attributions give the same totals."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundkit.analytics.engine import revenue_figures
from refundkit.analytics.frames import NATIVE_REFUNDS_SCHEMA, REFUNDS_SCHEMA, UTC_NS
from refundkit.timeutil import local_day_bounds

FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)
START_NS, END_NS = (i.ns for i in local_day_bounds(FIRST, LAST, "UTC"))
DAY_NS = 86_400 * 10**9
STATUSES = ["invoiced", "handling", "canceled", "payment-pending", "cancel"]
ZONES = ["UTC", "America/Sao_Paulo", "Asia/Tokyo", "Pacific/Chatham"]


@st.composite
def stores(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    n = draw(st.integers(1, 40))
    # orders well inside the range, so that every refund (after its order, within 20 days) is inside it too
    created = draw(st.lists(st.integers(START_NS + 2 * DAY_NS, END_NS - 25 * DAY_NS), min_size=n, max_size=n))
    status = draw(st.lists(st.sampled_from(STATUSES), min_size=n, max_size=n))
    currency = draw(st.lists(st.sampled_from(["BRL", "JPY", "KWD"]), min_size=n, max_size=n))
    total = draw(st.lists(st.integers(0, 10**7), min_size=n, max_size=n))
    orders = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "created_at": pl.Series(created, dtype=pl.Int64).cast(UTC_NS),
            "status": status,
            "currency": currency,
            "total_minor": total,
        }
    )
    native_rows: list[tuple[object, ...]] = []
    offline_rows: list[tuple[object, ...]] = []
    for i in draw(st.lists(st.integers(0, n - 1), max_size=20)):
        issued = created[i] + draw(st.integers(0, 20 * DAY_NS))
        native_rows.append(
            (f"o{i}", f"R{len(native_rows)}", draw(st.integers(1, 10**6)), currency[i], issued, created[i])
        )
    for i in draw(st.lists(st.integers(0, n - 1), max_size=20)):
        at = created[i] + draw(st.integers(0, 20 * DAY_NS))
        eid = f"rf{len(offline_rows)}"
        amount = draw(st.integers(1, 10**6))
        offline_rows.append((eid, f"o{i}", "refund", amount, amount, currency[i], at, None, None))
        if draw(st.booleans()):  # reversed, later
            later = at + draw(st.integers(0, 3 * DAY_NS))
            offline_rows.append((f"rv{eid}", f"o{i}", "reversal", amount, -amount, currency[i], later, eid, at))
    native = pl.DataFrame(
        native_rows,
        schema=["order_id", "invoice_number", "amount_minor", "currency", "issued_at", "order_created_at"],
        orient="row",
    ).with_columns(pl.col("issued_at", "order_created_at").cast(pl.Int64).cast(UTC_NS))
    # a return invoice says it was for items only, or does not say (refundkit.analytics.split)
    items_only = [draw(st.booleans()) for _ in range(native.height)]
    native = native.with_columns(
        pl.when(pl.Series(items_only, dtype=pl.Boolean)).then(pl.col("amount_minor")).alias("part_items_minor")
    )
    native = native.select([pl.col(c).cast(t) for c, t in NATIVE_REFUNDS_SCHEMA.items()])
    offline = pl.DataFrame(
        offline_rows,
        schema=[
            "entry_id",
            "order_id",
            "kind",
            "amount_minor",
            "signed_minor",
            "currency",
            "refunded_at",
            "reverses",
            "reversed_refunded_at",
        ],
        orient="row",
    ).with_columns(pl.col("refunded_at", "reversed_refunded_at").cast(pl.Int64).cast(UTC_NS))
    offline = offline.with_columns(
        pl.lit("cash").alias("source"),
        pl.col("entry_id").alias("external_ref"),
        pl.lit("").alias("reason"),
        pl.lit("t").alias("recorded_by"),
        pl.col("refunded_at").alias("recorded_at"),
        pl.lit(False).alias("over_refund"),
        pl.lit("posted").alias("note_status"),
        pl.lit([], dtype=REFUNDS_SCHEMA["lines"]).alias("lines"),  # amounts only
    ).select([pl.col(c).cast(t) for c, t in REFUNDS_SCHEMA.items()])
    return orders, native, offline


def report(
    frames: tuple[pl.DataFrame, ...], by: str, tz: str = "UTC", attribution: str = "refund-date"
) -> pl.DataFrame:
    orders, native, offline = frames
    start, end = local_day_bounds(FIRST, LAST, tz)  # the report's range: its local days, both included
    view = attribution.replace("-", "_")
    return revenue_figures(orders, native, offline, start=start, end=end, period=by, tz=tz, attribution=view).rows


AMOUNTS = ["orders", "gross_minor", "native_refunds_minor", "offline_refunds_minor", "net_minor"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(stores(), st.sampled_from(["day", "week", "month"]), st.sampled_from(ZONES), st.booleans())
def test_net_is_gross_minus_refunds_on_every_row(frames, by, tz, by_order) -> None:
    rows = report(frames, by, tz, "order-date" if by_order else "refund-date")
    assert rows.filter(
        pl.col("net_minor") != pl.col("gross_minor") - pl.col("native_refunds_minor") - pl.col("offline_refunds_minor")
    ).is_empty()
    assert rows.select(pl.struct("period", "currency").is_unique().all()).item()


@FAST
@given(stores(), st.sampled_from(ZONES), st.booleans())
def test_days_sum_to_their_weeks_and_months(frames, tz, by_order) -> None:
    view = "order-date" if by_order else "refund-date"
    days = report(frames, "day", tz, view)
    for by, truncate in (("week", "1w"), ("month", "1mo")):
        summed = (
            days.group_by(pl.col("period").dt.truncate(truncate), "currency")
            .agg(pl.col(AMOUNTS).sum())
            .filter(pl.any_horizontal(pl.col(AMOUNTS) != 0))
            .sort("period", "currency")
        )
        coarse = (
            report(frames, by, tz, view)
            .filter(pl.any_horizontal(pl.col(AMOUNTS) != 0))
            .select("period", "currency", *AMOUNTS)
            .sort("period", "currency")
        )
        assert summed.equals(coarse.cast(dict(summed.schema)))


@FAST
@given(stores(), st.sampled_from(ZONES))
def test_over_the_whole_history_both_views_agree(frames, tz) -> None:
    totals = {
        view: report(frames, "month", tz, view).group_by("currency").agg(pl.col(AMOUNTS).sum()).sort("currency")
        for view in ("refund-date", "order-date")
    }
    assert totals["refund-date"].equals(totals["order-date"])


def test_the_properties_can_fail() -> None:
    """A refund outside the range breaks the agreement: the check above is not vacuous."""
    orders = pl.DataFrame(
        {
            "order_id": ["o1"],
            "created_at": pl.Series([END_NS - DAY_NS]).cast(UTC_NS),
            "status": ["invoiced"],
            "currency": ["BRL"],
            "total_minor": [1000],
        }
    )
    native = pl.DataFrame(
        {
            "order_id": ["o1"],
            "invoice_number": ["R"],
            "amount_minor": [100],
            "currency": ["BRL"],
            "issued_at": pl.Series([END_NS + 5 * DAY_NS]).cast(UTC_NS),
            "order_created_at": pl.Series([END_NS - DAY_NS]).cast(UTC_NS),
        }
    )
    offline = pl.DataFrame(schema=REFUNDS_SCHEMA)
    a = report((orders, native, offline), "month", "UTC", "refund-date")
    b = report((orders, native, offline), "month", "UTC", "order-date")
    assert a["native_refunds_minor"].sum() == 0 and b["native_refunds_minor"].sum() == 100
