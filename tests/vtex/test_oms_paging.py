"""Orders.list past the 30-page cap, against a faithful fake of the OMS list endpoint (``fakes.FakeOms``).

The fake applies VTEX's rules: millisecond UTC bounds inclusive at both ends, 100 per page, 30 pages, a stable
order, and creation dates with 7 fractional digits. Every test compares the answer with the fake's own data.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundkit.errors import BadResponse
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex import oms
from refundkit.vtex.oms import ListProgress, Orders, _split

from .fakes import FakeOms, FakeOrder, make_transport

MS = 1_000_000
S = 1_000_000_000
DAY = 86_400 * S
T0 = parse_instant("2026-06-01T00:00:00Z")
ids = iter(range(10**12, 10**13))


def order_at(ns: int, status: str = "invoiced") -> FakeOrder:
    return FakeOrder(f"{next(ids)}-01", Instant(ns), status=status)


def spread(
    n: int, start_ns: int, width_ns: int, seed: int = 1, statuses: tuple[str, ...] = ("invoiced",)
) -> list[FakeOrder]:
    """``n`` orders at random 100 ns ticks in ``[start, start + width)``."""
    rng = random.Random(seed)
    return [order_at(start_ns + rng.randrange(width_ns // 100) * 100, rng.choice(statuses)) for _ in range(n)]


def run_list(fake: FakeOms, start: Instant, end: Instant, **kw: object) -> list:
    with make_transport(fake) as t:
        return Orders(t).list(start, end, **kw)  # type: ignore[arg-type]  # keyword pass-through


def expected_ids(fake: FakeOms, start: Instant, end: Instant, statuses: set[str] | None = None) -> list[str]:
    return [
        o.order_id
        for o in fake.orders
        if start.ns <= o.created.ns < end.ns and (statuses is None or o.status in statuses)
    ]


def assert_exactly_once(result: list, fake: FakeOms, start: Instant, end: Instant, **kw: object) -> None:
    got = [o.order_id for o in result]
    dupes = [k for k, v in Counter(got).items() if v > 1]
    assert not dupes, f"returned twice: {dupes[:5]}"
    want = expected_ids(fake, start, end, **kw)  # type: ignore[arg-type]  # keyword pass-through
    missing, extra = set(want) - set(got), set(got) - set(want)
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} extra"
    assert got == want, "sorted by creation time, then id"
    assert fake.violations == []
    assert max(fake.pages_requested, default=1) <= 30
    assert {q["per_page"] for q in fake.queries} <= {"100"}


# -- past the cap -------------------------------------------------------------------------------------------------
def test_a_flash_sale_day_over_3000_orders_is_listed_exactly_once() -> None:
    flash = spread(7_500, T0.ns + 2 * DAY, DAY, seed=2)
    rest = spread(2_000, T0.ns, 7 * DAY, seed=3)
    fake = FakeOms(flash + rest)
    start, end = T0, T0 + timedelta(days=7)
    result = run_list(fake, start, end)
    assert len(result) == 9_500
    assert_exactly_once(result, fake, start, end)
    # every call past the first probe of each window did useful work: far fewer than twice the minimum
    assert len(fake.queries) <= 2 * (9_500 // 100 + 1)


def test_very_dense_hour_recursion() -> None:
    burst = spread(12_000, T0.ns + 10 * DAY + 3600 * S * 13, 3600 * S, seed=4)
    fake = FakeOms(burst + spread(500, T0.ns, 30 * DAY, seed=5))
    start, end = T0, T0 + timedelta(days=30)
    result = run_list(fake, start, end)
    assert_exactly_once(result, fake, start, end)
    assert len(result) == 12_500


def test_exactly_3000_is_paged_without_splitting_and_3001_splits() -> None:
    orders = spread(3_000, T0.ns, DAY, seed=6)
    fake = FakeOms(orders)
    result = run_list(fake, T0, T0 + timedelta(days=1))
    assert len(result) == 3_000
    assert sorted(fake.pages_requested) == list(range(1, 31))
    fake = FakeOms([*orders, order_at(T0.ns + DAY // 2 + 12345600)])
    result = run_list(fake, T0, T0 + timedelta(days=1))
    assert_exactly_once(result, fake, T0, T0 + timedelta(days=1))
    assert len({q["f_creationDate"] for q in fake.queries}) > 1


def test_progress_reports_orders_calls_and_the_first_total() -> None:
    fake = FakeOms(spread(4_000, T0.ns, DAY, seed=7))
    seen: list[ListProgress] = []
    result = run_list(fake, T0, T0 + timedelta(days=1), progress=seen.append)
    assert seen and seen[-1].orders == len(result) == 4_000
    assert all(p.expected == 4_000 for p in seen)
    assert max(p.calls for p in seen) <= len(fake.queries)


# -- boundaries ---------------------------------------------------------------------------------------------------
def test_orders_sharing_a_timestamp_exactly_on_a_split_boundary_come_back_once() -> None:
    start, end = T0, T0 + timedelta(days=1)
    base = spread(5_000, start.ns, DAY, seed=8)
    extra = 40 + 30 + 20 + 10
    boundary = _split(start, end, len(base) + extra)[0][1]
    assert start.ns < boundary.ns < end.ns and boundary.ns % MS == 0
    on = [order_at(boundary.ns) for _ in range(40)]
    half_ms_before = [order_at(boundary.ns - 500_000) for _ in range(30)]  # ...59.9995000: 7 digits
    tick_before = [order_at(boundary.ns - 100) for _ in range(20)]
    tick_after = [order_at(boundary.ns + 100) for _ in range(10)]
    fake = FakeOms(base + on + half_ms_before + tick_before + tick_after)
    result = run_list(fake, start, end)
    assert_exactly_once(result, fake, start, end)
    # the split really happened at that boundary: one window ended there, one started there
    stamp = boundary.filter_format()
    assert any(q["f_creationDate"].endswith(f"TO {stamp}]") for q in fake.queries)
    assert any(q["f_creationDate"].startswith(f"creationDate:[{stamp} TO") for q in fake.queries)
    got = {o.order_id for o in result}
    for group in (on, half_ms_before, tick_before, tick_after):
        assert {o.order_id for o in group} <= got


def test_fractional_milliseconds_at_the_range_ends() -> None:
    start, end = T0, T0 + timedelta(hours=1)
    inside_first = order_at(start.ns)
    inside_last = order_at(end.ns - 500_000)  # 0.5 ms before the end
    last_tick = order_at(end.ns - 100)
    at_end = order_at(end.ns)  # belongs to the next range
    before = order_at(start.ns - 100)
    fake = FakeOms([inside_first, inside_last, last_tick, at_end, before])
    got = [o.order_id for o in run_list(fake, start, end)]
    assert got == [inside_first.order_id, inside_last.order_id, last_tick.order_id]


def test_creation_dates_keep_seven_digits() -> None:
    o = order_at(T0.ns + 1_234_567_800)
    fake = FakeOms([o])
    (row,) = run_list(fake, T0, T0 + timedelta(seconds=5))
    assert row.created_at.ns == o.created.ns
    assert row.created_at.isoformat(7).endswith("01.2345678-03:00")


def test_adjacent_ranges_partition_the_orders() -> None:
    orders = spread(3_500, T0.ns, 2 * DAY, seed=9)
    orders += [order_at(T0.ns + DAY) for _ in range(15)]  # exactly at the shared edge
    fake = FakeOms(orders)
    first = run_list(fake, T0, T0 + timedelta(days=1))
    second = run_list(fake, T0 + timedelta(days=1), T0 + timedelta(days=2))
    a, b = {o.order_id for o in first}, {o.order_id for o in second}
    assert not a & b
    assert a | b == {o.order_id for o in orders}


def test_more_than_3000_orders_in_one_second_is_a_clear_bad_response() -> None:
    t = T0.ns + 5 * 3600 * S + 250 * MS
    fake = FakeOms([order_at(t + 300 * MS * (k % 3)) for k in range(3_001)] + spread(100, T0.ns, DAY, seed=10))
    with pytest.raises(BadResponse) as err:
        run_list(fake, T0, T0 + timedelta(days=1))
    msg = str(err.value)
    assert "one second" in msg and "3000" in msg and "status filter" in msg
    assert fake.violations == []


# -- empty and degenerate ranges -----------------------------------------------------------------------------------
def test_an_empty_range_sends_nothing() -> None:
    fake = FakeOms(spread(10, T0.ns, DAY))
    assert run_list(fake, T0, T0) == []
    assert run_list(fake, T0 + timedelta(days=1), T0) == []
    assert fake.queries == []


def test_a_range_without_orders_costs_one_call() -> None:
    fake = FakeOms(spread(10, T0.ns, DAY))
    assert run_list(fake, T0 + timedelta(days=3), T0 + timedelta(days=4)) == []
    assert len(fake.queries) == 1


def test_bounds_that_are_not_whole_milliseconds_still_mean_start_le_created_lt_end() -> None:
    start = Instant(T0.ns + 10 * MS + 500_000)  # 10.5 ms
    end = Instant(T0.ns + 20 * MS + 500_000)  # 20.5 ms
    early = order_at(T0.ns + 10 * MS + 200_000)  # 10.2 ms: before start
    first = order_at(start.ns)
    last = order_at(T0.ns + 20 * MS + 400_000)  # 20.4 ms
    late = order_at(T0.ns + 20 * MS + 700_000)  # 20.7 ms: after end
    fake = FakeOms([early, first, last, late])
    got = [o.order_id for o in run_list(fake, start, end)]
    assert got == [first.order_id, last.order_id]


def test_start_and_end_in_other_offsets_are_the_same_instants() -> None:
    orders = spread(50, T0.ns, DAY, seed=11)
    fake = FakeOms(orders)
    local_start = parse_instant("2026-05-31T21:00:00-03:00")
    local_end = parse_instant("2026-06-01T21:00:00-03:00")
    assert [o.order_id for o in run_list(fake, local_start, local_end)] == expected_ids(
        fake, T0, T0 + timedelta(days=1)
    )


# -- filters ------------------------------------------------------------------------------------------------------
def test_status_filter_is_sent_and_paging_follows_the_filtered_total() -> None:
    statuses = ("invoiced", "canceled", "handling")
    fake = FakeOms(spread(6_000, T0.ns, DAY, seed=12, statuses=statuses))
    result = run_list(fake, T0, T0 + timedelta(days=1), statuses=["canceled", "handling"])
    assert_exactly_once(result, fake, T0, T0 + timedelta(days=1), statuses={"canceled", "handling"})
    assert {q["f_status"] for q in fake.queries} == {"canceled,handling"}


def test_a_list_answer_without_paging_total_is_bad_response() -> None:
    from .fakes import Recorder, json_response

    rec = Recorder([json_response(200, {"list": [], "paging": {}})])
    with make_transport(rec) as t, pytest.raises(BadResponse, match=r"paging\.total"):
        Orders(t).list(T0, T0 + timedelta(days=1))
    rec = Recorder([json_response(200, {"items": []})])
    with make_transport(rec) as t, pytest.raises(BadResponse, match="'list'"):
        Orders(t).list(T0, T0 + timedelta(days=1))


# -- the algorithm at small scale, on random data -------------------------------------------------------------------
@st.composite
def clustered(draw: st.DrawFn) -> tuple[list[int], int, int]:
    """Order times with clusters: shared instants, ms edges, sub-ms offsets; and a range to list."""
    width = draw(st.integers(1, 5_000)) * MS
    times: list[int] = []
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, width // MS)) * MS + draw(st.sampled_from([0, 100, 500_000, MS - 100]))
        times += [at] * draw(st.integers(1, 40))
    times += draw(st.lists(st.integers(0, width // 100).map(lambda k: k * 100), max_size=300))
    lo = draw(st.integers(0, width // MS)) * MS
    hi = draw(st.integers(lo // MS, width // MS + 1)) * MS
    return times, lo, hi


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered())
def test_any_data_with_a_small_page_cap_is_listed_exactly_once(case: tuple[list[int], int, int]) -> None:
    times, lo, hi = case
    fake = FakeOms([FakeOrder(f"{i:06d}-01", Instant(T0.ns + t)) for i, t in enumerate(times)], max_pages=2)
    start, end = Instant(T0.ns + lo), Instant(T0.ns + hi)
    with patch.object(oms, "MAX_PAGES", 2):  # 200 per filter, so splitting happens at this scale
        try:
            result = run_list(fake, start, end)
        except BadResponse as exc:
            # legitimate only when one inclusive whole-second query [a TO a + 1 s] matches more than 200 orders
            per_s, exact = Counter(t // S for t in times), Counter(times)
            assert max(per_s[a] + exact[(a + 1) * S] for a in per_s) > 200
            assert "one second" in str(exc)
            return
    # edges off the whole second: an order dated exactly on a whole second is kept by its second (its date may be
    # truncated, see refundkit.vtex.oms); every other order by its exact instant
    want = [o.order_id for o in fake.orders if oms.in_range(o.created.ns, start.ns, end.ns)]
    got = [o.order_id for o in result]
    assert got == want and len(set(got)) == len(got) and fake.violations == []
    assert max(fake.pages_requested, default=1) <= 2
