"""The demo's example refunds: recorded once, on the same orders on every run, never dated after the range."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import refundkit
from refundkit.analytics import default_range
from refundkit.ledger.examples import (
    ITEM_EXAMPLES,
    SAMPLE_AGE,
    TREND_EXAMPLES,
    record_examples,
    sample_moved_to_today,
)
from refundkit.timeutil import Instant

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_refunds.csv"


def test_examples_are_spread_over_the_range_and_a_rerun_records_nothing_new(small_session: refundkit.Session) -> None:
    rk = small_session
    start, end = default_range(rk)
    first = record_examples(rk.ledger, start, end, TREND_EXAMPLES)
    assert [r.outcome for r in first] == ["recorded"] * len(TREND_EXAMPLES)
    assert len({r.entry.order_id for r in first}) == len(first), "each example on an order of its own"
    assert all(start <= r.entry.refunded_at < end - timedelta(days=1) for r in first)
    months = {r.entry.refunded_at.isoformat(0)[:7] for r in first}
    assert len(months) >= 3, "spread over the range"
    again = record_examples(rk.ledger, start, end, TREND_EXAMPLES)
    assert [r.outcome for r in again] == ["already recorded"] * len(first)
    assert [r.entry.entry_id for r in again] == [r.entry.entry_id for r in first]


def test_a_range_that_starts_before_the_store_skips_what_has_no_orders(small_session: refundkit.Session) -> None:
    rk = small_session
    start, end = default_range(rk)
    earlier = Instant(start.ns) - timedelta(days=100)
    results = record_examples(rk.ledger, earlier, end, TREND_EXAMPLES)
    assert 0 < len(results) < len(TREND_EXAMPLES)
    assert all(r.entry.refunded_at >= start for r in results)


def test_the_sample_export_is_moved_to_the_last_weeks(tmp_path: Path) -> None:
    moved = sample_moved_to_today(SAMPLE, tmp_path, today=date(2027, 5, 10))
    assert moved.name == SAMPLE.name and moved.parent == tmp_path
    old, new = (list(csv.DictReader(p.read_text(encoding="utf-8").splitlines())) for p in (SAMPLE, moved))
    assert [{**r, "refunded_at": ""} for r in new] == [{**r, "refunded_at": ""} for r in old]
    days = [r["refunded_at"][:10] for r in new]
    assert max(days) == (date(2027, 5, 10) - SAMPLE_AGE).isoformat()
    shift = date.fromisoformat(new[0]["refunded_at"][:10]) - date.fromisoformat(old[0]["refunded_at"][:10])
    for o, n in zip(old, new, strict=True):  # the same shift for every row, the form of each date kept
        assert len(n["refunded_at"]) == len(o["refunded_at"])
        assert date.fromisoformat(n["refunded_at"][:10]) - date.fromisoformat(o["refunded_at"][:10]) == shift
        assert n["refunded_at"][10:] == o["refunded_at"][10:]


def test_the_item_examples_refund_units_one_in_part_and_a_rerun_records_nothing_new(
    small_session: refundkit.Session,
) -> None:
    rk = small_session
    start, end = default_range(rk)
    first = record_examples(rk.ledger, start, end, ITEM_EXAMPLES)
    assert [r.outcome for r in first] == ["recorded"] * len(ITEM_EXAMPLES)
    whole, part, shipped = first
    assert [(x.kind, x.quantity) for x in whole.entry.lines] == [("item", 1)]
    assert whole.entry.amount == whole.entry.lines[0].amount
    # a unit refunded in part: the unit counts as refunded, the amount is what went back
    assert part.entry.amount.decimal_str() == "5.00" and part.entry.lines[0].quantity == 1
    assert [x.kind for x in shipped.entry.lines] == ["item", "shipping"]
    again = record_examples(rk.ledger, start, end, ITEM_EXAMPLES)
    assert [r.outcome for r in again] == ["already recorded"] * len(first)
